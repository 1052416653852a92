"""How the report writes numbers and times: key in Mbit/kbit, UTC stamps, the period."""

from __future__ import annotations

import math
from datetime import datetime, tzinfo
from typing import Any

import pandas as pd

from planner.timebase import utc_timestamp
from planner.zones import local_time

__all__ = ["kbit", "local", "mbit", "mbit_short", "period_text", "plain", "utc"]


def mbit(bits: Any, digits: int = 2) -> str:
    """Key [bit] as Mbit with ``digits`` decimals and thousands separators; ``—`` if missing."""
    if bits is None or (isinstance(bits, float) and not math.isfinite(bits)) or pd.isna(bits):
        return "—"
    return f"{float(bits) / 1e6:,.{digits}f}"


def mbit_short(bits: Any) -> str:
    """Mbit for headline cards: no decimals from 100 Mbit on."""
    if bits is None or pd.isna(bits):
        return "—"
    return mbit(bits, 0 if abs(float(bits)) >= 1e8 else 1)


def kbit(bits: Any) -> str:
    """Key [bit] as whole kbit; ``—`` if missing."""
    if bits is None or pd.isna(bits):
        return "—"
    return f"{float(bits) / 1e3:,.0f}"


def utc(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in UTC (naive times are taken as UTC); ``—`` if missing."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "—"
    stamp = utc_timestamp(value)
    return stamp.strftime(fmt)


def local(value: Any, zone: tzinfo | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in ``zone`` (UTC when ``None``) with its local date and zone abbreviation
    (:func:`planner.zones.local_time`); ``—`` if missing."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return local_time(utc_timestamp(value), zone, fmt)


def plain(value: Any) -> str:
    """A provenance value as text: ISO times, ten significant digits, ``—`` for none."""
    if isinstance(value, (pd.Timestamp, datetime)):
        return utc(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, float):
        return f"{value:.10g}"
    if value is None:
        return "—"
    return str(value)


def period_text(period: tuple[pd.Timestamp, pd.Timestamp] | None) -> str:
    """``start to end UTC (N days)``, or a phrase saying the period is unknown."""
    if period is None:
        return "an unspecified period"
    start, end = period
    days = (end - start).total_seconds() / 86400
    return f"{utc(start)} to {utc(end)} UTC ({days:,.4g} days)"
