"""Finite-key blocks of a payload: from per-sample channel terms to the key of a block.

A block is one pass, several pooled passes or one measured loss curve. Its samples are reduced
to sums (:func:`sample_sums`: the terms of the channel formula of :mod:`planner.key.channel`
and the asymptotic key), the sums of a block are added up, and :func:`block_statistics` turns
them into the detections and errors per basis and intensity that the finite-key bound
(:func:`block_key`) takes. Every per-pass path (the pass table from element sets or from a
track table, loss curves) goes through these functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from planner.errors import OptionError
from planner.key.asymptotic import AsymptoticRateTable
from planner.key.channel import (
    BasisCounts,
    ChannelSums,
    basis_counts,
    channel_sums,
    clicks_and_errors,
)
from planner.key.finite import FLUCTUATIONS, secure_key_length
from planner.key.reconciliation import EC_LEAKAGES
from planner.mission.payloads import Payload

__all__ = [
    "BlockStatistics",
    "PassAccumulator",
    "asymptotic_rate_table",
    "block_key",
    "block_statistics",
    "check_key_options",
    "group_sum",
    "key_basis_qber",
    "midpoint_durations",
    "pool_blocks",
    "row_blocks",
    "sample_sums",
    "sifting_fraction",
]

CHUNK = 1 << 14
"""Samples per block of the per-sample stage: its ~40 temporaries of 128 KiB each stay in the
CPU cache and below glibc's trim threshold (2-3x faster than blocks of a million samples)."""


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


def midpoint_durations(times: np.ndarray, group_codes: np.ndarray) -> np.ndarray:
    """Duration each sample stands for: half the gap to each neighbour in the same group [s].

    On a regular grid of step ``Δt`` this is ``Δt`` inside a pass and ``Δt/2`` at its first
    and last sample (the trapezoidal rule).
    """
    durations = np.zeros(times.shape, dtype=float)
    if times.size < 2:
        return durations
    gaps = np.diff(times)
    same = group_codes[1:] == group_codes[:-1]
    gaps = np.where(same, gaps, 0.0)
    durations[1:] += 0.5 * gaps
    durations[:-1] += 0.5 * gaps
    return durations


def sifting_fraction(payload: Payload) -> float:
    q = payload.basis_bias
    return q * q + ((1.0 - q) ** 2 if payload.key_from_both_bases else 0.0)


def asymptotic_rate_table(noise: np.ndarray, payload: Payload) -> AsymptoticRateTable:
    """The payload's asymptotic key per signal pulse, tabulated for the noise levels ``noise``
    (:class:`planner.key.asymptotic.AsymptoticRateTable`)."""
    return AsymptoticRateTable(
        noise, payload.decoy_settings.intensities,
        misalignment_error=payload.misalignment_error,
        afterpulse_probability=payload.afterpulse_probability,
        ec_efficiency=payload.ec_efficiency, sifting=sifting_fraction(payload))


def sample_sums(eta: np.ndarray, weight: np.ndarray, rate: np.ndarray, payload: Payload,
                extraneous_click_probability: np.ndarray | None = None) -> np.ndarray:
    """Weighted sums along the last axis of the per-sample terms the key model needs.

    Parameters
    ----------
    eta : (..., K) numpy.ndarray
        Transmittance of each sample [0-1].
    weight : (..., K) numpy.ndarray
        Time each sample stands for [s] (0 for samples not used).
    rate : (..., K) numpy.ndarray
        Asymptotic key per signal pulse of each sample [bits].
    payload : Payload
        For the intensities.
    extraneous_click_probability : (..., K) numpy.ndarray, optional
        ``Y0`` of each sample; without it ``Y0`` is one per block, given to
        :func:`block_statistics`.

    Returns
    -------
    numpy.ndarray
        (..., C + 1): the columns of :meth:`planner.key.channel.ChannelSums.stack` and
        ``Σ w·R``.
    """
    sums = channel_sums(eta, payload.decoy_settings.mu, weight, extraneous_click_probability)
    return np.concatenate([sums.stack(), np.einsum("...k,...k->...", weight, rate)[..., None]],
                          axis=-1)


class BlockStatistics(NamedTuple):
    """What a block of samples gives: counts per basis and intensity, clicks, asymptotic key."""

    counts: BasisCounts
    detections: np.ndarray  # all clicks, all bases
    asymptotic_bits: np.ndarray  # Σ over samples of the asymptotic key (not floored)


def block_statistics(sums: np.ndarray, payload: Payload,
                     extraneous_click_probability: np.ndarray | float | None = None
                     ) -> BlockStatistics:
    """Detections and errors of blocks from their :func:`sample_sums` (rows = blocks).

    Parameters
    ----------
    sums : (N, C + 1) numpy.ndarray
        Summed :func:`sample_sums` of each block.
    payload : Payload
        Repetition rate, decoy settings, misalignment and after-pulsing.
    extraneous_click_probability : (N,) array or float, optional
        ``Y0`` of each block where the sums were made without it.

    Returns
    -------
    BlockStatistics
    """
    channel = ChannelSums.unstack(sums[:, :-1], len(payload.decoy_settings.intensities))
    clicks, errors = clicks_and_errors(
        channel, extraneous_click_probability if channel.noise is None else None,
        misalignment_error=payload.misalignment_error,
        afterpulse_probability=payload.afterpulse_probability)
    rate_hz = payload.repetition_rate_hz
    clicks = rate_hz * clicks
    errors = rate_hz * errors
    asymptotic = rate_hz * payload.decoy_settings.p[0] * sums[:, -1]
    return BlockStatistics(basis_counts(clicks, errors, payload.decoy_settings),
                           clicks @ payload.decoy_settings.p, asymptotic)


def block_key(counts: BasisCounts, payload: Payload, fluctuation: str,
              ec_leakage: str) -> np.ndarray:
    """Finite key of blocks with the payload's protocol and security parameters [bits]."""
    return secure_key_length(
        counts, payload.decoy_settings, epsilon_sec=payload.epsilon_sec,
        epsilon_cor=payload.epsilon_cor, ec_efficiency=payload.ec_efficiency,
        fluctuation=fluctuation, ec_leakage=ec_leakage,
        key_from_both_bases=payload.key_from_both_bases)


def key_basis_qber(counts: BasisCounts, payload: Payload) -> np.ndarray:
    """Error rate of the bases key is made from (NaN without detections)."""
    n = counts.n_x.sum(axis=-1)
    m = counts.m_x.sum(axis=-1)
    if payload.key_from_both_bases:
        n = n + counts.n_z.sum(axis=-1)
        m = m + counts.m_z.sum(axis=-1)
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


class PassAccumulator:
    """Per-pass sums of :func:`sample_sums` and the best and worst transmittance used."""

    def __init__(self, n_passes: int):
        self.n_passes = n_passes
        self.sums: Any = None
        self.best_eta = np.full(n_passes, -np.inf)
        self.worst_eta = np.full(n_passes, np.inf)

    def _add_sums(self, rows: np.ndarray, sums: np.ndarray) -> None:
        if self.sums is None:
            self.sums = np.zeros((self.n_passes, sums.shape[-1]))
        self.sums[rows] += sums

    def add(self, codes: np.ndarray, sums: np.ndarray, eta: np.ndarray,
            used: np.ndarray) -> None:
        """Add samples (rows of ``sums``, ``eta``, ``used``) of the passes ``codes``
        (non-decreasing pass positions)."""
        if not codes.size:
            return
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        self._add_sums(codes[starts], np.add.reduceat(sums, starts, axis=0))
        eta = eta[used]
        codes = codes[used]
        if not codes.size:
            return
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        present = codes[starts]
        self.best_eta[present] = np.maximum(self.best_eta[present],
                                            np.maximum.reduceat(eta, starts))
        self.worst_eta[present] = np.minimum(self.worst_eta[present],
                                             np.minimum.reduceat(eta, starts))

    def add_grid(self, rows: np.ndarray, interval_pass: np.ndarray, sums: np.ndarray,
                 eta: np.ndarray, used: np.ndarray) -> None:
        """Add a track grid's row sums (M, C) and (M, K) transmittances of the passes ``rows``
        (each pass wholly in this grid; ``interval_pass`` indexes ``rows``)."""
        starts = np.flatnonzero(np.r_[True, interval_pass[1:] != interval_pass[:-1]])
        self._add_sums(rows, np.add.reduceat(sums, starts, axis=0))
        best = np.maximum.reduceat(np.where(used, eta, -np.inf).max(axis=1), starts)
        worst = np.minimum.reduceat(np.where(used, eta, np.inf).min(axis=1), starts)
        self.best_eta[rows] = np.maximum(self.best_eta[rows], best)
        self.worst_eta[rows] = np.minimum(self.worst_eta[rows], worst)

    def totals(self, columns: int) -> np.ndarray:
        """The per-pass sums, zeros of ``columns`` columns if nothing was added."""
        return np.zeros((self.n_passes, columns)) if self.sums is None else self.sums
