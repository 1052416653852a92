"""Sky background at the receiver: moonlight, twilight and daylight, per sample.

The quantum receiver sees the sky through its field of view and filter. Each sky component is
one model here, returning a spectral radiance [W m^-2 sr^-1 nm^-1] at the link wavelength:

* :func:`dark_sky_relative_brightness` -- how the moonless night sky (airglow, zodiacal light
  and scattered city light) brightens away from the zenith (Krisciunas & Schaefer 1991, eq. 2).
  The station's ``background_counts_per_s`` is its moonless-night count rate at the zenith,
  which this factor scales along the line of sight; :func:`dark_sky_radiance` gives the natural
  dark-site level for comparison.
* :func:`moonlight_nl` and :func:`moonlit_sky_radiance` -- scattered moonlight after Krisciunas
  & Schaefer (1991) in the V band, moved to the link wavelength with a stated colour model
  (solar spectrum x lunar reddening x Rayleigh/aerosol scattering laws).
* :func:`daytime_sky_radiance` -- single scattering of sunlight by molecules (Rayleigh) and
  aerosols (Henyey-Greenstein) in a plane-parallel atmosphere: a function of the Sun's
  elevation, the line of sight's elevation and the Sun-line-of-sight angle.
* :func:`twilight_sky_radiance` -- the zenith sky after sunset, falling log-linearly with the
  Sun's depression from the daytime model's value at sunset to nothing at -18 deg.

:func:`detected_counts_per_s` turns a radiance into detected counts for a receiver (aperture,
field of view, filter bandwidth, efficiency); :func:`sky_background_counts_per_s` composes the
whole per-sample background. Angles are degrees at the interface. Uncertain numbers are
parameters with documented defaults ([A] assumed, [S] secondary source).

References
----------
.. [1] K. Krisciunas and B. E. Schaefer, "A model of the brightness of moonlight", PASP 103,
   1033-1039 (1991).
.. [2] C. R. Benn and S. L. Ellison, "La Palma night-sky brightness", La Palma Technical Note
   115 (1998): dark-site zenith I ~ 20.0 mag/arcsec^2.
.. [3] M. S. Bessell, F. Castelli and B. Plez, "Model atmospheres, broad-band colors,
   bolometric corrections and temperature calibrations", A&A 333, 231 (1998), table A2
   (photometric zero points).
.. [4] J. E. Hansen and L. D. Travis, "Light scattering in planetary atmospheres", Space Sci.
   Rev. 16, 527 (1974), eq. 2.29 (Rayleigh optical depth).
.. [5] C. A. Gueymard, "The sun's total and spectral irradiance for solar energy
   applications and solar radiation models", Solar Energy 76, 423 (2004).
.. [6] docs/reference.md §4 (noise and background).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from planner.link.atmosphere import STANDARD_PRESSURE_HPA, air_mass_kasten_young

__all__ = [
    "ARCSEC2_PER_SR",
    "MoonlightNL",
    "dark_sky_radiance",
    "dark_sky_relative_brightness",
    "daytime_sky_radiance",
    "detected_counts_per_s",
    "ks91_air_mass",
    "magnitude_to_spectral_radiance",
    "moonlight_nl",
    "moonlit_sky_radiance",
    "nanolambert_to_v_magnitude",
    "sky_background_counts_per_s",
    "twilight_sky_radiance",
]

PLANCK_J_S = 6.62607015e-34
SPEED_OF_LIGHT_M_S = 299792458.0
ARCSEC2_PER_SR = (180.0 / np.pi * 3600.0) ** 2
"""Square arcseconds in a steradian."""

V_ZERO_POINT_W_M2_NM = 3.631e-11
"""Spectral irradiance of a V = 0 star at 545 nm [W m^-2 nm^-1] (Bessell et al. 1998)."""

I_ZERO_POINT_W_M2_NM = 1.126e-11
"""Spectral irradiance of an I = 0 star at 798 nm [W m^-2 nm^-1] (Bessell et al. 1998)."""

V_WAVELENGTH_NM = 545.0

DARK_SKY_I_MAG_ARCSEC2 = 20.0
"""Moonless zenith sky at a dark site in the I band [mag/arcsec^2] (Benn & Ellison 1998) [S]."""

KS91_V_EXTINCTION_MAG = 0.172
"""V-band extinction coefficient the Krisciunas-Schaefer model was fitted with (Mauna Kea)."""

# Solar spectral irradiance outside the atmosphere at 1 au [W m^-2 nm^-1], rounded from
# Gueymard (2004) [S]; between nodes it is interpolated linearly.
_SOLAR_NM = np.array([450.0, 500.0, 545.0, 600.0, 650.0, 700.0, 750.0, 800.0, 850.0, 900.0,
                      1000.0, 1300.0, 1550.0])
_SOLAR_W_M2_NM = np.array([2.01, 1.92, 1.87, 1.77, 1.60, 1.42, 1.27, 1.13, 0.96, 0.89, 0.75,
                           0.46, 0.26])
# Lunar reflectance relative to 545 nm: the Moon is redder than the Sun, its albedo rising
# roughly by half from the visible to 1 micron (ROLO, Kieffer & Stone 2005, AJ 129, 2887) [A].
_LUNAR_NM = np.array([450.0, 545.0, 700.0, 850.0, 1000.0, 1550.0])
_LUNAR_RELATIVE = np.array([0.80, 1.00, 1.22, 1.40, 1.55, 1.90])

AEROSOL_OPTICAL_DEPTH_550 = 0.10
"""Aerosol optical depth at 550 nm of a clear continental sky [A]."""

ANGSTROM_EXPONENT = 1.3
"""Wavelength exponent of the aerosol optical depth (Angstrom 1964's typical 1.3) [S]."""

AEROSOL_SINGLE_SCATTERING_ALBEDO = 0.9
"""Fraction of aerosol extinction that is scattering [A]."""

AEROSOL_ASYMMETRY = 0.7
"""Henyey-Greenstein asymmetry parameter of continental aerosol [A]."""

TWILIGHT_DECLINE_MAG_PER_DEG = 1.0
"""Fall of the zenith twilight sky per degree of solar depression [mag/deg] [A]: the order of
the decline measured between depressions of 6 and 12 deg in the red (Tyson & Gal 1993, AJ 105,
1206; Patat et al. 2006, A&A 455, 385), not checked band by band."""

ASTRONOMICAL_TWILIGHT_DEG = -18.0
"""Sun elevation below which twilight no longer brightens the sky [deg] (definition)."""


def ks91_air_mass(zenith_deg: ArrayLike) -> np.ndarray:
    """Air mass of Krisciunas & Schaefer (1991, eq. 3): ``(1 - 0.96 sin^2 Z)^-1/2``.

    Finite at the horizon (about 5), as their scattering model needs.
    """
    sin_z = np.sin(np.radians(np.clip(np.asarray(zenith_deg, dtype=float), 0.0, 90.0)))
    return 1.0 / np.sqrt(1.0 - 0.96 * sin_z**2)


def magnitude_to_spectral_radiance(mag_arcsec2: ArrayLike,
                                   zero_point_w_m2_nm: float = I_ZERO_POINT_W_M2_NM
                                   ) -> np.ndarray:
    """Surface brightness [mag/arcsec^2] as spectral radiance [W m^-2 sr^-1 nm^-1].

    ``L = F0 10^(-0.4 m) ARCSEC2_PER_SR`` with the band's zero-point spectral irradiance F0.
    """
    return (zero_point_w_m2_nm * 10.0 ** (-0.4 * np.asarray(mag_arcsec2, dtype=float))
            * ARCSEC2_PER_SR)


def nanolambert_to_v_magnitude(brightness_nl: ArrayLike) -> np.ndarray:
    """Sky brightness in nanolamberts as V mag/arcsec^2 (Garstang 1989, as used by KS91).

    ``V = (20.7233 - ln(B / 34.08)) / 0.92104``.
    """
    return (20.7233 - np.log(np.asarray(brightness_nl, dtype=float) / 34.08)) / 0.92104


def dark_sky_relative_brightness(zenith_deg: ArrayLike, extinction_mag: ArrayLike
                                 ) -> np.ndarray:
    """Brightness of the moonless sky at zenith angle Z relative to the zenith.

    ``X 10^(-0.4 k (X - 1))`` (Krisciunas & Schaefer 1991, eq. 2): a thicker emitting and
    scattering layer along the line of sight (X, their air mass) less its extinction.

    Parameters
    ----------
    zenith_deg : array_like
        Zenith angle of the line of sight [deg].
    extinction_mag : array_like
        Extinction coefficient at the link wavelength [mag per air mass]
        (``-2.5 log10(zenith_transmittance)``).
    """
    x = ks91_air_mass(zenith_deg)
    return x * 10.0 ** (-0.4 * np.asarray(extinction_mag, dtype=float) * (x - 1.0))


def dark_sky_radiance(zenith_deg: ArrayLike, extinction_mag: ArrayLike,
                      zenith_mag_arcsec2: float = DARK_SKY_I_MAG_ARCSEC2) -> np.ndarray:
    """Natural moonless-sky spectral radiance in the I band at a dark site [W m^-2 sr^-1 nm^-1].

    The zenith brightness (Benn & Ellison 1998) scaled by
    :func:`dark_sky_relative_brightness`; a city's sky is brighter.
    """
    return (magnitude_to_spectral_radiance(zenith_mag_arcsec2)
            * dark_sky_relative_brightness(zenith_deg, extinction_mag))


class MoonlightNL(NamedTuple):
    """Scattered moonlight [nanolamberts, V band], split by scattering process."""

    rayleigh: np.ndarray
    aerosol: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.rayleigh + self.aerosol


def moonlight_nl(phase_angle_deg: ArrayLike, moon_zenith_deg: ArrayLike,
                 target_zenith_deg: ArrayLike, separation_deg: ArrayLike,
                 extinction_mag: float = KS91_V_EXTINCTION_MAG) -> MoonlightNL:
    """Sky brightness from scattered moonlight, Krisciunas & Schaefer (1991), V band.

    ``B = f(rho) I* 10^(-0.4 k X(Z_moon)) (1 - 10^(-0.4 k X(Z)))`` with the Moon's
    illuminance ``I* = 10^(-0.4 (m + 16.57))``, its magnitude
    ``m = -12.73 + 0.026 |alpha| + 4e-9 alpha^4`` (plus up to 35% near full Moon, the
    opposition effect) and the scattering function
    ``f(rho) = 10^5.36 (1.06 + cos^2 rho) + 10^(6.15 - rho/40)`` (Rayleigh + aerosol; the
    aerosol term is ``6.2e7 / rho^2`` within 10 deg of the Moon). Zero with the Moon below
    the horizon.

    Parameters
    ----------
    phase_angle_deg : array_like
        Moon's phase angle alpha [deg], 0 full, 180 new.
    moon_zenith_deg, target_zenith_deg : array_like
        Zenith angles of the Moon and of the line of sight [deg].
    separation_deg : array_like
        Angle between the Moon and the line of sight, rho [deg].
    extinction_mag : float
        V-band extinction [mag per air mass]; the model was fitted with 0.172.

    Returns
    -------
    MoonlightNL
        Rayleigh and aerosol parts [nL].
    """
    alpha = np.abs(np.asarray(phase_angle_deg, dtype=float))
    moon_z = np.asarray(moon_zenith_deg, dtype=float)
    rho = np.maximum(np.asarray(separation_deg, dtype=float), 0.1)
    magnitude = -12.73 + 0.026 * alpha + 4e-9 * alpha**4
    illuminance = 10.0 ** (-0.4 * (magnitude + 16.57))
    illuminance = illuminance * (1.0 + 0.35 * np.clip(1.0 - alpha / 7.0, 0.0, 1.0))
    rayleigh = 10.0**5.36 * (1.06 + np.cos(np.radians(rho)) ** 2)
    aerosol = np.where(rho >= 10.0, 10.0 ** (6.15 - rho / 40.0), 6.2e7 / rho**2)
    common = (illuminance * 10.0 ** (-0.4 * extinction_mag * ks91_air_mass(moon_z))
              * -np.expm1(-0.4 * np.log(10.0) * extinction_mag
                          * ks91_air_mass(target_zenith_deg)))
    common = np.where(moon_z < 90.0, common, 0.0)
    return MoonlightNL(rayleigh * common, aerosol * common)


def moonlit_sky_radiance(moonlight: MoonlightNL, wavelength_nm: float) -> np.ndarray:
    """Scattered moonlight at the link wavelength [W m^-2 sr^-1 nm^-1].

    Each part of :func:`moonlight_nl` is turned into V-band spectral radiance (Garstang's
    nanolambert scale, Bessell's V zero point) and moved to ``wavelength_nm`` by its colour:
    the solar spectrum (Gueymard 2004) times the Moon's reddening (ROLO) times the scattering
    law, lambda^-4 for molecules and lambda^-1.3 (Angstrom) for aerosols, all relative to
    545 nm. This is the colour assumption; it ignores the difference between V-band and
    link-wavelength extinction along the Moon's path (< 10% above 30 deg elevation).
    """
    sun = np.interp(wavelength_nm, _SOLAR_NM, _SOLAR_W_M2_NM) / np.interp(
        V_WAVELENGTH_NM, _SOLAR_NM, _SOLAR_W_M2_NM)
    moon = np.interp(wavelength_nm, _LUNAR_NM, _LUNAR_RELATIVE)
    ratio = wavelength_nm / V_WAVELENGTH_NM
    colour_r = sun * moon * ratio**-4.0
    colour_a = sun * moon * ratio**-ANGSTROM_EXPONENT

    def radiance(nl):
        positive = np.maximum(nl, 1e-30)
        return np.where(nl > 0, magnitude_to_spectral_radiance(
            nanolambert_to_v_magnitude(positive), V_ZERO_POINT_W_M2_NM), 0.0)

    return colour_r * radiance(moonlight.rayleigh) + colour_a * radiance(moonlight.aerosol)


def _rayleigh_optical_depth(wavelength_nm: float, pressure_hpa: ArrayLike) -> np.ndarray:
    """Hansen & Travis (1974) eq. 2.29, scaled by pressure."""
    um = wavelength_nm / 1000.0
    tau = 0.008569 * um**-4 * (1.0 + 0.0113 * um**-2 + 0.00013 * um**-4)
    return tau * np.asarray(pressure_hpa, dtype=float) / STANDARD_PRESSURE_HPA


def daytime_sky_radiance(sun_elevation_deg: ArrayLike, view_elevation_deg: ArrayLike,
                         sun_separation_deg: ArrayLike, wavelength_nm: float, *,
                         pressure_hpa: ArrayLike = STANDARD_PRESSURE_HPA,
                         aerosol_optical_depth_550: float = AEROSOL_OPTICAL_DEPTH_550,
                         aerosol_asymmetry: float = AEROSOL_ASYMMETRY,
                         aerosol_albedo: float = AEROSOL_SINGLE_SCATTERING_ALBEDO
                         ) -> np.ndarray:
    """Clear daytime sky radiance by single scattering of sunlight [W m^-2 sr^-1 nm^-1].

    In a plane-parallel atmosphere of scattering optical depth tau, sunlight arriving along
    air mass m0 and scattered towards the observer along air mass m gives

    ``L = E0 <omega P(Theta)> / (4 pi) * m (exp(-tau m0) - exp(-tau m)) / (m - m0)``

    with the extraterrestrial solar irradiance E0 (Gueymard 2004), the optical-depth weighted
    phase function of molecules (``3/4 (1 + cos^2 Theta)``, tau from Hansen & Travis 1974) and
    aerosols (Henyey-Greenstein, tau = tau_550 (lambda/550)^-1.3) at the scattering angle
    Theta (the Sun-line-of-sight angle), and Kasten-Young air masses (finite at the horizon).
    Multiple scattering and ground reflection are left out, so this is a lower bound (by a
    factor of up to ~2 in the near infrared); zero with the Sun below the horizon.

    Parameters
    ----------
    sun_elevation_deg, view_elevation_deg : array_like
        Elevations of the Sun and of the line of sight [deg].
    sun_separation_deg : array_like
        Angle between the Sun and the line of sight [deg].
    wavelength_nm : float
        Link wavelength [nm].
    pressure_hpa : array_like
        Station pressure [hPa] (scales the molecular optical depth).
    aerosol_optical_depth_550, aerosol_asymmetry, aerosol_albedo : float
        Aerosol optical depth at 550 nm, Henyey-Greenstein g and single-scattering albedo.
    """
    sun_el = np.asarray(sun_elevation_deg, dtype=float)
    m0 = air_mass_kasten_young(90.0 - sun_el)
    m = air_mass_kasten_young(90.0 - np.asarray(view_elevation_deg, dtype=float))
    cos_theta = np.cos(np.radians(np.asarray(sun_separation_deg, dtype=float)))
    tau_r = _rayleigh_optical_depth(wavelength_nm, pressure_hpa)
    tau_a = aerosol_optical_depth_550 * (wavelength_nm / 550.0) ** -ANGSTROM_EXPONENT
    g = aerosol_asymmetry
    phase_r = 0.75 * (1.0 + cos_theta**2)
    phase_a = (1.0 - g * g) / (1.0 + g * g - 2.0 * g * cos_theta) ** 1.5
    tau = tau_r + tau_a
    scattered = tau_r * phase_r + aerosol_albedo * tau_a * phase_a     # tau <omega P>
    d = m - m0
    small = np.abs(d) < 1e-9
    path = np.where(small, tau, -np.expm1(-tau * d) / np.where(small, 1.0, d))
    e0 = np.interp(wavelength_nm, _SOLAR_NM, _SOLAR_W_M2_NM)
    radiance = e0 * scattered / tau / (4.0 * np.pi) * m * np.exp(-tau * m0) * path
    return np.where(sun_el >= 0.0, radiance, 0.0)


def twilight_sky_radiance(sun_elevation_deg: ArrayLike, sunset_radiance: ArrayLike,
                          decline_mag_per_deg: float = TWILIGHT_DECLINE_MAG_PER_DEG
                          ) -> np.ndarray:
    """Twilight sky radiance after sunset (or before sunrise) [W m^-2 sr^-1 nm^-1].

    ``L = L_sunset 10^(-0.4 r d)`` for a Sun depression d between 0 and 18 deg (r the decline
    rate), zero otherwise: log-linear from the sky at sunset to astronomical night, taken as
    uniform over the sky [A].

    Parameters
    ----------
    sun_elevation_deg : array_like
        Sun elevation [deg]; the model applies between -18 and 0.
    sunset_radiance : array_like
        Sky radiance with the Sun on the horizon, e.g. :func:`daytime_sky_radiance` at the
        zenith for a Sun elevation of 0.
    decline_mag_per_deg : float
        Decline rate r [mag/deg].
    """
    sun_el = np.asarray(sun_elevation_deg, dtype=float)
    inside = (sun_el < 0.0) & (sun_el > ASTRONOMICAL_TWILIGHT_DEG)
    return np.where(inside, np.asarray(sunset_radiance, dtype=float)
                    * 10.0 ** (0.4 * decline_mag_per_deg * sun_el), 0.0)


def detected_counts_per_s(spectral_radiance: ArrayLike, wavelength_nm: float, *,
                          aperture_m: ArrayLike, field_of_view_urad: ArrayLike,
                          filter_bandwidth_nm: ArrayLike, efficiency: ArrayLike
                          ) -> np.ndarray:
    """Detected background counts of a receiver looking at a sky of given radiance [1/s].

    ``N = L / (h c / lambda) * (pi D^2 / 4) * (pi theta^2 / 4) * d_lambda * eta``: photon
    radiance times the collecting area, the solid angle of a circular field of view of full
    angle theta, the filter bandwidth and the receiver and detector efficiency (summed over
    detectors).
    """
    photon_j = PLANCK_J_S * SPEED_OF_LIGHT_M_S / (wavelength_nm * 1e-9)
    area = np.pi * np.asarray(aperture_m, dtype=float) ** 2 / 4.0
    solid_angle = np.pi * (np.asarray(field_of_view_urad, dtype=float) * 1e-6) ** 2 / 4.0
    return (np.asarray(spectral_radiance, dtype=float) / photon_j * area * solid_angle
            * np.asarray(filter_bandwidth_nm, dtype=float) * np.asarray(efficiency, dtype=float))


def sky_background_counts_per_s(*, elevation_deg: ArrayLike, sun_elevation_deg: ArrayLike,
                                sun_separation_deg: ArrayLike, moon_elevation_deg: ArrayLike,
                                moon_separation_deg: ArrayLike, moon_phase_angle_deg: ArrayLike,
                                night_counts_per_s: ArrayLike, wavelength_nm: float,
                                aperture_m: ArrayLike, field_of_view_urad: ArrayLike,
                                filter_bandwidth_nm: ArrayLike, efficiency: ArrayLike,
                                zenith_transmittance: ArrayLike,
                                pressure_hpa: ArrayLike = STANDARD_PRESSURE_HPA
                                ) -> np.ndarray:
    """Background counts per second at the detectors for each sample, all skies together.

    The station's moonless-night zenith rate ``night_counts_per_s`` scaled along the line of
    sight (:func:`dark_sky_relative_brightness`), plus moonlight, twilight and daylight
    radiances (:func:`moonlit_sky_radiance`, :func:`twilight_sky_radiance`,
    :func:`daytime_sky_radiance`) through the receiver (:func:`detected_counts_per_s`).
    Dark counts are not included. All angles [deg]; arrays broadcast together.
    """
    (elevation, sun_el, sun_sep, moon_el, moon_sep, phase, night_counts, aperture, fov,
     bandwidth, eta, zenith_t, pressure) = np.broadcast_arrays(*(
        np.asarray(a, dtype=float) for a in (
            elevation_deg, sun_elevation_deg, sun_separation_deg, moon_elevation_deg,
            moon_separation_deg, moon_phase_angle_deg, night_counts_per_s, aperture_m,
            field_of_view_urad, filter_bandwidth_nm, efficiency, zenith_transmittance,
            pressure_hpa)))
    zenith = 90.0 - elevation
    counts = night_counts * dark_sky_relative_brightness(zenith, -2.5 * np.log10(zenith_t))
    radiance = np.zeros(counts.shape)
    # each sky only where it shines (most samples see one or two of them)
    moon_up = moon_el > 0.0
    if moon_up.any():
        radiance[moon_up] += moonlit_sky_radiance(
            moonlight_nl(phase[moon_up], 90.0 - moon_el[moon_up], zenith[moon_up],
                         moon_sep[moon_up]), wavelength_nm)
    dusk = (sun_el < 0.0) & (sun_el > ASTRONOMICAL_TWILIGHT_DEG)
    if dusk.any():
        sunset = daytime_sky_radiance(0.0, 90.0, 90.0, wavelength_nm,
                                      pressure_hpa=pressure[dusk])
        radiance[dusk] += twilight_sky_radiance(sun_el[dusk], sunset)
    day = sun_el >= 0.0
    if day.any():
        radiance[day] += daytime_sky_radiance(sun_el[day], elevation[day], sun_sep[day],
                                              wavelength_nm, pressure_hpa=pressure[day])
    return counts + detected_counts_per_s(
        radiance, wavelength_nm, aperture_m=aperture, field_of_view_urad=fov,
        filter_bandwidth_nm=bandwidth, efficiency=eta)
