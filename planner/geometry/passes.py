"""The pass finder: every pass of every satellite over every station, to the millisecond.

How it works (and why it is both exact and fast)
------------------------------------------------
1. **Coarse grid.** Each satellite is propagated once on a grid of ``period / 12`` (~470 s for
   LEO; a lattice anchored at the time base's origin) in Earth-fixed coordinates, shared by all
   stations.
2. **Candidates with a guarantee.** For station ``s`` a pass above elevation ``e`` needs the
   geocentric angle psi between station and satellite to dip below
   ``lambda(e) = arccos(R_s cos e / r) - e``. Between grid samples the sub-satellite point moves
   at most ``omega * h / 2`` from the nearest sample (omega: the largest angular rate on the
   grid, with margin), so every pass has a grid sample with
   ``psi <= lambda(e - 1 deg) + omega * h / 2`` (triangle inequality). Runs of such samples,
   widened by one step each side, are windows that provably contain every rise, culmination and
   set -- short grazing passes included -- while one dot product per station and sample is all
   the grid costs. Margins (1 deg of elevation, 0.5% of radius) cover the ellipsoid and
   eccentricity.
3. **A local orbit model for starting points.** From the closest grid sample, a great-circle
   estimate and then a local inertial-arc model of the motion (no SGP4 calls) place each
   culmination, rise and set within ~0.03 s; windows whose modelled peak stays 0.5 deg below
   the threshold are dropped here.
4. **Exact refinement, vectorised over all windows.** The culmination is the root of
   d(sin el)/dt, found by Newton's method with the exact first derivative from SGP4's velocity
   and a two-body second derivative, safeguarded by bisection in the window. Rise and set are
   roots of ``sin el - sin e_min`` by Newton with the exact derivative. Each iteration is one
   SGP4 call over all unfinished windows -- usually one or two in all -- and stops when the
   predicted remaining error is below 0.1 ms (rise, set) or 1 ms (culmination, where the
   elevation is flat); the reported states are carried to the roots by Taylor expansion.

The result is checked in the tests against Skyfield's full-accuracy ``altaz`` (rise/set within
1 ms, culmination within 10 ms, maximum elevation within 1e-4 deg) and against Skyfield's
``find_events`` for completeness.

Conventions
-----------
A pass belongs to the period when its rise (AOS) falls in ``[start, end)``; passes in progress at
``start`` are left to the previous period. Elevations are geometric unless ``refraction=True``,
which makes thresholds, masks and reported elevations apparent (Skyfield's refraction model at
the station's standard-atmosphere pressure and 10 degC).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

import numpy as np
import pandas as pd
from sgp4.api import SGP4_ERRORS
from skyfield.earthlib import refraction as skyfield_refraction

from planner.geometry.frames import (
    EARTH_ROTATION_RAD_S,
    SatellitePropagator,
    StationFrames,
    SunTrack,
    earth_fixed_acceleration,
    rotate_into_earth_frame,
    sin_elevation_and_rates,
    station_frames,
    topocentric,
)
from planner.link.atmosphere import station_pressure_hpa
from planner.timebase import SECONDS_PER_DAY, TimeBase, as_utc_datetime

PASS_COLUMNS = [
    "satellite", "norad", "station", "aos_utc", "tca_utc", "los_utc", "duration_s",
    "max_elevation_deg", "aos_azimuth_deg", "tca_azimuth_deg", "los_azimuth_deg",
    "min_range_km", "sun_elevation_deg", "night", "element_age_days",
]
"""The pass table's columns (docs/architecture.md contract)."""

REFRACTION_TEMPERATURE_C = 10.0
"""Air temperature assumed for refraction [degC] (Skyfield's and the almanacs' usual value)."""

TIME_TOLERANCE_S = 1e-4
"""Rise and set are found to this predicted accuracy [s]."""

CULMINATION_TOLERANCE_S = 1e-3
"""Culminations are found to this predicted accuracy [s]; elevation is flat there, so 0.1 ms
moves the maximum elevation by less than 1e-9 deg."""

GRID_SAMPLES_PER_ORBIT = 12
"""Coarse-grid density. Any value finds every pass (the window bound widens with the step);
12 per orbit minimises the total cost (measured in benchmarks/passes.py)."""

_MAX_ITERATIONS = 60
# the local orbit model is itself good to only ~0.03 s: iterating it further is wasted work
# (measured: 1e-3 s costs 6.2 model evaluations per pass, 0.02 s 4.6, with the same 3.05 exact
# evaluations per pass and the same results to 1e-4 s)
_MODEL_TOLERANCE_S = 0.02
_ELEVATION_MARGIN_RAD = np.radians(1.0)
_RADIUS_MARGIN = 1.005
_RATE_MARGIN = 1.10
_PAD_S = 3600.0


def geometric_threshold_deg(threshold_deg, pressure_hpa, refraction: bool) -> np.ndarray:
    """Geometric elevation at which a satellite appears at ``threshold_deg``.

    With refraction the apparent elevation exceeds the geometric one by R(apparent), so the
    geometric threshold is ``threshold - R(threshold)`` (Skyfield's ``refraction`` takes the
    observed altitude).

    Parameters
    ----------
    threshold_deg : array_like
        Apparent (or, without refraction, geometric) minimum elevation [deg].
    pressure_hpa : array_like
        Station air pressure [hPa].
    refraction : bool
        Whether thresholds are apparent elevations.
    """
    threshold_deg = np.asarray(threshold_deg, dtype=float)
    if not refraction:
        return threshold_deg
    return threshold_deg - skyfield_refraction(threshold_deg, REFRACTION_TEMPERATURE_C,
                                               np.asarray(pressure_hpa, dtype=float))


def apparent_elevation_deg(geometric_deg, pressure_hpa) -> np.ndarray:
    """Apparent elevation [deg] of a geometric elevation (Skyfield's ``refract``)."""
    from skyfield.earthlib import refract

    return refract(np.asarray(geometric_deg, dtype=float), REFRACTION_TEMPERATURE_C,
                   np.asarray(pressure_hpa, dtype=float))


def footprint_angle(elevation_rad, station_radius_km, satellite_radius_km):
    """Geocentric angle between station and satellite at a given elevation [rad].

    ``lambda = arccos(R_s cos(e) / r) - e`` for a spherical Earth of radius ``R_s`` and a
    satellite at geocentric distance ``r``.
    """
    ratio = np.clip(station_radius_km * np.cos(elevation_rad) / satellite_radius_km, -1.0, 1.0)
    return np.arccos(ratio) - elevation_rad


def _runs(mask_by_station: np.ndarray):
    """Runs of True along axis 1 of an (S, N) boolean array: (station, first, last) arrays."""
    n_stations, n = mask_by_station.shape
    # one False column after each row keeps runs from joining across rows when flattened
    padded = np.zeros((n_stations, n + 1), dtype=bool)
    padded[:, :n] = mask_by_station
    flat = padded.ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if flat[0]:
        change = np.concatenate([[0], change])
    begins, ends = change[0::2], change[1::2] - 1      # runs alternate begin, end
    return begins // (n + 1), begins % (n + 1), ends % (n + 1)


class _Refiner:
    """Newton iterations on the exact SGP4 geometry, vectorised over many windows."""

    def __init__(self, propagator: SatellitePropagator, frames: StationFrames,
                 station_index: np.ndarray, set_index: np.ndarray):
        self.propagator = propagator
        self.position = frames.position_km[station_index]
        self.up = frames.up[station_index]
        self.set_index = set_index

    def rates(self, tau, rows):
        """sin(elevation) and its derivatives (``sin_elevation_and_rates``), and r, v, a."""
        r, v, _ = self.propagator.state(tau, self.set_index[rows])
        a = earth_fixed_acceleration(r, v)
        return sin_elevation_and_rates(r, v, a, self.position[rows], self.up[rows]), r, v, a


def _newton(refiner, lo, hi, guess, *, kind: str, target_sin=None, tolerance=None,
            max_iterations=_MAX_ITERATIONS):
    """Safeguarded Newton's method on all windows at once.

    Parameters
    ----------
    lo, hi : arrays
        Bracket [s]; the root is inside.
    guess : array
        Starting point [s].
    kind : {"culmination", "rise", "set"}
        Culmination: root of d(sin el)/dt, positive before and negative after.
        Rise: root of sin el - target, negative before. Set: positive before.
    target_sin : array, optional
        sin of the threshold elevation, for rise and set.
    tolerance : float, optional
        Predicted accuracy at which to stop [s]; by default :data:`TIME_TOLERANCE_S` for rise
        and set and :data:`CULMINATION_TOLERANCE_S` for culminations.
    max_iterations : int
        Stop after this many evaluations even if not converged.

    Returns
    -------
    tau : array
        The roots [s].
    r_itrs, v_itrs : (N, 3) arrays
        The state at the roots: the last exact state carried over the last Newton step.
    sin_elevation : (N,) array
        sin(elevation) at the roots, carried over the last step by its Taylor expansion; NaN
        where the iterations stopped before converging.
    """
    lo = np.array(lo, dtype=float)
    hi = np.array(hi, dtype=float)
    t = np.clip(np.array(guess, dtype=float), lo, hi)
    active = np.arange(t.size)
    r_last = np.full((t.size, 3), np.nan)
    v_last = np.full((t.size, 3), np.nan)
    s_last = np.full(t.size, np.nan)
    for _ in range(max_iterations):
        if active.size == 0:
            break
        ta = t[active]
        (s, s_dot, s_ddot, *_), r_a, v_a, a_a = refiner.rates(ta, active)
        with np.errstate(divide="ignore", invalid="ignore"):
            if kind == "culmination":
                f, df = s_dot, s_ddot
                before = f > 0
                step = -f / df
                # the two-body second derivative is good to ~1e-3 (J2), so a step leaves at most
                # ~1% of itself as error
                remaining = 0.01 * np.abs(step)
                limit = CULMINATION_TOLERANCE_S if tolerance is None else tolerance
            else:
                f, df = s - target_sin[active], s_dot
                before = f < 0 if kind == "rise" else f > 0
                step = -f / df
                # the derivative is exact: Newton's error after a step is (f''/2f') step^2
                remaining = np.abs(s_ddot / (2 * s_dot)) * step**2
                limit = TIME_TOLERANCE_S if tolerance is None else tolerance
        lo_a = np.where(before, ta, lo[active])
        hi_a = np.where(before, hi[active], ta)
        t_new = ta + step
        # judged on the predicted error, not on the bracket, so that an at-root step that rounds
        # onto the bracket's edge does not trigger a bisection
        done = (remaining < limit) | (hi_a - lo_a < limit)
        outside = ~((t_new >= lo_a) & (t_new <= hi_a)) & ~done
        t_new = np.where(outside, 0.5 * (lo_a + hi_a), np.clip(t_new, lo_a, hi_a))
        lo[active], hi[active] = lo_a, hi_a
        t[active] = t_new
        # carry the last exact state over the last (short) step by Taylor expansion: with
        # steps below ~0.1 s the neglected jerk term is under a micrometre
        dt = (t_new - ta)[:, None]
        r_last[active] = r_a + v_a * dt + 0.5 * a_a * dt**2
        v_last[active] = v_a + a_a * dt
        dt = dt[:, 0]
        s_last[active] = s + s_dot * dt + 0.5 * s_ddot * dt**2
        active = active[~done]
    s_last[active] = np.nan
    return t, r_last, v_last, s_last


def _horizon_mask_segments(propagator, frames, station, s_index, set_index, aos, los,
                           pressure_hpa, refraction):
    """Split a pass where a station's azimuth-dependent horizon mask hides the satellite.

    Samples the pass every second, finds where elevation crosses ``mask(azimuth)`` and refines
    each crossing to a microsecond by bisection. Returns a list of (aos, los) pairs [s].
    """
    tau = np.arange(aos, los, 1.0)
    tau = np.append(tau, los)
    rows = np.full(tau.size, s_index)

    def excess(times):
        r, v, _ = propagator.state(times, np.full(times.size, set_index))
        az, el, _, _ = topocentric(r, v, frames.position_km[rows[: times.size]],
                                   frames.east[rows[: times.size]],
                                   frames.north[rows[: times.size]], frames.up[rows[: times.size]])
        el_deg = np.degrees(el)
        if refraction:
            el_deg = apparent_elevation_deg(el_deg, pressure_hpa)
        return el_deg - station.effective_min_elevation_deg(np.degrees(az))

    f = excess(tau)
    above = f >= -1e-9
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    lo, hi = tau[edges], tau[edges + 1]
    rising = ~above[edges]
    for _ in range(int(np.ceil(np.log2(1.0 / TIME_TOLERANCE_S))) + 1):
        if lo.size == 0:
            break
        mid = 0.5 * (lo + hi)
        move_hi = (excess(mid) >= 0) == rising
        hi = np.where(move_hi, mid, hi)
        lo = np.where(move_hi, lo, mid)
    crossing = 0.5 * (lo + hi)
    starts = ([aos] if above[0] else []) + list(crossing[rising])
    stops = list(crossing[~rising]) + ([los] if above[-1] else [])
    return [(a, b) for a, b in zip(starts, stops, strict=True) if b > a]


def _great_circle_motion(r_itrs, v_itrs):
    """Unit position p, unit along-track direction q and angular rate omega of each state.

    Over a few minutes a satellite's direction from the Earth's centre moves nearly on a great
    circle: p(t) = cos(omega t) p + sin(omega t) q.
    """
    radius = np.sqrt(np.einsum("ij,ij->i", r_itrs, r_itrs))
    p = r_itrs / radius[:, None]
    w = _cross(r_itrs, v_itrs) / (radius**2)[:, None]
    omega = np.sqrt(np.einsum("ij,ij->i", w, w))
    q = _cross(w, p) / omega[:, None]
    return p, q, omega


def _cross(a, b):
    """Row-wise cross product of (N, 3) arrays (np.cross is several times slower)."""
    out = np.empty_like(a)
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def _great_circle_closest(p, q, omega, station_unit):
    """Closest approach to a station of a satellite moving on a great circle.

    With cos(psi(t)) = cos(omega t) p.c + sin(omega t) q.c, the largest value is at
    omega t = atan2(q.c, p.c), where cos(psi) = hypot(p.c, q.c). Good to about a second and a
    tenth of a degree over a pass: a starting point for Newton's method and a cheap filter.

    Returns
    -------
    offset : (N,) time from the state to the closest approach [s]
    closest : (N,) geocentric angle at the closest approach [rad]
    """
    along = np.einsum("ij,ij->i", q, station_unit)
    toward = np.einsum("ij,ij->i", p, station_unit)
    closest = np.arccos(np.clip(np.hypot(along, toward), -1.0, 1.0))
    return np.arctan2(along, toward) / omega, closest


class _LocalOrbit:
    """A satellite's motion over a few minutes: an arc in inertial space, seen from the
    rotating Earth.

    From one Earth-fixed state per row, the inertial velocity (adding the Earth's rotation)
    defines an orbital plane, an angular rate and a radial rate; the Earth then turns
    underneath. Ignoring J2 and the change of the angular rate, this is good to a few hundred
    metres over five minutes: enough to start Newton's method on the exact SGP4 geometry within
    ~0.03 s of a culmination, rise or set, so that one exact evaluation usually finishes the job.
    It has the interface of :class:`_Refiner`, so :func:`_newton` runs on it unchanged.
    """

    def __init__(self, tau0, r_itrs, v_itrs, station_position, up):
        self.tau0 = tau0
        self.radius = np.sqrt(np.einsum("ij,ij->i", r_itrs, r_itrs))
        v_inertial = v_itrs.copy()
        v_inertial[:, 0] -= EARTH_ROTATION_RAD_S * r_itrs[:, 1]
        v_inertial[:, 1] += EARTH_ROTATION_RAD_S * r_itrs[:, 0]
        self.p, self.q, self.omega = _great_circle_motion(r_itrs, v_inertial)
        self.radial_rate = np.einsum("ij,ij->i", r_itrs, v_inertial) / self.radius
        self.position = station_position
        self.up = up

    def rates(self, tau, rows):
        """sin(elevation) and its derivatives of the modelled motion, and the modelled state."""
        dt = tau - self.tau0[rows]
        angle = self.omega[rows] * dt
        cos_a, sin_a = np.cos(angle)[:, None], np.sin(angle)[:, None]
        radius = (self.radius[rows] + self.radial_rate[rows] * dt)[:, None]
        p, q = self.p[rows], self.q[rows]
        r_in = radius * (cos_a * p + sin_a * q)
        v_in = (self.radial_rate[rows][:, None] * (cos_a * p + sin_a * q)
                + (radius * self.omega[rows][:, None]) * (cos_a * q - sin_a * p))
        r, v = rotate_into_earth_frame(r_in, v_in, EARTH_ROTATION_RAD_S * dt,
                                       EARTH_ROTATION_RAD_S)
        a = earth_fixed_acceleration(r, v)
        return sin_elevation_and_rates(r, v, a, self.position[rows], self.up[rows]), r, v, a


def _satellite_passes(propagator: SatellitePropagator, frames: StationFrames,
                      threshold_rad: np.ndarray, tau_start: float, tau_end: float,
                      problems: list[str] | None = None):
    """Passes of one satellite over all stations: dict of arrays (tau in seconds).

    SGP4 failures on the grid (e.g. a decayed orbit) are described in ``problems``; passes
    are found wherever propagation works.
    """
    period_s = 86400.0 / max(sat.no_kozai * 1440.0 / (2 * np.pi) for sat in propagator.satrecs)
    step = min(period_s / GRID_SAMPLES_PER_ORBIT, 600.0)
    # a lattice anchored at tau = 0: the same samples whichever chunk of the period is searched
    grid = np.arange(np.floor((tau_start - _PAD_S) / step),
                     np.ceil((tau_end + _PAD_S) / step) + 1.0) * step
    r, v, error = propagator.state(grid)
    ok = (error == 0) & np.all(np.isfinite(r), axis=1)
    if not ok.all() and problems is not None:
        first = int(np.flatnonzero(~ok)[0])
        code = int(error[first])
        when = pd.Timestamp(propagator.timebase.datetime64(grid[first]), tz="UTC")
        problems.append(f"SGP4 cannot propagate from {when:%Y-%m-%d %H:%M} UTC on "
                        f"({SGP4_ERRORS.get(code, f'error {code}')}); "
                        f"{int((~ok).sum())} of {ok.size} grid samples failed")
    if not ok.any():
        return None
    radius = np.linalg.norm(r, axis=1)
    p, q, angular_rate = _great_circle_motion(r, v)
    r_max = np.nanmax(np.where(ok, radius, np.nan)) * _RADIUS_MARGIN
    rate_max = np.nanmax(np.where(ok, angular_rate, np.nan)) * _RATE_MARGIN
    reach = footprint_angle(threshold_rad - _ELEVATION_MARGIN_RAD, frames.radius_km, r_max)
    cos_bound = np.cos(np.minimum(reach + rate_max * step / 2, np.pi))

    unit = np.where(ok[:, None], p, 0.0)
    cos_psi = frames.unit_geocentric @ unit.T                       # (S, N)
    near = (cos_psi >= cos_bound[:, None]) & ok[None, :]
    station, first, last = _runs(near)
    whole = (first > 0) & (last < grid.size - 1)                    # window fully on the grid
    station, first, last = station[whole], first[whole], last[whole]
    empty = {k: np.zeros(0) for k in ("station", "set", "aos", "tca", "los")}
    empty.update({k: np.zeros((0, 3)) for k in ("r_aos", "v_aos", "r_tca", "v_tca", "r_los",
                                                  "v_los")})
    if station.size == 0:
        return empty

    # start Newton at the run's closest sample
    lengths = last - first + 1
    run_id = np.repeat(np.arange(first.size), lengths)
    sample = first[run_id] + (np.arange(run_id.size) - np.repeat(np.cumsum(lengths) - lengths,
                                                                 lengths))
    closeness = cos_psi[station[run_id], sample]
    best = np.maximum.reduceat(closeness, np.cumsum(lengths) - lengths)
    is_best = closeness == best[run_id]
    _, first_best = np.unique(run_id[is_best], return_index=True)
    best_sample = sample[np.flatnonzero(is_best)[first_best]]
    # aim at the point above the station along its geodetic vertical, at the satellite's height:
    # the elevation peaks when the satellite passes closest to it
    height = radius[best_sample] - frames.radius_km[station]
    zenith_point = frames.position_km[station] + frames.up[station] * height[:, None]
    zenith_point /= np.linalg.norm(zenith_point, axis=1)[:, None]
    offset, closest = _great_circle_closest(p[best_sample], q[best_sample],
                                            angular_rate[best_sample], zenith_point)
    # windows whose great-circle closest approach stays clear of the footprint (with the same
    # margins as the grid bound, plus 1 deg for the great-circle approximation) hold no pass
    promising = closest <= reach[station] + np.radians(1.0)
    station, first, last = station[promising], first[promising], last[promising]
    best_sample = best_sample[promising]
    if station.size == 0:
        return empty
    lo, hi = grid[first - 1], grid[last + 1]
    position, up = frames.position_km[station], frames.up[station]
    local = _LocalOrbit(grid[best_sample], r[best_sample], v[best_sample], position, up)
    guess, _, _, model_peak = _newton(local, lo, hi, grid[best_sample] + offset[promising],
                                      kind="culmination", tolerance=_MODEL_TOLERANCE_S,
                                      max_iterations=3)

    # the model's peak is good to ~0.01 deg: windows peaking 0.5 deg below the threshold are
    # dropped before the exact (costlier) evaluations; unconverged ones (NaN) are kept
    promising = ~(model_peak < np.sin(threshold_rad[station] - np.radians(0.5)))
    station, lo, hi, guess = station[promising], lo[promising], hi[promising], guess[promising]
    set_index = propagator.nearest_set(0.5 * (lo + hi))
    refiner = _Refiner(propagator, frames, station, set_index)
    tca, r_tca, v_tca, _ = _newton(refiner, lo, hi, guess, kind="culmination")
    s_tca = sin_elevation_and_rates(r_tca, v_tca, earth_fixed_acceleration(r_tca, v_tca),
                                    refiner.position, refiner.up)[0]
    target_sin = np.sin(threshold_rad[station])
    visible = s_tca >= target_sin
    keep = np.flatnonzero(visible)
    if keep.size == 0:
        return empty
    station, set_index, lo, hi, tca = (a[keep] for a in (station, set_index, lo, hi, tca))
    r_tca, v_tca, target_sin = r_tca[keep], v_tca[keep], target_sin[keep]

    # great-circle estimate of the half-duration, to start rise/set near their roots
    radius_tca = np.linalg.norm(r_tca, axis=1)
    psi0 = np.arccos(np.clip(np.einsum("ij,ij->i", r_tca / radius_tca[:, None],
                                       frames.unit_geocentric[station]), -1, 1))
    rate = _great_circle_motion(r_tca, v_tca)[2]
    reach_thr = footprint_angle(threshold_rad[station], frames.radius_km[station], radius_tca)
    half = np.arccos(np.clip(np.cos(reach_thr) / np.cos(psi0), -1, 1)) / rate

    local = _LocalOrbit(tca, r_tca, v_tca, frames.position_km[station], frames.up[station])
    model = {"tolerance": _MODEL_TOLERANCE_S, "max_iterations": 3, "target_sin": target_sin}
    rise_guess = _newton(local, lo, tca, tca - half, kind="rise", **model)[0]
    set_guess = _newton(local, tca, hi, tca + half, kind="set", **model)[0]
    refiner = _Refiner(propagator, frames, station, set_index)
    aos, r_aos, v_aos, _ = _newton(refiner, lo, tca, rise_guess, kind="rise",
                                   target_sin=target_sin)
    los, r_los, v_los, _ = _newton(refiner, tca, hi, set_guess, kind="set", target_sin=target_sin)
    inside = (aos >= tau_start) & (aos < tau_end)
    found = {"station": station, "set": set_index, "aos": aos, "tca": tca, "los": los,
             "r_aos": r_aos, "v_aos": v_aos, "r_tca": r_tca, "v_tca": v_tca,
             "r_los": r_los, "v_los": v_los}
    return {k: a[inside] for k, a in found.items()}


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
        at rise, culmination and set.
    """
    start_dt = as_utc_datetime(start, option="--start")
    end_dt = as_utc_datetime(end, option="--end")
    span = (end_dt - start_dt).total_seconds()
    if timebase is None:
        timebase = TimeBase(start_dt, span)
    stations = list(stations)
    if not stations or not catalogue.satellites:
        return _empty_table()
    frames = station_frames([s.latitude_deg for s in stations],
                            [s.longitude_deg for s in stations],
                            [s.altitude_m for s in stations])
    pressure = np.array([station_pressure_hpa(s) for s in stations])
    requested = np.array([s.min_elevation_deg if min_elevation_deg is None else min_elevation_deg
                          for s in stations], dtype=float)
    threshold_rad = np.radians(geometric_threshold_deg(requested, pressure, refraction))
    tau_start = timebase.tau_of(start_dt)
    tau_end = timebase.tau_of(end_dt)

    pieces = []
    for key in catalogue.satellites:
        sets = catalogue.sets(key)
        epoch_tau = np.array([timebase.tau_of(s.epoch) for s in sets])
        propagator = SatellitePropagator([s.satrec for s in sets], epoch_tau, timebase)
        problems: list[str] = []
        try:
            found = _satellite_passes(propagator, frames, threshold_rad, tau_start, tau_end,
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
        found = _apply_masks(found, propagator, frames, stations, pressure, refraction)
        pieces.append(_describe(found, key, catalogue, sets, epoch_tau, propagator, frames,
                                stations, pressure, refraction))
    if not pieces:
        return _empty_table()
    table = pd.concat(pieces, ignore_index=True)
    _add_sun(table, timebase, frames, stations)
    table = table.sort_values(["_tau_aos", "_station_index"], kind="stable")
    return table.reset_index(drop=True)[PASS_COLUMNS]


def _apply_masks(found, propagator, frames, stations, pressure, refraction):
    """Replace passes over stations with a horizon mask by their visible segments."""
    masked = {i for i, s in enumerate(stations) if getattr(s, "horizon_mask", None)}
    if not masked or not np.isin(found["station"], list(masked)).any():
        return found
    rows = {k: [] for k in ("station", "set", "aos", "tca", "los")}
    for j in range(found["aos"].size):
        s_index = int(found["station"][j])
        if s_index in masked:
            segments = _horizon_mask_segments(
                propagator, frames, stations[s_index], s_index, int(found["set"][j]),
                float(found["aos"][j]), float(found["los"][j]), pressure[s_index], refraction)
        else:
            segments = [(found["aos"][j], found["los"][j])]
        for seg_aos, seg_los in segments:
            rows["station"].append(s_index)
            rows["set"].append(found["set"][j])
            rows["aos"].append(seg_aos)
            rows["los"].append(seg_los)
            # a segment cut by the mask peaks at the culmination or at one of its ends
            rows["tca"].append(float(np.clip(found["tca"][j], seg_aos, seg_los)))
    return {k: np.array(v) for k, v in rows.items()}


def _describe(found, key, catalogue, sets, epoch_tau, propagator, frames, stations, pressure,
              refraction) -> pd.DataFrame:
    station = found["station"].astype(int)
    set_index = found["set"].astype(int)
    events = {}
    for name in ("aos", "tca", "los"):
        r, v = found.get(f"r_{name}"), found.get(f"v_{name}")
        if r is None:
            r, v, _ = propagator.state(found[name], set_index)
        az, el, rng, rng_rate = topocentric(r, v, frames.position_km[station], frames.east[station],
                                            frames.north[station], frames.up[station])
        events[name] = (np.degrees(az), np.degrees(el), rng, rng_rate, r, v)
    _, el_tca, rng_tca, rng_rate_tca, r_tca, v_tca = events["tca"]
    max_el = apparent_elevation_deg(el_tca, pressure[station]) if refraction else el_tca
    # the range minimum is a hair away from the elevation maximum: one Newton step on |rho|^2
    rho = r_tca - frames.position_km[station]
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


_SUN_ELEVATION_RATE_MAX_DEG_S = np.degrees(7.5e-5)
"""Bound on how fast the sun's elevation changes at any station [deg/s]: its direction turns
about the Earth's axis at the Earth's rotation rate less its own motion along the ecliptic
(7.29e-5 rad/s at most), with 3% to spare."""


def _add_sun(table: pd.DataFrame, timebase: TimeBase, frames: StationFrames, stations) -> None:
    """The sun's elevation at culmination and the ``night`` flag (sun below the station's night
    threshold at rise, culmination and set).

    The sun is evaluated at rise and set only for the passes whose culmination is dark but
    close enough to the threshold (by :data:`_SUN_ELEVATION_RATE_MAX_DEG_S`) for the ends to
    be lighter; for the rest the culmination decides.
    """
    taus = table[["_tau_aos", "_tau_tca", "_tau_los"]].to_numpy()
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


TRACK_COLUMNS = ["pass_id", "time_utc", "t_s", "azimuth_deg", "elevation_deg", "range_km",
                 "range_rate_km_s"]
"""Columns of the per-second track table (one row per pass and sample)."""

TRACK_NODE_STEP_S = 60.0
"""SGP4 is evaluated every 60 s along a pass and interpolated in between by cubic Hermite
polynomials on position and velocity. The interpolation error, r (omega h)^4 / 384, is about
0.3 m (tested against direct SGP4): far below SGP4's own accuracy, at a fraction of the cost."""


_TRACK_CHUNK_PASSES = 256


def _satellite_key_of(catalogue, satellite: str, norad) -> str:
    if norad is not None and not pd.isna(norad) and str(int(norad)) in catalogue:
        return str(int(norad))
    return catalogue.resolve(satellite)


def pass_tracks(passes: pd.DataFrame, catalogue, stations: Sequence, *, step_s: float = 1.0,
                refraction: bool = False) -> pd.DataFrame:
    """Azimuth, elevation, range and range rate along each pass, every ``step_s`` seconds.

    Parameters
    ----------
    passes : pandas.DataFrame
        A pass table from :func:`find_passes` (its index is used as ``pass_id``).
    catalogue : planner.elements.elementsets.Catalogue
        The element sets the passes were found with (the set nearest each pass's TCA is used).
    stations : sequence of Station
        The stations, looked up by name.
    step_s : float
        Sample spacing [s]; samples run from AOS (``t_s = 0``) to LOS.
    refraction : bool
        Report apparent (refracted) elevations.

    Returns
    -------
    pandas.DataFrame
        :data:`TRACK_COLUMNS`; ``t_s`` is seconds since the pass's AOS.
    """
    arrays = track_arrays(passes, catalogue, stations, step_s=step_s, refraction=refraction,
                          full=True)
    aos_ns = passes["aos_utc"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    row = passes.index.get_indexer(arrays["pass_id"])
    time_ns = aos_ns[row] + np.round(arrays["t_s"] * 1e9).astype(np.int64)
    return pd.DataFrame({
        "pass_id": arrays["pass_id"],
        "time_utc": pd.to_datetime(time_ns.astype("datetime64[ns]"), utc=True),
        **{c: arrays[c] for c in TRACK_COLUMNS[2:]},
    })


def track_arrays(passes: pd.DataFrame, catalogue, stations: Sequence, *, step_s: float = 1.0,
                 refraction: bool = False, full: bool = False) -> dict[str, np.ndarray]:
    """The samples of :func:`pass_tracks` as numpy arrays, for models that need speed.

    Returns a dict with ``pass_id``, ``t_s``, ``elevation_deg`` and ``range_km``, plus
    ``azimuth_deg`` and ``range_rate_km_s`` when ``full``. Samples are grouped by pass, in
    time order within each pass.
    """
    keys = ["pass_id", "t_s", "elevation_deg", "range_km"]
    if full:
        keys += ["azimuth_deg", "range_rate_km_s"]
    pieces = [_flatten_grid(grid, passes, refraction, full)
              for grid in track_grids(passes, catalogue, stations, step_s=step_s,
                                      velocity=full)]
    if not pieces:
        return {k: np.zeros(0, dtype=np.int64 if k == "pass_id" else float) for k in keys}
    return {k: np.concatenate([p[k] for p in pieces]) for k in keys}


class TrackGrid(NamedTuple):
    """The samples of a chunk of passes laid out on an (interval, sample) grid.

    Each pass is cut into intervals of ``per_node`` samples between two SGP4 nodes; row ``m``
    of every (M, K) array is one interval, column ``k`` its k-th sample. Samples past a pass's
    LOS pad its last interval; ``valid`` marks the others.

    Attributes
    ----------
    rows : (P,) int array
        Positions (``iloc``) in the pass table of the chunk's P passes.
    interval_pass : (M,) int array
        Which of the P passes each interval belongs to (non-decreasing).
    stations : list of Station
        The stations of the pass table; ``station_of_pass`` (P,) indexes them.
    station_of_pass : (P,) int array
    frames : StationFrames
        Topocentric frames of ``stations``.
    sample_index : (M, K) int array
        Sample number within the pass (``t_s = sample_index * step_s``).
    n_samples : (P,) int array
        Samples per pass (AOS to LOS inclusive).
    valid : (M, K) bool array
        ``sample_index < n_samples`` of the row's pass.
    rho_km : (M, K, 3) array
        Station-to-satellite vector, Earth-fixed [km].
    velocity_km_s : (M, K, 3) array or None
        Earth-fixed satellite velocity [km/s] (only when asked for).
    range_km, height_km : (M, K) arrays
        Slant range and height above the station's horizon plane [km].
    step_s : float
        Sample spacing [s].
    """

    rows: np.ndarray
    interval_pass: np.ndarray
    stations: list
    station_of_pass: np.ndarray
    frames: StationFrames
    sample_index: np.ndarray
    n_samples: np.ndarray
    valid: np.ndarray
    rho_km: np.ndarray
    velocity_km_s: np.ndarray | None
    range_km: np.ndarray
    height_km: np.ndarray
    step_s: float

    def sin_elevation(self, rows: slice = slice(None)) -> np.ndarray:
        """Sine of the geometric elevation of the samples of ``rows`` (all by default)."""
        return np.clip(self.height_km[rows] / self.range_km[rows], -1.0, 1.0)


def track_grids(passes: pd.DataFrame, catalogue, stations: Sequence, *, step_s: float = 1.0,
                velocity: bool = False) -> Iterator[TrackGrid]:
    """Sample the passes every ``step_s`` seconds, a few hundred passes at a time.

    SGP4 is evaluated every :data:`TRACK_NODE_STEP_S` along each pass and the
    station-to-satellite vector is interpolated between the nodes by cubic Hermite
    polynomials. Yielding chunk by chunk keeps the temporaries in the CPU cache and lets a
    model reduce each chunk before the next is made (:func:`planner.key.perpass.pass_key_table`).

    Parameters
    ----------
    passes : pandas.DataFrame
        A pass table from :func:`find_passes`.
    catalogue : planner.elements.elementsets.Catalogue
        The element sets the passes were found with (the set nearest each pass's TCA is used).
    stations : sequence of Station
        The stations, looked up by name.
    step_s : float
        Sample spacing [s].
    velocity : bool
        Also interpolate the satellite's velocity.

    Yields
    ------
    TrackGrid
    """
    if passes.empty:
        return
    by_name = {s.name: s for s in stations}
    start = passes["aos_utc"].min().floor("us").to_pydatetime()
    span = (passes["los_utc"].max() - passes["aos_utc"].min()).total_seconds()
    timebase = TimeBase(start, span)
    satellite_of_row = (passes["satellite"].astype(str) + "\x00"
                        + passes["norad"].astype("string").fillna(""))
    codes, _ = pd.factorize(satellite_of_row)
    # per-pass times and stations, converted once for all chunks
    aos, los, tca = (timebase.tau_of(passes[c].to_numpy(dtype="datetime64[ns]"))
                     for c in ("aos_utc", "los_utc", "tca_utc"))
    names, station_code = np.unique(passes["station"].to_numpy(dtype=str), return_inverse=True)
    station_list = [by_name[name] for name in names]
    frames = station_frames([s.latitude_deg for s in station_list],
                            [s.longitude_deg for s in station_list],
                            [s.altitude_m for s in station_list])
    for code in range(codes.max() + 1):
        rows = np.flatnonzero(codes == code)
        first_row = passes.iloc[rows[0]]
        key = _satellite_key_of(catalogue, first_row["satellite"], first_row["norad"])
        sets = catalogue.sets(key)
        epoch_tau = np.array([timebase.tau_of(s.epoch) for s in sets])
        propagator = SatellitePropagator([s.satrec for s in sets], epoch_tau, timebase)
        for first in range(0, rows.size, _TRACK_CHUNK_PASSES):
            chunk = rows[first:first + _TRACK_CHUNK_PASSES]
            yield _track_grid(chunk, aos[chunk], los[chunk], tca[chunk], station_code[chunk],
                              station_list, frames, propagator, step_s, velocity)


def _track_grid(rows, aos, los, tca, station_of_pass, station_list, frames, propagator,
                step_s, velocity) -> TrackGrid:
    set_index = propagator.nearest_set(tca)

    # nodes every `per_node` samples; each interval between two nodes holds `per_node` samples
    per_node = max(1, round(TRACK_NODE_STEP_S / step_s))
    node_step = per_node * step_s
    n_samples = np.floor((los - aos) / step_s + 1e-9).astype(int) + 1
    n_intervals = -(-n_samples // per_node)                       # ceil division
    n_nodes = n_intervals + 1
    node_pass = np.repeat(np.arange(aos.size), n_nodes)
    node_first = np.cumsum(n_nodes) - n_nodes
    node_k = np.arange(node_pass.size) - np.repeat(node_first, n_nodes)
    r_nodes, v_nodes, _ = propagator.state(aos[node_pass] + node_k * node_step,
                                           set_index[node_pass])
    # interpolate the station-to-satellite vector directly: the Hermite position weights sum
    # to one, so shifting the nodes by the station position shifts every sample by it
    node_station = station_of_pass[node_pass]
    rho_nodes = r_nodes - frames.position_km[node_station]
    interval_pass = np.repeat(np.arange(aos.size), n_intervals)
    interval_k = np.arange(interval_pass.size) - np.repeat(np.cumsum(n_intervals) - n_intervals,
                                                           n_intervals)
    left = node_first[interval_pass] + interval_k
    rho, v = _hermite_batch(rho_nodes[left], v_nodes[left], rho_nodes[left + 1],
                            v_nodes[left + 1], per_node, node_step, velocity=velocity)
    # height above the station's horizon plane is linear in the node data, so it is
    # interpolated from the nodes' heights and vertical speeds
    up_nodes = frames.up[node_station]
    height_nodes = np.einsum("ij,ij->i", rho_nodes, up_nodes)
    climb_nodes = np.einsum("ij,ij->i", v_nodes, up_nodes)
    height = _hermite_batch(height_nodes[left, None], climb_nodes[left, None],
                            height_nodes[left + 1, None], climb_nodes[left + 1, None],
                            per_node, node_step, velocity=False)[0][:, :, 0]
    sample_index = interval_k[:, None] * per_node + np.arange(per_node)[None, :]
    return TrackGrid(
        rows=rows, interval_pass=interval_pass, stations=station_list,
        station_of_pass=station_of_pass, frames=frames, sample_index=sample_index,
        n_samples=n_samples, valid=sample_index < n_samples[interval_pass, None],
        rho_km=rho, velocity_km_s=v, range_km=np.sqrt(np.einsum("mkc,mkc->mk", rho, rho)),
        height_km=height, step_s=step_s)


def _flatten_grid(grid: TrackGrid, passes, refraction, full) -> dict[str, np.ndarray]:
    """The valid samples of a grid as flat arrays, grouped by pass in time order."""
    keep = np.flatnonzero(grid.valid.ravel())
    sample_pass = np.repeat(np.arange(grid.n_samples.size), grid.n_samples)
    rng = grid.range_km.ravel().take(keep)
    el_deg = np.degrees(np.arcsin(grid.sin_elevation().ravel().take(keep)))
    if refraction:
        pressure = np.array([station_pressure_hpa(s) for s in grid.stations])
        el_deg = apparent_elevation_deg(el_deg, pressure[grid.station_of_pass[sample_pass]])
    out = {"pass_id": passes.index.to_numpy()[grid.rows][sample_pass],
           "t_s": grid.sample_index.ravel().take(keep) * grid.step_s,
           "elevation_deg": el_deg, "range_km": rng}
    if full:
        frames, rho = grid.frames, grid.rho_km
        station = grid.station_of_pass[grid.interval_pass]
        east = np.einsum("mkc,mc->mk", rho, frames.east[station]).ravel().take(keep)
        north = np.einsum("mkc,mc->mk", rho, frames.north[station]).ravel().take(keep)
        out["azimuth_deg"] = np.degrees(np.mod(np.arctan2(east, north), 2 * np.pi))
        out["range_rate_km_s"] = (np.einsum("mkc,mkc->mk", rho, grid.velocity_km_s)
                                  .ravel().take(keep) / rng)
    return out


def _hermite_batch(r0, v0, r1, v1, per_node, h, *, velocity=True):
    """Cubic Hermite interpolation at ``per_node`` equally spaced points of each interval.

    Parameters
    ----------
    r0, v0, r1, v1 : (M, 3) arrays
        States at the ends of M intervals of length ``h`` [km, km/s].
    per_node : int
        Points per interval, at fractions 0, 1/per_node, ..., (per_node-1)/per_node.
    h : float
        Interval length [s].
    velocity : bool
        Also interpolate velocities (otherwise None is returned for them).

    Returns
    -------
    r, v : (M, per_node, 3) arrays
        Interpolated positions [km] and velocities [km/s].
    """
    x = np.arange(per_node) / per_node
    x2, x3 = x * x, x * x * x
    nodes = np.stack([r0, v0, r1, v1], axis=1)                                  # (M, 4, 3)
    position_basis = np.stack([2 * x3 - 3 * x2 + 1, (x3 - 2 * x2 + x) * h,
                               -2 * x3 + 3 * x2, (x3 - x2) * h], axis=1)        # (K, 4)
    if not velocity:
        return position_basis @ nodes, None
    velocity_basis = np.stack([(6 * x2 - 6 * x) / h, 3 * x2 - 4 * x + 1,
                               (-6 * x2 + 6 * x) / h, 3 * x2 - 2 * x], axis=1)  # (K, 4)
    return position_basis @ nodes, velocity_basis @ nodes
