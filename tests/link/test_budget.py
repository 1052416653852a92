"""Link-budget models against hand-computed cases and published values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.link import budget as link

# ---- geometry -------------------------------------------------------------------------------


@pytest.mark.parametrize(("elevation_deg", "expected_km"), [
    (90.0, 500.0), (30.0, 909.0), (15.0, 1407.0), (10.0, 1695.0),
])
def test_slant_range_matches_reference_table(elevation_deg, expected_km):
    # docs/reference.md §3: a 500 km orbit is 500 km away at zenith, 909 km at 30°, 1,407 km at
    # 15° and 1,695 km at 10° (rounded to the km there, hence the 1 km tolerance).
    assert link.slant_range_km(elevation_deg, 500.0) == pytest.approx(expected_km, abs=1.0)


def test_slant_range_by_hand_at_zero_elevation():
    # At the horizon the line of sight is tangent: L = sqrt((R+h)^2 - R^2).
    expected = math.sqrt(6871.0**2 - 6371.0**2)
    assert link.slant_range_km(0.0, 500.0) == pytest.approx(expected, rel=1e-12)


@given(st.floats(0.0, 90.0), st.floats(300.0, 1200.0))
def test_elevation_from_slant_range_inverts_slant_range(elevation, altitude):
    distance = link.slant_range_km(elevation, altitude)
    # arcsin is ill-conditioned at the zenith: 1e-5 degrees there is float round-off.
    assert link.elevation_from_slant_range_deg(distance, altitude) == pytest.approx(
        elevation, abs=1e-5)


# ---- atmosphere -----------------------------------------------------------------------------


def test_air_mass_is_one_at_zenith():
    # The Kasten-Young fit gives 0.99971 at z = 0 (its term at 96° is not exactly zero).
    assert link.air_mass_kasten_young(0.0) == pytest.approx(1.0, abs=5e-4)


@pytest.mark.parametrize(("zenith_deg", "tabulated"), [(60.0, 1.995), (80.0, 5.60)])
def test_air_mass_matches_published_table(zenith_deg, tabulated):
    # Tabulated relative air mass (Bemporad; Kasten & Young 1989, Appl. Opt. 28, 4735):
    # 1.995 at 60° and 5.60 at 80° zenith angle. Kasten & Young state that their formula
    # follows the table to better than 0.5 % down to a few degrees elevation.
    assert link.air_mass_kasten_young(zenith_deg) == pytest.approx(tabulated, rel=5e-3)


def test_air_mass_below_secant_near_horizon():
    # Curvature makes the air mass smaller than the flat-Earth sec z (5.76 at 80°).
    assert link.air_mass_kasten_young(80.0) < 1.0 / math.cos(math.radians(80.0))


def test_standard_pressure_values():
    # ICAO standard atmosphere: 1013.25 hPa at sea level, 898.76 hPa at 1,000 m.
    assert link.standard_pressure_hpa(0.0) == pytest.approx(1013.25)
    assert link.standard_pressure_hpa(1000.0) == pytest.approx(898.76, abs=0.05)


def test_atmospheric_transmittance_by_hand():
    # Zenith, sea level: T_zen^AM(0).
    am0 = 1.0 / (1.0 + 0.50572 * 96.07995 ** -1.6364)
    assert link.atmospheric_transmittance(90.0, 0.895) == pytest.approx(0.895**am0, rel=1e-12)
    # 30° elevation at 500 hPa: the optical depth scales with pressure.
    am = link.air_mass_kasten_young(60.0)
    assert link.atmospheric_transmittance(30.0, 0.895, 500.0) == pytest.approx(
        0.895 ** (am * 500.0 / 1013.25), rel=1e-12)


def test_atmosphere_lower_at_low_elevation_and_higher_at_altitude():
    low, high = link.atmospheric_transmittance(np.array([15.0, 60.0]), 0.895)
    assert low < high
    assert link.atmospheric_transmittance(15.0, 0.895, link.standard_pressure_hpa(2000.0)) > low


# ---- beam ---------------------------------------------------------------------------------


def test_divergence_conventions():
    assert link.divergence_half_angle_1e2_urad(10.0, "half_angle_1e2") == pytest.approx(10.0)
    assert link.divergence_half_angle_1e2_urad(10.0, "full_angle_1e2") == pytest.approx(5.0)
    # FWHM of exp(-2 r^2 / w^2) is 2 w sqrt(ln 2 / 2) = 1.1774 w.
    assert link.divergence_half_angle_1e2_urad(10.0, "full_angle_fwhm") == pytest.approx(
        10.0 / 1.17741, rel=1e-5)
    assert link.divergence_half_angle_1e2_urad(10.0, "half_angle_hwhm") == pytest.approx(
        10.0 / 0.588705, rel=1e-5)
    with pytest.raises(ValueError, match="unknown divergence convention"):
        link.divergence_half_angle_1e2_urad(10.0, "full_angle")


def test_beam_radius_by_hand():
    # w^2 = w0^2 + (theta L)^2: 10 urad over 500 km is 5 m; with a 0.1 m waist sqrt(25.01).
    assert link.beam_radius_m(500.0, 10.0) == pytest.approx(5.0)
    assert link.beam_radius_m(500.0, 10.0, 0.1) == pytest.approx(math.sqrt(25.01))


def test_diffraction_efficiency_by_hand():
    # 1 m aperture (a = 0.5 m), 5 m beam: 1 - exp(-2 * 0.25 / 25) = 1 - exp(-0.02).
    assert link.diffraction_efficiency(500.0, 1.0, 10.0) == pytest.approx(
        1.0 - math.exp(-0.02), rel=1e-12)


def test_diffraction_efficiency_limits():
    # A beam much smaller than the aperture is caught whole.
    assert link.diffraction_efficiency(0.001, 1.0, 1.0) == pytest.approx(1.0)
    # A beam much larger than the aperture: the far-field limit 2 a^2 / w^2.
    big = link.diffraction_efficiency(1000.0, 0.28, 50.0)
    assert big == pytest.approx(2 * 0.14**2 / 50.0**2, rel=1e-3)


def test_gaussian_collection_is_3_db_better_than_top_hat_in_far_field():
    # docs/reference.md §4: the top-hat form (D_R / (D_T + theta_full L))^2 is about 3 dB more
    # pessimistic. In the far field (D_T negligible) the ratio is exactly 2.
    theta, distance, aperture = 10.0, 1000.0, 0.28
    gaussian = link.diffraction_efficiency(distance, aperture, theta)
    top_hat = (aperture / (2 * theta * 1e-6 * distance * 1e3)) ** 2
    assert 10 * math.log10(gaussian / top_hat) == pytest.approx(3.01, abs=0.01)


def test_pointing_efficiency():
    assert link.pointing_efficiency(0.0, 10.0) == 1.0
    # sigma = theta / 2: 1 / (1 + 4 * 1/4) = 1/2.
    assert link.pointing_efficiency(5.0, 10.0) == pytest.approx(0.5)
    assert link.pointing_efficiency(1.0, 10.0) == pytest.approx(1.0 / 1.04)


@given(st.floats(0.0, 20.0), st.floats(0.0, 20.0), st.floats(1.0, 30.0))
def test_pointing_efficiency_falls_with_jitter(sigma_a, sigma_b, theta):
    low, high = sorted((sigma_a, sigma_b))
    assert link.pointing_efficiency(high, theta) <= link.pointing_efficiency(low, theta)


# ---- composition and units ------------------------------------------------------------------


def test_link_transmittance_is_product_of_parts():
    distance = np.array([500.0, 900.0, 1400.0])
    elevation = link.elevation_from_slant_range_deg(distance, 500.0)
    parts = (0.8 * link.diffraction_efficiency(distance, 0.28, 10.0, 0.027)
             * link.pointing_efficiency(1.0, 10.0)
             * link.atmospheric_transmittance(elevation, 0.895, 950.0) * 0.5 * 0.5)
    total = link.link_transmittance(
        distance, elevation, receiver_aperture_m=0.28, divergence_half_angle_urad=10.0,
        beam_waist_m=0.027, pointing_jitter_urad=1.0, zenith_transmittance=0.895,
        pressure_hpa=950.0, transmitter_efficiency=0.8, receiver_efficiency=0.5,
        detector_efficiency=0.5)
    np.testing.assert_allclose(total, parts, rtol=1e-12)
    assert np.all(np.diff(total) < 0)  # farther and lower is worse


def test_loss_conversions():
    assert link.transmittance_to_loss_db(0.001) == pytest.approx(30.0)
    assert link.loss_db_to_transmittance(30.0) == pytest.approx(0.001)
    assert link.transmittance_to_loss_db(0.0) == math.inf


@given(st.floats(0.0, 80.0))
def test_loss_round_trip(loss):
    assert link.transmittance_to_loss_db(link.loss_db_to_transmittance(loss)) == pytest.approx(
        loss, abs=1e-9)


# ---- noise and weather ----------------------------------------------------------------------


def test_extraneous_click_probability():
    # docs/reference.md §4: Y0 = (dark + background) x gate. 4 x 125/s + 500/s in 1 ns = 1e-6.
    assert link.extraneous_click_probability(125.0, 4, 500.0, 1.0) == pytest.approx(
        1e-6, rel=1e-6)
    assert link.extraneous_click_probability(0.0, 4, 0.0, 1.0) == 0.0


def test_monthly_clear_sky_probability():
    values = np.linspace(0.1, 0.65, 12)
    np.testing.assert_allclose(link.monthly_clear_sky_probability(values, [1, 6, 12]),
                               values[[0, 5, 11]])
    with pytest.raises(ValueError, match="12 monthly values"):
        link.monthly_clear_sky_probability(values[:11], [1])
    with pytest.raises(ValueError, match=r"1\.\.12"):
        link.monthly_clear_sky_probability(values, [13])


@pytest.mark.parametrize("elevation_deg", [-3.0, 0.0, 10.0, 37.5, 90.0])
def test_air_mass_given_the_sine_of_elevation_is_the_same(elevation_deg):
    """Callers that know sin(elevation) skip the cosine; the air mass must not change."""
    sine = math.sin(math.radians(elevation_deg))
    zenith = 90.0 - elevation_deg
    assert link.air_mass_kasten_young(zenith, sine) == pytest.approx(
        link.air_mass_kasten_young(zenith), rel=1e-13)
    assert link.atmospheric_transmittance(elevation_deg, 0.9, 900.0, sin_elevation=sine) == \
        pytest.approx(link.atmospheric_transmittance(elevation_deg, 0.9, 900.0), rel=1e-13)
