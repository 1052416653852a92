"""The pass finder's search: every pass of one satellite over every station, to the millisecond.

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
``find_events`` for completeness. Which passes belong to a period, and refraction, are
:func:`planner.geometry.passes.find_passes`'s conventions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sgp4.api import SGP4_ERRORS

from planner.geometry.frames import (
    EARTH_ROTATION_RAD_S,
    GM_EARTH_KM3_S2,
    SatellitePropagator,
    StationFrames,
    earth_fixed_acceleration,
    sin_elevation_and_rates,
    topocentric,
)
from planner.geometry.refraction import apparent_elevation_deg

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


_PRODUCT_BLOCK = 2048


def _row_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` for (S, 3) and (N, 3) arrays, (S, N), computed in blocks of
    :data:`_PRODUCT_BLOCK` columns.

    ``numpy.einsum`` (its own loops, one thread) rather than BLAS: on a 2-core machine shared
    with other jobs BLAS's threads waited for each other, and its product over a year of grid
    samples took 6-16 ms for 50 stations and up to 0.3 s for 200 (blocks of columns too);
    einsum's took 3-4 ms for 50, and each block's result stays in cache for the comparison
    that follows.
    """
    out = np.empty((a.shape[0], b.shape[0]))
    columns = np.ascontiguousarray(b.T)
    for start in range(0, b.shape[0], _PRODUCT_BLOCK):
        block = slice(start, start + _PRODUCT_BLOCK)
        np.einsum("sk,kn->sn", a, columns[:, block], out=out[:, block])
    return out


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
        The state at the roots: the last exact state carried over the last Newton step (NaN
        where ``refiner`` has no state to carry, as :class:`LocalOrbit`).
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
        dt = t_new - ta
        if r_a is not None:
            # carry the last exact state over the last (short) step by Taylor expansion: with
            # steps below ~0.1 s the neglected jerk term is under a micrometre
            r_last[active] = r_a + v_a * dt[:, None] + 0.5 * a_a * dt[:, None] ** 2
            v_last[active] = v_a + a_a * dt[:, None]
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


class LocalOrbit:
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

    def motion(self, tau, rows=slice(None), *, acceleration=False):
        """Modelled Earth-fixed position [km], velocity [km/s] and, if asked, acceleration
        [km/s^2] of ``rows`` at their own times: the model's exact derivatives (the inertial
        arc's, then the rotating frame's Coriolis and centrifugal terms).

        Parameters
        ----------
        tau : (M, K) array
            Times [s], K of them for each of the M rows.
        rows : (M,) int array or slice
            Which of the model's rows (all by default).
        acceleration : bool
            Also return the acceleration.

        Returns
        -------
        tuple of tuples
            ``(x, y, z), (vx, vy, vz)`` and, if asked, ``(ax, ay, az)``: components, each
            (M, K). Component arrays, without the (M, K, 3) copies a vector layout makes, are
            several times faster where a search evaluates the motion many times.
        """
        def column(values):
            return values[rows][:, None]

        dt = tau - column(self.tau0)
        omega, radial_rate = column(self.omega), column(self.radial_rate)
        angle = omega * dt
        cos_a, sin_a = np.cos(angle), np.sin(angle)
        radius = column(self.radius) + radial_rate * dt
        p, q = self.p[rows], self.q[rows]        # one gather each, then column views
        outward = [cos_a * p[:, k:k + 1] + sin_a * q[:, k:k + 1] for k in range(3)]
        along = [cos_a * q[:, k:k + 1] - sin_a * p[:, k:k + 1] for k in range(3)]
        speed = radius * omega
        r_in = [radius * u for u in outward]
        v_in = [radial_rate * u + speed * w for u, w in zip(outward, along, strict=True)]
        turn = EARTH_ROTATION_RAD_S * dt
        cos_t, sin_t = np.cos(turn), np.sin(turn)
        w = EARTH_ROTATION_RAD_S

        def earth_fixed(vector):
            return cos_t * vector[0] + sin_t * vector[1], cos_t * vector[1] - sin_t * vector[0]

        x, y = earth_fixed(r_in)
        vx, vy = earth_fixed(v_in)
        position = (x, y, r_in[2])
        velocity = (vx + w * y, vy - w * x, v_in[2])
        if not acceleration:
            return position, velocity
        a_in = [(2.0 * radial_rate * omega) * v - (speed * omega) * u
                for u, v in zip(outward, along, strict=True)]
        ax, ay = earth_fixed(a_in)
        return position, velocity, (ax + 2 * w * velocity[1] + w * w * x,
                                    ay - 2 * w * velocity[0] + w * w * y, a_in[2])

    def rates(self, tau, rows):
        """sin(elevation) and its derivatives of the modelled motion (the second one with a
        two-body acceleration, as :func:`planner.geometry.frames.earth_fixed_acceleration`);
        no state to carry (None for r, v and a)."""
        (x, y, z), (vx, vy, vz) = self.motion(tau[:, None], rows)
        x, y, z, vx, vy, vz = (c[:, 0] for c in (x, y, z, vx, vy, vz))
        w = EARTH_ROTATION_RAD_S
        pull = -GM_EARTH_KM3_S2 / (x * x + y * y + z * z) ** 1.5
        ax = pull * x + 2 * w * vy + w * w * x
        ay = pull * y - 2 * w * vx + w * w * y
        az = pull * z
        station, up = self.position[rows], self.up[rows]
        rho = (x - station[:, 0], y - station[:, 1], z - station[:, 2])
        rng = np.sqrt(rho[0] ** 2 + rho[1] ** 2 + rho[2] ** 2)
        height = rho[0] * up[:, 0] + rho[1] * up[:, 1] + rho[2] * up[:, 2]
        climb = vx * up[:, 0] + vy * up[:, 1] + vz * up[:, 2]
        climb_rate = ax * up[:, 0] + ay * up[:, 1] + az * up[:, 2]
        rng_dot = (rho[0] * vx + rho[1] * vy + rho[2] * vz) / rng
        rng_ddot = (vx * vx + vy * vy + vz * vz + rho[0] * ax + rho[1] * ay + rho[2] * az
                    - rng_dot**2) / rng
        s = height / rng
        s_dot = climb / rng - height * rng_dot / rng**2
        s_ddot = (climb_rate / rng - 2 * climb * rng_dot / rng**2 - height * rng_ddot / rng**2
                  + 2 * height * rng_dot**2 / rng**3)
        return (s, s_dot, s_ddot), None, None, None


def satellite_passes(propagator: SatellitePropagator, frames: StationFrames,
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
    cos_psi = _row_products(frames.unit_geocentric, unit)           # (S, N)
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
    local = LocalOrbit(grid[best_sample], r[best_sample], v[best_sample], position, up)
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

    local = LocalOrbit(tca, r_tca, v_tca, frames.position_km[station], frames.up[station])
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



def apply_horizon_masks(found, propagator, frames, stations, pressure, refraction):
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


