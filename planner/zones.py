"""Time-zone labels shared by the terminal tables and the report (standard library only, so
the command line's start-up does not pay for it)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

__all__ = ["is_utc", "zone_label"]

#: IANA names of zones that are UTC itself (no offset, never daylight saving time).
_UTC_NAMES = frozenset({
    "UTC", "Etc/UTC", "UCT", "Etc/UCT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal",
    "GMT", "Etc/GMT", "GMT0", "Etc/GMT0", "GMT+0", "Etc/GMT+0", "GMT-0", "Etc/GMT-0",
    "Greenwich", "Etc/Greenwich"})


def zone_label(local: datetime) -> str:
    """The zone abbreviation of an aware time (``SAST``, ``CST``), or ``UTC+08`` where the
    zone database gives only a number."""
    name = local.tzname() or "UTC"
    return f"UTC{name}" if name[0] in "+-" else name


def is_utc(zone: tzinfo | None) -> bool:
    """Whether ``zone`` is UTC under any of its names: local-time columns in it would only
    repeat the UTC ones. (``Europe/London`` is not: it keeps summer time.)"""
    return zone is UTC or getattr(zone, "key", None) in _UTC_NAMES
