"""The link budget (slant range, the product of the parts, loss) against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.link.atmosphere import atmospheric_transmittance
from planner.link.beam import diffraction_efficiency, pointing_efficiency
from planner.link.budget import (
    elevation_from_slant_range_deg,
    link_transmittance,
    loss_db_to_transmittance,
    slant_range_km,
    transmittance_to_loss_db,
)


@pytest.mark.parametrize(("elevation_deg", "expected_km"), [
    (90.0, 500.0), (30.0, 909.0), (15.0, 1407.0), (10.0, 1695.0),
])
def test_slant_range_matches_reference_table(elevation_deg, expected_km):
    # docs/reference.md §3: a 500 km orbit is 500 km away at zenith, 909 km at 30°, 1,407 km at
    # 15° and 1,695 km at 10° (rounded to the km there, hence the 1 km tolerance).
    assert slant_range_km(elevation_deg, 500.0) == pytest.approx(expected_km, abs=1.0)


def test_slant_range_by_hand_at_zero_elevation():
    # At the horizon the line of sight is tangent: L = sqrt((R+h)^2 - R^2).
    expected = math.sqrt(6871.0**2 - 6371.0**2)
    assert slant_range_km(0.0, 500.0) == pytest.approx(expected, rel=1e-12)


@given(st.floats(0.0, 90.0), st.floats(300.0, 1200.0))
def test_elevation_from_slant_range_inverts_slant_range(elevation, altitude):
    distance = slant_range_km(elevation, altitude)
    # arcsin is ill-conditioned at the zenith: 1e-5 degrees there is float round-off.
    assert elevation_from_slant_range_deg(distance, altitude) == pytest.approx(
        elevation, abs=1e-5)


def test_link_transmittance_is_product_of_parts():
    distance = np.array([500.0, 900.0, 1400.0])
    elevation = elevation_from_slant_range_deg(distance, 500.0)
    parts = (0.8 * diffraction_efficiency(distance, 0.28, 10.0, 0.027)
             * pointing_efficiency(1.0, 10.0)
             * atmospheric_transmittance(elevation, 0.895, 950.0) * 0.5 * 0.5)
    total = link_transmittance(
        distance, elevation, receiver_aperture_m=0.28, divergence_half_angle_urad=10.0,
        beam_waist_m=0.027, pointing_jitter_urad=1.0, zenith_transmittance=0.895,
        pressure_hpa=950.0, transmitter_efficiency=0.8, receiver_efficiency=0.5,
        detector_efficiency=0.5)
    np.testing.assert_allclose(total, parts, rtol=1e-12)
    assert np.all(np.diff(total) < 0)  # farther and lower is worse


def test_loss_conversions():
    assert transmittance_to_loss_db(0.001) == pytest.approx(30.0)
    assert loss_db_to_transmittance(30.0) == pytest.approx(0.001)
    assert transmittance_to_loss_db(0.0) == math.inf


@given(st.floats(0.0, 80.0))
def test_loss_round_trip(loss):
    assert transmittance_to_loss_db(loss_db_to_transmittance(loss)) == pytest.approx(
        loss, abs=1e-9)
