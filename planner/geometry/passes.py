"""The pass table: every pass of every satellite over every station in a period.

:func:`find_passes` runs the search of :mod:`planner.geometry.finder` for each satellite, cuts
passes by horizon masks and describes each pass (times, azimuths, maximum elevation, minimum
range, element age, sun and night).

Conventions
-----------
A pass belongs to the period when its rise (AOS) falls in ``[start, end)``; passes in progress at
``start`` are left to the previous period. Elevations are geometric unless ``refraction=True``,
which makes thresholds, masks and reported elevations apparent (Skyfield's refraction model at
the station's standard-atmosphere pressure and 10 degC).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from planner.geometry.finder import LocalOrbit, apply_horizon_masks, satellite_passes
from planner.geometry.frames import (
    EARTH_ROTATION_RAD_S,
    SatellitePropagator,
    StationFrames,
    earth_fixed_acceleration,
    rotate_into_earth_frame,
    station_frames,
    topocentric,
)
from planner.geometry.refraction import apparent_elevation_deg, geometric_threshold_deg
from planner.geometry.sky import (
    BodyTrack,
    SunTrack,
    moon_illuminated_fraction,
    sun_and_moon,
)
from planner.geometry.spline import CubicSpline
from planner.mission.stations import stations_as_searched
from planner.timebase import SECONDS_PER_DAY, TimeBase, as_utc_datetime

PASS_COLUMNS = [
    "satellite", "norad", "station", "aos_utc", "tca_utc", "los_utc", "duration_s",
    "max_elevation_deg", "aos_azimuth_deg", "tca_azimuth_deg", "los_azimuth_deg",
    "min_range_km", "sun_elevation_deg", "night", "moon_elevation_deg", "moon_illumination",
    "moon_separation_deg", "element_age_days",
]
"""The pass table's columns (docs/architecture.md contract)."""

def find_passes(catalogue, stations: Sequence, start: datetime | str, end: datetime | str, *,
                min_elevation_deg: float | None = None, refraction: bool = False,
                timebase: TimeBase | None = None,
                warnings: list[str] | None = None) -> pd.DataFrame:
    """Every pass of every satellite in ``catalogue`` over ``stations`` in ``[start, end)``.

    Parameters
    ----------
    catalogue : planner.elements.elementsets.Catalogue
        The satellites and their element sets; for each time the set with the nearest epoch
        is used (chosen once per pass, so a pass is never split between sets).
    stations : sequence of planner.mission.stations.Station
        Ground stations (their minimum elevation, horizon mask and night threshold apply).
    start, end : datetime or ISO 8601 str
        The period, UTC. A pass belongs to it when its AOS does.
    min_elevation_deg : float, optional
        Overrides every station's minimum elevation [deg].
    refraction : bool
        Treat thresholds and report elevations as apparent (refracted) elevations.
    timebase : TimeBase, optional
        Reuse a time base that starts at or before ``start`` (so that time chunks of one
        period share one time axis and give identical results).
    warnings : list of str, optional
        Receives one line per satellite that SGP4 cannot propagate over all or part of the
        period (a decayed orbit, say); the other satellites are unaffected.

    Returns
    -------
    pandas.DataFrame
        The pass table (:data:`PASS_COLUMNS`), sorted by AOS then station; times are tz-aware
        UTC Timestamps. ``night`` is True when the sun is below the station's night threshold
        at rise, culmination and set. ``moon_elevation_deg`` (geometric, at culmination) and
        ``moon_illumination`` (lit fraction of the disc, 0 new to 1 full) describe the Moon;
        ``moon_separation_deg`` is the smallest angle between the line of sight and the Moon
        over the pass (to ~0.05 deg).
    """
    start_dt = as_utc_datetime(start, option="start")
    end_dt = as_utc_datetime(end, option="end")
    span = (end_dt - start_dt).total_seconds()
    if timebase is None:
        timebase = TimeBase(start_dt, span)
    stations = list(stations)
    if not stations or not catalogue.satellites:
        return _empty_table()
    stations = stations_as_searched(stations, min_elevation_deg)  # the floor, mask or not
    frames = station_frames([s.latitude_deg for s in stations],
                            [s.longitude_deg for s in stations],
                            [s.altitude_m for s in stations])
    pressure = np.array([s.pressure_hpa for s in stations])
    requested = np.array([s.min_elevation_deg if min_elevation_deg is None else min_elevation_deg
                          for s in stations], dtype=float)
    threshold_rad = np.radians(geometric_threshold_deg(requested, pressure, refraction))
    tau_start = timebase.tau_of(start_dt)
    tau_end = timebase.tau_of(end_dt)

    # the Sun and Moon once for the whole period (passes may end up to a pass length after it),
    # from one precession-nutation frame
    sun, moon = sun_and_moon(timebase, tau_start, tau_end + _BODY_PAD_S)
    illumination = _moon_illumination_track(sun, moon, tau_start, tau_end + _BODY_PAD_S)
    pieces = []
    for key in catalogue.satellites:
        sets = catalogue.sets(key)
        epoch_tau = np.array([timebase.tau_of(s.epoch) for s in sets])
        propagator = SatellitePropagator([s.satrec for s in sets], epoch_tau, timebase)
        problems: list[str] = []
        try:
            found = satellite_passes(propagator, frames, threshold_rad, tau_start, tau_end,
                                      problems)
        except (ArithmeticError, ValueError, RuntimeError) as error:
            # one satellite's failure must not sink the run: report it, go on with the others
            problems.append(f"propagation failed ({type(error).__name__}: {error})")
            found = None
        if warnings is not None:
            warnings.extend(f"{catalogue.name(key)}: {p}" + ("" if found is not None else
                            "; satellite skipped") for p in problems)
        if found is None or found["aos"].size == 0:
            continue
        found = apply_horizon_masks(found, propagator, frames, stations, pressure, refraction)
        table = _describe(found, key, catalogue, sets, epoch_tau, propagator, frames, stations,
                          pressure, refraction)
        _add_moon(table, found, propagator, frames, moon, illumination)
        pieces.append(table)
    if not pieces:
        return _empty_table()
    table = pd.concat(pieces, ignore_index=True)
    _add_sun(table, timebase, frames, stations, sun)
    table = table.sort_values(["_tau_aos", "_station_index"], kind="stable")
    return table.reset_index(drop=True)[PASS_COLUMNS]


def _describe(found, key, catalogue, sets, epoch_tau, propagator, frames, stations, pressure,
              refraction) -> pd.DataFrame:
    station = found["station"].astype(int)
    set_index = found["set"].astype(int)
    axes = (frames.position_km[station], frames.east[station], frames.north[station],
            frames.up[station])
    events = {}
    for name in ("aos", "tca", "los"):
        r, v = found.get(f"r_{name}"), found.get(f"v_{name}")
        if r is None:
            r, v, _ = propagator.state(found[name], set_index)
        az, el, rng, rng_rate = topocentric(r, v, *axes)
        events[name] = (np.degrees(az), np.degrees(el), rng, rng_rate, r, v)
    _, el_tca, rng_tca, rng_rate_tca, r_tca, v_tca = events["tca"]
    max_el = apparent_elevation_deg(el_tca, pressure[station]) if refraction else el_tca
    # the range minimum is a hair away from the elevation maximum: one Newton step on |rho|^2
    rho = r_tca - axes[0]
    a = earth_fixed_acceleration(r_tca, v_tca)
    curvature = np.einsum("ij,ij->i", v_tca, v_tca) + np.einsum("ij,ij->i", rho, a)
    min_range = np.sqrt(np.maximum(rng_tca**2 - (rng_tca * rng_rate_tca) ** 2 / curvature, 0.0))
    age = np.abs(found["tca"] - epoch_tau[set_index]) / SECONDS_PER_DAY
    timebase = propagator.timebase
    table = pd.DataFrame({
        "satellite": catalogue.name(key),
        "norad": catalogue.norad(key),
        "station": np.array([s.name for s in stations], dtype=object)[station],
        "aos_utc": pd.to_datetime(timebase.datetime64(found["aos"]), utc=True),
        "tca_utc": pd.to_datetime(timebase.datetime64(found["tca"]), utc=True),
        "los_utc": pd.to_datetime(timebase.datetime64(found["los"]), utc=True),
        "duration_s": found["los"] - found["aos"],
        "max_elevation_deg": max_el,
        "aos_azimuth_deg": events["aos"][0],
        "tca_azimuth_deg": events["tca"][0],
        "los_azimuth_deg": events["los"][0],
        "min_range_km": min_range,
        "element_age_days": age,
        "_station_index": station,
        "_tau_aos": found["aos"], "_tau_tca": found["tca"], "_tau_los": found["los"],
    })
    table["norad"] = table["norad"].astype("Int64")
    return table


_BODY_PAD_S = 3600.0
_ILLUMINATION_NODE_STEP_S = 3600.0
_SEPARATION_SAMPLES = 4
_SEPARATION_TOLERANCE_S = 1e-5
_SEPARATION_MAX_ITERATIONS = 50


def _moon_illumination_track(sun: BodyTrack, moon: BodyTrack, tau_start: float,
                            tau_end: float) -> CubicSpline:
    """The Moon's illuminated fraction over ``[tau_start, tau_end]`` as a cubic spline through
    its values every :data:`_ILLUMINATION_NODE_STEP_S` (:func:`moon_illuminated_fraction`).

    The phase angle turns ~0.5 deg an hour, smoothly, so the spline's error, about
    (5/384) h^4 max|f''''| for node spacing h (de Boor, *A Practical Guide to Splines*, ch. V),
    is ~1e-9 of the disc, for one spline evaluation per pass instead of two body positions.
    """
    step = _ILLUMINATION_NODE_STEP_S
    nodes = np.arange(np.floor(tau_start / step) - 2.0, np.ceil(tau_end / step) + 3.0) * step
    return CubicSpline(nodes, moon_illuminated_fraction(sun, moon, nodes))


def _add_moon(table: pd.DataFrame, found, propagator: SatellitePropagator, frames: StationFrames,
              moon: BodyTrack, illumination: CubicSpline) -> None:
    """The Moon's elevation and illuminated fraction at culmination and its smallest angular
    separation from the line of sight over each pass.

    The Moon is evaluated once per pass, with its velocity, at culmination: its Earth-fixed
    position at rise and set follows from a uniform motion in the non-rotating frame (its
    acceleration moves it ~0.2 km in 400 s: 3e-5 deg seen from the ground), and over the pass
    its direction is interpolated linearly between those two (~0.01 deg: the small circle it
    turns on against the great circle between the ends). The satellite's motion comes from
    the local orbit model around culmination (:class:`planner.geometry.finder.LocalOrbit`,
    good to a few hundred metres over a pass: ~0.05 deg of direction at worst), so no further
    SGP4 calls are needed; :func:`_closest_approach` finds the smallest separation.
    """
    station = table["_station_index"].to_numpy()
    tca = table["_tau_tca"].to_numpy()
    aos, los = table["_tau_aos"].to_numpy(), table["_tau_los"].to_numpy()
    position, up = frames.position_km[station], frames.up[station]
    r_tca, v_tca = found.get("r_tca"), found.get("v_tca")
    if r_tca is None:
        r_tca, v_tca, _ = propagator.state(tca, found["set"].astype(int))
    moon_km, moon_velocity = moon.earth_fixed_motion(tca)
    towards = moon_km - position
    sin_elevation = np.einsum("ij,ij->i", towards, up) / np.linalg.norm(towards, axis=1)
    moon_aos = _unit(_carried(moon_km, moon_velocity, aos - tca) - position)
    moon_los = _unit(_carried(moon_km, moon_velocity, los - tca) - position)
    closest = _closest_approach(LocalOrbit(tca, r_tca, v_tca, position, up), position, aos, los,
                                moon_aos, moon_los)
    table["moon_elevation_deg"] = np.degrees(np.arcsin(np.clip(sin_elevation, -1.0, 1.0)))
    table["moon_illumination"] = illumination(tca)
    table["moon_separation_deg"] = np.degrees(np.arccos(np.clip(closest, -1.0, 1.0)))


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _carried(position_km: np.ndarray, velocity_km_s: np.ndarray, dt_s: np.ndarray) -> np.ndarray:
    """Earth-fixed positions [km] ``dt_s`` later of bodies that move uniformly in the
    non-rotating frame aligned with the Earth-fixed one now (velocities relative to the
    rotating Earth [km/s], as :meth:`planner.geometry.sky.BodyTrack.earth_fixed_motion` gives
    them), (N, 3)."""
    inertial = velocity_km_s.copy()
    inertial[:, 0] -= EARTH_ROTATION_RAD_S * position_km[:, 1]
    inertial[:, 1] += EARTH_ROTATION_RAD_S * position_km[:, 0]
    moved = position_km + inertial * dt_s[:, None]
    return rotate_into_earth_frame(moved, np.zeros_like(moved), EARTH_ROTATION_RAD_S * dt_s,
                                   0.0)[0]


def _closest_approach(local: LocalOrbit, position, aos, los, moon_aos, moon_los) -> np.ndarray:
    """The largest cos(angle between the line of sight and the Moon) over each pass.

    The satellite moves as ``local`` models it; the Moon's direction is interpolated linearly
    between ``moon_aos`` and ``moon_los`` (unit vectors, Earth-fixed). The value and its exact
    time derivative are sampled at :data:`_SEPARATION_SAMPLES` evenly spaced times, rise and
    set included; the cubic through each pair of neighbouring samples' values and slopes
    (Hermite) places the interval's local maximum, if it has one, and Newton's method on the
    derivative, with exact first and second derivatives of the model, finishes it, halving
    the interval instead where the model is not concave or the step would leave what is left
    of it (flat separations far from the Moon are far from parabolas: the first step can
    overshoot), until a step is below :data:`_SEPARATION_TOLERANCE_S` (the line of sight
    turns at most ~1.5 deg/s: 1e-5 s is ~1e-5 deg). The answer is the largest value met,
    samples included, so it is one the model takes: the separation is never below the
    model's smallest one.

    Slopes matter where the Moon is far from the track (separations above ~80 deg), where
    cos(separation) is flat and the track's curvature gives it a maximum and a minimum inside
    one pass: four samples with slopes found every maximum a dense scan (601 samples and a
    golden-section search) found on a year of 100 stations, to 1e-9 deg (three samples, with
    Newton's method as first written, missed some by up to 0.07 deg); on a year of the
    24-satellite constellation of ``benchmarks/constellation.py`` (1.33 million passes, 301
    samples) the result was nowhere more than 2e-8 deg above the scan's.
    """
    span = np.where(los > aos, los - aos, 1.0)
    drift = (moon_los - moon_aos) / span[:, None]

    def rates(tau, rows, curvature=False):
        # one gather per array, then column views
        start, rate, station = moon_aos[rows], drift[rows], position[rows]
        since = tau - aos[rows][:, None]
        moon = tuple(start[:, k:k + 1] + since * rate[:, k:k + 1] for k in range(3))
        return _cos_separation_rates(local.motion(tau, rows, acceleration=curvature),
                                     tuple(station[:, k:k + 1] for k in range(3)), moon,
                                     tuple(rate[:, k:k + 1] for k in range(3)))

    count = _SEPARATION_SAMPLES
    times = aos[:, None] + (los - aos)[:, None] * np.linspace(0.0, 1.0, count)
    value, slope = rates(times, slice(None))
    closest = value.max(axis=1)
    rows, left = np.nonzero(_hermite_has_maximum(value, slope, times))
    tau = _hermite_maximum(value, slope, times, rows, left)
    lo, hi = times[rows, left], times[rows, left + 1]
    for _ in range(_SEPARATION_MAX_ITERATIONS):
        if rows.size == 0:
            break
        value, slope, curvature = (a[:, 0] for a in rates(tau[:, None], rows, curvature=True))
        np.maximum.at(closest, rows, value)
        # the maximum lies ahead where the separation still closes in, behind where it opens
        ahead = slope > 0.0
        lo, hi = np.where(ahead, tau, lo), np.where(ahead, hi, tau)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = -slope / curvature
        stepped = tau + step
        # Newton's step where the model is concave and the step stays inside what is left of
        # the interval; halving it where not (far from round, flat separations overshoot)
        newton = (curvature < 0.0) & (stepped > lo) & (stepped < hi)
        done = (newton & (np.abs(step) < _SEPARATION_TOLERANCE_S)) | (
            hi - lo < _SEPARATION_TOLERANCE_S)
        tau = np.where(newton, stepped, 0.5 * (lo + hi))
        rows, tau, lo, hi = rows[~done], tau[~done], lo[~done], hi[~done]
    return closest


def _hermite_cubics(value, slope, times):
    """Coefficients of the cubic through each pair of neighbouring samples' values and slopes:
    ``value[:, :-1] + slope[:, :-1] x + c2 x^2 + c3 x^3`` with x the time after the left sample
    [s]; also the intervals' lengths h [s]."""
    h = np.diff(times, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        secant = np.diff(value, axis=1) / h
        c2 = (3.0 * secant - 2.0 * slope[:, :-1] - slope[:, 1:]) / h
        c3 = (slope[:, :-1] + slope[:, 1:] - 2.0 * secant) / h**2
    return c2, c3, h


def _hermite_peak_offset(d0, c2, c3):
    """Where ``d0 x + c2 x^2 + c3 x^3`` has its local maximum: the root of its derivative
    3 c3 x^2 + 2 c2 x + d0 at which the second derivative is negative (NaN where there is
    none), written so that neither form subtracts nearly equal numbers."""
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(c2**2 - 3.0 * c3 * d0)
        return np.where(c2 <= 0.0, d0 / (root - c2), -(c2 + root) / (3.0 * c3))


def _hermite_has_maximum(value, slope, times):
    """(N, K-1) bool: whether the cubic Hermite interpolant of each interval has a local
    maximum strictly inside it."""
    c2, c3, h = _hermite_cubics(value, slope, times)
    offset = _hermite_peak_offset(slope[:, :-1], c2, c3)
    return (offset > 0.0) & (offset < h)


def _hermite_maximum(value, slope, times, rows, left):
    """The time [s] of the local maximum of the cubic Hermite interpolant in interval ``left``
    of each of ``rows``."""
    c2, c3, _ = _hermite_cubics(value[rows], slope[rows], times[rows])
    pick = np.arange(rows.size), left
    return times[rows, left] + _hermite_peak_offset(slope[rows, left], c2[pick], c3[pick])


def _cos_separation_rates(motion, station, moon, moon_rate):
    """cos(angle between the line of sight and the Moon) and its time derivatives.

    Parameters
    ----------
    motion : tuple
        The satellite's Earth-fixed position [km] and velocity [km/s] and, optionally, its
        acceleration [km/s^2], each a tuple of x, y, z component arrays
        (:meth:`planner.geometry.finder.LocalOrbit.motion`).
    station : tuple of 3 arrays
        The station's Earth-fixed position [km].
    moon, moon_rate : tuples of 3 arrays
        A vector along the Moon's direction, not necessarily unit, and its rate [1/s] (the
        vector moves uniformly).

    Returns
    -------
    value, slope [1/s] and, with an acceleration, curvature [1/s^2] : arrays
        Of f = e . n with e = rho/L (rho = r - station, L = |rho|) and n = m/M; by
        e' = (v - e L')/L and e'' = (a - e L'' - 2 e' L')/L, n likewise with no acceleration:
        f' = e'.n + e.n' and f'' = e''.n + 2 e'.n' + e.n''.
    """
    def dot(p, q):
        return p[0] * q[0] + p[1] * q[1] + p[2] * q[2]

    position, velocity, *acceleration = motion
    rho = tuple(p - s for p, s in zip(position, station, strict=True))
    length = np.sqrt(dot(rho, rho))
    moon_length = np.sqrt(dot(moon, moon))
    value = dot(rho, moon) / (length * moon_length)
    length_rate = dot(rho, velocity) / length
    moon_length_rate = dot(moon, moon_rate) / moon_length
    velocity_along_moon = dot(velocity, moon) / moon_length          # v . n
    moon_rate_along_sight = dot(rho, moon_rate) / length             # e . m'
    turning_sight = (velocity_along_moon - length_rate * value) / length       # e' . n
    turning_moon = (moon_rate_along_sight - moon_length_rate * value) / moon_length  # e . n'
    slope = turning_sight + turning_moon
    if not acceleration:
        return value, slope
    (acceleration,) = acceleration
    length_acceleration = (dot(velocity, velocity) + dot(rho, acceleration)
                           - length_rate**2) / length
    moon_length_acceleration = (dot(moon_rate, moon_rate) - moon_length_rate**2) / moon_length
    sight_curving = (dot(acceleration, moon) / moon_length - value * length_acceleration
                     - 2.0 * length_rate * turning_sight) / length          # e'' . n
    both_turning = (dot(velocity, moon_rate) - moon_length_rate * velocity_along_moon
                    - length_rate * moon_rate_along_sight
                    + length_rate * moon_length_rate * value) / (length * moon_length)  # e'.n'
    moon_curving = -(value * moon_length_acceleration
                     + 2.0 * moon_length_rate * turning_moon) / moon_length  # e . n''
    return value, slope, sight_curving + 2.0 * both_turning + moon_curving


_SUN_ELEVATION_RATE_MAX_DEG_S = np.degrees(7.5e-5)
"""Bound on how fast the sun's elevation changes at any station [deg/s]: its direction turns
about the Earth's axis at the Earth's rotation rate less its own motion along the ecliptic
(7.29e-5 rad/s at most), with 3% to spare."""


def _add_sun(table: pd.DataFrame, timebase: TimeBase, frames: StationFrames, stations,
             sun: SunTrack | None = None) -> None:
    """The sun's elevation at culmination and the ``night`` flag (sun below the station's night
    threshold at rise, culmination and set).

    The sun is evaluated at rise and set only for the passes whose culmination is dark but
    close enough to the threshold (by :data:`_SUN_ELEVATION_RATE_MAX_DEG_S`) for the ends to
    be lighter; for the rest the culmination decides.
    """
    taus = table[["_tau_aos", "_tau_tca", "_tau_los"]].to_numpy()
    if sun is None:
        sun = SunTrack(timebase, float(taus.min()), float(taus.max()))
    station = table["_station_index"].to_numpy()
    position, up = frames.position_km[station], frames.up[station]
    limit = np.array([s.night_sun_elevation_deg for s in stations])[station]
    at_tca = sun.elevation_deg(taus[:, 1], position, up)
    drift = _SUN_ELEVATION_RATE_MAX_DEG_S * np.maximum(taus[:, 1] - taus[:, 0],
                                                       taus[:, 2] - taus[:, 1])
    night = at_tca < limit
    unsure = np.flatnonzero(night & (at_tca + drift >= limit))
    for k in (0, 2):
        night[unsure] &= sun.elevation_deg(taus[unsure, k], position[unsure],
                                           up[unsure]) < limit[unsure]
    table["sun_elevation_deg"] = at_tca
    table["night"] = night


def _empty_table() -> pd.DataFrame:
    table = pd.DataFrame({c: pd.Series(dtype=float) for c in PASS_COLUMNS})
    for c in ("aos_utc", "tca_utc", "los_utc"):
        table[c] = pd.Series(dtype="datetime64[ns, UTC]")
    table["satellite"] = table["station"] = pd.Series(dtype=object)
    table["norad"] = pd.Series(dtype="Int64")
    table["night"] = pd.Series(dtype=bool)
    return table
