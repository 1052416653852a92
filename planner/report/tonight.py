"""Tonight: the passes of the first 24 hours of the period, in each station's local time."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from planner.report import parts
from planner.report.format import kbit, utc
from planner.report.inputs import ReportInputs
from planner.report.summary import Summary
from planner.timebase import utc_timestamp
from planner.zones import is_utc, local_span

__all__ = ["TONIGHT_HOURS", "shown_zones", "tonight_passes", "tonight_section", "zone_of"]

TONIGHT_HOURS = 24.0
"""The tonight table lists passes rising within this long after the period's start [h]."""


def zone_of(station: Any) -> ZoneInfo | None:
    """The station's time zone, or ``None`` when it has no valid one."""
    try:
        return ZoneInfo(str(station.timezone))
    except (AttributeError, ValueError, ZoneInfoNotFoundError):
        return None


def shown_zones(inputs: ReportInputs) -> dict[str, tzinfo | None]:
    """The zone each station's local times are shown in: the chosen one (``--tz``,
    :attr:`ReportInputs.zone`), else the station's own (``None``: UTC, no valid zone)."""
    zones = {s.name: inputs.zone if inputs.zone is not None else zone_of(s)
             for s in inputs.stations}
    if inputs.zone is not None:  # stations of the passes that are not in the list too
        zones.update(dict.fromkeys(inputs.passes["station"].astype(str), inputs.zone))
    return zones


def zone_heading(inputs: ReportInputs) -> str:
    """How a column of local times names its zone: ``local`` or the chosen zone's name."""
    return "local" if inputs.zone is None else str(inputs.zone)


def tonight_passes(table: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Rows of ``table`` rising in ``[start, start + TONIGHT_HOURS)``, in order of rise."""
    aos = pd.to_datetime(table["aos_utc"], utc=True)
    window = (aos >= start) & (aos < start + pd.Timedelta(hours=TONIGHT_HOURS))
    return table[window.to_numpy()].sort_values("aos_utc")


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
    when = ("the station's local date and time" if inputs.zone is None
            else f"the date and time in {inputs.zone}")
    lede = (f"Every pass rising from {utc(start)} to {utc(end)} UTC, the first "
            f"{TONIGHT_HOURS:g} hours of the period, with {when} "
            "(rise and set) and where to point at rise. Daylight and twilight passes carry no "
            "key.")
    if rows.empty:
        return parts.section("sec-tonight", title, [parts.note(
            f"No passes rise from {utc(start)} to {utc(end)} UTC.")], lede)
    zones = shown_zones(inputs)
    # with --tz utc a local column would repeat the UTC one
    local_column = not is_utc(inputs.zone)
    header = ["station", *([f"rise–set ({zone_heading(inputs)})"] if local_column else []),
              "rise–set (UTC)", "sky", "duration [min]", "max el. [deg]", "rise az. [deg]"]
    if with_keys:
        header += ["key, clear [kbit]", "P(clear)", "expected [kbit]"]
    night = rows["night"].astype(bool).to_numpy()
    body = []
    for is_night, (_, r) in zip(night, rows.iterrows(), strict=True):
        zone = zones.get(str(r["station"]))
        rise, set_ = utc_timestamp(r["aos_utc"]), utc_timestamp(r["los_utc"])
        row = [r["station"],
               *([local_span(rise, set_, zone)] if local_column else []),
               local_span(rise, set_, None, "%m-%d %H:%M", with_zone=False),
               "night" if is_night else "day (no QKD)",
               f"{r['duration_s'] / 60:.1f}", f"{r['max_elevation_deg']:.1f}",
               f"{r['aos_azimuth_deg']:.0f}"]
        if with_keys:
            row += [kbit(r["secure_bits"]), f"{r['clear_sky_probability']:.2f}",
                    kbit(r["expected_secure_bits"])] if is_night else ["—"] * 3
        body.append(row)
    table = parts.table(header, body, numeric_from=header.index("duration [min]"),
                        css="data dense")
    return parts.section("sec-tonight", title, [table],
                         lede)
