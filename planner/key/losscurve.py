"""Key of one measured (or externally modelled) pass from its loss curve.

:func:`read_loss_csv` reads and validates a loss curve file (columns ``time_s``, ``loss_db``,
optional ``elevation_deg``); :func:`key_from_loss_curve` gives the pass's key with the same
channel formula and finite-key block as the pass table (:mod:`planner.key.blocks`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from planner.errors import LossCurveError
from planner.io.readers import read_input_text
from planner.key.blocks import (
    asymptotic_block_key,
    block_statistics,
    check_key_options,
    choose_windows,
    cut_elevations,
    key_basis_qber,
    segment_sums,
    window_sums,
)
from planner.key.receiver import extraneous_probability
from planner.link.budget import loss_db_to_transmittance
from planner.mission.payloads import Payload

__all__ = ["key_from_loss_curve", "read_loss_csv"]


def key_from_loss_curve(time_s: Sequence[float] | np.ndarray, loss_db: Sequence[float] | np.ndarray,
                        payload: Payload, station: Any | None = None,
                        elevation_deg: Sequence[float] | np.ndarray | None = None, *,
                        fluctuation: str = "chernoff", ec_leakage: str = "fixed",
                        min_elevation_deg: float | None = None,
                        ) -> dict[str, Any]:
    """Secure key of one pass from a measured (or externally modelled) loss curve.

    ``loss_db`` is the total loss from the source to a detector click (so
    ``η = 10^(−loss/10)`` includes all optics and the detector efficiency). Each sample stands
    for half the time to each neighbour; an infinite loss is a sample without signal (noise
    only). With ``elevation_deg``, samples below the payload's minimum key elevation are left
    out and the key comes from the best data window ``elevation ≥ cut``, as for the pass
    table (:func:`planner.key.blocks.choose_windows`); without it the whole curve is one
    block. With ``min_elevation_deg`` as well, samples below it are left out too, as if the
    station had acquired at that elevation (no piece of the curve touches them). Noise is the
    payload's dark counts plus, with a station, its sky background.

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
        As in :func:`planner.key.perpass.pass_key_table`.
    min_elevation_deg : float, optional
        The station's minimum elevation [deg] (``--min-elevation``); needs ``elevation_deg``.

    Returns
    -------
    dict
        ``duration_s`` (time of the key window), ``samples`` (in it),
        ``key_min_elevation_deg`` (its cut; NaN without elevations), ``min_loss_db``,
        ``max_loss_db``, ``detections``, ``qber``, ``secure_bits``,
        ``secure_bits_asymptotic`` (the same block without finite-size statistics, an upper
        bound), ``mean_secure_rate_bps``.
    """
    check_key_options(1, fluctuation, ec_leakage)
    times = np.asarray(time_s, dtype=float)
    losses = np.asarray(loss_db, dtype=float)
    if times.shape != losses.shape or times.ndim != 1:
        raise LossCurveError("time_s and loss_db must be 1-D arrays of the same length")
    if times.size and np.any(np.diff(times) <= 0):
        raise LossCurveError("time_s must be strictly increasing")
    if np.any(np.isnan(losses)) or np.any(losses < 0):
        raise LossCurveError("loss_db must be >= 0 dB and not NaN (inf means no signal)")
    if elevation_deg is None:
        elevations = np.full(times.shape, 90.0)  # one window: the whole curve
    else:
        elevations = np.asarray(elevation_deg, dtype=float)
        if elevations.shape != times.shape:
            raise LossCurveError("elevation_deg must have the same length as time_s")
        if min_elevation_deg is not None:  # below the station's horizon: no sample at all
            elevations = np.where(elevations >= min_elevation_deg, elevations, -np.inf)
    if min_elevation_deg is not None and elevation_deg is None:
        raise LossCurveError("a minimum elevation needs the curve's elevation_deg column",
                             field="min_elevation_deg")
    used = elevations >= payload.min_key_elevation_deg
    eta = loss_db_to_transmittance(losses)
    y0 = np.array([extraneous_probability(payload, station)])
    pieces = segment_sums(np.zeros(times.shape, dtype=np.intp), times, elevations, eta,
                          payload, 1)
    choice = choose_windows(window_sums(pieces), cut_elevations(payload), payload, y0,
                            fluctuation, ec_leakage)
    stats = block_statistics(choice.sums, payload, y0)
    secure = float(choice.secure_bits[0])
    counted = float(choice.sums[0, 0])
    inside = used & (elevations >= np.nan_to_num(choice.cut_deg[0], nan=np.inf))
    return {
        "duration_s": counted,
        "samples": int(inside.sum()),
        "key_min_elevation_deg": (float(choice.cut_deg[0]) if elevation_deg is not None
                                  else math.nan),
        "min_loss_db": float(np.min(losses[inside])) if inside.any() else math.nan,
        "max_loss_db": float(np.max(losses[inside])) if inside.any() else math.nan,  # may be inf
        "detections": float(stats.detections.sum()),
        "qber": float(key_basis_qber(stats.counts, payload)[0]),
        "secure_bits": secure,
        "secure_bits_asymptotic": float(asymptotic_block_key(stats.counts, payload,
                                                             ec_leakage)[0]),
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
                if "_" in cell or not cell.isascii():  # float() reads 4_0 as 40, '٤' as 4
                    raise ValueError(cell)
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
