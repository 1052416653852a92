"""Downlink budget: transmittance of the quantum channel from satellite to ground, per sample.

One physical model per function, numpy in and numpy out (scalars work too), following pvlib's
habit. The total transmittance of a sample is the product (docs/reference.md §4)

    η = η_tx · η_diff(L) · η_point · η_atm(e) · η_rx · η_det

and the loss is −10 log10 η dB. :func:`link_transmittance` composes the parts;
each part is also usable (and tested) on its own. Noise enters as the per-pulse probability of an
extraneous click (:func:`extraneous_click_probability`), weather as a monthly clear-sky
probability (:func:`monthly_clear_sky_probability`).

Units are in the argument names: ``_km``, ``_m``, ``_urad`` (microradians), ``_deg``, ``_hpa``,
``_hz``, ``_ns``. Angles are degrees at the interface and radians inside.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DIVERGENCE_CONVENTIONS",
    "EARTH_RADIUS_KM",
    "STANDARD_PRESSURE_HPA",
    "air_mass_kasten_young",
    "atmospheric_transmittance",
    "beam_radius_m",
    "diffraction_efficiency",
    "divergence_half_angle_1e2_urad",
    "elevation_from_slant_range_deg",
    "extraneous_click_probability",
    "link_transmittance",
    "loss_db_to_transmittance",
    "monthly_clear_sky_probability",
    "pointing_efficiency",
    "slant_range_km",
    "standard_pressure_hpa",
    "station_pressure_hpa",
    "transmittance_to_loss_db",
]

#: Mean Earth radius [km] used by the spherical-Earth slant-range formula (docs/reference.md §3).
EARTH_RADIUS_KM = 6371.0

#: Standard sea-level pressure [hPa] (ICAO standard atmosphere).
STANDARD_PRESSURE_HPA = 1013.25

# ICAO / U.S. Standard Atmosphere 1976, troposphere (0-11 km).
_SEA_LEVEL_TEMPERATURE_K = 288.15
_LAPSE_K_PER_M = 0.0065
_PRESSURE_EXPONENT = 9.80665 * 0.0289644 / (8.3144598 * _LAPSE_K_PER_M)  # g0 M / (R L) = 5.25588
_GEOPOTENTIAL_RADIUS_M = 6356766.0

DivergenceConvention = Literal["half_angle_1e2", "full_angle_1e2", "half_angle_hwhm",
                               "full_angle_fwhm"]

#: Ways papers quote a Gaussian beam's far-field divergence, and the factor that turns each
#: into the 1/e² half-angle used by the diffraction model. For a Gaussian intensity profile
#: ``exp(-2 r²/w²)`` the half width at half maximum is ``w·sqrt(ln 2 / 2) = 0.5887 w``.
DIVERGENCE_CONVENTIONS: dict[str, float] = {
    "half_angle_1e2": 1.0,
    "full_angle_1e2": 0.5,
    "half_angle_hwhm": 1.0 / np.sqrt(np.log(2.0) / 2.0),
    "full_angle_fwhm": 0.5 / np.sqrt(np.log(2.0) / 2.0),
}

# Kasten & Young (1989) coefficients.
_KY_A = 0.50572
_KY_B = 96.07995  # [deg]
_KY_C = 1.6364


# --------------------------------------------------------------------------------------------
# Geometry helpers (spherical Earth)
# --------------------------------------------------------------------------------------------

def slant_range_km(elevation_deg: ArrayLike, altitude_km: ArrayLike,
                   earth_radius_km: float = EARTH_RADIUS_KM) -> np.ndarray:
    """Distance from a ground station to a satellite seen at a given elevation.

    Spherical Earth, station at the surface:
    ``L = sqrt((R + h)² − R² cos² e) − R sin e``.

    Parameters
    ----------
    elevation_deg : array_like
        Elevation of the satellite above the local horizon [deg].
    altitude_km : array_like
        Satellite altitude above the spherical Earth [km].
    earth_radius_km : float, default 6371.0
        Earth radius [km].

    Returns
    -------
    numpy.ndarray
        Slant range [km].

    References
    ----------
    .. [1] docs/reference.md §3 (500 km orbit: 500 km at zenith, 909 km at 30°, 1,407 km at 15°,
       1,695 km at 10°).
    """
    elevation = np.radians(np.asarray(elevation_deg, dtype=float))
    radius = earth_radius_km
    orbit = radius + np.asarray(altitude_km, dtype=float)
    return np.sqrt(orbit**2 - (radius * np.cos(elevation)) ** 2) - radius * np.sin(elevation)


def elevation_from_slant_range_deg(range_km: ArrayLike, altitude_km: ArrayLike,
                                   earth_radius_km: float = EARTH_RADIUS_KM) -> np.ndarray:
    """Elevation at which a satellite at a given altitude is seen at a given slant range.

    Inverse of :func:`slant_range_km` (law of cosines in the Earth-centre triangle):
    ``sin e = ((R + h)² − R² − L²) / (2 R L)``.

    Parameters
    ----------
    range_km : array_like
        Slant range [km], between the altitude and the horizon distance.
    altitude_km : array_like
        Satellite altitude [km].
    earth_radius_km : float, default 6371.0
        Earth radius [km].

    Returns
    -------
    numpy.ndarray
        Elevation [deg].

    References
    ----------
    .. [1] docs/reference.md §3.
    """
    distance = np.asarray(range_km, dtype=float)
    radius = earth_radius_km
    orbit = radius + np.asarray(altitude_km, dtype=float)
    sine = (orbit**2 - radius**2 - distance**2) / (2.0 * radius * distance)
    return np.degrees(np.arcsin(np.clip(sine, -1.0, 1.0)))


# --------------------------------------------------------------------------------------------
# Beam propagation
# --------------------------------------------------------------------------------------------

def divergence_half_angle_1e2_urad(divergence_urad: ArrayLike,
                                   convention: DivergenceConvention) -> np.ndarray:
    """Convert a quoted beam divergence to the 1/e² half-angle of a Gaussian beam.

    Papers quote divergence as half or full angle, at 1/e² of peak intensity or at half
    maximum. The models here use the far-field 1/e² half-angle ``θ`` with
    ``w(L) ≈ θ L``. Quoting a full-angle figure as a half-angle overstates the received power
    by 6 dB, which is why the convention must be named.

    Parameters
    ----------
    divergence_urad : array_like
        The quoted divergence [µrad].
    convention : {'half_angle_1e2', 'full_angle_1e2', 'half_angle_hwhm', 'full_angle_fwhm'}
        What the quoted figure means.

    Returns
    -------
    numpy.ndarray
        1/e² half-angle divergence [µrad].

    Raises
    ------
    ValueError
        If the convention is unknown.

    References
    ----------
    .. [1] A. E. Siegman, *Lasers* (University Science Books, 1986), ch. 17 (Gaussian beams).
    .. [2] docs/reference.md §4 (conventions differ between papers).
    """
    try:
        factor = DIVERGENCE_CONVENTIONS[convention]
    except KeyError:
        known = ", ".join(DIVERGENCE_CONVENTIONS)
        raise ValueError(f"unknown divergence convention {convention!r}; use one of {known}"
                         ) from None
    return np.asarray(divergence_urad, dtype=float) * factor


def beam_radius_m(range_km: ArrayLike, divergence_half_angle_urad: ArrayLike,
                  beam_waist_m: ArrayLike = 0.0) -> np.ndarray:
    """1/e² radius of a Gaussian beam after a given propagation distance.

    ``w(L)² = w0² + (θ L)²`` with the far-field 1/e² half-angle ``θ``; exact for a Gaussian
    beam whose waist sits at the transmitter when ``θ = λ / (π w0)``, and the usual
    engineering form when ``θ`` is a measured (not diffraction-limited) divergence.

    Parameters
    ----------
    range_km : array_like
        Propagation distance [km].
    divergence_half_angle_urad : array_like
        Far-field 1/e² half-angle divergence [µrad].
    beam_waist_m : array_like, default 0.0
        1/e² beam radius at the transmitter [m].

    Returns
    -------
    numpy.ndarray
        Beam 1/e² radius at the receiver [m].

    References
    ----------
    .. [1] A. E. Siegman, *Lasers* (1986), eq. 17.5; docs/reference.md §4.
    """
    far_field_m = (np.asarray(divergence_half_angle_urad, dtype=float) * 1e-6
                   * np.asarray(range_km, dtype=float) * 1e3)
    waist = np.asarray(beam_waist_m, dtype=float)
    return np.sqrt(waist**2 + far_field_m**2)


def diffraction_efficiency(range_km: ArrayLike, receiver_aperture_m: ArrayLike,
                           divergence_half_angle_urad: ArrayLike,
                           beam_waist_m: ArrayLike = 0.0) -> np.ndarray:
    """Fraction of a Gaussian beam's power collected by a circular receiver aperture.

    ``η_diff = 1 − exp(−2 a² / w(L)²)`` with the receiver radius ``a`` (half the diameter)
    and the beam radius ``w(L)`` of :func:`beam_radius_m`, the aperture centred on the beam.
    Small beams (``w ≪ a``) give 1; large beams give ``2 a² / w²``, the far-field limit.

    Parameters
    ----------
    range_km : array_like
        Slant range [km].
    receiver_aperture_m : array_like
        Receiver telescope diameter [m].
    divergence_half_angle_urad : array_like
        Far-field 1/e² half-angle divergence [µrad].
    beam_waist_m : array_like, default 0.0
        1/e² beam radius at the transmitter [m].

    Returns
    -------
    numpy.ndarray
        Collected fraction [0-1].

    References
    ----------
    .. [1] A. E. Siegman, *Lasers* (1986), §17.1 (power through a circular aperture).
    .. [2] docs/reference.md §4; the top-hat form ``(D_R / (D_T + θ_full L))²`` is about 3 dB more
       pessimistic.
    """
    radius_m = 0.5 * np.asarray(receiver_aperture_m, dtype=float)
    beam = beam_radius_m(range_km, divergence_half_angle_urad, beam_waist_m)
    return -np.expm1(-2.0 * radius_m**2 / beam**2)


def pointing_efficiency(jitter_urad: ArrayLike,
                        divergence_half_angle_urad: ArrayLike) -> np.ndarray:
    """Mean fraction of on-axis power kept under random pointing jitter.

    With a Gaussian far-field pattern ``exp(−2 φ²/θ²)`` and a pointing error whose two
    orthogonal components are independent normal with standard deviation ``σ`` (a Rayleigh
    distributed radial error), the mean of the pattern is ``1 / (1 + 4 σ² / θ²)``.

    Parameters
    ----------
    jitter_urad : array_like
        Pointing jitter, standard deviation per axis [µrad].
    divergence_half_angle_urad : array_like
        Far-field 1/e² half-angle divergence [µrad].

    Returns
    -------
    numpy.ndarray
        Mean pointing efficiency [0-1]; 1 at zero jitter.

    References
    ----------
    .. [1] docs/reference.md §4; e.g. P. Toyoshima et al., "Long-term statistics of laser beam
       propagation in an optical ground-to-geostationary satellite communications link",
       IEEE Trans. Antennas Propag. 53, 842 (2005) (Rayleigh pointing-error loss).
    """
    sigma = np.asarray(jitter_urad, dtype=float)
    theta = np.asarray(divergence_half_angle_urad, dtype=float)
    return 1.0 / (1.0 + 4.0 * sigma**2 / theta**2)


# --------------------------------------------------------------------------------------------
# Atmosphere
# --------------------------------------------------------------------------------------------

def air_mass_kasten_young(zenith_deg: ArrayLike, cos_zenith: ArrayLike | None = None
                          ) -> np.ndarray:
    """Relative optical air mass after Kasten and Young (1989).

    ``AM = 1 / (cos z + 0.50572 (96.07995° − z)^−1.6364)``; 1 at the zenith, about 38 at the
    horizon. Zenith angles beyond 90° are clipped to 90°.

    Parameters
    ----------
    zenith_deg : array_like
        Zenith angle ``z = 90° − elevation`` [deg].
    cos_zenith : array_like, optional
        ``cos z`` (the sine of the elevation) where the caller already has it: a cosine costs
        more than the rest of the formula.

    Returns
    -------
    numpy.ndarray
        Relative air mass (sea level) [-].

    References
    ----------
    .. [1] F. Kasten and A. T. Young, "Revised optical air mass tables and approximation
       formula", Appl. Opt. 28, 4735-4738 (1989).
    """
    zenith = np.clip(np.asarray(zenith_deg, dtype=float), 0.0, 90.0)
    if cos_zenith is None:
        cos_zenith = np.cos(np.radians(zenith))
    else:
        cos_zenith = np.clip(cos_zenith, 0.0, 1.0)
    return 1.0 / (cos_zenith + _KY_A * np.exp(-_KY_C * np.log(_KY_B - zenith)))


def standard_pressure_hpa(altitude_m: ArrayLike) -> np.ndarray:
    """Air pressure of the ICAO standard atmosphere at a given height.

    Barometric formula for the troposphere (constant lapse rate),
    ``p = p0 (1 - L H / T0) ** (g0 M / (R L))`` with p0 = 1013.25 hPa, T0 = 288.15 K,
    L = 6.5 K/km, g0 M / (R L) = 5.25588, where the geopotential height is
    ``H = r0 h / (r0 + h)``, r0 = 6,356,766 m, for the geometric height h.

    Parameters
    ----------
    altitude_m : array_like
        Geometric height above mean sea level [m]; valid in the troposphere (-500 to 11,000 m).

    Returns
    -------
    numpy.ndarray
        Pressure [hPa], same shape as ``altitude_m``.

    References
    ----------
    .. [1] ICAO, "Manual of the ICAO Standard Atmosphere", Doc 7488/3 (1993).
    .. [2] NOAA/NASA/USAF, "U.S. Standard Atmosphere, 1976", NOAA-S/T 76-1562 (1976).
    """
    height = np.asarray(altitude_m, dtype=float)
    geopotential = _GEOPOTENTIAL_RADIUS_M * height / (_GEOPOTENTIAL_RADIUS_M + height)
    ratio = 1.0 - _LAPSE_K_PER_M * geopotential / _SEA_LEVEL_TEMPERATURE_K
    return STANDARD_PRESSURE_HPA * ratio**_PRESSURE_EXPONENT


def station_pressure_hpa(station: Any) -> float:
    """Air pressure at a station [hPa]: its ``pressure_hpa`` if it has one, else the standard
    atmosphere at its ``altitude_m`` (sea level without one)."""
    pressure = getattr(station, "pressure_hpa", None)
    if callable(pressure):
        pressure = pressure()
    if pressure is None:
        pressure = standard_pressure_hpa(getattr(station, "altitude_m", 0.0) or 0.0)
    return float(pressure)


def atmospheric_transmittance(elevation_deg: ArrayLike, zenith_transmittance: ArrayLike,
                              pressure_hpa: ArrayLike = STANDARD_PRESSURE_HPA, *,
                              sin_elevation: ArrayLike | None = None) -> np.ndarray:
    """Clear-sky transmittance of the atmosphere along a slant path.

    ``η_atm = T_zen ^ (AM(z) · p / p0)``: Beer–Lambert extinction scaled by the Kasten–Young
    air mass (:func:`air_mass_kasten_young`), with the optical depth above the station reduced
    in proportion to its pressure. ``T_zen`` is the sea-level zenith transmittance at the link
    wavelength (0.895 at 850 nm reproduces a MODTRAN table to 0.01 above 10° elevation).

    Parameters
    ----------
    elevation_deg : array_like
        Elevation of the line of sight [deg].
    zenith_transmittance : array_like
        Sea-level zenith transmittance at the wavelength [0-1].
    pressure_hpa : array_like, default 1013.25
        Station air pressure [hPa]; see :func:`standard_pressure_hpa`.
    sin_elevation : array_like, optional
        The sine of ``elevation_deg``, where the caller already has it (saves a cosine).

    Returns
    -------
    numpy.ndarray
        Transmittance [0-1].

    References
    ----------
    .. [1] F. Kasten and A. T. Young, Appl. Opt. 28, 4735 (1989).
    .. [2] docs/reference.md §4 (T_zen ≈ 0.895 at 850 nm; altitude correction by pressure).
    """
    zenith = 90.0 - np.asarray(elevation_deg, dtype=float)
    pressure_ratio = np.asarray(pressure_hpa, dtype=float) / STANDARD_PRESSURE_HPA
    air_mass = air_mass_kasten_young(zenith, sin_elevation) * pressure_ratio
    # T^m as exp(m ln T): the same number, several times faster than a power per sample
    return np.exp(air_mass * np.log(np.asarray(zenith_transmittance, dtype=float)))


# --------------------------------------------------------------------------------------------
# The whole link
# --------------------------------------------------------------------------------------------

def link_transmittance(range_km: ArrayLike, elevation_deg: ArrayLike, *,
                       receiver_aperture_m: ArrayLike,
                       divergence_half_angle_urad: ArrayLike,
                       beam_waist_m: ArrayLike = 0.0,
                       pointing_jitter_urad: ArrayLike = 0.0,
                       zenith_transmittance: ArrayLike = 1.0,
                       pressure_hpa: ArrayLike = STANDARD_PRESSURE_HPA,
                       transmitter_efficiency: ArrayLike = 1.0,
                       receiver_efficiency: ArrayLike = 1.0,
                       detector_efficiency: ArrayLike = 1.0,
                       sin_elevation: ArrayLike | None = None) -> np.ndarray:
    """Total transmittance from the satellite's source to a click in a ground detector.

    ``η = η_tx · η_diff(L) · η_point · η_atm(e) · η_rx · η_det`` — the product of
    :func:`diffraction_efficiency`, :func:`pointing_efficiency`,
    :func:`atmospheric_transmittance` and the optical and detector efficiencies.

    Parameters
    ----------
    range_km : array_like
        Slant range [km].
    elevation_deg : array_like
        Elevation [deg].
    receiver_aperture_m : array_like
        Receiver telescope diameter [m].
    divergence_half_angle_urad : array_like
        Far-field 1/e² half-angle divergence [µrad].
    beam_waist_m : array_like, default 0.0
        1/e² beam radius at the transmitter [m].
    pointing_jitter_urad : array_like, default 0.0
        Pointing jitter per axis [µrad].
    zenith_transmittance : array_like, default 1.0
        Sea-level clear-sky zenith transmittance [0-1].
    pressure_hpa : array_like, default 1013.25
        Station pressure [hPa].
    transmitter_efficiency, receiver_efficiency, detector_efficiency : array_like
        Optical efficiency of the transmitter and of the receiver, and detection efficiency
        [0-1].
    sin_elevation : array_like, optional
        The sine of ``elevation_deg`` where the caller has it; see
        :func:`atmospheric_transmittance`.

    Returns
    -------
    numpy.ndarray
        Transmittance [0-1].

    References
    ----------
    .. [1] docs/reference.md §4.
    .. [2] S.-K. Liao et al., "Satellite-to-ground quantum key distribution", Nature 549,
       43-47 (2017) (the same budget for the Micius downlink).
    """
    return (np.asarray(transmitter_efficiency, dtype=float)
            * diffraction_efficiency(range_km, receiver_aperture_m, divergence_half_angle_urad,
                                     beam_waist_m)
            * pointing_efficiency(pointing_jitter_urad, divergence_half_angle_urad)
            * atmospheric_transmittance(elevation_deg, zenith_transmittance, pressure_hpa,
                                        sin_elevation=sin_elevation)
            * np.asarray(receiver_efficiency, dtype=float)
            * np.asarray(detector_efficiency, dtype=float))


def transmittance_to_loss_db(transmittance: ArrayLike) -> np.ndarray:
    """Loss in decibels, ``−10 log10 η`` (``inf`` for zero transmittance).

    Parameters
    ----------
    transmittance : array_like
        Transmittance [0-1].

    Returns
    -------
    numpy.ndarray
        Loss [dB].

    References
    ----------
    .. [1] ITU-R V.574-5, *Use of the decibel and the neper in telecommunications* (2015).
    """
    eta = np.asarray(transmittance, dtype=float)
    with np.errstate(divide="ignore"):
        return -10.0 * np.log10(eta)


def loss_db_to_transmittance(loss_db: ArrayLike) -> np.ndarray:
    """Transmittance from a loss in decibels, ``η = 10^(−loss/10)``.

    Parameters
    ----------
    loss_db : array_like
        Loss [dB].

    Returns
    -------
    numpy.ndarray
        Transmittance [0-1 for non-negative loss].

    References
    ----------
    .. [1] ITU-R V.574-5 (2015).
    """
    return np.power(10.0, -np.asarray(loss_db, dtype=float) / 10.0)


# --------------------------------------------------------------------------------------------
# Noise and weather
# --------------------------------------------------------------------------------------------

def extraneous_click_probability(dark_count_rate_hz: ArrayLike, detector_count: ArrayLike,
                                 background_counts_per_s: ArrayLike,
                                 gate_width_ns: ArrayLike) -> np.ndarray:
    """Probability per pulse of a click not caused by the signal (Y0, or p_ec).

    ``Y0 = 1 − exp(−(n_det · dark + background) · gate)`` — Poisson noise counts in the
    detection gate, summed over all detectors; ``≈ (n_det · dark + background) · gate`` for
    the small values met in practice. Moonlight and city light raise the background.

    Parameters
    ----------
    dark_count_rate_hz : array_like
        Dark-count rate of one detector [counts/s].
    detector_count : array_like
        Number of detectors in the receiver (4 for a passive-basis BB84 receiver).
    background_counts_per_s : array_like
        Sky-background count rate summed over the detectors [counts/s].
    gate_width_ns : array_like
        Coincidence (detection) window per pulse [ns].

    Returns
    -------
    numpy.ndarray
        Extraneous click probability per pulse [0-1].

    References
    ----------
    .. [1] X. Ma, B. Qi, Y. Zhao and H.-K. Lo, "Practical decoy state for quantum key
       distribution", Phys. Rev. A 72, 012326 (2005) (Y0, the vacuum yield).
    .. [2] docs/reference.md §4 (noise).
    """
    rate = (np.asarray(dark_count_rate_hz, dtype=float) * np.asarray(detector_count, dtype=float)
            + np.asarray(background_counts_per_s, dtype=float))
    return -np.expm1(-rate * np.asarray(gate_width_ns, dtype=float) * 1e-9)


def monthly_clear_sky_probability(monthly_values: ArrayLike, month: ArrayLike) -> np.ndarray:
    """Probability of a cloud-free line of sight for the given calendar months.

    Parameters
    ----------
    monthly_values : array_like, shape (12,)
        Clear-sky probabilities for January..December [0-1] (a station's climatology).
    month : array_like of int
        Calendar month numbers 1..12.

    Returns
    -------
    numpy.ndarray
        Clear-sky probability for each month [0-1].

    Raises
    ------
    ValueError
        If there are not 12 values or a month is outside 1..12.

    References
    ----------
    .. [1] docs/reference.md §4 (weather); M. Anipeddi et al., EPJ Quantum Technol. (2025)
       (monthly cloud climatology for optical ground stations).
    """
    values = np.asarray(monthly_values, dtype=float)
    if values.shape != (12,):
        raise ValueError(f"expected 12 monthly values, got shape {values.shape}")
    months = np.asarray(month)
    if months.size and (np.min(months) < 1 or np.max(months) > 12):
        raise ValueError("months must be in 1..12")
    return values[months.astype(int) - 1]
