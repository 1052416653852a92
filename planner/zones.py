"""Time-zone labels shared by the terminal tables and the report (standard library only, so
the command line's start-up does not pay for it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo

__all__ = ["is_utc", "local_cells", "zone_label", "zone_labels"]

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


def zone_labels(times: Iterable[datetime], zone: tzinfo) -> list[str]:
    """The zone abbreviations of ``times`` in ``zone``, each once, in order of appearance:
    two when the times cross a change to or from summer time (``["CEST", "CET"]``)."""
    return list(dict.fromkeys(zone_label(t.astimezone(zone)) for t in times))


def local_cells(times: Iterable[datetime], zone: tzinfo, fmt: str = "%H:%M:%S"
                ) -> tuple[list[str], list[str]]:
    """``times`` in ``zone`` as ``fmt``, and their abbreviations (:func:`zone_labels`).

    When the times do not share one abbreviation (a change to or from summer time among
    them), each cell carries its own (``02:30:00 CEST``, ``02:30:00 CET``), so that a title
    naming one abbreviation for them all can never be wrong for some of them.
    """
    local = [t.astimezone(zone) for t in times]
    labels = zone_labels(local, zone)
    if len(labels) > 1:
        return [f"{t.strftime(fmt)} {zone_label(t)}" for t in local], labels
    return [t.strftime(fmt) for t in local], labels
