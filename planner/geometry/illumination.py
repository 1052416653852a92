"""Whether a satellite is in sunlight: the Earth's shadow as a sphere in the sun's direction.

An operator asks it of a pass for two reasons: a sunlit satellite can be tracked optically
(a beacon is not always needed), and a payload in eclipse runs on its batteries.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from planner.geometry.frames import SatellitePropagator
from planner.geometry.sky import SunTrack
from planner.timebase import TimeBase, as_utc_datetime

EARTH_RADIUS_KM = 6378.137
"""Radius of the spherical Earth whose shadow is cast [km] (WGS84 equatorial radius, the value
Skyfield's ``is_sunlit`` uses)."""


def sunlit(satellite_km: np.ndarray, sun_km: np.ndarray,
           earth_radius_km: float = EARTH_RADIUS_KM) -> np.ndarray:
    """Whether each satellite position sees the sun's centre past a spherical Earth.

    The satellite is in shadow when the straight line from it towards the sun meets the sphere
    of radius ``earth_radius_km`` about the geocentre: a cylinder-like (umbra and penumbra not
    separated) model, which is right to a few seconds at the shadow's edge for low orbits.

    Parameters
    ----------
    satellite_km : (N, 3) array
        Geocentric satellite positions [km], any Earth-centred frame.
    sun_km : (N, 3) array
        Geocentric sun positions in the same frame [km].
    earth_radius_km : float
        Radius of the shadowing sphere [km].

    Returns
    -------
    (N,) bool array
        True where the satellite is in sunlight.

    References
    ----------
    Vallado, D. A., *Fundamentals of Astrodynamics and Applications*, 4th ed., section 5.3
    (sight and light). Skyfield's ``ICRF.is_sunlit`` applies the same line-and-sphere test.
    """
    r = np.asarray(satellite_km, dtype=float)
    towards_sun = np.asarray(sun_km, dtype=float) - r
    direction = towards_sun / np.linalg.norm(towards_sun, axis=-1, keepdims=True)
    along = np.einsum("ij,ij->i", r, direction)       # r . d: negative when the sun is "behind"
    miss_sq = np.einsum("ij,ij->i", r, r) - along ** 2     # squared distance of line from centre
    return ~((along < 0) & (miss_sq < earth_radius_km ** 2))


def satellite_sunlit(element_sets: Sequence, times_utc: np.ndarray) -> np.ndarray:
    """Whether a satellite is sunlit at each time.

    Parameters
    ----------
    element_sets : sequence of planner.elements.elementsets.ElementSet
        The satellite's element sets (the set nearest each time is used).
    times_utc : array of datetime64
        UTC times.

    Returns
    -------
    (N,) bool array
        True in sunlight (:func:`sunlit`, with the planner's SGP4 positions and its apparent
        sun from :class:`~planner.geometry.frames.SunTrack`); False also where SGP4 fails.
    """
    times = np.asarray(times_utc).astype("datetime64[ns]")
    if times.size == 0:
        return np.zeros(0, dtype=bool)
    start = as_utc_datetime(times.min())
    span = float((times.max() - times.min()) / np.timedelta64(1, "s"))
    timebase = TimeBase(start, span)
    tau = timebase.tau_of(times)
    sets = sorted(element_sets, key=lambda s: s.epoch)
    propagator = SatellitePropagator([s.satrec for s in sets],
                                     np.array([timebase.tau_of(s.epoch) for s in sets]), timebase)
    r_itrs, _, error = propagator.state(tau)
    sun = SunTrack(timebase, float(tau.min()), float(tau.max())).position_km(tau)
    return sunlit(r_itrs, sun) & (error == 0)
