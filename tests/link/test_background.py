"""Sky background models against published figures, hand computations and an independent
numerical integration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from planner.link import background as bg


def test_surface_brightness_to_radiance_by_hand():
    # I = 20 mag/arcsec^2: 1.126e-11 W m^-2 nm^-1 * 1e-8 * (206264.806^2 arcsec^2/sr)
    assert bg.magnitude_to_spectral_radiance(20.0) == pytest.approx(
        1.126e-11 * 1e-8 * 206264.806**2, rel=1e-6)


def test_counts_by_hand():
    # 1e-3 W m^-2 sr^-1 nm^-1 at 850 nm, 0.5 m aperture, 100 urad, 1 nm, efficiency 0.5
    photon_j = 6.62607015e-34 * 299792458.0 / 850e-9                 # 2.3370e-19 J
    expected = 1e-3 / photon_j * (math.pi * 0.25 / 4) * (math.pi * 1e-8 / 4) * 1.0 * 0.5
    assert expected == pytest.approx(3.2993e6, rel=1e-4)
    assert bg.detected_counts_per_s(1e-3, 850.0, aperture_m=0.5, field_of_view_urad=100.0,
                                    filter_bandwidth_nm=1.0, efficiency=0.5) == pytest.approx(
        expected, rel=1e-9)


def test_ks91_full_moon_benchmark():
    # Krisciunas & Schaefer (1991): full Moon at the zenith, target 45 deg from the zenith and
    # 90 deg from the Moon: about 18.0 V mag/arcsec^2 (their comparison, +-0.7).
    b = bg.moonlight_nl(0.0, 0.0, 45.0, 90.0).total
    assert float(bg.nanolambert_to_v_magnitude(b)) == pytest.approx(18.0, abs=0.7)


def test_ks91_quarter_moon_by_hand():
    alpha, moon_z, target_z, rho, k = 90.0, 30.0, 45.0, 40.0, 0.172
    m = -12.73 + 0.026 * alpha + 4e-9 * alpha**4                     # -10.12756
    illuminance = 10 ** (-0.4 * (m + 16.57))
    f_rho = 10**5.36 * (1.06 + math.cos(math.radians(rho)) ** 2) + 10 ** (6.15 - rho / 40)
    x = lambda z: (1 - 0.96 * math.sin(math.radians(z)) ** 2) ** -0.5   # noqa: E731
    expected = f_rho * illuminance * 10 ** (-0.4 * k * x(moon_z)) * (
        1 - 10 ** (-0.4 * k * x(target_z)))
    assert float(bg.moonlight_nl(alpha, moon_z, target_z, rho).total) == pytest.approx(
        expected, rel=1e-9)
    assert bg.nanolambert_to_v_magnitude(34.08 * math.exp(20.7233 - 0.92104 * 21.0)) == (
        pytest.approx(21.0))


def test_moonlight_grows_towards_full_moon_and_the_line_of_sight():
    seps = np.array([5.0, 20.0, 60.0, 120.0])
    full = bg.moonlit_sky_radiance(bg.moonlight_nl(0.0, 40.0, 40.0, seps), 850.0)
    quarter = bg.moonlit_sky_radiance(bg.moonlight_nl(90.0, 40.0, 40.0, seps), 850.0)
    assert np.all(np.diff(full) < 0) and np.all(quarter < full)
    # a full Moon 5 deg from the line of sight raises the 850 nm sky by well over an order of
    # magnitude above a dark site, and a set Moon adds nothing
    assert full[0] > 30 * bg.magnitude_to_spectral_radiance(bg.DARK_SKY_I_MAG_ARCSEC2)
    set_moon = bg.moonlit_sky_radiance(bg.moonlight_nl(0.0, 95.0, 40.0, 20.0), 850.0)
    assert float(set_moon) == 0.0


def test_dark_sky_brightens_like_la_palma_at_air_mass_1_5():
    # Benn & Ellison (1998): 0.25 mag brighter at air mass 1.5 than at the zenith
    zenith = math.degrees(math.acos(1 / 1.5))
    factor = bg.dark_sky_relative_brightness([0.0, zenith], 0.05)
    assert factor[0] == pytest.approx(1.0)
    assert 2.5 * math.log10(factor[1]) == pytest.approx(0.25, abs=0.2)


def test_daytime_single_scattering_matches_numerical_integration():
    sun_el, view_el, sep, wl = 35.0, 50.0, 70.0, 850.0
    ours = float(bg.daytime_sky_radiance(sun_el, view_el, sep, wl))
    # integrate the single-scattering source along the line of sight through the optical
    # depth, with the same optical depths, phase functions and air masses
    tau_r = 0.008569 * 0.85**-4 * (1 + 0.0113 * 0.85**-2 + 0.00013 * 0.85**-4)
    tau_a = 0.1 * (850 / 550) ** -1.3
    tau = tau_r + tau_a
    c = math.cos(math.radians(sep))
    g = 0.7
    omega_p = (tau_r * 0.75 * (1 + c * c)
               + 0.9 * tau_a * (1 - g * g) / (1 + g * g - 2 * g * c) ** 1.5) / tau

    def air_mass(el):
        z = 90 - el
        return 1 / (math.cos(math.radians(z)) + 0.50572 * (96.07995 - z) ** -1.6364)

    m0, m = air_mass(sun_el), air_mass(view_el)
    source = lambda t: 0.96 * omega_p / (4 * math.pi) * math.exp(-t * m0) * math.exp(   # noqa: E731
        -(tau - t) * m) * m
    assert ours == pytest.approx(quad(source, 0.0, tau)[0], rel=1e-9)


def test_daytime_sky_is_in_the_measured_range():
    # clear-sky spectral radiance in the near infrared, a few 1e-3 W m^-2 sr^-1 nm^-1 away
    # from the Sun (the horizon sky peaks at 5e-2 in the visible, AO 6, 2105 (1967)); the
    # sky brightens towards the Sun and vanishes with the Sun below the horizon
    noon = bg.daytime_sky_radiance(60.0, np.array([60.0, 60.0]), np.array([90.0, 15.0]), 850.0)
    assert 1e-3 < noon[0] < 2e-2 and noon[1] > 3 * noon[0]
    assert float(bg.daytime_sky_radiance(-1.0, 60.0, 90.0, 850.0)) == 0.0
    assert float(bg.daytime_sky_radiance(30.0, 60.0, 90.0, 1550.0)) < float(
        bg.daytime_sky_radiance(30.0, 60.0, 90.0, 850.0))


def test_twilight_falls_from_sunset_to_astronomical_night():
    sunset = 1e-3
    values = bg.twilight_sky_radiance(np.array([-1e-9, -2.5, -12.0, -18.0, -30.0, 5.0]),
                                      sunset)
    assert values[0] == pytest.approx(sunset)
    assert values[1] == pytest.approx(sunset / 10.0)               # 1 mag/deg: 2.5 deg = 10x
    assert values[2] == pytest.approx(sunset * 10 ** (-0.4 * 12))
    assert list(values[3:]) == [0.0, 0.0, 0.0]


def test_combined_background_orders_day_twilight_moon_and_night():
    common = dict(elevation_deg=50.0, night_counts_per_s=500.0, wavelength_nm=850.0,
                  aperture_m=0.28, field_of_view_urad=100.0, filter_bandwidth_nm=1.0,
                  efficiency=0.25, zenith_transmittance=0.895, moon_phase_angle_deg=0.0)
    dark = dict(sun_elevation_deg=-40.0, sun_separation_deg=150.0, moon_elevation_deg=-30.0,
                moon_separation_deg=120.0)
    night = bg.sky_background_counts_per_s(**common, **dark)
    zenith_factor = bg.dark_sky_relative_brightness(40.0, -2.5 * math.log10(0.895))
    assert float(night) == pytest.approx(500.0 * zenith_factor)
    moon = bg.sky_background_counts_per_s(**common, **{**dark, "moon_elevation_deg": 45.0,
                                                       "moon_separation_deg": 3.0})
    twilight = bg.sky_background_counts_per_s(**common, **{**dark, "sun_elevation_deg": -8.0})
    day = bg.sky_background_counts_per_s(**common, **{**dark, "sun_elevation_deg": 30.0,
                                                      "sun_separation_deg": 60.0})
    assert night < moon and night < twilight < day
    assert day > 1e5                    # an 850 nm night receiver is blinded in daylight
