"""Vectorised satellite geometry seen from ground stations.

The satellite chain is SGP4 (TEME) -> rotation by Greenwich mean sidereal time 1982 (UT1) ->
Earth-fixed (ITRS, no polar motion) -> east/north/up at each station. This is the same chain,
algebraically, as Skyfield's ``(satellite - topos).at(t).altaz()``: Skyfield goes TEME -> GCRS ->
ITRS, and the precession-nutation and GAST rotations cancel, leaving the GMST1982 rotation
(Vallado et al. 2006, AIAA 2006-6753, appendix C). Skyfield applies no polar motion by default
and neither does this module; polar motion would move rise and set by at most ~7 ms.

Stations use the WGS84 ellipsoid and geodetic up, like Skyfield's ``wgs84.latlon``.
All positions are in km, velocities in km/s, angles in radians unless a name says ``_deg``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sgp4.api import Satrec
from skyfield.api import wgs84
from skyfield.sgp4lib import theta_GMST1982

from planner.timebase import SECONDS_PER_DAY, TimeBase

EARTH_ROTATION_RAD_S = 7.292115146706979e-5
"""Earth's rotation rate used to turn TEME velocities into Earth-fixed ones [rad/s] (the
GMST1982 rate at J2000, which is what ``theta_GMST1982`` returns)."""

GM_EARTH_KM3_S2 = 398600.4418
"""Earth's gravitational parameter [km^3/s^2], for the two-body acceleration used only as the
second derivative in Newton steps (it sets convergence speed, not the converged root)."""


@dataclass(frozen=True)
class StationFrames:
    """Earth-fixed positions and local east/north/up unit vectors of ``S`` stations.

    Attributes
    ----------
    position_km : (S, 3) ITRS position [km]
    east, north, up : (S, 3) unit vectors
    unit_geocentric : (S, 3) unit vector from the Earth's centre
    radius_km : (S,) geocentric distance [km]
    """

    position_km: np.ndarray
    east: np.ndarray
    north: np.ndarray
    up: np.ndarray
    unit_geocentric: np.ndarray
    radius_km: np.ndarray


def station_frames(latitude_deg, longitude_deg, altitude_m) -> StationFrames:
    """Positions and topocentric axes of stations on the WGS84 ellipsoid.

    Parameters
    ----------
    latitude_deg, longitude_deg : array_like
        Geodetic latitude and longitude [deg].
    altitude_m : array_like
        Height above the WGS84 ellipsoid [m].
    """
    lat = np.radians(np.atleast_1d(np.asarray(latitude_deg, dtype=float)))
    lon = np.radians(np.atleast_1d(np.asarray(longitude_deg, dtype=float)))
    alt = np.atleast_1d(np.asarray(altitude_m, dtype=float))
    position = np.stack([
        wgs84.latlon(np.degrees(a), np.degrees(b), c).itrs_xyz.km
        for a, b, c in zip(lat, lon, alt, strict=True)
    ]) if lat.size else np.zeros((0, 3))
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    sin_lon, cos_lon = np.sin(lon), np.cos(lon)
    up = np.stack([cos_lat * cos_lon, cos_lat * sin_lon, sin_lat], axis=-1)
    east = np.stack([-sin_lon, cos_lon, np.zeros_like(lon)], axis=-1)
    north = np.stack([-sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat], axis=-1)
    radius = np.linalg.norm(position, axis=-1)
    return StationFrames(position, east, north, up, position / radius[:, None], radius)


def teme_to_itrs(r_teme, v_teme, jd_ut1_whole, jd_ut1_fraction):
    """Rotate SGP4's TEME state into the Earth-fixed frame (pseudo Earth-fixed, no polar motion).

    Parameters
    ----------
    r_teme, v_teme : (N, 3) arrays
        Position [km] and velocity [km/s] in TEME.
    jd_ut1_whole, jd_ut1_fraction : (N,) arrays
        UT1 Julian date split in two [d].

    Returns
    -------
    r_itrs, v_itrs : (N, 3) arrays
        Earth-fixed position [km] and velocity relative to the rotating Earth [km/s].

    References
    ----------
    Vallado, Crawford, Hujsak, Kelso, "Revisiting Spacetrack Report #3", AIAA 2006-6753, app. C.
    """
    theta, theta_dot_per_day = theta_GMST1982(jd_ut1_whole, jd_ut1_fraction)
    return rotate_into_earth_frame(r_teme, v_teme, theta, theta_dot_per_day / SECONDS_PER_DAY)


def rotate_into_earth_frame(r, v, angle, rate):
    """Express states in a frame turned by ``angle`` about z and turning at ``rate``.

    Parameters
    ----------
    r, v : (N, 3) arrays
        Position [km] and velocity [km/s] in the non-rotating frame.
    angle : (N,) array or float
        How far the rotating frame has turned [rad].
    rate : (N,) array or float
        Its rotation rate [rad/s]; the velocity loses rate x r.

    Returns
    -------
    r_rot, v_rot : (N, 3) arrays
    """
    cos_t, sin_t = np.cos(angle), np.sin(angle)
    r_rot = np.empty_like(r)
    v_rot = np.empty_like(v)
    r_rot[:, 0] = cos_t * r[:, 0] + sin_t * r[:, 1]
    r_rot[:, 1] = cos_t * r[:, 1] - sin_t * r[:, 0]
    r_rot[:, 2] = r[:, 2]
    v_rot[:, 0] = cos_t * v[:, 0] + sin_t * v[:, 1] + rate * r_rot[:, 1]
    v_rot[:, 1] = cos_t * v[:, 1] - sin_t * v[:, 0] - rate * r_rot[:, 0]
    v_rot[:, 2] = v[:, 2]
    return r_rot, v_rot


def earth_fixed_acceleration(r_itrs, v_itrs):
    """Approximate acceleration in the rotating frame: two-body gravity, Coriolis, centrifugal.

    Used only as a second derivative for Newton steps [km/s^2]; J2 and drag are left out, which
    slows convergence slightly but does not move any root.
    """
    r2 = np.einsum("ij,ij->i", r_itrs, r_itrs)
    w = EARTH_ROTATION_RAD_S
    a = r_itrs * (-GM_EARTH_KM3_S2 / (r2 * np.sqrt(r2)))[:, None]
    a[:, 0] += 2 * w * v_itrs[:, 1] + w * w * r_itrs[:, 0]
    a[:, 1] += -2 * w * v_itrs[:, 0] + w * w * r_itrs[:, 1]
    return a


class SatellitePropagator:
    """Earth-fixed states of one satellite from one or more element sets.

    Parameters
    ----------
    satrecs
        SGP4 models of the satellite's element sets, sorted by epoch.
    epoch_tau
        Their epochs as ``tau`` [s] of ``timebase``.
    timebase
        The time axis.
    """

    def __init__(self, satrecs: list[Satrec], epoch_tau: np.ndarray, timebase: TimeBase):
        self.satrecs = list(satrecs)
        self.epoch_tau = np.asarray(epoch_tau, dtype=float)
        self.timebase = timebase
        # midpoints between consecutive epochs: the nearest set changes there
        self._switch_tau = (self.epoch_tau[1:] + self.epoch_tau[:-1]) / 2

    def nearest_set(self, tau: np.ndarray) -> np.ndarray:
        """Index of the element set whose epoch is nearest each ``tau``."""
        return np.searchsorted(self._switch_tau, np.asarray(tau, dtype=float))

    def state(self, tau: np.ndarray, set_index: np.ndarray | None = None):
        """Earth-fixed position and velocity at ``tau``.

        Parameters
        ----------
        tau : (N,) array [s]
        set_index : (N,) int array, optional
            Which element set to use for each time; the nearest epoch by default.

        Returns
        -------
        r_itrs : (N, 3) [km], v_itrs : (N, 3) [km/s], error : (N,) int
            SGP4 error codes (0 is success); positions of failed samples are NaN.
        """
        tau = np.asarray(tau, dtype=float)
        jd, fr = self.timebase.utc_jd(tau)
        if len(self.satrecs) == 1:
            error, r, v = self.satrecs[0].sgp4_array(jd, fr)
        else:
            if set_index is None:
                set_index = self.nearest_set(tau)
            r = np.empty((tau.size, 3))
            v = np.empty((tau.size, 3))
            error = np.empty(tau.size, dtype=np.uint8)
            for k in np.unique(set_index):
                sel = set_index == k
                error[sel], r[sel], v[sel] = self.satrecs[k].sgp4_array(jd[sel], fr[sel])
        ut1_whole, ut1_fraction = self.timebase.ut1_jd(tau)
        r_itrs, v_itrs = teme_to_itrs(r, v, ut1_whole, ut1_fraction)
        return r_itrs, v_itrs, error


def topocentric(r_itrs, v_itrs, station_position, east, north, up):
    """Azimuth, elevation, range and range rate of satellite states seen from stations.

    All arguments are (N, 3) arrays (one station row per satellite state).

    Returns
    -------
    azimuth : (N,) [rad], clockwise from north in [0, 2 pi)
    elevation : (N,) [rad], geometric (no refraction)
    range_km : (N,) [km]
    range_rate_km_s : (N,) [km/s]
    """
    rho = r_itrs - station_position
    rng = np.sqrt(np.einsum("ij,ij->i", rho, rho))
    e = np.einsum("ij,ij->i", rho, east)
    n = np.einsum("ij,ij->i", rho, north)
    u = np.einsum("ij,ij->i", rho, up)
    azimuth = np.mod(np.arctan2(e, n), 2 * np.pi)
    elevation = np.arcsin(np.clip(u / rng, -1.0, 1.0))
    range_rate = np.einsum("ij,ij->i", rho, v_itrs) / rng
    return azimuth, elevation, rng, range_rate


def sin_elevation_and_rates(r_itrs, v_itrs, a_itrs, station_position, up):
    """sin(elevation) and its first and (approximate) second time derivatives.

    With rho the station-to-satellite vector, R = |rho|, z = up . rho:
    s = z / R, ds/dt = (up . v)/R - z Rdot / R^2, and d2s/dt2 from the acceleration ``a_itrs``.
    Roots of ``s - sin(threshold)`` are rise/set; roots of ``ds/dt`` are culminations.

    Returns
    -------
    s, s_dot [1/s], s_ddot [1/s^2], range_km, range_dot_km_s, range_ddot_km_s2 : (N,) arrays
    """
    rho = r_itrs - station_position
    rng = np.sqrt(np.einsum("ij,ij->i", rho, rho))
    z = np.einsum("ij,ij->i", rho, up)
    z_dot = np.einsum("ij,ij->i", v_itrs, up)
    z_ddot = np.einsum("ij,ij->i", a_itrs, up)
    rng_dot = np.einsum("ij,ij->i", rho, v_itrs) / rng
    rng_ddot = (np.einsum("ij,ij->i", v_itrs, v_itrs) + np.einsum("ij,ij->i", rho, a_itrs)
                - rng_dot**2) / rng
    s = z / rng
    s_dot = z_dot / rng - z * rng_dot / rng**2
    s_ddot = (z_ddot / rng - 2 * z_dot * rng_dot / rng**2 - z * rng_ddot / rng**2
              + 2 * z * rng_dot**2 / rng**3)
    return s, s_dot, s_ddot, rng, rng_dot, rng_ddot
