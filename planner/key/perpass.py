"""Key volume per pass: link budget and finite-key model applied to a pass table.

:func:`key_table` turns the pass table and the per-second tracks of the passes into the key
table of docs/architecture.md: for every pass the loss range, the detections, the QBER, the
finite-key
secure key (Lim et al. 2014 with Chernoff or Hoeffding bounds), the asymptotic bound, the
station's clear-sky probability for the month and the expected key. Everything is vectorised
over samples and passes (one pass is one block unless passes are pooled).

:func:`key_from_loss_curve` does the same for one measured loss curve, which
:func:`read_loss_csv` reads and validates (``qkdplan keys --loss-csv``).

Stations are used through their attributes only (``aperture_m``, ``zenith_transmittance``,
``background_counts_per_s``, ``altitude_m``/``pressure_hpa``, ``clear_sky_probability``,
``receiver_efficiency``), so any object with those works.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from planner.errors import LossCurveError, OptionError, PlannerInputError, StationError
from planner.io.readers import read_input_text
from planner.key import decoy as keyrate
from planner.link import budget as link
from planner.mission.payloads import Payload, payload_for_satellite

__all__ = [
    "KEY_COLUMNS",
    "StationLike",
    "extraneous_probability",
    "key_from_loss_curve",
    "key_table",
    "key_table_by_satellite",
    "pass_key_table",
    "pass_key_table_by_satellite",
    "read_loss_csv",
    "sample_transmittance",
]

#: Columns :func:`key_table` adds to the pass table (docs/architecture.md "Key table").
KEY_COLUMNS: tuple[str, ...] = (
    "min_loss_db", "max_loss_db", "detections", "qber", "secure_bits",
    "secure_bits_asymptotic", "clear_sky_probability", "expected_secure_bits",
)

_TRACK_COLUMNS = ("pass_id", "t_s", "elevation_deg", "range_km")
_CHUNK = 1 << 14
"""Samples per block of the per-sample stage: its ~40 temporaries of 128 KiB each stay in the
CPU cache and below glibc's trim threshold (2-3x faster than blocks of a million samples)."""


def _row_blocks(rows: int, per_row: int) -> Iterator[slice]:
    """Slices of about :data:`_CHUNK` samples over ``rows`` rows of ``per_row`` samples."""
    step = max(1, _CHUNK // max(per_row, 1))
    for start in range(0, rows, step):
        yield slice(start, start + step)
_PASS_COLUMNS = ("station", "tca_utc")


class StationLike(Protocol):
    """What the key model needs from a ground station (see
    :class:`planner.mission.stations.Station`)."""

    aperture_m: float
    zenith_transmittance: float
    background_counts_per_s: float
    altitude_m: float
    clear_sky_probability: Sequence[float]
    receiver_efficiency: float | None


# --------------------------------------------------------------------------------------------
# Station and payload parameters
# --------------------------------------------------------------------------------------------

def _receiver_efficiency(payload: Payload, station: Any | None) -> float:
    override = None if station is None else getattr(station, "receiver_efficiency", None)
    return float(payload.receiver_efficiency if override is None else override)


def extraneous_probability(payload: Payload, station: Any | None = None) -> float:
    """Noise click probability per pulse ``Y0`` for a payload's receiver at a station.

    Dark counts of all the payload's detectors plus the station's sky background (none without
    a station) within the detection gate; see
    :func:`planner.link.budget.extraneous_click_probability`.
    """
    background = 0.0 if station is None else float(getattr(station, "background_counts_per_s",
                                                           0.0) or 0.0)
    return float(link.extraneous_click_probability(payload.dark_count_rate_hz,
                                                   payload.detector_count, background,
                                                   payload.gate_width_ns))


def sample_transmittance(range_km: np.ndarray, elevation_deg: np.ndarray, payload: Payload,
                         station: Any) -> np.ndarray:
    """Total transmittance of each sample of a pass for a payload and one station.

    Parameters
    ----------
    range_km, elevation_deg : numpy.ndarray
        Slant range [km] and elevation [deg] of each sample.
    payload : Payload
        Transmitter and receiver-chain parameters.
    station : StationLike
        Aperture, zenith transmittance, pressure and optional receiver efficiency.

    Returns
    -------
    numpy.ndarray
        Transmittance [0-1]; see :func:`planner.link.budget.link_transmittance`.
    """
    return _payload_transmittance(
        range_km, elevation_deg, payload, aperture_m=float(station.aperture_m),
        zenith_transmittance=float(station.zenith_transmittance),
        pressure_hpa=link.station_pressure_hpa(station),
        receiver_efficiency=_receiver_efficiency(payload, station))


def _payload_transmittance(range_km: np.ndarray, elevation_deg: np.ndarray, payload: Payload, *,
                           aperture_m: Any, zenith_transmittance: Any, pressure_hpa: Any,
                           receiver_efficiency: Any, sin_elevation: np.ndarray | None = None
                           ) -> np.ndarray:
    """:func:`planner.link.budget.link_transmittance` with the payload's parameters filled in."""
    return link.link_transmittance(
        range_km, elevation_deg,
        receiver_aperture_m=aperture_m,
        divergence_half_angle_urad=payload.divergence_half_angle_urad,
        beam_waist_m=payload.transmitter_waist_m,
        pointing_jitter_urad=payload.pointing_jitter_urad,
        zenith_transmittance=zenith_transmittance, pressure_hpa=pressure_hpa,
        transmitter_efficiency=payload.transmitter_efficiency,
        receiver_efficiency=receiver_efficiency,
        detector_efficiency=payload.detector_efficiency,
        sin_elevation=sin_elevation,
    )


def _check_options(pool: int, fluctuation: str, ec_leakage: str) -> None:
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise OptionError(f"pool must be a whole number of passes >= 1, got {pool!r}",
                          field="--pool")
    if fluctuation not in keyrate.FLUCTUATIONS:
        raise OptionError(f"unknown fluctuation bound {fluctuation!r}; use one of "
                          f"{', '.join(keyrate.FLUCTUATIONS)}", field="--fluctuation")
    if ec_leakage not in keyrate.EC_LEAKAGES:
        raise OptionError(f"unknown error-correction leakage model {ec_leakage!r}; use one of "
                          f"{', '.join(keyrate.EC_LEAKAGES)}", field="--ec-leakage")


# --------------------------------------------------------------------------------------------
# Shared per-sample -> per-block machinery
# --------------------------------------------------------------------------------------------

def _midpoint_durations(times: np.ndarray, group_codes: np.ndarray) -> np.ndarray:
    """Duration each sample stands for: half the gap to each neighbour in the same group [s]."""
    durations = np.zeros(times.shape, dtype=float)
    if times.size < 2:
        return durations
    gaps = np.diff(times)
    same = group_codes[1:] == group_codes[:-1]
    gaps = np.where(same, gaps, 0.0)
    durations[1:] += 0.5 * gaps
    durations[:-1] += 0.5 * gaps
    return durations


def _sifting_fraction(payload: Payload) -> float:
    q = payload.basis_bias
    return q * q + ((1.0 - q) ** 2 if payload.key_from_both_bases else 0.0)


def _sample_gains(eta: np.ndarray, y0: np.ndarray | float, payload: Payload
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Click and error probabilities per pulse of each intensity.

    :func:`planner.key.decoy.detection_probability` and :func:`planner.key.decoy.error_probability`
    written out to share ``exp(−η μ_k)`` (:func:`_survival`).
    """
    p_ap, e_mis = payload.afterpulse_probability, payload.misalignment_error
    clicks, errors = [], []
    for survive in _survival(eta, payload):
        gain = 1.0 - (1.0 - y0) * survive
        error = 0.5 * y0 + e_mis * (1.0 - survive)
        clicks.append(gain * (1.0 + p_ap) if p_ap else gain)
        errors.append(error + 0.5 * p_ap * gain if p_ap else error)
    return clicks, errors


def _asymptotic_rate(eta: np.ndarray, y0: np.ndarray | float, payload: Payload) -> np.ndarray:
    """Asymptotic key per signal pulse of samples of transmittance ``eta`` [bits]."""
    clicks, errors = _sample_gains(eta, y0, payload)
    return keyrate.decoy_asymptotic_key_rate_from_gains(
        tuple(clicks), tuple(errors), payload.decoy_settings.intensities,
        ec_efficiency=payload.ec_efficiency, sifting=_sifting_fraction(payload))


class _AsymptoticRateTable:
    """The asymptotic key per signal pulse against ``ln η``, one row per noise level.

    The bound (:func:`planner.key.decoy.decoy_asymptotic_key_rate_from_gains`, about 30 array
    operations with four logarithms per sample) is tabulated at :data:`POINTS` values of
    ``ln η`` evenly spaced from ``η = 1e-12`` to 1 and interpolated linearly: five operations
    per sample. Interpolation error: below 2e-6 of the rate wherever the rate exceeds 1e-3 of
    its maximum and 5e-7 of the maximum elsewhere, 3e-7 on a pass total (tested against the
    exact bound); below ``η = 1e-12`` (loss > 120 dB) the rate at 1e-12 is used.
    """

    POINTS = 16384
    LOG_ETA_MIN = math.log(1e-12)

    def __init__(self, noise: np.ndarray, payload: Payload):
        self.levels, self.row_of_station = np.unique(np.asarray(noise, dtype=float),
                                                     return_inverse=True)
        self.step = -self.LOG_ETA_MIN / (self.POINTS - 1)
        log_eta = self.LOG_ETA_MIN + self.step * np.arange(self.POINTS)
        self.values = _asymptotic_rate(np.exp(log_eta)[None, :], self.levels[:, None],
                                       payload).ravel()

    def __call__(self, eta: np.ndarray, station: np.ndarray) -> np.ndarray:
        """Rate of samples ``eta`` at stations ``station`` (codes, broadcast to ``eta``)."""
        position = np.log(eta)
        position -= self.LOG_ETA_MIN
        position *= 1.0 / self.step
        np.clip(position, 0.0, self.POINTS - 1.000001, out=position)
        index = position.astype(np.intp)
        position -= index
        index += self.row_of_station[station] * self.POINTS
        low = self.values.take(index)
        high = self.values.take(index + 1)
        high -= low
        high *= position
        high += low
        return high


def _row_sums(eta: np.ndarray, weight: np.ndarray, survival: Sequence[np.ndarray],
              rate: np.ndarray) -> np.ndarray:
    """Weighted sums along the last axis of the per-sample terms the key model needs.

    The click and error sums are linear in the survival probabilities ``exp(−η μ_k)``
    (:func:`_click_and_error_sums`), so only ``Σ w``, ``Σ w·exp(−η μ_k)`` and ``Σ w·R`` (``R``
    the asymptotic key per signal pulse) are summed.

    Parameters
    ----------
    eta : (..., K) numpy.ndarray
        Transmittance of each sample [0-1].
    weight : (..., K) numpy.ndarray
        Time each sample stands for [s] (0 for samples not used).
    survival : 3 (..., K) numpy.ndarrays
        ``exp(−η μ_k)`` per intensity.
    rate : (..., K) numpy.ndarray
        Asymptotic key per signal pulse.

    Returns
    -------
    numpy.ndarray
        (..., 5): ``Σ w``, ``Σ w·exp(−η μ_k)`` for k = signal, decoy, vacuum, ``Σ w·R``.
    """
    out = np.empty((*eta.shape[:-1], 5))
    out[..., 0] = weight.sum(axis=-1)
    for k, survive in enumerate(survival):
        out[..., 1 + k] = np.einsum("...k,...k->...", weight, survive)
    out[..., 4] = np.einsum("...k,...k->...", weight, rate)
    return out


def _survival(eta: np.ndarray, payload: Payload) -> list[np.ndarray]:
    """``exp(−η μ_k)`` per intensity: the probability that a pulse brings no photon."""
    return [np.exp(-eta * intensity) if intensity > 0.0 else np.ones_like(eta)
            for intensity in payload.decoy_settings.intensities]


def _click_and_error_sums(sums: np.ndarray, y0: np.ndarray | float, payload: Payload
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected clicks and errors per intensity, and the asymptotic key, from :func:`_row_sums`.

    With ``s_k = exp(−η μ_k)``, a pulse of intensity k clicks with probability
    ``(1 − (1 − Y0) s_k)(1 + p_ap)`` (:func:`planner.key.decoy.detection_probability`) and errs
    with ``Y0/2 + e_mis (1 − s_k) + p_ap/2 · (1 − (1 − Y0) s_k)``
    (:func:`planner.key.decoy.error_probability`): both linear in ``s_k``, so summing them over
    the samples needs only ``Σ w`` and ``Σ w·s_k``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Click sums (N, 3), error sums (N, 3) [pulses × probability], asymptotic key (N,) [bits].
    """
    rate_hz = payload.repetition_rate_hz
    p_ap, e_mis = payload.afterpulse_probability, payload.misalignment_error
    y0 = np.asarray(y0, dtype=float).reshape(-1, 1) if np.ndim(y0) else float(y0)
    total = sums[:, :1]
    survive = sums[:, 1:4]
    gain = total - (1.0 - y0) * survive
    clicks = rate_hz * gain * (1.0 + p_ap)
    errors = rate_hz * (0.5 * y0 * total + e_mis * (total - survive) + 0.5 * p_ap * gain)
    asymptotic = rate_hz * payload.decoy_settings.p[0] * sums[:, 4]
    return clicks, errors, asymptotic


def _basis_counts(click_sums: np.ndarray, error_sums: np.ndarray,
                  payload: Payload) -> keyrate.BasisCounts:
    """Detections and errors per basis and intensity from summed click/error probabilities."""
    settings = payload.decoy_settings
    p, q_x = settings.p, settings.basis_bias
    q_z = 1.0 - q_x
    return keyrate.BasisCounts(n_x=q_x**2 * p * click_sums, n_z=q_z**2 * p * click_sums,
                               m_x=q_x**2 * p * error_sums, m_z=q_z**2 * p * error_sums)


def _block_key(counts: keyrate.BasisCounts, payload: Payload, fluctuation: str,
               ec_leakage: str) -> np.ndarray:
    return keyrate.secure_key_length(
        counts, payload.decoy_settings, epsilon_sec=payload.epsilon_sec,
        epsilon_cor=payload.epsilon_cor, ec_efficiency=payload.ec_efficiency,
        fluctuation=fluctuation, ec_leakage=ec_leakage,
        key_from_both_bases=payload.key_from_both_bases)


def _key_basis_qber(counts: keyrate.BasisCounts, payload: Payload) -> np.ndarray:
    n = counts.n_x.sum(axis=-1)
    m = counts.m_x.sum(axis=-1)
    if payload.key_from_both_bases:
        n = n + counts.n_z.sum(axis=-1)
        m = m + counts.m_z.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0.0, m / np.where(n > 0.0, n, 1.0), np.nan)


def _group_sum(values: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
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


# --------------------------------------------------------------------------------------------
# Key table
# --------------------------------------------------------------------------------------------

class _StationConstants:
    """Per-station link and noise constants of the stations a pass table uses."""

    def __init__(self, passes: pd.DataFrame, stations: Mapping[str, Any], payload: Payload):
        unknown = sorted(set(passes["station"].unique()) - set(stations))
        if unknown:
            raise StationError(f"no parameters for station {unknown[0]!r} (known: "
                               f"{', '.join(sorted(stations))})", field="station")
        names = passes["station"].astype(str).to_numpy()
        self.names = sorted(set(names))
        self.code_of_pass = np.searchsorted(self.names, names)
        self.objects = [stations[name] for name in self.names]

        def per_station(getter: Any) -> np.ndarray:
            return np.asarray([getter(s) for s in self.objects], dtype=float)

        self.payload = payload
        self.aperture = per_station(lambda s: s.aperture_m)
        self.zenith = per_station(lambda s: s.zenith_transmittance)
        self.pressure = per_station(link.station_pressure_hpa)
        self.receiver = per_station(lambda s: _receiver_efficiency(payload, s))
        self.noise = per_station(lambda s: extraneous_probability(payload, s))

    def transmittance(self, range_km: np.ndarray, elevation_deg: np.ndarray,
                      station: np.ndarray, sin_elevation: np.ndarray | None = None
                      ) -> np.ndarray:
        """:func:`sample_transmittance` of samples whose stations are the codes ``station``
        (broadcast against the samples)."""
        def local(values: np.ndarray) -> Any:
            return float(values[0]) if np.all(values == values[0]) else values[station]

        return _payload_transmittance(
            range_km, elevation_deg, self.payload, aperture_m=local(self.aperture),
            zenith_transmittance=local(self.zenith), pressure_hpa=local(self.pressure),
            receiver_efficiency=local(self.receiver), sin_elevation=sin_elevation)


def _check_pass_table(passes: pd.DataFrame) -> None:
    missing = [c for c in _PASS_COLUMNS if c not in passes.columns]
    if missing:
        raise PlannerInputError(f"pass table lacks column(s) {', '.join(missing)}",
                                field=missing[0])


def key_table(passes: pd.DataFrame, tracks: pd.DataFrame, stations: Mapping[str, Any],
              payload: Payload, *, pool: int = 1, fluctuation: str = "chernoff",
              ec_leakage: str = "fixed") -> pd.DataFrame:
    """Expected secure key of every pass: the pass table plus docs/architecture.md's key columns.

    Each pass's per-second track gives the transmittance of every sample
    (:func:`sample_transmittance`); samples below the payload's minimum key elevation are
    dropped; the expected detections and errors per basis and intensity are summed over the
    pass and the finite-key length of Lim et al. (2014) is computed for the pass as one block.
    With ``pool > 1``, consecutive passes of one station (in time order) are pooled ``pool``
    at a time into one block, and each pass is credited with the block's key in proportion to
    its sifted detections; ``df.attrs["pooling"]`` reports the gain over single-pass blocks.

    Added columns: ``min_loss_db``, ``max_loss_db`` (over the samples used; NaN if none),
    ``detections`` (all clicks, all bases), ``qber`` (key-basis error rate; NaN without
    detections), ``secure_bits`` (finite key, ≥ 0), ``secure_bits_asymptotic`` (the
    vacuum + weak decoy asymptotic bound summed over the samples, an upper bound),
    ``clear_sky_probability`` (station climatology for the month of TCA, UTC; 1 if the station
    has none) and ``expected_secure_bits`` = secure × clear-sky; with pooling also
    ``pool_block``.

    Parameters
    ----------
    passes : pandas.DataFrame
        Pass table (docs/architecture.md), index = pass id; needs ``station`` and ``tca_utc``.
    tracks : pandas.DataFrame
        Long table with ``pass_id, t_s, elevation_deg, range_km`` (1 s samples).
    stations : mapping of str to StationLike
        Stations by the names used in ``passes["station"]``.
    payload : Payload
        The payload flying the passes.
    pool : int, default 1
        Passes per finite-key block.
    fluctuation : {'chernoff', 'hoeffding', 'none'}
        Fluctuation bound of the finite-key analysis.
    ec_leakage : {'fixed', 'finite'}
        Error-correction leakage model.

    Returns
    -------
    pandas.DataFrame
        A copy of ``passes`` with the key columns; ``attrs["key_model"]`` records the model
        and its parameters.

    Raises
    ------
    OptionError
        For a bad ``pool``, ``fluctuation`` or ``ec_leakage``.
    StationError
        If a pass names a station not in ``stations``.
    PlannerInputError
        If a required column is missing.
    """
    _check_options(pool, fluctuation, ec_leakage)
    _check_pass_table(passes)
    missing = [c for c in _TRACK_COLUMNS if c not in tracks.columns]
    if missing:
        raise PlannerInputError(f"track table lacks column(s) {', '.join(missing)}",
                                field=missing[0])
    constants = _StationConstants(passes, stations, payload)

    # ---- samples, sorted by pass then time ------------------------------------------------
    position = pd.Index(passes.index).get_indexer(tracks["pass_id"].to_numpy())
    t_s = tracks["t_s"].to_numpy(dtype=float)
    elevation = tracks["elevation_deg"].to_numpy(dtype=float)
    range_km = tracks["range_km"].to_numpy(dtype=float)
    keep = position >= 0
    if not keep.all():
        position, t_s, elevation, range_km = (a[keep] for a in (position, t_s, elevation,
                                                                range_km))
    step = np.diff(position)
    if np.any(step < 0) or np.any(np.diff(t_s)[step == 0] < 0):  # sort only if needed
        order = np.lexsort((t_s, position))
        position, t_s, elevation, range_km = (a[order] for a in (position, t_s, elevation,
                                                                 range_km))
    used = elevation >= payload.min_key_elevation_deg
    weight = np.where(used, _midpoint_durations(t_s, position), 0.0)

    # ---- link and key terms per sample, in cache-sized chunks ------------------------------
    accumulator = _PassAccumulator(len(passes))
    rate_table = _AsymptoticRateTable(constants.noise, payload)
    for start in range(0, position.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        codes = position[part]
        station = constants.code_of_pass[codes]
        eta = constants.transmittance(range_km[part], elevation[part], station)
        sums = _row_sums(eta[:, None], weight[part, None], _survival(eta[:, None], payload),
                         rate_table(eta, station)[:, None])
        accumulator.add(codes, sums, eta, used[part])
    return _key_columns(passes, accumulator, constants, pool, fluctuation, ec_leakage)


def pass_key_table(passes: pd.DataFrame, catalogue, stations: Sequence[Any], payload: Payload,
                   *, pool: int = 1, fluctuation: str = "chernoff", ec_leakage: str = "fixed",
                   step_s: float = 1.0) -> pd.DataFrame:
    """:func:`key_table` with the tracks sampled from the element sets as it goes.

    The passes are sampled every ``step_s`` seconds (:func:`planner.geometry.passes.track_grids`,
    the
    samples of :func:`planner.geometry.passes.track_arrays`), and each chunk of a few hundred passes
    is reduced to its per-pass sums before the next is made, so no per-sample table is ever
    held: the fast way to the key of many passes. The result equals
    ``key_table(passes, track_arrays(passes, catalogue, stations), ...)`` to rounding.

    Parameters
    ----------
    passes : pandas.DataFrame
        Pass table from :func:`planner.geometry.passes.find_passes`.
    catalogue : planner.elements.elementsets.Catalogue
        The element sets the passes were found with.
    stations : sequence of Station
        The stations (looked up by name).
    payload, pool, fluctuation, ec_leakage
        As in :func:`key_table`.
    step_s : float, default 1.0
        Sample spacing [s].

    Returns
    -------
    pandas.DataFrame
        As :func:`key_table`.
    """
    from planner.geometry.tracks import track_grids

    _check_options(pool, fluctuation, ec_leakage)
    _check_pass_table(passes)
    constants = _StationConstants(passes, {s.name: s for s in stations}, payload)
    accumulator = _PassAccumulator(len(passes))
    rate_table = _AsymptoticRateTable(constants.noise, payload)
    for grid in track_grids(passes, catalogue, stations, step_s=step_s):
        station = constants.code_of_pass[grid.rows][grid.interval_pass][:, None]
        last = (grid.n_samples - 1)[grid.interval_pass, None]
        row_sums = np.empty((grid.interval_pass.size, 5))
        eta = np.empty(grid.range_km.shape)
        used = np.empty(grid.range_km.shape, dtype=bool)
        for block in _row_blocks(grid.interval_pass.size, grid.range_km.shape[1]):
            sin_elevation = grid.sin_elevation(block)
            elevation = np.degrees(np.arcsin(sin_elevation))
            used[block] = grid.valid[block] & (elevation >= payload.min_key_elevation_deg)
            # each sample stands for half the time to each neighbour (as _midpoint_durations)
            index = grid.sample_index[block]
            weight = np.where(used[block], 0.5 * step_s * ((index > 0).astype(float)
                                                           + (index < last[block])), 0.0)
            eta[block] = constants.transmittance(grid.range_km[block], elevation,
                                                 station[block], sin_elevation)
            row_sums[block] = _row_sums(eta[block], weight, _survival(eta[block], payload),
                                        rate_table(eta[block], station[block]))
        accumulator.add_grid(grid.rows, grid.interval_pass, row_sums, eta, used)
    return _key_columns(passes, accumulator, constants, pool, fluctuation, ec_leakage)


class _PassAccumulator:
    """Per-pass sums of :func:`_row_sums` and the best and worst transmittance seen."""

    def __init__(self, n_passes: int):
        self.sums = np.zeros((n_passes, 5))
        self.best_eta = np.full(n_passes, -np.inf)
        self.worst_eta = np.full(n_passes, np.inf)

    def add(self, codes: np.ndarray, sums: np.ndarray, eta: np.ndarray,
            used: np.ndarray) -> None:
        """Add samples (rows of ``sums``, ``eta``, ``used``) of the passes ``codes``
        (non-decreasing pass positions)."""
        if not codes.size:
            return
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        self.sums[codes[starts]] += np.add.reduceat(sums, starts, axis=0)
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
        """Add a track grid's row sums (M, 5) and (M, K) transmittances of the passes ``rows``
        (each pass wholly in this grid; ``interval_pass`` indexes ``rows``)."""
        starts = np.flatnonzero(np.r_[True, interval_pass[1:] != interval_pass[:-1]])
        self.sums[rows] += np.add.reduceat(sums, starts, axis=0)
        best = np.maximum.reduceat(np.where(used, eta, -np.inf).max(axis=1), starts)
        worst = np.minimum.reduceat(np.where(used, eta, np.inf).min(axis=1), starts)
        self.best_eta[rows] = np.maximum(self.best_eta[rows], best)
        self.worst_eta[rows] = np.minimum(self.worst_eta[rows], worst)


def _key_columns(passes: pd.DataFrame, accumulator: _PassAccumulator,
                 constants: _StationConstants, pool: int, fluctuation: str,
                 ec_leakage: str) -> pd.DataFrame:
    """The key table from the per-pass sums: finite key per block, pooling, weather."""
    payload = constants.payload
    n_passes = len(passes)
    click_sums, error_sums, pass_asymptotic = _click_and_error_sums(
        accumulator.sums, constants.noise[constants.code_of_pass], payload)
    pass_counts = _basis_counts(click_sums, error_sums, payload)
    pass_detections = click_sums @ payload.decoy_settings.p
    pass_asymptotic = np.floor(pass_asymptotic)
    best_eta, worst_eta = accumulator.best_eta, accumulator.worst_eta
    seen = np.isfinite(best_eta)
    min_loss = np.where(seen, link.transmittance_to_loss_db(np.where(seen, best_eta, 1.0)),
                        np.nan)
    max_loss = np.where(seen, link.transmittance_to_loss_db(np.where(seen, worst_eta, 1.0)),
                        np.nan)

    single_key = _block_key(pass_counts, payload, fluctuation, ec_leakage)
    out = passes.copy()
    out["min_loss_db"] = min_loss
    out["max_loss_db"] = max_loss
    out["detections"] = pass_detections
    out["qber"] = _key_basis_qber(pass_counts, payload)

    if pool == 1:
        secure = single_key
    else:
        block = _pool_blocks(passes, pool)
        n_blocks = int(block.max()) + 1 if n_passes else 0
        block_counts = keyrate.BasisCounts(*(_group_sum(a, block, n_blocks)
                                             for a in pass_counts))
        block_key = _block_key(block_counts, payload, fluctuation, ec_leakage)
        weight = pass_counts.n_x.sum(axis=-1)
        if payload.key_from_both_bases:
            weight = weight + pass_counts.n_z.sum(axis=-1)
        block_weight = np.bincount(block, weights=weight, minlength=n_blocks)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(block_weight[block] > 0, weight / block_weight[block], 0.0)
        secure = np.floor(block_key[block] * share)
        out["pool_block"] = block
        out.attrs["pooling"] = {
            "pool": int(pool), "blocks": n_blocks,
            "secure_bits_pooled": float(block_key.sum()),
            "secure_bits_single_pass": float(single_key.sum()),
            "gain": (float(block_key.sum() / single_key.sum()) if single_key.sum() > 0
                     else (math.inf if block_key.sum() > 0 else 1.0)),
        }

    out["secure_bits"] = secure
    out["secure_bits_asymptotic"] = pass_asymptotic
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
        "references": [
            "Lim et al., PRA 89, 022307 (2014)",
            "Yin et al., Sci. Rep. 10, 14312 (2020)" if fluctuation == "chernoff" else
            "Hoeffding, JASA 58, 13 (1963)",
            "Ma et al., PRA 72, 012326 (2005)",
        ],
    }
    return out


def key_table_by_satellite(passes: pd.DataFrame, tracks: pd.DataFrame,
                           stations: Mapping[str, Any], payloads: Mapping[str, Payload], *,
                           pool: int = 1, fluctuation: str = "chernoff",
                           ec_leakage: str = "fixed") -> pd.DataFrame:
    """:func:`key_table` for a pass table of several satellites, each with its own payload.

    Each satellite name is mapped to a payload with
    :func:`planner.mission.payloads.payload_for_satellite`; rows keep their order and index.
    ``attrs["key_models"]`` lists the model record of every payload used (``attrs["pooling"]``
    of each is inside its record).

    Raises
    ------
    PayloadError
        If a satellite matches no payload.
    """
    _check_options(pool, fluctuation, ec_leakage)

    def table_of(group: pd.DataFrame, payload: Payload) -> pd.DataFrame:
        return key_table(group, tracks[tracks["pass_id"].isin(group.index)], stations, payload,
                         pool=pool, fluctuation=fluctuation, ec_leakage=ec_leakage)

    return _by_satellite(passes, payloads, table_of)


def pass_key_table_by_satellite(passes: pd.DataFrame, catalogue, stations: Sequence[Any],
                                payloads: Mapping[str, Payload], *, pool: int = 1,
                                fluctuation: str = "chernoff",
                                ec_leakage: str = "fixed") -> pd.DataFrame:
    """:func:`key_table_by_satellite` with the tracks sampled as it goes (:func:`pass_key_table`).
    """
    _check_options(pool, fluctuation, ec_leakage)

    def table_of(group: pd.DataFrame, payload: Payload) -> pd.DataFrame:
        return pass_key_table(group, catalogue, stations, payload, pool=pool,
                              fluctuation=fluctuation, ec_leakage=ec_leakage)

    return _by_satellite(passes, payloads, table_of)


def _by_satellite(passes: pd.DataFrame, payloads: Mapping[str, Payload],
                  table_of: Any) -> pd.DataFrame:
    if "satellite" not in passes.columns:
        raise PlannerInputError("pass table lacks column satellite", field="satellite")
    parts, models = [], []
    for satellite, group in passes.groupby("satellite", sort=True):
        table = table_of(group, payload_for_satellite(payloads, str(satellite)))
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


def _pool_blocks(passes: pd.DataFrame, pool: int) -> np.ndarray:
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


def _clear_sky(passes: pd.DataFrame, per_station: list[Any],
               station_code_of_pass: np.ndarray) -> np.ndarray:
    months = pd.to_datetime(passes["tca_utc"], utc=True).dt.month.to_numpy()
    clear = np.ones(len(passes), dtype=float)
    for code, station in enumerate(per_station):
        values = getattr(station, "clear_sky_probability", None)
        rows = station_code_of_pass == code
        if values is None or not rows.any():
            continue
        clear[rows] = link.monthly_clear_sky_probability(values, months[rows])
    return clear


# --------------------------------------------------------------------------------------------
# Measured loss curves
# --------------------------------------------------------------------------------------------

def key_from_loss_curve(time_s: Sequence[float] | np.ndarray, loss_db: Sequence[float] | np.ndarray,
                        payload: Payload, station: Any | None = None,
                        elevation_deg: Sequence[float] | np.ndarray | None = None, *,
                        fluctuation: str = "chernoff", ec_leakage: str = "fixed",
                        ) -> dict[str, Any]:
    """Secure key of one pass from a measured (or externally modelled) loss curve.

    ``loss_db`` is the total loss from the source to a detector click (so
    ``η = 10^(−loss/10)`` includes all optics and the detector efficiency). Each sample stands
    for half the time to each neighbour; an infinite loss is a sample without signal (noise
    only). With ``elevation_deg``, samples below the payload's minimum key elevation are left
    out. Noise is the payload's dark counts plus, with a
    station, its sky background.

    Parameters
    ----------
    time_s : array_like
        Strictly increasing sample times [s].
    loss_db : array_like
        Total loss at each sample [dB].
    payload : Payload
        Source, detector and post-processing parameters.
    station : StationLike, optional
        For the sky background; ``None`` counts dark counts only.
    elevation_deg : array_like, optional
        Elevation of each sample [deg].
    fluctuation, ec_leakage : str
        As in :func:`key_table`.

    Returns
    -------
    dict
        ``duration_s`` (time counted), ``samples``, ``min_loss_db``, ``max_loss_db``,
        ``detections``, ``qber``, ``secure_bits``, ``secure_bits_asymptotic``,
        ``mean_secure_rate_bps``.
    """
    _check_options(1, fluctuation, ec_leakage)
    times = np.asarray(time_s, dtype=float)
    losses = np.asarray(loss_db, dtype=float)
    if times.shape != losses.shape or times.ndim != 1:
        raise LossCurveError("time_s and loss_db must be 1-D arrays of the same length")
    if times.size and np.any(np.diff(times) <= 0):
        raise LossCurveError("time_s must be strictly increasing")
    durations = _midpoint_durations(times, np.zeros(times.shape, dtype=np.int64))
    if np.any(np.isnan(losses)) or np.any(losses < 0):
        raise LossCurveError("loss_db must be >= 0 dB and not NaN (inf means no signal)")
    used = np.ones(losses.shape, dtype=bool)
    if elevation_deg is not None:
        elevations = np.asarray(elevation_deg, dtype=float)
        if elevations.shape != times.shape:
            raise LossCurveError("elevation_deg must have the same length as time_s")
        used &= elevations >= payload.min_key_elevation_deg
    durations = np.where(used, durations, 0.0)
    eta = link.loss_db_to_transmittance(losses)
    y0 = extraneous_probability(payload, station)
    sums = _row_sums(eta[None, :], durations[None, :], _survival(eta[None, :], payload),
                     _asymptotic_rate(eta[None, :], y0, payload))
    clicks, errors, asymptotic = _click_and_error_sums(sums, y0, payload)
    block = _basis_counts(clicks, errors, payload)
    detections = clicks @ payload.decoy_settings.p
    secure = float(_block_key(block, payload, fluctuation, ec_leakage)[0])
    counted = float(durations.sum())
    return {
        "duration_s": counted,
        "samples": int(used.sum()),
        "min_loss_db": float(np.min(losses[used])) if used.any() else math.nan,
        "max_loss_db": float(np.max(losses[used])) if used.any() else math.nan,  # may be inf
        "detections": float(detections.sum()),
        "qber": float(_key_basis_qber(block, payload)[0]),
        "secure_bits": secure,
        "secure_bits_asymptotic": float(np.floor(asymptotic.sum())),
        "mean_secure_rate_bps": secure / counted if counted > 0 else 0.0,
    }


_LOSS_COLUMNS = ("time_s", "loss_db")


def read_loss_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read a measured loss curve: columns ``time_s``, ``loss_db`` and optional ``elevation_deg``.

    The first non-comment line is the header (names are case-insensitive; other columns are
    ignored); lines starting with ``#`` and blank lines are skipped.

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray or None)
        Times [s], losses [dB] and elevations [deg] (``None`` without that column).

    Raises
    ------
    LossCurveError
        If the file is missing or empty, a required column is missing, a value is not a
        finite number, a loss is negative, an elevation is outside [-90, 90] or the times do
        not strictly increase; the message names file, line and column.
    """
    file = Path(path)
    text = read_input_text(file, LossCurveError)

    rows = [(number, line) for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise LossCurveError("file is empty; expected a header line 'time_s,loss_db' and data",
                             path=str(file))
    header_line, header_text = rows[0]
    header = [name.strip().lower() for name in next(csv.reader([header_text]))]
    for required in _LOSS_COLUMNS:
        if required not in header:
            raise LossCurveError(f"missing column {required!r} (header has: "
                                 f"{', '.join(header) or 'nothing'})", path=str(file),
                                 line=header_line, field=required)
    columns = {name: header.index(name) for name in (*_LOSS_COLUMNS, "elevation_deg")
               if name in header}
    if len(rows) == 1:
        raise LossCurveError("no data rows after the header", path=str(file), line=header_line)

    values: dict[str, list[float]] = {name: [] for name in columns}
    previous_time: float | None = None
    for number, line in rows[1:]:
        cells = next(csv.reader([line]))
        for name, index in columns.items():
            if index >= len(cells) or not cells[index].strip():
                raise LossCurveError("value is missing", path=str(file), line=number,
                                     field=name)
            cell = cells[index].strip()
            try:
                value = float(cell)
            except ValueError:
                raise LossCurveError(f"{cell!r} is not a number", path=str(file), line=number,
                                     field=name) from None
            if not math.isfinite(value):
                raise LossCurveError(f"{cell!r} is not a finite number", path=str(file),
                                     line=number, field=name)
            if name == "loss_db" and value < 0.0:
                raise LossCurveError(f"{cell}: a loss must be at least 0 dB", path=str(file),
                                     line=number, field=name)
            if name == "elevation_deg" and not -90.0 <= value <= 90.0:
                raise LossCurveError(f"{cell} is outside [-90, 90]", path=str(file),
                                     line=number, field=name)
            values[name].append(value)
        time = values["time_s"][-1]
        if previous_time is not None and time <= previous_time:
            raise LossCurveError(f"time {time:g} s does not increase (previous {previous_time:g}"
                                 f" s)", path=str(file), line=number, field="time_s")
        previous_time = time
    elevation = np.asarray(values["elevation_deg"]) if "elevation_deg" in values else None
    return np.asarray(values["time_s"]), np.asarray(values["loss_db"]), elevation


def optimise_for_pass(range_km: np.ndarray, elevation_deg: np.ndarray, payload: Payload,
                      station: Any, *, step_s: float = 1.0, fluctuation: str = "chernoff",
                      ec_leakage: str = "fixed", seed: int = 0
                      ) -> tuple[Payload, keyrate.OptimisedSettings]:
    """Decoy settings (intensities, their probabilities, basis bias) best for one pass.

    A design-study tool: a real satellite cannot retune per pass (docs/reference.md §5), so the
    result is meant to be applied to the whole mission, e.g. optimised on a typical pass.

    Parameters
    ----------
    range_km, elevation_deg : numpy.ndarray
        The pass, sampled every ``step_s`` seconds.
    payload : Payload
        Everything but the decoy settings is kept.
    station : StationLike
        The receiving station.
    step_s : float
        Sample spacing [s].
    fluctuation, ec_leakage : str
        As in :func:`key_table`.
    seed : int
        Seed of the (stochastic, here deterministic) global search.

    Returns
    -------
    (Payload, OptimisedSettings)
        The payload with the optimised settings, and the optimiser's result.
    """
    _check_options(1, fluctuation, ec_leakage)
    range_km = np.asarray(range_km, dtype=float)
    elevation_deg = np.asarray(elevation_deg, dtype=float)
    used = elevation_deg >= payload.min_key_elevation_deg
    eta = sample_transmittance(range_km[used], elevation_deg[used], payload, station)
    pulses = np.full(eta.shape, payload.repetition_rate_hz * step_s)
    result = keyrate.optimise_decoy_settings(
        eta, pulses, extraneous_click_probability=extraneous_probability(payload, station),
        misalignment_error=payload.misalignment_error, epsilon_sec=payload.epsilon_sec,
        epsilon_cor=payload.epsilon_cor, ec_efficiency=payload.ec_efficiency,
        afterpulse_probability=payload.afterpulse_probability,
        vacuum_intensity=payload.intensities.vacuum, fluctuation=fluctuation,
        ec_leakage=ec_leakage, seed=seed)
    mu, p = result.settings.intensities, result.settings.probabilities
    tuned = payload.model_copy(update={
        "intensities": type(payload.intensities)(signal=mu[0], decoy=mu[1], vacuum=mu[2]),
        "probabilities": type(payload.probabilities)(signal=p[0], decoy=p[1], vacuum=p[2]),
        "basis_bias": result.settings.basis_bias,
    })
    return tuned, result
