"""Tonight: the passes of the first 24 hours of the period, in each station's local time."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from planner.report import parts
from planner.report.format import kbit, utc
from planner.report.inputs import ReportInputs
from planner.report.summary import Summary

__all__ = ["TONIGHT_HOURS", "tonight_passes", "tonight_section", "zone_of"]

TONIGHT_HOURS = 24.0
"""The tonight table lists passes rising within this long after the period's start [h]."""


def zone_of(station: Any) -> ZoneInfo | None:
    """The station's time zone, or ``None`` when it has no valid one."""
    try:
        return ZoneInfo(str(station.timezone))
    except (AttributeError, ValueError, ZoneInfoNotFoundError):
        return None


def tonight_passes(table: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Rows of ``table`` rising in ``[start, start + TONIGHT_HOURS)``, in order of rise."""
    aos = pd.to_datetime(table["aos_utc"], utc=True)
    window = (aos >= start) & (aos < start + pd.Timedelta(hours=TONIGHT_HOURS))
    return table[window.to_numpy()].sort_values("aos_utc")


def _local(value: Any, zone: ZoneInfo | None) -> str:
    stamp = pd.Timestamp(value)
    if zone is None:
        return f"{utc(stamp, '%a %d %b %H:%M')} UTC"
    return stamp.tz_convert(zone).strftime("%a %d %b %H:%M %Z")


def tonight_section(inputs: ReportInputs, summary: Summary) -> dict[str, Any]:
    """Each pass of tonight: local and UTC rise and set, elevation, pointing, key."""
    title = "Tonight"
    if summary.period is None or inputs.passes.empty:
        return parts.section("sec-tonight", title,
                             [parts.note("No passes, so nothing tonight.")])
    start = summary.period[0]
    with_keys = inputs.keys is not None
    rows = tonight_passes(inputs.keys if with_keys else inputs.passes, start)
    end = start + pd.Timedelta(hours=TONIGHT_HOURS)
    lede = (f"Every pass rising from {utc(start)} to {utc(end)} UTC, the first "
            f"{TONIGHT_HOURS:g} hours of the period, with the station's local date and time "
            "(rise and set) and where to point at rise. Daylight and twilight passes carry no "
            "key.")
    if rows.empty:
        return parts.section("sec-tonight", title, [parts.note(
            f"No passes rise from {utc(start)} to {utc(end)} UTC.")], lede)
    zones = {s.name: zone_of(s) for s in inputs.stations}
    header = ["station", "rise (local)", "set (local)", "rise–set (UTC)", "duration [min]",
              "max elevation [deg]", "rise azimuth [deg]", "dark?"]
    if with_keys:
        header += ["secure key [kbit]", "clear-sky probability", "expected key [kbit]"]
    body = []
    for _, r in rows.iterrows():
        zone = zones.get(str(r["station"]))
        row = [r["station"], _local(r["aos_utc"], zone), _local(r["los_utc"], zone),
               f"{utc(r['aos_utc'], '%m-%d %H:%M')}–{utc(r['los_utc'], '%H:%M')}",
               f"{r['duration_s'] / 60:.1f}", f"{r['max_elevation_deg']:.1f}",
               f"{r['aos_azimuth_deg']:.0f}",
               "night" if bool(r["night"]) else "day or twilight (no QKD)"]
        if with_keys:
            row += [kbit(r["secure_bits"]) if bool(r["night"]) else "—",
                    f"{r['clear_sky_probability']:.2f}" if bool(r["night"]) else "—",
                    kbit(r["expected_secure_bits"]) if bool(r["night"]) else "—"]
        body.append(row)
    return parts.section("sec-tonight", title, [parts.table(header, body, numeric_from=4)],
                         lede)
