"""The Sun and the Moon seen from ground stations: Skyfield with DE421, offline, interpolated.

Skyfield computes the apparent (light-time, aberration and deflection corrected) geocentric
position of each body with the JPL DE421 ephemeris from the ``skyfield-data`` package (so
nothing downloads at run time) on coarse nodes, in the true equator and equinox of date,
together with GAST - ERA (precession and the equation of the equinoxes). Both are smooth, so
cubic splines (:mod:`planner.geometry.spline`) interpolate them; the fast part, the Earth
rotation angle, is evaluated exactly at each time. Topocentric directions then come from
subtracting the station's Earth-fixed position (which carries the Moon's ~1 deg diurnal
parallax exactly).

Accuracy against Skyfield's full ``observe(...).apparent().altaz()`` (tested): about 1e-5 deg for
the Sun (nodes every 2 days) and 1e-4 deg for the Moon (nodes every 3 hours), at a tiny
fraction of the cost of evaluating IAU 2000A nutation at every instant.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from skyfield.api import Loader
from skyfield.earthlib import earth_rotation_angle

from planner.geometry.frames import rotate_into_earth_frame
from planner.geometry.spline import CubicSpline
from planner.timebase import SECONDS_PER_DAY, TimeBase

SUN_NODE_STEP_S = 2 * SECONDS_PER_DAY
"""Spline node spacing for the Sun [s]."""

MOON_NODE_STEP_S = 3 * 3600.0
"""Spline node spacing for the Moon [s]: it moves ~13 deg a day and its distance changes by
~10% in two weeks; 3 h nodes keep the spline error below 1e-4 deg (tested)."""

_ERA_RATE_RAD_S = 2 * np.pi * 1.00273781191135448 / SECONDS_PER_DAY
"""Rate of the Earth rotation angle [rad per UT1 second] (IAU 2000 Resolution B1.8)."""


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


class _Frame:
    """The true-of-date frame on its nodes, interpolated: the GCRS-to-true-of-date rotation
    (precession-nutation, IAU 2000A: the costly part, which changes slowly) and GAST - ERA.

    Parameters
    ----------
    timebase : TimeBase
        The time axis.
    nodes : numpy.ndarray
        The frame's nodes [s of ``timebase``] (:func:`_frame_nodes`).
    """

    def __init__(self, timebase: TimeBase, nodes: np.ndarray):
        t = timebase.skyfield_time(nodes)
        self.rotation = CubicSpline(nodes, np.moveaxis(t.M, -1, 0))
        era = 2 * np.pi * earth_rotation_angle(t.whole, t.ut1_fraction)
        self.gast_minus_era = CubicSpline(nodes, np.unwrap(np.radians(t.gast * 15.0) - era))


class BodyTrack:
    """A Solar-System body's apparent geocentric position over a period, interpolated.

    Parameters
    ----------
    body : {"sun", "moon"}
        DE421 name of the body.
    timebase : TimeBase
        The time axis.
    tau_start, tau_end : float
        The period [s of ``timebase``]; nodes extend beyond it on both sides.
    step_s : float
        Node spacing [s].
    frame : _Frame, optional
        The precession-nutation frame to use (one frame can serve several bodies,
        :func:`sun_and_moon`); by default its own, on the Sun's two-day nodes around the body's.
    """

    def __init__(self, body: str, timebase: TimeBase, tau_start: float, tau_end: float,
                 step_s: float, frame: _Frame | None = None):
        planets = _ephemeris()
        nodes = _body_nodes(tau_start, tau_end, step_s)
        if frame is None:
            frame = _Frame(timebase, _frame_nodes(nodes[0], nodes[-1]))
        gcrs = planets["earth"].at(timebase.skyfield_time(nodes)).observe(planets[body]).apparent()
        self._timebase = timebase
        self._position = CubicSpline(nodes, np.einsum("nij,jn->ni", frame.rotation(nodes),
                                                      gcrs.position.km))
        self._gast_minus_era = frame.gast_minus_era

    def true_of_date_km(self, tau: np.ndarray) -> np.ndarray:
        """Geocentric position in the true equator and equinox of date [km], (N, 3)."""
        return self._position(np.asarray(tau, dtype=float))

    def position_km(self, tau: np.ndarray) -> np.ndarray:
        """Geocentric Earth-fixed (ITRS, no polar motion) position [km], (N, 3)."""
        tau = np.asarray(tau, dtype=float)
        whole, fraction = self._timebase.ut1_jd(tau)
        gast = 2 * np.pi * earth_rotation_angle(whole, fraction) + self._gast_minus_era(tau)
        p = self._position(tau)
        cos_g, sin_g = np.cos(gast), np.sin(gast)
        return np.stack([cos_g * p[..., 0] + sin_g * p[..., 1],
                         -sin_g * p[..., 0] + cos_g * p[..., 1], p[..., 2]], axis=-1)

    def earth_fixed_motion(self, tau) -> tuple[np.ndarray, np.ndarray]:
        """Geocentric Earth-fixed position [km] and velocity relative to the rotating Earth
        [km/s], (N, 3) each, at ``tau``: :meth:`position_km` and its time derivative.

        The rotation's rate is the Earth rotation angle's (IAU 2000, per UT1 second, taken as
        a TAI second: 1e-8 apart) plus the interpolated drift of GAST - ERA.
        """
        tau = np.asarray(tau, dtype=float)
        whole, fraction = self._timebase.ut1_jd(tau)
        gast_minus_era, drift = self._gast_minus_era.value_and_slope(tau)
        gast = 2 * np.pi * earth_rotation_angle(whole, fraction) + gast_minus_era
        position, velocity = self._position.value_and_slope(tau)
        return rotate_into_earth_frame(position, velocity, gast, _ERA_RATE_RAD_S + drift)

    def direction(self, tau, station_position) -> np.ndarray:
        """Topocentric unit vector towards the body, Earth-fixed, (N, 3).

        ``station_position`` is an (N, 3) array of Earth-fixed station positions [km] (or one
        (3,) position for all times).
        """
        rho = self.position_km(tau) - station_position
        return rho / np.linalg.norm(rho, axis=-1, keepdims=True)

    def elevation_deg(self, tau, station_position, up) -> np.ndarray:
        """Topocentric elevation of the body's centre [deg], geometric (no refraction).

        ``station_position`` and ``up`` are (N, 3) rows matching ``tau``.
        """
        sin_el = np.einsum("...j,...j->...", self.direction(tau, station_position), up)
        return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))


class SunTrack(BodyTrack):
    """The Sun's apparent position (nodes every :data:`SUN_NODE_STEP_S`)."""

    def __init__(self, timebase: TimeBase, tau_start: float, tau_end: float):
        super().__init__("sun", timebase, tau_start, tau_end, SUN_NODE_STEP_S)


class MoonTrack(BodyTrack):
    """The Moon's apparent position (nodes every :data:`MOON_NODE_STEP_S`)."""

    def __init__(self, timebase: TimeBase, tau_start: float, tau_end: float):
        super().__init__("moon", timebase, tau_start, tau_end, MOON_NODE_STEP_S)


def sun_and_moon(timebase: TimeBase, tau_start: float, tau_end: float,
                 moon_step_s: float = MOON_NODE_STEP_S,
                 frame_step_s: float = SUN_NODE_STEP_S) -> tuple[BodyTrack, BodyTrack]:
    """The Sun's and the Moon's tracks over one period, from one precession-nutation frame.

    :class:`SunTrack` and :class:`MoonTrack` each evaluate IAU 2000A nutation (most of the cost
    of a track: ~7 ms on a year's two-day frame nodes) on their own frame nodes. Here it is
    evaluated once, on the Sun's frame nodes (which span the Moon's), and serves both: the Sun
    is :class:`SunTrack`'s exactly, the Moon :class:`MoonTrack`'s but for the frame's spline
    through a few more nodes (within 1e-9 deg, tested).

    Parameters
    ----------
    timebase : TimeBase
        The time axis.
    tau_start, tau_end : float
        The period [s of ``timebase``].
    moon_step_s : float
        The Moon's node spacing [s].
    frame_step_s : float
        The frame's node spacing [s]; the default is the tracks' own. Nutation's shortest
        large terms last 9 and 14 days: 8-day nodes move the bodies by ~6e-5 deg (measured over
        a year), for a quarter of the nutation series' cost.

    Returns
    -------
    (BodyTrack, BodyTrack)
        The Sun and the Moon.
    """
    sun_nodes = _body_nodes(tau_start, tau_end, SUN_NODE_STEP_S)
    moon_nodes = _body_nodes(tau_start, tau_end, moon_step_s)
    frame = _Frame(timebase, _frame_nodes(min(sun_nodes[0], moon_nodes[0]),
                                          max(sun_nodes[-1], moon_nodes[-1]), frame_step_s))
    return (BodyTrack("sun", timebase, tau_start, tau_end, SUN_NODE_STEP_S, frame),
            BodyTrack("moon", timebase, tau_start, tau_end, moon_step_s, frame))


def _body_nodes(tau_start: float, tau_end: float, step_s: float) -> np.ndarray:
    """A body's spline nodes over a period [s]: every ``step_s``, eight beyond each end."""
    return np.arange(np.floor(tau_start / step_s) - 8.0, np.ceil(tau_end / step_s) + 9.0) * step_s


def _frame_nodes(first_node: float, last_node: float,
                 step_s: float = SUN_NODE_STEP_S) -> np.ndarray:
    """The precession-nutation frame's nodes around body nodes (every ``step_s``, by default
    the Sun's two days) [s]."""
    return np.arange(np.floor(first_node / step_s) - 2.0,
                     np.ceil(last_node / step_s) + 3.0) * step_s


def moon_illuminated_fraction(sun: BodyTrack, moon: BodyTrack, tau) -> np.ndarray:
    """Fraction of the Moon's disc lit by the Sun, seen from the Earth's centre [0-1].

    ``(1 + cos(alpha)) / 2`` with the phase angle alpha (Sun-Moon-Earth); the same definition
    as Skyfield's ``almanac.fraction_illuminated`` (tested against it).

    Parameters
    ----------
    sun, moon : BodyTrack
        Tracks of the Sun and the Moon on one time base.
    tau : array_like
        Times [s].
    """
    return 0.5 * (1.0 + np.cos(np.radians(moon_phase_angle_deg(sun, moon, tau))))


def moon_phase_angle_deg(sun: BodyTrack, moon: BodyTrack, tau) -> np.ndarray:
    """Phase angle of the Moon, the angle Sun-Moon-Earth [deg]: 0 at full, 180 at new Moon."""
    tau = np.asarray(tau, dtype=float)
    moon_km = moon.true_of_date_km(tau)
    to_sun = sun.true_of_date_km(tau) - moon_km
    to_earth = -moon_km
    cos_alpha = (np.einsum("...j,...j->...", to_sun, to_earth)
                 / (np.linalg.norm(to_sun, axis=-1) * np.linalg.norm(to_earth, axis=-1)))
    return np.degrees(np.arccos(np.clip(cos_alpha, -1.0, 1.0)))


def angular_separation_deg(a, b) -> np.ndarray:
    """Angle between unit vectors ``a`` and ``b`` [deg], row-wise (stable near 0 and 180)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.degrees(np.arctan2(cross, np.einsum("...j,...j->...", a, b)))
