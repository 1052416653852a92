"""``--tz`` reaches the report: the tonight and per-station tables (and the sky plot) show local
times in the chosen zone and name it; by default each station's own zone, as in the terminal."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pandas as pd

from planner.report import page as report
from planner.report.sections import summary_section
from planner.report.summary import summarise
from planner.report.tonight import tonight_section


def _tables(inputs):
    summary = summarise(inputs)
    tonight = tonight_section(inputs, summary)["parts"][0]
    stations = next(p for p in summary_section(inputs, summary)["parts"]
                    if p["kind"] == "table" and p["header"][0] == "station")
    return tonight, stations


def _column(table, starts: str) -> int:
    return next(i for i, h in enumerate(table["header"]) if h.startswith(starts))


def test_a_chosen_zone_is_named_and_used_in_the_tonight_table(build_inputs):
    inputs = build_inputs(zone=ZoneInfo("Asia/Tokyo"))
    tonight, stations = _tables(inputs)
    local = _column(tonight, "rise–set (")
    assert tonight["header"][local] == "rise–set (Asia/Tokyo)"
    rows = inputs.keys.sort_values("aos_utc")
    start = summarise(inputs).period[0]
    rows = rows[(rows["aos_utc"] >= start) & (rows["aos_utc"] < start + pd.Timedelta(hours=24))]
    assert len(rows) == len(tonight["rows"]) > 0
    for row, aos in zip(tonight["rows"], rows["aos_utc"], strict=True):
        tokyo = pd.Timestamp(aos).tz_convert("Asia/Tokyo")  # UTC+9, no summer time
        assert row[local].startswith(tokyo.strftime("%a %d %b %H:%M")), row
        assert row[local].endswith(" JST"), row
    best = _column(stations, "best pass at")
    assert stations["header"][best] == "best pass at (Asia/Tokyo)"
    assert all(r[best].endswith(" JST") for r in stations["rows"] if r[best] != "—")


def test_by_default_each_station_has_its_own_zone(build_inputs):
    tonight, stations = _tables(build_inputs())
    local = _column(tonight, "rise–set (")
    assert tonight["header"][local] == "rise–set (local)"
    own = {"Beijing": "CST", "Jinan": "CST", "Stellenbosch": "SAST"}
    seen = {row[0] for row in tonight["rows"] if row[0] in own}
    assert seen
    for row in tonight["rows"]:
        if row[0] in own:
            assert row[local].endswith(" " + own[row[0]]), row
    best = _column(stations, "best pass at")
    for row in stations["rows"]:
        if row[0] in own and row[best] != "—":
            assert row[best].endswith(" " + own[row[0]]), row


def test_a_zone_with_only_an_offset_is_written_as_utc_plus(build_inputs, figure_specs):
    inputs = build_inputs(zone=ZoneInfo("Asia/Dubai"))  # the zone database says "+04"
    tonight, _ = _tables(inputs)
    assert all(re.search(r" UTC\+04$", row[1]) for row in tonight["rows"])
    data, layout = figure_specs(report.build_report(inputs))["fig-sky"]
    names = [t["name"] for t in data if "(" in t.get("name", "") and "UTC)" in t["name"]]
    assert names and all(" UTC+04 (" in n for n in names), names
    assert all("UTC+04" in a["text"] for a in layout["annotations"] if "<b>" in a["text"])


def test_utc_is_shown_once(build_inputs, figure_specs):
    # with --tz utc a local column and "(UTC)" beside each sky-plot label would repeat the UTC
    from datetime import UTC

    inputs = build_inputs(zone=UTC)
    tonight, _ = _tables(inputs)
    assert [h for h in tonight["header"] if h.startswith("rise–set")] == ["rise–set (UTC)"]
    assert tonight["rows"]
    assert all(len(row) == len(tonight["header"]) for row in tonight["rows"])
    data, _ = figure_specs(report.build_report(inputs))["fig-sky"]
    names = [t["name"] for t in data if t.get("name", "").count(":") == 1 and "max" in t["name"]]
    assert names and all("UTC" in n and "(" not in n for n in names), names


def test_a_chosen_zone_covers_stations_missing_from_the_list(build_inputs, run):
    listed = [s for s in run["inputs"].stations if s.name != "Stellenbosch"]
    tonight, _ = _tables(build_inputs(zone=ZoneInfo("Asia/Tokyo"), stations=listed))
    rows = [row for row in tonight["rows"] if row[0] == "Stellenbosch"]
    assert rows and all(row[1].endswith(" JST") for row in rows)


def test_a_pass_across_the_end_of_summer_time_names_both_zones():
    """Vienna's clocks go back at 01:00 UTC on 2026-10-25: a pass rising at 00:58 UTC rises
    at 02:58 CEST and sets at 02:04 CET; one abbreviation for both would be wrong for one."""
    from planner.zones import local_span

    vienna = ZoneInfo("Europe/Vienna")
    span = local_span(pd.Timestamp("2026-10-25T00:58Z"), pd.Timestamp("2026-10-25T01:04Z"),
                       vienna)
    assert span == "Sun 25 Oct 02:58 CEST–02:04 CET"
    span = local_span(pd.Timestamp("2026-10-26T21:00Z"), pd.Timestamp("2026-10-26T21:06Z"),
                       vienna)
    assert span == "Mon 26 Oct 22:00–22:06 CET"


def _sky_of_two_passes(station: str, rises: list[str], zone: str) -> tuple[list[str], str]:
    """The subplot titles naming ``station`` and the trace names of a sky plot of two passes
    of ``station`` rising at ``rises`` (UTC), local times in ``zone``."""
    from planner.report.figures.sky import sky_figure

    passes = pd.DataFrame({"station": [station, station], "aos_utc": pd.to_datetime(rises),
                           "max_elevation_deg": [40.0, 50.0]}, index=[7, 8])
    tracks = pd.DataFrame({"pass_id": [7, 7, 8, 8], "azimuth_deg": [10.0, 80.0, 200.0, 300.0],
                           "elevation_deg": [15.0, 20.0, 15.0, 20.0]})
    figure = sky_figure(tracks, passes, {station: "#123456"}, {station: 15.0},
                        night_label="night of the test", local_zones={station: ZoneInfo(zone)})
    titles = [a.text for a in figure.layout.annotations if station in a.text]
    return titles, " ".join(trace.name or "" for trace in figure.data)


def test_sky_plot_title_of_a_night_across_the_end_of_summer_time_names_both_zones():
    titles, names = _sky_of_two_passes("Graz", ["2026-10-25T00:30Z", "2026-10-25T02:00Z"],
                                       "Europe/Vienna")
    assert titles == ["<b>Graz</b>: 2 passes, Sun 25 Oct CEST/CET"], titles
    assert "02:30 CEST" in names and "03:00 CET" in names


def test_tonight_dates_a_set_after_midnight_in_both_columns(tmp_path):
    """Micius over Graz from 23:59 UTC on 28 April 2021 sets after midnight UTC (01:59 to
    02:03 CEST on the 29th): the UTC rise-set says +1d as the local one does when it is
    the local date that changes (the UTC column had the bare set time)."""
    from planner.report.inputs import ReportInputs
    from planner.run import pipeline as jobs
    from tests.conftest import MICIUS_TLE

    path = tmp_path / "micius.tle"
    path.write_text(MICIUS_TLE)
    loaded = jobs.load_inputs([path], station_names=["Graz"], start="2021-04-28T12:00Z",
                              days=1)
    passes = jobs.passes_for(loaded, night_only=False)
    inputs = ReportInputs(passes=passes, stations=loaded.stations,
                          period=(pd.Timestamp(loaded.start), pd.Timestamp(loaded.end)))
    table = tonight_section(inputs, summarise(inputs))["parts"][0]
    local, utc = _column(table, "rise–set (local"), _column(table, "rise–set (UTC")
    crossing = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in
                zip(passes["aos_utc"], passes["los_utc"], strict=True)
                if pd.Timestamp(b).date() > pd.Timestamp(a).date()]
    assert crossing, "a pass across midnight UTC wanted"
    for aos, los in crossing:
        rise, set_ = (t.tz_convert("Europe/Vienna") for t in (aos, los))
        row = next(r for r in table["rows"] if r[utc].startswith(f"{aos:%m-%d %H:%M}"))
        assert row[utc] == f"{aos:%m-%d %H:%M}–{los:%H:%M} +1d", row
        assert row[local] == f"{rise:%a %d %b %H:%M}–{set_:%H:%M} {rise:%Z}", row


def test_sky_plot_title_of_a_night_past_local_midnight_names_both_dates():
    """Beijing passes at 23:30 CST on Tuesday 1 December and 01:10 CST on the Wednesday: the
    title gave only the Tuesday."""
    titles, names = _sky_of_two_passes("Beijing", ["2026-12-01T15:30Z", "2026-12-01T17:10Z"],
                                       "Asia/Shanghai")
    assert titles == ["<b>Beijing</b>: 2 passes, Tue 01 Dec–Wed 02 Dec CST"], titles
    assert "23:30 CST (15:30 UTC)" in names and "01:10 CST (17:10 UTC)" in names


def test_sky_plot_night_label_dates_a_night_past_midnight_utc():
    """Passes from 23:58 UTC on 3 December to 00:04 UTC on the 4th: the span says +1d."""
    from planner.report.figure_sections import _night_label

    passes = pd.DataFrame({"aos_utc": pd.to_datetime(["2026-12-03T23:58Z"]),
                           "tca_utc": pd.to_datetime(["2026-12-04T00:01Z"]),
                           "los_utc": pd.to_datetime(["2026-12-04T00:04Z"]), "night": [True]})
    assert _night_label(passes, passes).endswith(" (23:58–00:04 +1d UTC)")
