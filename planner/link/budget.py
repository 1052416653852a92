"""Downlink budget: transmittance of the quantum channel from satellite to ground, per sample.

One physical model per function, numpy in and numpy out (scalars work too), following pvlib's
habit. The total transmittance of a sample is the product (docs/reference.md §4)

    η = η_tx · η_diff(L) · η_point · η_atm(e) · η_rx · η_det

and the loss is −10 log10 η dB. :func:`link_transmittance` composes the parts, each a model of
its own: the beam (:mod:`planner.link.beam`: divergence, diffraction, pointing) and the
atmosphere (:mod:`planner.link.atmosphere`). Noise is in :mod:`planner.link.noise`.

Units are in the argument names: ``_km``, ``_m``, ``_urad`` (microradians), ``_deg``, ``_hpa``,
``_hz``, ``_ns``. Angles are degrees at the interface and radians inside.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from planner.link.atmosphere import STANDARD_PRESSURE_HPA, atmospheric_transmittance
from planner.link.beam import diffraction_efficiency, pointing_efficiency

__all__ = [
    "EARTH_RADIUS_KM",
    "elevation_from_slant_range_deg",
    "link_transmittance",
    "loss_db_to_transmittance",
    "slant_range_km",
    "transmittance_to_loss_db",
]

#: Mean Earth radius [km] used by the spherical-Earth slant-range formula (docs/reference.md §3).
EARTH_RADIUS_KM = 6371.0


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
    # the factors that do not change along a pass first (one product per sample less each)
    constant = (np.asarray(transmitter_efficiency, dtype=float)
                * pointing_efficiency(pointing_jitter_urad, divergence_half_angle_urad)
                * np.asarray(receiver_efficiency, dtype=float)
                * np.asarray(detector_efficiency, dtype=float))
    return (diffraction_efficiency(range_km, receiver_aperture_m, divergence_half_angle_urad,
                                   beam_waist_m)
            * atmospheric_transmittance(elevation_deg, zenith_transmittance, pressure_hpa,
                                        sin_elevation=sin_elevation)
            * constant)


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
