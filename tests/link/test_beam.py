"""Beam models (divergence, diffraction, pointing) against hand-computed cases."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.link.beam import (
    beam_radius_m,
    diffraction_efficiency,
    divergence_half_angle_1e2_urad,
    pointing_efficiency,
)


def test_divergence_conventions():
    assert divergence_half_angle_1e2_urad(10.0, "half_angle_1e2") == pytest.approx(10.0)
    assert divergence_half_angle_1e2_urad(10.0, "full_angle_1e2") == pytest.approx(5.0)
    # FWHM of exp(-2 r^2 / w^2) is 2 w sqrt(ln 2 / 2) = 1.1774 w.
    assert divergence_half_angle_1e2_urad(10.0, "full_angle_fwhm") == pytest.approx(
        10.0 / 1.17741, rel=1e-5)
    assert divergence_half_angle_1e2_urad(10.0, "half_angle_hwhm") == pytest.approx(
        10.0 / 0.588705, rel=1e-5)
    with pytest.raises(ValueError, match="unknown divergence convention"):
        divergence_half_angle_1e2_urad(10.0, "full_angle")


def test_beam_radius_by_hand():
    # w^2 = w0^2 + (theta L)^2: 10 urad over 500 km is 5 m; with a 0.1 m waist sqrt(25.01).
    assert beam_radius_m(500.0, 10.0) == pytest.approx(5.0)
    assert beam_radius_m(500.0, 10.0, 0.1) == pytest.approx(math.sqrt(25.01))


def test_diffraction_efficiency_by_hand():
    # 1 m aperture (a = 0.5 m), 5 m beam: 1 - exp(-2 * 0.25 / 25) = 1 - exp(-0.02).
    assert diffraction_efficiency(500.0, 1.0, 10.0) == pytest.approx(
        1.0 - math.exp(-0.02), rel=1e-12)


def test_diffraction_efficiency_limits():
    # A beam much smaller than the aperture is caught whole.
    assert diffraction_efficiency(0.001, 1.0, 1.0) == pytest.approx(1.0)
    # A beam much larger than the aperture: the far-field limit 2 a^2 / w^2.
    big = diffraction_efficiency(1000.0, 0.28, 50.0)
    assert big == pytest.approx(2 * 0.14**2 / 50.0**2, rel=1e-3)


def test_gaussian_collection_is_3_db_better_than_top_hat_in_far_field():
    # docs/reference.md §4: the top-hat form (D_R / (D_T + theta_full L))^2 is about 3 dB more
    # pessimistic. In the far field (D_T negligible) the ratio is exactly 2.
    theta, distance, aperture = 10.0, 1000.0, 0.28
    gaussian = diffraction_efficiency(distance, aperture, theta)
    top_hat = (aperture / (2 * theta * 1e-6 * distance * 1e3)) ** 2
    assert 10 * math.log10(gaussian / top_hat) == pytest.approx(3.01, abs=0.01)


def test_pointing_efficiency():
    assert pointing_efficiency(0.0, 10.0) == 1.0
    # sigma = theta / 2: 1 / (1 + 4 * 1/4) = 1/2.
    assert pointing_efficiency(5.0, 10.0) == pytest.approx(0.5)
    assert pointing_efficiency(1.0, 10.0) == pytest.approx(1.0 / 1.04)


@given(st.floats(0.0, 20.0), st.floats(0.0, 20.0), st.floats(1.0, 30.0))
def test_pointing_efficiency_falls_with_jitter(sigma_a, sigma_b, theta):
    low, high = sorted((sigma_a, sigma_b))
    assert pointing_efficiency(high, theta) <= pointing_efficiency(low, theta)
