"""Per-sample tracks along passes: azimuth, elevation, range and range rate every ``step_s``.

SGP4 runs only at nodes a minute apart; cubic Hermite interpolation on position and velocity
fills in the samples (:data:`TRACK_NODE_STEP_S`). :func:`track_grids` yields chunks laid out for
vectorised models (the link budget and key); :func:`pass_tracks` is the tabular form.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from planner.geometry.frames import SatellitePropagator, StationFrames, station_frames
from planner.geometry.refraction import apparent_elevation_deg
from planner.timebase import TimeBase

TRACK_COLUMNS = ["pass_id", "time_utc", "t_s", "azimuth_deg", "elevation_deg", "range_km",
                 "range_rate_km_s"]
"""Columns of the per-second track table (one row per pass and sample)."""

TRACK_NODE_STEP_S = 60.0
"""SGP4 is evaluated every 60 s along a pass and interpolated in between by cubic Hermite
polynomials on position and velocity. The interpolation error, r (omega h)^4 / 384, is about
0.3 m (tested against direct SGP4): far below SGP4's own accuracy, at a fraction of the cost."""


DEGREES_PER_RADIAN = 180.0 / np.pi
"""Radians to degrees: the product np.degrees computes (the same bits), written as one, which
numpy evaluates several times faster on the samples of a year of passes."""

_TRACK_CHUNK_PASSES = 512
"""Passes per chunk of :func:`track_grids`: a few MB of samples, large enough that the per-chunk
work of the models downstream (the sky's knots, the Sun and Moon of each pass) is spread over
many samples (6% faster than 256 for a year of key, benchmarks/keys.py)."""


def _satellite_key_of(catalogue, satellite: str, norad) -> str:
    if norad is not None and not pd.isna(norad) and str(int(norad)) in catalogue:
        return str(int(norad))
    return catalogue.resolve(satellite)


def pass_tracks(passes: pd.DataFrame, catalogue, stations: Sequence, *, step_s: float = 1.0,
                refraction: bool = False, through_los: bool = False) -> pd.DataFrame:
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
    through_los : bool
        End each pass with a sample at LOS itself when the steps from AOS do not land on it
        (within a millisecond), so that the track spans AOS to LOS inclusive.

    Returns
    -------
    pandas.DataFrame
        :data:`TRACK_COLUMNS`; ``t_s`` is seconds since the pass's AOS.
    """
    arrays = track_arrays(passes, catalogue, stations, step_s=step_s, refraction=refraction,
                          full=True)
    if through_los and len(passes):
        arrays = _with_los_samples(arrays, passes, catalogue, stations, step_s, refraction)
    aos_ns = passes["aos_utc"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    row = passes.index.get_indexer(arrays["pass_id"])
    time_ns = aos_ns[row] + np.round(arrays["t_s"] * 1e9).astype(np.int64)
    return pd.DataFrame({
        "pass_id": arrays["pass_id"],
        "time_utc": pd.to_datetime(time_ns.astype("datetime64[ns]"), utc=True),
        **{c: arrays[c] for c in TRACK_COLUMNS[2:]},
    })


def _with_los_samples(arrays: dict[str, np.ndarray], passes: pd.DataFrame, catalogue,
                      stations: Sequence, step_s: float, refraction: bool
                      ) -> dict[str, np.ndarray]:
    """``arrays`` (of :func:`track_arrays`, full) with a last sample at each pass's LOS
    where the steps stop short of it by more than a millisecond. The LOS samples are the
    first samples of the same passes started at their LOS (same propagation and frames)."""
    duration = (passes["los_utc"] - passes["aos_utc"]).dt.total_seconds().to_numpy(float)
    last = np.floor(duration / step_s + 1e-9) * step_s
    short = duration - last > 1e-3
    if not short.any():
        return arrays
    at_los = passes[short].assign(aos_utc=passes["los_utc"][short])
    extra = track_arrays(at_los, catalogue, stations, step_s=step_s, refraction=refraction,
                         full=True)
    first = np.r_[True, extra["pass_id"][1:] != extra["pass_id"][:-1]]
    extra = {k: v[first] for k, v in extra.items()}
    extra["t_s"] = duration[passes.index.get_indexer(extra["pass_id"])]
    merged = {k: np.concatenate([arrays[k], extra[k]]) for k in arrays}
    order = np.lexsort((merged["t_s"], passes.index.get_indexer(merged["pass_id"])))
    return {k: v[order] for k, v in merged.items()}


def track_arrays(passes: pd.DataFrame, catalogue, stations: Sequence, *, step_s: float = 1.0,
                 refraction: bool = False, full: bool = False) -> dict[str, np.ndarray]:
    """The samples of :func:`pass_tracks` as numpy arrays, for models that need speed.

    Returns a dict with ``pass_id``, ``t_s``, ``elevation_deg``, ``range_km`` and
    ``azimuth_deg`` (which the sky-background model needs), plus ``range_rate_km_s`` when
    ``full``. Samples are grouped by pass, in time order within each pass.
    """
    keys = ["pass_id", "t_s", "elevation_deg", "range_km", "azimuth_deg"]
    if full:
        keys += ["range_rate_km_s"]
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
    timebase : TimeBase
        The time axis of ``aos_tau``.
    aos_tau : (P,) array
        AOS of each pass [s of ``timebase``]; sample times are
        ``aos_tau[interval_pass, None] + sample_index * step_s``.
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
    timebase: TimeBase | None = None
    aos_tau: np.ndarray | None = None

    def sample_tau(self, rows: slice = slice(None)) -> np.ndarray:
        """Times of the samples of ``rows`` [s of :attr:`timebase`], (M, K)."""
        return (self.aos_tau[self.interval_pass[rows], None]
                + self.sample_index[rows] * self.step_s)

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
            grid = _track_grid(chunk, aos[chunk], los[chunk], tca[chunk], station_code[chunk],
                               station_list, frames, propagator, step_s, velocity)
            yield grid._replace(timebase=timebase, aos_tau=aos[chunk])


def sample_counts(aos_tau: np.ndarray, los_tau: np.ndarray, step_s: float) -> np.ndarray:
    """Samples of each pass every ``step_s`` from AOS, up to LOS inclusive (within 1e-9 of a
    step): the samples :func:`track_grids` makes.

    Parameters
    ----------
    aos_tau, los_tau : array_like
        AOS and LOS of each pass [s].
    step_s : float
        Sample spacing [s].
    """
    return np.floor((np.asarray(los_tau) - aos_tau) / step_s + 1e-9).astype(int) + 1


def _track_grid(rows, aos, los, tca, station_of_pass, station_list, frames, propagator,
                step_s, velocity) -> TrackGrid:
    set_index = propagator.nearest_set(tca)

    # nodes every `per_node` samples; each interval between two nodes holds `per_node` samples
    per_node = max(1, round(TRACK_NODE_STEP_S / step_s))
    node_step = per_node * step_s
    n_samples = sample_counts(aos, los, step_s)
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
    height_nodes = row_dot(rho_nodes, up_nodes)
    climb_nodes = row_dot(v_nodes, up_nodes)
    height = _hermite_batch(height_nodes[left, None], climb_nodes[left, None],
                            height_nodes[left + 1, None], climb_nodes[left + 1, None],
                            per_node, node_step, velocity=False)[0][:, :, 0]
    sample_index = interval_k[:, None] * per_node + np.arange(per_node)[None, :]
    return TrackGrid(
        rows=rows, interval_pass=interval_pass, stations=station_list,
        station_of_pass=station_of_pass, frames=frames, sample_index=sample_index,
        n_samples=n_samples, valid=sample_index < n_samples[interval_pass, None],
        rho_km=rho, velocity_km_s=v, range_km=np.sqrt(row_dot(rho, rho)),
        height_km=height, step_s=step_s)


def _flatten_grid(grid: TrackGrid, passes, refraction, full) -> dict[str, np.ndarray]:
    """The valid samples of a grid as flat arrays, grouped by pass in time order."""
    keep = np.flatnonzero(grid.valid.ravel())
    sample_pass = np.repeat(np.arange(grid.n_samples.size), grid.n_samples)
    rng = grid.range_km.ravel().take(keep)
    el_deg = np.arcsin(grid.sin_elevation().ravel().take(keep)) * DEGREES_PER_RADIAN
    if refraction:
        pressure = np.array([s.pressure_hpa for s in grid.stations])
        el_deg = apparent_elevation_deg(el_deg, pressure[grid.station_of_pass[sample_pass]])
    out = {"pass_id": passes.index.to_numpy()[grid.rows][sample_pass],
           "t_s": grid.sample_index.ravel().take(keep) * grid.step_s,
           "elevation_deg": el_deg, "range_km": rng}
    frames, rho = grid.frames, grid.rho_km
    station = grid.station_of_pass[grid.interval_pass]
    east = row_dot(rho, frames.east[station][:, None]).ravel().take(keep)
    north = row_dot(rho, frames.north[station][:, None]).ravel().take(keep)
    out["azimuth_deg"] = np.mod(np.arctan2(east, north), 2 * np.pi) * DEGREES_PER_RADIAN
    if full:
        out["range_rate_km_s"] = row_dot(rho, grid.velocity_km_s).ravel().take(keep) / rng
    return out


def row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products of the 3-vectors along the last axes of ``a`` and ``b`` (broadcast).

    Written out component by component: several times faster than ``np.einsum`` or a sum
    over an axis of three.
    """
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


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
