"""The Sun (and Moon) seen from ground stations: Skyfield with DE421, offline, interpolated.

The ephemeris comes from the ``skyfield-data`` package, so nothing downloads at run time.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from skyfield.api import Loader

from planner.timebase import SECONDS_PER_DAY, TimeBase


@lru_cache(maxsize=1)
def _ephemeris():
    import warnings

    from skyfield_data import get_skyfield_data_path

    with warnings.catch_warnings():
        # skyfield-data warns about its own Earth-orientation file; the planner uses Skyfield's
        # built-in time scale instead and only takes the DE421 ephemeris from it.
        warnings.simplefilter("ignore", RuntimeWarning)
        path = get_skyfield_data_path()
    return Loader(path, verbose=False)("de421.bsp")


class SunTrack:
    """The sun's apparent position seen from the Earth over a period, interpolated.

    Skyfield computes the apparent (light-time, aberration and deflection corrected) geocentric
    position of the sun with the JPL DE421 ephemeris from the ``skyfield-data`` package (offline)
    every two days, in the true equator and equinox of date, together with GAST - ERA (precession
    and the equation of the equinoxes). Both are smooth, so cubic splines interpolate them to
    better than 1e-8 rad; the fast part, the Earth rotation angle, is evaluated exactly at each
    time. The result matches Skyfield's ``observe(sun).apparent().altaz()`` to ~1e-5 deg at a
    tiny fraction of the cost of evaluating IAU 2000A nutation at every instant.
    """

    STEP_S = 2 * SECONDS_PER_DAY

    def __init__(self, timebase: TimeBase, tau_start: float, tau_end: float):
        from scipy.interpolate import CubicSpline
        from skyfield.earthlib import earth_rotation_angle

        planets = _ephemeris()
        earth, sun = planets["earth"], planets["sun"]
        nodes = np.arange(np.floor(tau_start / self.STEP_S) - 16.0,
                          np.ceil(tau_end / self.STEP_S) + 17.0) * self.STEP_S
        t = timebase.skyfield_time(nodes)
        gcrs = earth.at(t).observe(sun).apparent().position.km
        true_of_date = np.einsum("ijn,jn->ni", t.M, gcrs)
        era = 2 * np.pi * earth_rotation_angle(t.whole, t.ut1_fraction)
        gast_minus_era = np.unwrap(np.radians(t.gast * 15.0) - era)
        self._timebase = timebase
        self._position = CubicSpline(nodes, true_of_date, axis=0)
        self._gast_minus_era = CubicSpline(nodes, gast_minus_era)

    def position_km(self, tau: np.ndarray) -> np.ndarray:
        """Geocentric Earth-fixed (ITRS, no polar motion) position of the sun [km], (N, 3)."""
        from skyfield.earthlib import earth_rotation_angle

        tau = np.asarray(tau, dtype=float)
        whole, fraction = self._timebase.ut1_jd(tau)
        gast = 2 * np.pi * earth_rotation_angle(whole, fraction) + self._gast_minus_era(tau)
        p = self._position(tau)
        cos_g, sin_g = np.cos(gast), np.sin(gast)
        return np.stack([cos_g * p[:, 0] + sin_g * p[:, 1],
                         -sin_g * p[:, 0] + cos_g * p[:, 1], p[:, 2]], axis=-1)

    def elevation_deg(self, tau, station_position, up) -> np.ndarray:
        """Topocentric elevation of the sun's centre [deg], geometric (no refraction).

        ``station_position`` and ``up`` are (N, 3) rows matching ``tau``.
        """
        rho = self.position_km(tau) - station_position
        sin_el = np.einsum("ij,ij->i", rho, up) / np.linalg.norm(rho, axis=-1)
        return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
