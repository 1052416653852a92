"""Local times as people read them: the one place every human-facing time is formatted.

The terminal tables, the night sheet, the report's tables and its sky plots all show times
through these functions, so they follow the same rules:

* A time is shown in a zone: a station's own, or the one chosen with ``--tz`` (``None`` here
  means UTC). Where a date is shown it is the time's own local date, never the UTC date or
  another row's (:func:`local_time`).
* A time is labelled with its zone's abbreviation (``SAST``, ``CST``, ``UTC+04`` where the
  zone database has only a number; :func:`zone_label`), either beside it or, when a whole
  table shares one abbreviation, once in the title (:func:`zone_title`).
* Times that do not share one abbreviation (a change to or from summer time among them) each
  carry their own (``02:58 CEST``, ``02:04 CET``; :func:`local_cells`, :func:`span_cells`,
  :func:`local_span`), so that no title or column can be wrong for some of them.
* A time in a row that shows a date (a pass's TCA and LOS after its AOS's date, a night
  sheet's times after the night's date) says so when it falls on a later local date:
  ``00:04 +1d``.
* A zone that is UTC under any name (:func:`is_utc`) has no local time worth a column of its
  own: surfaces show UTC once.

Standard library only, so that the command line's start-up does not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, tzinfo

__all__ = ["DATE_TIME", "is_utc", "local_cells", "local_dates", "local_span", "local_time",
           "span_cells", "zone_label", "zone_labels", "zone_name", "zone_title"]

DATE_TIME = "%Y-%m-%d %H:%M:%S"
"""The terminal's date-and-time format (a local date, then the time to the second)."""

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


def zone_name(zone: tzinfo | None) -> str:
    """The name a title gives ``zone``: its IANA key (``Asia/Shanghai``), ``UTC`` for
    :data:`datetime.UTC` and ``None``."""
    if zone is None or zone is UTC:
        return "UTC"
    return getattr(zone, "key", None) or str(zone)


def _in_zone(time: datetime, zone: tzinfo | None) -> datetime:
    """``time`` (a naive one is UTC) in ``zone`` (``None``: UTC)."""
    aware = time if time.tzinfo is not None else time.replace(tzinfo=UTC)
    return aware.astimezone(zone or UTC)


def local_time(time: datetime, zone: tzinfo | None, fmt: str = DATE_TIME, *,
               with_zone: bool = True) -> str:
    """One instant as ``fmt`` in ``zone`` (``None``: UTC), its zone abbreviation after it.

    Parameters
    ----------
    time : datetime.datetime or pandas.Timestamp
        The instant (a naive one is taken as UTC).
    zone : tzinfo or None
        The zone to show it in; ``None``: UTC.
    fmt : str
        :meth:`~datetime.datetime.strftime` format; by default the local date and the time.
    with_zone : bool
        Add the abbreviation (leave it out when the title names it).

    Returns
    -------
    str
        E.g. ``2026-12-04 00:18:52 SAST`` (the local date, not the UTC one).
    """
    local = _in_zone(time, zone)
    text = local.strftime(fmt)
    return f"{text} {zone_label(local)}" if with_zone else text


def zone_labels(times: Iterable[datetime], zone: tzinfo | None) -> list[str]:
    """The zone abbreviations of ``times`` in ``zone``, each once, in order of appearance:
    two when the times cross a change to or from summer time (``["CEST", "CET"]``)."""
    return list(dict.fromkeys(zone_label(_in_zone(t, zone)) for t in times))


def local_cells(times: Iterable[datetime], zone: tzinfo | None, fmt: str = "%H:%M:%S",
                row_dates: Iterable[date] | None = None) -> tuple[list[str], list[str]]:
    """``times`` in ``zone`` as ``fmt``, and their abbreviations (:func:`zone_labels`).

    When the times do not share one abbreviation (a change to or from summer time among
    them), each cell carries its own (``02:30:00 CEST``, ``02:30:00 CET``), so that a title
    naming one abbreviation for them all can never be wrong for some of them.

    Parameters
    ----------
    times : iterable of datetime.datetime or pandas.Timestamp
        The instants (naive ones are UTC).
    zone : tzinfo or None
        The zone to show them in; ``None``: UTC.
    fmt : str
        :meth:`~datetime.datetime.strftime` format of each.
    row_dates : iterable of datetime.date, optional
        The date each time's row shows (a night sheet's night, which runs past midnight): a
        time on another local date says so, ``01:10:00 +1d`` (``19:00:00 -1d`` west of UTC).
    """
    local = [_in_zone(t, zone) for t in times]
    labels = zone_labels(local, zone)
    days = ([""] * len(local) if row_dates is None else
            [_later_day(t.date(), day) for t, day in zip(local, row_dates, strict=True)])
    return [t.strftime(fmt) + day + (f" {zone_label(t)}" if len(labels) > 1 else "")
            for t, day in zip(local, days, strict=True)], labels


def local_dates(times: Iterable[datetime], zone: tzinfo | None, fmt: str = "%a %d %b") -> str:
    """The local dates ``times`` fall on in ``zone`` (``None``: UTC): the one date
    (``Sun 25 Oct``), or the first and the last (``Sat 24 Oct–Sun 25 Oct``) when the times
    run past local midnight."""
    local = sorted(_in_zone(t, zone) for t in times)
    first, last = local[0].strftime(fmt), local[-1].strftime(fmt)
    return first if first == last else f"{first}–{last}"


def _later_day(day: date, first: date) -> str:
    """`` +Nd`` when ``day`` is after ``first``, `` -Nd`` before it (a night dated in UTC
    seen from west of it), else nothing."""
    days = (day - first).days
    return f" {days:+d}d" if days else ""


def _span_parts(times: Sequence[datetime], zone: tzinfo | None, formats: Sequence[str]
                ) -> tuple[list[str], list[str]]:
    """The texts of a span's times (each later one with :func:`_later_day`) and their
    abbreviations."""
    local = [_in_zone(t, zone) for t in times]
    texts = [t.strftime(fmt) + (_later_day(t.date(), local[0].date()) if k else "")
             for k, (t, fmt) in enumerate(zip(local, formats, strict=True))]
    return texts, [zone_label(t) for t in local]


def span_cells(times: Sequence[datetime], zone: tzinfo | None, fmt: str = "%H:%M:%S", *,
               marked: bool = False) -> list[str]:
    """The times of one span (a pass's AOS, TCA and LOS) as the cells of a table row whose
    date is the first time's local date.

    A later time on a later local date carries ``+1d``. With ``marked`` (the table's times
    do not share one abbreviation, :func:`zone_labels`) the first time carries its
    abbreviation, and a later one its own where it differs from the first's (a pass across
    the change itself); otherwise the title names the one abbreviation.

    Returns
    -------
    list of str
        E.g. ``["23:58:10", "00:01:02 +1d", "00:04:40 +1d"]``;
        ``["02:58:00 CEST", "02:01:00 CET", "02:04:00 CET"]`` when marked.
    """
    texts, labels = _span_parts(times, zone, [fmt] * len(times))
    first = f"{texts[0]} {labels[0]}" if marked else texts[0]
    return [first, *(f"{text} {label}" if label != labels[0] else text
                     for text, label in zip(texts[1:], labels[1:], strict=True))]


def local_span(start: datetime, end: datetime, zone: tzinfo | None,
               start_fmt: str = "%a %d %b %H:%M", end_fmt: str = "%H:%M", *,
               with_zone: bool = True) -> str:
    """A span of time (a pass's rise and set) as one text in ``zone`` (``None``: UTC).

    The end carries ``+1d`` when it falls on a later local date than the start. The zone
    abbreviation comes once, after the end; across a change to or from summer time the start
    carries its own too. ``with_zone=False`` leaves them out (a heading names the zone).

    Returns
    -------
    str
        E.g. ``Tue 01 Dec 21:47–21:53 CST``, ``Sat 24 Oct 23:58–00:04 +1d BST``,
        ``Sun 25 Oct 02:58 CEST–02:04 CET``.
    """
    (first, last), (first_label, last_label) = _span_parts([start, end], zone,
                                                           [start_fmt, end_fmt])
    if not with_zone:
        return f"{first}–{last}"
    if first_label != last_label:
        return f"{first} {first_label}–{last} {last_label}"
    return f"{first}–{last} {last_label}"


def zone_title(labels: Sequence[str], name: str) -> str:
    """How a title names the zone of a table's local times.

    Parameters
    ----------
    labels : sequence of str
        The abbreviations of the table's times (:func:`zone_labels`).
    name : str
        The zone's name (:func:`zone_name`, e.g. ``Europe/Vienna``).

    Returns
    -------
    str
        ``CST (Asia/Shanghai)`` for one abbreviation (just ``UTC`` when it is the name);
        ``Europe/Vienna (CEST/CET, as marked)`` when the times carry their own
        (:func:`local_cells`, :func:`span_cells`).
    """
    if len(labels) > 1:
        return f"{name} ({'/'.join(labels)}, as marked)"
    label = labels[0] if labels else name
    return label if label == name else f"{label} ({name})"
