"""Finite-key blocks of a payload: from per-sample channel terms to the key of a block.

A block is one pass (its best data window), several pooled passes or one measured loss curve.
Consecutive samples of a pass are reduced to pieces of the channel terms of
:mod:`planner.key.channel` (:func:`segment_sums`, the trapezoidal rule), filed by the
elevation cut they pass; :func:`window_sums` adds them into the terms of every data window
``elevation ≥ cut``, :func:`choose_windows` keeps each pass's best window, and
:func:`block_statistics` turns the terms into the detections and errors per basis and
intensity that the finite-key bound (:func:`block_key`) and its no-fluctuation upper bound
(:func:`asymptotic_block_key`) take. Every per-pass path (the pass table from element sets or
from a track table, loss curves) goes through these functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pandas as pd

from planner.errors import OptionError
from planner.key.channel import (
    BasisCounts,
    ChannelSums,
    basis_counts,
    clicks_and_errors,
    compact_terms,
    expand_terms,
)
from planner.key.finite import FLUCTUATIONS, over_intensities, secure_key_length
from planner.key.reconciliation import EC_LEAKAGES
from planner.mission.payloads import Payload

__all__ = [
    "CUT_OFFSETS_DEG",
    "BlockStatistics",
    "WindowAccumulator",
    "WindowChoice",
    "asymptotic_block_key",
    "block_key",
    "block_statistics",
    "check_key_options",
    "choose_windows",
    "cut_elevations",
    "group_sum",
    "key_basis_qber",
    "pool_blocks",
    "row_blocks",
    "segment_sums",
    "window_sums",
]

CHUNK = 1 << 14
"""Samples per block of the per-sample stage: its temporaries stay in the CPU cache and below
glibc's trim threshold (2-3x faster than blocks of a million samples)."""

def row_blocks(rows: int, per_row: int) -> Iterator[slice]:
    """Slices of about :data:`CHUNK` samples over ``rows`` rows of ``per_row`` samples."""
    step = max(1, CHUNK // max(per_row, 1))
    for start in range(0, rows, step):
        yield slice(start, start + step)


def check_key_options(pool: int, fluctuation: str, ec_leakage: str) -> None:
    """Raise :class:`~planner.errors.OptionError` naming ``pool``, ``fluctuation`` or
    ``ec_leakage`` if one is not valid."""
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise OptionError(f"pool must be a whole number of passes >= 1, got {pool!r}",
                          field="pool")
    if fluctuation not in FLUCTUATIONS:
        raise OptionError(f"unknown fluctuation bound {fluctuation!r}; use one of "
                          f"{', '.join(FLUCTUATIONS)}", field="fluctuation")
    if ec_leakage not in EC_LEAKAGES:
        raise OptionError(f"unknown error-correction leakage model {ec_leakage!r}; use one of "
                          f"{', '.join(EC_LEAKAGES)}", field="ec_leakage")


CUT_OFFSETS_DEG = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0,
                            25.0, 30.0, 35.0, 40.0, 50.0, 60.0, 70.0])
"""Candidate elevation cuts of a pass's key window, above the payload's minimum key elevation
[deg]: every degree near it, where the best cut usually lies, coarser higher up."""


def cut_elevations(payload: Payload) -> np.ndarray:
    """The candidate elevation cuts of a pass's key window [deg] (:data:`CUT_OFFSETS_DEG`).

    The same values whatever elevation the station acquires at, so a pass observed from a
    lower elevation keeps every window it had and can only gain key.
    """
    low = float(payload.min_key_elevation_deg)
    cuts = low + CUT_OFFSETS_DEG
    return cuts[cuts < 90.0] if low < 90.0 else cuts[:1]


def _cut_table(cuts: np.ndarray) -> np.ndarray:
    """Index of the highest cut at or below ``cuts[0] + d`` for whole degrees d = 0 .. 91
    (the cuts lie on whole degrees above the lowest)."""
    return np.searchsorted(cuts - cuts[0], np.arange(92.0), side="right") - 1


def segment_sums(codes: np.ndarray, t_s: np.ndarray, elevation: np.ndarray, eta: np.ndarray,
                 payload: Payload, groups: int,
                 extraneous_click_probability: np.ndarray | None = None) -> np.ndarray:
    """Channel terms of passes, split by the elevation cut each piece of a pass passes.

    Samples come in time order within each pass (``codes`` non-decreasing). Between two
    consecutive samples of a pass, both at or above the payload's minimum key elevation, the
    trapezoidal rule gives half of the gap to each end; the piece belongs to the window of every
    cut at or below its lower end. Added from the top cut down (:func:`window_sums`), the pieces
    give the terms of each data window ``elevation ≥ cut`` exactly as if the window were the
    whole pass (each sample stands for half the time to each neighbour in the window).

    Parameters
    ----------
    codes : (S,) int array
        Pass (group) of each sample, 0 .. ``groups`` − 1.
    t_s : (S,) array or float
        Time of each sample [s], or the spacing of a regular grid [s].
    elevation, eta : (S,) arrays
        Elevation [deg] and total transmittance [0-1] of each sample.
    payload : Payload
        Intensities and minimum key elevation.
    groups : int
        Number of passes.
    extraneous_click_probability : (S,) array, optional
        Per-sample ``Y0`` (e.g. a sky background that changes along the pass); without it
        ``Y0`` is one per pass, given to :func:`block_statistics`.

    Returns
    -------
    numpy.ndarray
        (groups, B, C): per pass and cut (:func:`cut_elevations`) the columns of
        :meth:`planner.key.channel.ChannelSums.stack` [s] of the pieces whose lower end lies
        at or above that cut and below the next.
    """
    cuts = cut_elevations(payload)
    table = _cut_table(cuts)
    mu = payload.decoy_settings.mu
    bright = int(np.count_nonzero(mu > 0.0))
    rows = bright if extraneous_click_probability is None else 1 + 2 * bright
    # per pass and cut: the weight, then the sums of the rows of compact_terms
    out = np.zeros((groups * cuts.size, 1 + rows))
    lowest = cuts[0]
    # cache-sized chunks of samples; consecutive chunks share one sample, so every pair of
    # neighbours is in exactly one chunk
    for start in range(0, max(codes.size - 1, 0), CHUNK):
        part = slice(start, min(start + CHUNK + 1, codes.size))
        here, height = codes[part], elevation[part]
        lower = np.minimum(height[:-1], height[1:])
        pair = (here[1:] == here[:-1]) & (lower >= payload.min_key_elevation_deg)
        lower -= lowest
        np.clip(lower, 0.0, 91.0, out=lower)
        slot = here[:-1] * cuts.size + table[lower.astype(np.intp)]
        slot[~pair] = -1  # no piece
        # the slot changes only when a pass crosses a cut: add runs first, then file them
        starts = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
        terms = compact_terms(eta[part], mu, None if extraneous_click_probability is None
                              else extraneous_click_probability[part])
        half_gap = 0.5 * (np.diff(t_s[part]) if np.ndim(t_s) else float(t_s))
        weight, sums = _run_sums(terms, starts, half_gap)
        used = slot[starts] >= 0
        target = slot[starts[used]]
        if target.size:
            # a chunk's runs fall on a few consecutive passes: count into their slots only
            first, count = target.min(), target.max() - target.min() + 1
            for column, values in enumerate((weight, *sums)):
                out[first:first + count, column] += np.bincount(target - first, values[used],
                                                                minlength=count)
    expanded = expand_terms(out[:, 0], out[:, 1:], mu)
    return expanded.reshape(groups, cuts.size, expanded.shape[-1])


def _run_sums(terms: np.ndarray, starts: np.ndarray, half_gap: np.ndarray | float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoidal sums over runs of consecutive pairs of samples.

    Run ``r`` is the pairs ``(i, i + 1)`` for ``i`` from ``starts[r]`` up to the next start;
    pair ``i`` stands for ``half_gap[i]`` on each side. Returns ``Σ 2 half_gap`` (the run's
    duration) and ``Σ half_gap (t_i + t_{i+1})`` of each row ``t`` of ``terms`` (R, S).
    """
    if np.ndim(half_gap):
        pieces = terms[:, :-1] * half_gap
        pieces += terms[:, 1:] * half_gap
        return 2.0 * np.add.reduceat(half_gap, starts), np.add.reduceat(pieces, starts, axis=1)
    # one gap: sum_i (t_i + t_{i+1}) = 2 sum_i t_i - t_first + t_{last + 1}, one pass over
    # the samples instead of three
    ends = np.append(starts[1:], terms.shape[1] - 1)
    left = np.add.reduceat(terms[:, :-1], starts, axis=1)
    return ((ends - starts) * (2.0 * half_gap),
            half_gap * (2.0 * left - terms.take(starts, axis=1) + terms.take(ends, axis=1)))


def window_sums(pieces: np.ndarray) -> np.ndarray:
    """(N, B, C) terms of the data window ``elevation ≥ cut`` of every pass and cut, from the
    pieces of :func:`segment_sums` (a cumulative sum from the highest cut down)."""
    windows = pieces.copy()
    # cut by cut from the top (numpy's cumsum along a middle axis is several times slower)
    for cut in range(pieces.shape[1] - 2, -1, -1):
        windows[:, cut] += windows[:, cut + 1]
    return windows


class WindowAccumulator:
    """Per-pass pieces of :func:`segment_sums` and the best and worst transmittance used."""

    def __init__(self, n_passes: int, payload: Payload):
        self.n_passes = n_passes
        self.cuts = cut_elevations(payload)
        self.pieces: np.ndarray | None = None
        self.best_eta = np.full(n_passes, -np.inf)
        self.worst_eta = np.full(n_passes, np.inf)

    def add(self, rows: np.ndarray, pieces: np.ndarray) -> None:
        """Add the pieces (P, B, C) of the passes at positions ``rows``."""
        if self.pieces is None:
            self.pieces = np.zeros((self.n_passes, *pieces.shape[1:]))
        self.pieces[rows] += pieces

    def add_extremes(self, rows: np.ndarray, best: np.ndarray, worst: np.ndarray) -> None:
        """Note the best and worst transmittance of used samples (or groups of samples, ±inf
        where none is used) of the passes at positions ``rows`` (grouped by pass)."""
        if not rows.size:
            return
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        present = rows[starts]
        self.best_eta[present] = np.maximum(self.best_eta[present],
                                            np.maximum.reduceat(best, starts))
        self.worst_eta[present] = np.minimum(self.worst_eta[present],
                                             np.minimum.reduceat(worst, starts))

    def windows(self, columns: int) -> np.ndarray:
        """(N, B, C) window terms (:func:`window_sums`), zeros if nothing was added."""
        if self.pieces is None:
            return np.zeros((self.n_passes, self.cuts.size, columns))
        return window_sums(self.pieces)


class BlockStatistics(NamedTuple):
    """What a block of samples gives: counts per basis and intensity, and all clicks."""

    counts: BasisCounts
    detections: np.ndarray  # all clicks, all bases


def block_statistics(sums: np.ndarray, payload: Payload,
                     extraneous_click_probability: np.ndarray | float | None = None
                     ) -> BlockStatistics:
    """Detections and errors of blocks from their channel terms (rows = blocks).

    Parameters
    ----------
    sums : (..., C) numpy.ndarray
        Channel terms of each block (:meth:`planner.key.channel.ChannelSums.stack`, weights in
        seconds).
    payload : Payload
        Repetition rate, decoy settings, misalignment and after-pulsing.
    extraneous_click_probability : (...) array or float, optional
        ``Y0`` of each block where the terms were made without it.

    Returns
    -------
    BlockStatistics
    """
    channel = ChannelSums.unstack(sums, len(payload.decoy_settings.intensities))
    clicks, errors = clicks_and_errors(
        channel, extraneous_click_probability if channel.noise is None else None,
        misalignment_error=payload.misalignment_error,
        afterpulse_probability=payload.afterpulse_probability)
    rate_hz = payload.repetition_rate_hz
    clicks = rate_hz * clicks
    errors = rate_hz * errors
    return BlockStatistics(basis_counts(clicks, errors, payload.decoy_settings),
                           clicks @ payload.decoy_settings.p)


def block_key(counts: BasisCounts, payload: Payload, fluctuation: str,
              ec_leakage: str) -> np.ndarray:
    """Finite key of blocks with the payload's protocol and security parameters [bits]."""
    return secure_key_length(
        counts, payload.decoy_settings, epsilon_sec=payload.epsilon_sec,
        epsilon_cor=payload.epsilon_cor, ec_efficiency=payload.ec_efficiency,
        fluctuation=fluctuation, ec_leakage=ec_leakage,
        key_from_both_bases=payload.key_from_both_bases)


def asymptotic_block_key(counts: BasisCounts, payload: Payload, ec_leakage: str) -> np.ndarray:
    """Key of the same blocks and protocol without finite-size statistics [bits].

    :func:`block_key` with the counts taken as their expectations (no fluctuation bound, no ε
    terms) and error correction at ``f_EC`` (``"fixed"``) or at the Shannon limit ``n h(Q)``
    (``"finite"``, whose leakage is never below it). Every term of the finite-key bound can
    only be smaller than here, so this is an upper bound of :func:`block_key` for the same
    block, bases and pooling.

    References
    ----------
    .. [1] C. C. W. Lim et al., Phys. Rev. A 89, 022307 (2014), eqs. (1)-(5) without the
       fluctuation terms.
    """
    efficiency = payload.ec_efficiency if ec_leakage == "fixed" else 1.0
    return secure_key_length(
        counts, payload.decoy_settings, epsilon_sec=payload.epsilon_sec,
        epsilon_cor=payload.epsilon_cor, ec_efficiency=efficiency, fluctuation="none",
        ec_leakage="fixed", key_from_both_bases=payload.key_from_both_bases)


class WindowChoice(NamedTuple):
    """Each pass's best data window."""

    sums: np.ndarray  # (N, C) channel terms of the window
    cut_deg: np.ndarray  # (N,) its elevation cut [deg]; NaN for a pass without samples used
    secure_bits: np.ndarray  # (N,) its finite key [bits]


def choose_windows(windows: np.ndarray, cuts: np.ndarray, payload: Payload,
                   extraneous_click_probability: np.ndarray | None, fluctuation: str,
                   ec_leakage: str) -> WindowChoice:
    """The data window ``elevation ≥ cut`` that maximises each pass's finite key.

    Only cuts that change the window are evaluated; among equal keys the lowest cut (the
    longest window) wins, so a pass without key keeps its whole window.

    Parameters
    ----------
    windows : (N, B, C) numpy.ndarray
        Window terms (:func:`window_sums`).
    cuts : (B,) numpy.ndarray
        The cuts [deg] (:func:`cut_elevations`).
    payload : Payload
        The payload.
    extraneous_click_probability : (N,) array, optional
        ``Y0`` of each pass when the terms were made without it.
    fluctuation, ec_leakage : str
        As in :func:`block_key`.

    Returns
    -------
    WindowChoice
    """
    n, b, _ = windows.shape
    weight = windows[..., 0]
    distinct = weight > 0.0
    distinct[:, :-1] &= weight[:, :-1] > weight[:, 1:]
    rows, cut_index = np.nonzero(distinct)
    key = np.zeros((n, b))
    if rows.size:
        y0 = (None if extraneous_click_probability is None
              else np.asarray(extraneous_click_probability, dtype=float)[rows])
        stats = block_statistics(windows[rows, cut_index], payload, y0)
        key[rows, cut_index] = block_key(stats.counts, payload, fluctuation, ec_leakage)
    best = np.argmax(key, axis=1)
    # passes without key keep their whole window: the lowest cut with any samples
    whole = np.argmax(distinct, axis=1)
    best = np.where(key.max(axis=1) > 0.0, best, whole)
    chosen = windows[np.arange(n), best]
    cut_deg = np.where(distinct.any(axis=1), cuts[best], np.nan)
    return WindowChoice(chosen, cut_deg, key[np.arange(n), best])


def key_basis_qber(counts: BasisCounts, payload: Payload) -> np.ndarray:
    """Error rate of the bases key is made from (NaN without detections)."""
    n = over_intensities(counts.n_x)
    m = over_intensities(counts.m_x)
    if payload.key_from_both_bases:
        n = n + over_intensities(counts.n_z)
        m = m + over_intensities(counts.m_z)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0.0, m / np.where(n > 0.0, n, 1.0), np.nan)


def group_sum(values: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    """Sum rows of ``values`` (S,) or (S, K) into ``size`` groups given by ``codes``.

    Samples arrive grouped (codes non-decreasing), so one ``np.add.reduceat`` pass sums every
    column; unsorted codes fall back to ``np.bincount`` per column.
    """
    if values.shape[0] and np.all(codes[1:] >= codes[:-1]):
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        sums = np.zeros((size, *values.shape[1:]))
        sums[codes[starts]] = np.add.reduceat(values, starts, axis=0)
        return sums
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=size)
    return np.stack([np.bincount(codes, weights=values[:, k], minlength=size)
                     for k in range(values.shape[1])], axis=1)


def pool_blocks(passes: pd.DataFrame, pool: int) -> np.ndarray:
    """Block number of each pass: ``pool`` consecutive passes of one station per block."""
    frame = pd.DataFrame({
        "station": passes["station"].astype(str).to_numpy(),
        "time": pd.to_datetime(passes["aos_utc"] if "aos_utc" in passes.columns
                               else passes["tca_utc"], utc=True).to_numpy(),
        "row": np.arange(len(passes)),
    }).sort_values(["station", "time", "row"], kind="stable")
    rank = frame.groupby("station").cumcount().to_numpy() // pool
    keys = pd.MultiIndex.from_arrays([frame["station"].to_numpy(), rank])
    block_sorted = pd.factorize(keys)[0]
    block = np.empty(len(passes), dtype=np.int64)
    block[frame["row"].to_numpy()] = block_sorted
    return block
