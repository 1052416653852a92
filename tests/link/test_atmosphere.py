"""Atmosphere models (air mass, pressure, transmittance, climatology) against published values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.link.atmosphere import (
    air_mass_kasten_young,
    atmospheric_transmittance,
    monthly_clear_sky_probability,
    standard_pressure_hpa,
)


def test_air_mass_is_one_at_zenith():
    # The Kasten-Young fit gives 0.99971 at z = 0 (its term at 96° is not exactly zero).
    assert air_mass_kasten_young(0.0) == pytest.approx(1.0, abs=5e-4)


@pytest.mark.parametrize(("zenith_deg", "tabulated"), [(60.0, 1.995), (80.0, 5.60)])
def test_air_mass_matches_published_table(zenith_deg, tabulated):
    # Tabulated relative air mass (Bemporad; Kasten & Young 1989, Appl. Opt. 28, 4735):
    # 1.995 at 60° and 5.60 at 80° zenith angle. Kasten & Young state that their formula
    # follows the table to better than 0.5 % down to a few degrees elevation.
    assert air_mass_kasten_young(zenith_deg) == pytest.approx(tabulated, rel=5e-3)


def test_air_mass_below_secant_near_horizon():
    # Curvature makes the air mass smaller than the flat-Earth sec z (5.76 at 80°).
    assert air_mass_kasten_young(80.0) < 1.0 / math.cos(math.radians(80.0))


def test_standard_pressure_values():
    # ICAO standard atmosphere: 1013.25 hPa at sea level, 898.76 hPa at 1,000 m.
    assert standard_pressure_hpa(0.0) == pytest.approx(1013.25)
    assert standard_pressure_hpa(1000.0) == pytest.approx(898.76, abs=0.05)


def test_atmospheric_transmittance_by_hand():
    # Zenith, sea level: T_zen^AM(0).
    am0 = 1.0 / (1.0 + 0.50572 * 96.07995 ** -1.6364)
    assert atmospheric_transmittance(90.0, 0.895) == pytest.approx(0.895**am0, rel=1e-12)
    # 30° elevation at 500 hPa: the optical depth scales with pressure.
    am = air_mass_kasten_young(60.0)
    assert atmospheric_transmittance(30.0, 0.895, 500.0) == pytest.approx(
        0.895 ** (am * 500.0 / 1013.25), rel=1e-12)


def test_atmosphere_lower_at_low_elevation_and_higher_at_altitude():
    low, high = atmospheric_transmittance(np.array([15.0, 60.0]), 0.895)
    assert low < high
    assert atmospheric_transmittance(15.0, 0.895, standard_pressure_hpa(2000.0)) > low


def test_monthly_clear_sky_probability():
    values = np.linspace(0.1, 0.65, 12)
    np.testing.assert_allclose(monthly_clear_sky_probability(values, [1, 6, 12]),
                               values[[0, 5, 11]])
    with pytest.raises(ValueError, match="12 monthly values"):
        monthly_clear_sky_probability(values[:11], [1])
    with pytest.raises(ValueError, match=r"1\.\.12"):
        monthly_clear_sky_probability(values, [13])


@pytest.mark.parametrize("elevation_deg", [-3.0, 0.0, 10.0, 37.5, 90.0])
def test_air_mass_given_the_sine_of_elevation_is_the_same(elevation_deg):
    """Callers that know sin(elevation) skip the cosine; the air mass must not change."""
    sine = math.sin(math.radians(elevation_deg))
    zenith = 90.0 - elevation_deg
    assert air_mass_kasten_young(zenith, sine) == pytest.approx(
        air_mass_kasten_young(zenith), rel=1e-13)
    assert atmospheric_transmittance(elevation_deg, 0.9, 900.0, sin_elevation=sine) == \
        pytest.approx(atmospheric_transmittance(elevation_deg, 0.9, 900.0), rel=1e-13)
