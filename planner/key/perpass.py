"""Key volume per pass: link budget and finite-key model applied to a pass table.

:func:`pass_key_table` is the one way to the key of passes: it turns the pass table and the
samples of the passes (sampled from the element sets as it goes, or given as a per-sample
track table) into the key table of docs/architecture.md: for every pass the loss range, the
detections, the QBER, the key window, the finite-key secure key (Lim et al. 2014 with Chernoff
or Hoeffding bounds), its no-fluctuation upper bound, the station's clear-sky probability for
the month and the expected key. Everything is vectorised over samples and passes (one pass is
one block unless passes are pooled). :func:`pass_key_table_by_satellite` does it for several
payloads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import PlannerInputError
from planner.geometry.tracks import DEGREES_PER_RADIAN, sample_counts, track_grids
from planner.key.blocks import (
    CHUNK,
    WindowAccumulator,
    asymptotic_block_key,
    block_key,
    block_statistics,
    check_key_options,
    choose_windows,
    group_sum,
    key_basis_qber,
    pool_blocks,
    row_blocks,
    segment_sums,
)
from planner.key.channel import BasisCounts
from planner.key.receiver import StationConstants
from planner.key.skynoise import PassSky, SampleNoise, has_sky_geometry, line_of_sight
from planner.link.atmosphere import monthly_clear_sky_probability
from planner.link.budget import transmittance_to_loss_db
from planner.mission.payloads import Payload, payload_for_satellite
from planner.timebase import SECONDS_PER_DAY, TimeBase

__all__ = ["KEY_COLUMNS", "pass_key_table", "pass_key_table_by_satellite"]

#: Columns :func:`pass_key_table` adds to the pass table (docs/architecture.md "Key table").
KEY_COLUMNS: tuple[str, ...] = (
    "min_loss_db", "max_loss_db", "key_min_elevation_deg", "key_window_s", "detections",
    "qber", "secure_bits", "secure_bits_asymptotic", "clear_sky_probability",
    "expected_secure_bits",
)

_TRACK_COLUMNS = ("pass_id", "t_s", "elevation_deg", "range_km")
_PASS_COLUMNS = ("station", "tca_utc")
_SUM_COLUMNS = 4  # Σw, Σw·s_k (3 intensities) with Y0 one per station


def _check_pass_table(passes: pd.DataFrame) -> None:
    missing = [c for c in _PASS_COLUMNS if c not in passes.columns]
    if missing:
        raise PlannerInputError(f"pass table lacks column(s) {', '.join(missing)}",
                                field=missing[0])


def _by_name(stations: Mapping[str, Any] | Sequence[Any]) -> Mapping[str, Any]:
    return stations if isinstance(stations, Mapping) else {s.name: s for s in stations}


def pass_key_table(passes: pd.DataFrame, samples: Any, stations: Mapping[str, Any] | Sequence[Any],
                   payload: Payload, *, pool: int = 1, fluctuation: str = "chernoff",
                   ec_leakage: str = "fixed", step_s: float = 1.0) -> pd.DataFrame:
    """Expected secure key of every pass: the pass table plus docs/architecture.md's key columns.

    The samples of each pass give the transmittance of every sample
    (:func:`planner.key.receiver.sample_transmittance`); samples below the payload's minimum
    key elevation are dropped. The key of a pass comes from its data window: the samples at or
    above an elevation cut, the cut (among :func:`planner.key.blocks.cut_elevations`, from the
    minimum key elevation up) chosen to maximise the pass's finite key, since noisy
    low-elevation seconds can cost more than they bring (the station still acquires from its
    minimum elevation). Each sample stands for half the time to each neighbour in the window;
    the expected detections and errors per basis and intensity are summed over the window
    and the finite-key length of Lim et al. (2014) is computed for it as one block. With
    ``pool > 1``, consecutive passes of one station (in time order) are pooled ``pool`` at a
    time into one block (each pass with its own best window), and each pass is credited with
    the block's key in proportion to its sifted detections; ``df.attrs["pooling"]`` reports the
    gain over single-pass blocks.

    From element sets, the passes are sampled every ``step_s`` seconds
    (:func:`planner.geometry.tracks.track_grids`) and each chunk of 512 passes is
    reduced to its per-pass sums before the next is made, so no per-sample table is ever held.
    A track table (e.g. :func:`planner.geometry.tracks.track_arrays` as a DataFrame, or
    samples from elsewhere) models the sky at every sample; on the grids it is modelled every
    20 s and interpolated away from the Moon (:meth:`planner.key.skynoise.SampleNoise.grid_y0`),
    which moves the key of a pass by at most ~60 bits (4 kbit of a year's 872 Mbit,
    ``benchmarks/keys.py``).

    Added columns: ``min_loss_db``, ``max_loss_db`` (over the samples above the minimum key
    elevation; NaN if none), ``key_min_elevation_deg`` (the cut of the key window; NaN
    without samples), ``key_window_s`` (its duration), ``detections`` (all clicks, all bases,
    in the window), ``qber`` (error rate of the key bases; NaN without detections),
    ``secure_bits`` (finite key, ≥ 0), ``secure_bits_asymptotic`` (the same protocol and
    block without finite-size statistics: an upper bound of ``secure_bits``, see
    :func:`planner.key.blocks.asymptotic_block_key`), ``clear_sky_probability`` (station
    climatology for the month of TCA, UTC; 1 if the station has none) and
    ``expected_secure_bits`` = secure × clear-sky; with pooling also ``pool_block``.

    Parameters
    ----------
    passes : pandas.DataFrame
        Pass table (docs/architecture.md), index = pass id; needs ``station`` and ``tca_utc``
        (and what :func:`planner.geometry.tracks.track_grids` needs when sampling).
    samples : planner.elements.elementsets.Catalogue or pandas.DataFrame
        The element sets the passes were found with, or a long table with
        ``pass_id, t_s, elevation_deg, range_km``.
    stations : mapping of str to StationLike, or sequence of Station
        Stations, by the names used in ``passes["station"]``.
    payload : Payload
        The payload flying the passes.
    pool : int, default 1
        Passes per finite-key block.
    fluctuation : {'chernoff', 'hoeffding', 'none'}
        Fluctuation bound of the finite-key analysis.
    ec_leakage : {'fixed', 'finite'}
        Error-correction leakage model.
    step_s : float, default 1.0
        Sample spacing [s] when sampling element sets.

    Returns
    -------
    pandas.DataFrame
        A copy of ``passes`` with the key columns; ``attrs["key_model"]`` records the model
        and its parameters.

    Raises
    ------
    OptionError
        For a bad ``pool``, ``fluctuation`` or ``ec_leakage`` (named so).
    StationError
        If a pass names a station not in ``stations``.
    PlannerInputError
        If a required column is missing.
    """
    check_key_options(pool, fluctuation, ec_leakage)
    _check_pass_table(passes)
    by_name = _by_name(stations)
    constants = StationConstants(passes, by_name, payload)
    if isinstance(samples, pd.DataFrame):
        accumulator = _accumulate_tracks(passes, samples, constants)
    else:
        accumulator = _accumulate_grids(passes, samples, list(by_name.values()), constants,
                                        step_s)
    return _key_columns(passes, accumulator, constants, pool, fluctuation, ec_leakage)


def _accumulate_tracks(passes: pd.DataFrame, tracks: pd.DataFrame,
                       constants: StationConstants) -> WindowAccumulator:
    """Per-pass window pieces from a long per-sample track table."""
    missing = [c for c in _TRACK_COLUMNS if c not in tracks.columns]
    if missing:
        raise PlannerInputError(f"track table lacks column(s) {', '.join(missing)}",
                                field=missing[0])
    payload = constants.payload
    position = pd.Index(passes.index).get_indexer(tracks["pass_id"].to_numpy())
    # the sky model needs each sample's direction and time: azimuth, AOS and station positions
    sky = None
    if ("azimuth_deg" in tracks.columns and "aos_utc" in passes.columns
            and has_sky_geometry(constants.objects)):
        sky = SampleNoise(constants.objects, payload)
    columns = ["t_s", "elevation_deg", "range_km"] + (["azimuth_deg"] if sky else [])
    t_s, elevation, range_km, *azimuth = (tracks[c].to_numpy(dtype=float) for c in columns)
    keep = position >= 0
    if not keep.all():
        position, t_s, elevation, range_km, *azimuth = (
            a[keep] for a in (position, t_s, elevation, range_km, *azimuth))
    step = np.diff(position)
    if np.any(step < 0) or np.any(np.diff(t_s)[step == 0] < 0):  # sort only if needed
        order = np.lexsort((t_s, position))
        position, t_s, elevation, range_km, *azimuth = (
            a[order] for a in (position, t_s, elevation, range_km, *azimuth))
    accumulator = WindowAccumulator(len(passes), payload)
    eta = np.empty(position.size)
    y0 = None if sky is None else np.empty(position.size)
    if sky is not None:
        aos = passes["aos_utc"].to_numpy(dtype="datetime64[ns]")
        span_s = (aos.max() - aos.min()) / np.timedelta64(1, "s")
        timebase = TimeBase(pd.Timestamp(aos.min(), tz="UTC").floor("us").to_pydatetime(),
                            span_s + float(np.max(t_s, initial=0.0)) + SECONDS_PER_DAY)
        sky_tau = np.asarray(timebase.tau_of(aos))[position] + t_s
    for start in range(0, position.size, CHUNK):
        part = slice(start, start + CHUNK)
        station = constants.code_of_pass[position[part]]
        eta[part] = constants.transmittance(range_km[part], elevation[part], station)
        if sky is not None:
            y0[part] = sky.y0(timebase, sky_tau[part], station,
                              line_of_sight(sky.frames, station, azimuth[0][part],
                                            elevation[part]), elevation[part])
    accumulator.add(np.arange(len(passes)),
                    segment_sums(position, t_s, elevation, eta, payload, len(passes), y0))
    used = elevation >= payload.min_key_elevation_deg
    accumulator.add_extremes(position[used], eta[used], eta[used])
    return accumulator


def _accumulate_grids(passes: pd.DataFrame, catalogue: Any, stations: list[Any],
                      constants: StationConstants, step_s: float) -> WindowAccumulator:
    """Per-pass window pieces from the passes sampled from their element sets, chunk by chunk.
    """
    payload = constants.payload
    accumulator = WindowAccumulator(len(passes), payload)
    sky = sky_of_passes = None
    if has_sky_geometry(constants.objects) and len(passes):
        span_s = (passes["los_utc"].max() - passes["aos_utc"].min()).total_seconds()
        sky = SampleNoise(constants.objects, payload, span_s)
    for grid in track_grids(passes, catalogue, stations, step_s=step_s):
        station = constants.code_of_pass[grid.rows][grid.interval_pass][:, None]
        eta = np.empty(grid.range_km.shape)
        elevation = np.empty(grid.range_km.shape)
        y0 = None
        if sky is not None:
            if sky_of_passes is None:
                sky_of_passes = _sky_of_passes(sky, grid.timebase, passes, constants, step_s)
            y0 = sky.grid_y0(grid, sky_of_passes.take(grid.rows), station[:, 0])
        for block in row_blocks(grid.interval_pass.size, grid.range_km.shape[1]):
            sin_elevation = grid.sin_elevation(block)
            elevation[block] = np.arcsin(sin_elevation) * DEGREES_PER_RADIAN
            eta[block] = constants.transmittance(grid.range_km[block], elevation[block],
                                                 station[block], sin_elevation)
        # the rows of a pass are consecutive and only its last row is padded: row by row, the
        # samples are each pass's samples in time order (padding marked as below the horizon)
        elevation[~grid.valid] = -90.0
        codes = np.repeat(grid.interval_pass, grid.range_km.shape[1])
        accumulator.add(grid.rows, segment_sums(
            codes, step_s, elevation.ravel(), eta.ravel(), payload, grid.rows.size,
            None if y0 is None else y0.ravel()))
        used = (elevation >= payload.min_key_elevation_deg).ravel()
        # each pass's samples are consecutive: one reduction per pass over the flat samples
        # (numpy's reduction along the short rows costs several times more)
        first_sample = np.flatnonzero(np.r_[True, np.diff(grid.interval_pass) > 0]) * eta.shape[1]
        accumulator.add_extremes(grid.rows,
                                 np.maximum.reduceat(np.where(used, eta.ravel(), -np.inf),
                                                     first_sample),
                                 np.minimum.reduceat(np.where(used, eta.ravel(), np.inf),
                                                     first_sample))
    return accumulator


def _sky_of_passes(sky: SampleNoise, timebase: TimeBase, passes: pd.DataFrame,
                   constants: StationConstants, step_s: float) -> PassSky:
    """The Sun and the Moon over every pass, from its first to its last sample of
    :func:`planner.geometry.tracks.track_grids` (one vectorised placement for all passes)."""
    aos, los = (timebase.tau_of(passes[c].to_numpy(dtype="datetime64[ns]"))
                for c in ("aos_utc", "los_utc"))
    last = aos + (sample_counts(aos, los, step_s) - 1) * step_s
    return sky.pass_sky(timebase, aos, last, constants.code_of_pass)


def _key_columns(passes: pd.DataFrame, accumulator: WindowAccumulator,
                 constants: StationConstants, pool: int, fluctuation: str,
                 ec_leakage: str) -> pd.DataFrame:
    """The key table from the window pieces: best window, finite key per block, pooling,
    weather."""
    payload = constants.payload
    n_passes = len(passes)
    noise = constants.noise[constants.code_of_pass]
    choice = choose_windows(accumulator.windows(_SUM_COLUMNS), accumulator.cuts, payload,
                            noise, fluctuation, ec_leakage)
    stats = block_statistics(choice.sums, payload, noise)
    pass_counts = stats.counts
    best_eta, worst_eta = accumulator.best_eta, accumulator.worst_eta
    seen = np.isfinite(best_eta)
    min_loss = np.where(seen, transmittance_to_loss_db(np.where(seen, best_eta, 1.0)), np.nan)
    max_loss = np.where(seen, transmittance_to_loss_db(np.where(seen, worst_eta, 1.0)), np.nan)

    single_key = choice.secure_bits
    single_asymptotic = asymptotic_block_key(pass_counts, payload, ec_leakage)
    out = passes.copy()
    out["min_loss_db"] = min_loss
    out["max_loss_db"] = max_loss
    out["key_min_elevation_deg"] = choice.cut_deg
    out["key_window_s"] = choice.sums[:, 0]
    out["detections"] = stats.detections
    out["qber"] = key_basis_qber(pass_counts, payload)

    if pool == 1:
        secure, asymptotic = single_key, single_asymptotic
    else:
        block = pool_blocks(passes, pool)
        n_blocks = int(block.max()) + 1 if n_passes else 0
        # a pass without even asymptotic key (a daylight pass, QBER near 50%) would only
        # poison its block: it is left out of the pooled counts
        usable = single_asymptotic > 0
        pass_counts = BasisCounts(*(np.where(usable.reshape((-1,) + (1,) * (a.ndim - 1)), a,
                                             0.0) for a in pass_counts))
        block_counts = BasisCounts(*(group_sum(a, block, n_blocks) for a in pass_counts))
        pooled_key = block_key(block_counts, payload, fluctuation, ec_leakage)
        pooled_asymptotic = asymptotic_block_key(block_counts, payload, ec_leakage)
        weight = pass_counts.n_x.sum(axis=-1)
        if payload.key_from_both_bases:
            weight = weight + pass_counts.n_z.sum(axis=-1)
        block_weight = np.bincount(block, weights=weight, minlength=n_blocks)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(block_weight[block] > 0, weight / block_weight[block], 0.0)
        secure = np.floor(pooled_key[block] * share)
        asymptotic = np.floor(pooled_asymptotic[block] * share)
        out["pool_block"] = block
        out.attrs["pooling"] = {
            "pool": int(pool), "blocks": n_blocks,
            "secure_bits_pooled": float(pooled_key.sum()),
            "secure_bits_single_pass": float(single_key.sum()),
            "gain": (float(pooled_key.sum() / single_key.sum()) if single_key.sum() > 0
                     else (math.inf if pooled_key.sum() > 0 else 1.0)),
        }

    out["secure_bits"] = secure
    out["secure_bits_asymptotic"] = asymptotic
    clear = _clear_sky(passes, constants.objects, constants.code_of_pass)
    out["clear_sky_probability"] = clear
    out["expected_secure_bits"] = secure * clear
    out.attrs["key_model"] = {
        "payload": payload.name,
        "parameters": payload.parameters(),
        "fluctuation": fluctuation,
        "ec_leakage": ec_leakage,
        "pool": int(pool),
        "min_key_elevation_deg": payload.min_key_elevation_deg,
        "key_window": "best elevation cut per pass (planner.key.blocks.CUT_OFFSETS_DEG)",
        "references": [
            "Lim et al., PRA 89, 022307 (2014)",
            "Yin et al., Sci. Rep. 10, 14312 (2020)" if fluctuation == "chernoff" else
            "Hoeffding, JASA 58, 13 (1963)",
            "Ma et al., PRA 72, 012326 (2005)",
        ],
    }
    return out


def pass_key_table_by_satellite(passes: pd.DataFrame, samples: Any,
                                stations: Mapping[str, Any] | Sequence[Any],
                                payloads: Mapping[str, Payload], *, pool: int = 1,
                                fluctuation: str = "chernoff", ec_leakage: str = "fixed",
                                step_s: float = 1.0) -> pd.DataFrame:
    """:func:`pass_key_table` for a pass table of several satellites, each with its own payload.

    Each satellite name is mapped to a payload with
    :func:`planner.mission.payloads.payload_for_satellite`; rows keep their order and index.
    ``attrs["key_models"]`` lists the model record of every payload used (``attrs["pooling"]``
    of each is inside its record).

    Raises
    ------
    PayloadError
        If a satellite matches no payload.
    """
    check_key_options(pool, fluctuation, ec_leakage)
    if "satellite" not in passes.columns:
        raise PlannerInputError("pass table lacks column satellite", field="satellite")
    parts, models = [], []
    for satellite, group in passes.groupby("satellite", sort=True):
        own = (samples[samples["pass_id"].isin(group.index)]
               if isinstance(samples, pd.DataFrame) else samples)
        table = pass_key_table(group, own, stations,
                               payload_for_satellite(payloads, str(satellite)), pool=pool,
                               fluctuation=fluctuation, ec_leakage=ec_leakage, step_s=step_s)
        record = dict(table.attrs["key_model"], satellite=str(satellite))
        if "pooling" in table.attrs:
            record["pooling"] = table.attrs["pooling"]
        parts.append(table)
        models.append(record)
    if not parts:
        out = passes.copy()
        for column in KEY_COLUMNS:
            out[column] = pd.Series(dtype=float)
        out.attrs["key_models"] = []
        return out
    out = pd.concat(parts).loc[passes.index]
    out.attrs = {"key_models": models}
    return out


def _clear_sky(passes: pd.DataFrame, per_station: list[Any],
               station_code_of_pass: np.ndarray) -> np.ndarray:
    tca = pd.to_datetime(passes["tca_utc"], utc=True).dt.tz_convert(None).to_numpy()
    months = tca.astype("datetime64[M]").astype(np.int64) % 12 + 1
    clear = np.ones(len(passes), dtype=float)
    for code, station in enumerate(per_station):
        values = getattr(station, "clear_sky_probability", None)
        rows = station_code_of_pass == code
        if values is None or not rows.any():
            continue
        clear[rows] = monthly_clear_sky_probability(values, months[rows])
    return clear
