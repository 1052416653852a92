"""Element-set age: how far the nearest set is from the planning period, and the summary table.

SGP4 errors grow by roughly 1-3 km along track per day of element age; :func:`check_ages` warns
beyond a limit and refuses sets far from the period. Ages are in days of 86400 s.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from planner.elements.catalogue import Catalogue, to_datetime64
from planner.elements.elementset import NS_PER_DAY, ElementSet
from planner.errors import ElementSetError, OptionError

__all__ = ["check_ages", "element_age_days", "summarise"]


def element_age_days(epoch: Any, times: Any) -> np.ndarray:
    """Absolute time between element-set epoch(s) and times [days].

    Parameters
    ----------
    epoch
        Epoch(s) (anything :func:`to_datetime64` accepts); broadcast against ``times``.
    times
        UTC times.

    Returns
    -------
    numpy.ndarray of float
        ``|times - epoch|`` in days (86400 s), never negative.
    """
    e = to_datetime64(epoch).astype(np.int64)
    t = to_datetime64(times).astype(np.int64)
    return np.abs(t - e).astype(np.float64) / NS_PER_DAY


def _worst_age(epochs: np.ndarray, start: np.int64, end: np.int64) -> tuple[float, int, np.int64]:
    """Largest age of the nearest set over [start, end]: (age [days], set index, time)."""
    e = epochs.astype(np.int64)
    mids = (e[:-1] + (e[1:] - e[:-1]) // 2) if len(e) > 1 else np.empty(0, np.int64)
    candidates = np.concatenate([[start, end], mids[(mids > start) & (mids < end)]])
    right = np.clip(np.searchsorted(e, candidates, side="left"), 0, len(e) - 1)
    left = np.clip(right - 1, 0, len(e) - 1)
    idx = np.where(np.abs(e[right] - candidates) < np.abs(candidates - e[left]), right, left)
    ages = np.abs(candidates - e[idx])
    worst = int(np.argmax(ages))
    return float(ages[worst]) / NS_PER_DAY, int(idx[worst]), candidates[worst]


def check_ages(catalogue: Catalogue, start: Any, end: Any, *, warn_days: float = 14.0,
               max_days: float = 365.0, allow_stale: bool = False) -> list[str]:
    """Check that every satellite has element sets fresh enough for [start, end].

    For each satellite the age of its nearest element set is evaluated over the whole window
    (the maximum lies at an end of the window or half-way between two epochs).

    Parameters
    ----------
    catalogue
        The element sets.
    start, end
        The planning window (UTC; anything :func:`to_datetime64` accepts).
    warn_days
        Age beyond which a warning is returned [days]. SGP4 errors grow by roughly 1-3 km along
        track per day of age; Skyfield's documentation advises fresh elements beyond 14 days.
    max_days
        Age beyond which planning is refused unless ``allow_stale`` [days].
    allow_stale
        Turn the refusal into a warning.

    Returns
    -------
    list of str
        Human-readable warnings, one per satellite concerned.

    Raises
    ------
    ElementSetError
        If a set is older than ``max_days`` and ``allow_stale`` is false; the error names that
        set's file and line and the field ``epoch``.
    OptionError
        If ``end`` is before ``start``.
    """
    t0, t1 = (np.int64(to_datetime64(t).astype(np.int64).reshape(-1)[0]) for t in (start, end))
    if t1 < t0:
        raise OptionError("the end of the planning window is before its start", field="end")
    warnings: list[str] = []
    for key in catalogue.satellites:
        age, index, when = _worst_age(catalogue.epochs(key), t0, t1)
        if age <= warn_days:
            continue
        es = catalogue.sets(key)[index]
        at = pd.Timestamp(int(when), tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
        what = (f"{es.name} ({key}): element set epoch {es.epoch:%Y-%m-%d %H:%M} UTC "
                f"({es.where()}) is {age:.1f} days from {at}")
        if age > max_days and not allow_stale:
            raise ElementSetError(
                f"element set of {es.name} ({key}) is {age:.0f} days from the planning window "
                f"(limit {max_days:g} days); fetch fresh elements (CelesTrak or Space-Track) "
                "or pass `allow_stale` to plan anyway", path=es.source, line=es.line,
                field="epoch")
        if age > max_days:
            warnings.append(f"{what}, beyond the {max_days:g}-day limit (stale sets allowed): "
                            "predicted passes may be badly wrong")
        else:
            warnings.append(f"{what}; positions degrade by roughly 1-3 km per day of age, "
                            "fetch fresh elements for accurate pass times")
    return warnings




def summarise(element_sets: Catalogue | Iterable[ElementSet], now: datetime) -> pd.DataFrame:
    """One row per satellite (its newest set), for ``qkdplan tle check``.

    Parameters
    ----------
    element_sets
        A :class:`Catalogue` or element sets.
    now
        Reference time (UTC; naive means UTC).

    Returns
    -------
    pandas.DataFrame
        Columns ``name, norad, intl_designator, epoch_utc, age_days, perigee_km, apogee_km,
        inclination_deg, period_min, source``. ``age_days`` is ``now - epoch`` in days
        (negative if the epoch is in the future); ``epoch_utc`` is tz-aware UTC; ``norad`` is a
        nullable integer.
    """
    catalogue = element_sets if isinstance(element_sets, Catalogue) else Catalogue(element_sets)
    now64 = to_datetime64(now).astype(np.int64).reshape(-1)[0]
    rows = []
    for key in catalogue.satellites:
        es = catalogue.newest(key)
        rows.append({
            "name": es.name,
            "norad": es.norad,
            "intl_designator": es.intl_designator,
            "epoch_utc": pd.Timestamp(es.epoch),
            "age_days": float(now64 - es.epoch64.astype(np.int64)) / NS_PER_DAY,
            "perigee_km": es.perigee_km,
            "apogee_km": es.apogee_km,
            "inclination_deg": es.inclination_deg,
            "period_min": es.period_min,
            "source": es.source,
        })
    columns = ["name", "norad", "intl_designator", "epoch_utc", "age_days", "perigee_km",
               "apogee_km", "inclination_deg", "period_min", "source"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["norad"] = frame["norad"].astype("Int64")
    frame["epoch_utc"] = pd.to_datetime(frame["epoch_utc"], utc=True).astype(
        "datetime64[ns, UTC]")
    for column in ("age_days", "perigee_km", "apogee_km", "inclination_deg", "period_min"):
        frame[column] = frame[column].astype(np.float64)
    return frame
