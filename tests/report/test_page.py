"""The key-budget report: content, offline HTML, size, atomic files, bad output paths.

The fixture is a real run: the bundled (representative) Jinan-1 set over the seven Jinan-1
stations for three days (pass finder, per-second tracks, the key model of ``planner.key.perpass``, a
MILP relay plan with weather scenarios). References are independent where there is one:
docs/reference.md §1 for the footprint.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner import __version__
from planner.errors import OptionError, PlannerInputError
from planner.geometry.passes import PASS_COLUMNS
from planner.io import atomic as output_module
from planner.report import figures as figs
from planner.report import files as report_files
from planner.report import page as report
from planner.run import pipeline as jobs


def without_plotlyjs(text: str) -> str:
    """The page with the embedded plotly.js bundle cut out (it names CDNs in its own code)."""
    start = text.index("<script type=\"text/javascript\">/**\n* plotly.js v")
    end = text.index("</script>", start)
    return text[:start] + text[end:]


# ---------------------------------------------------------------------------------------------
# Content
# ---------------------------------------------------------------------------------------------


def test_every_section_and_figure_is_present(page):
    for section in report.SECTION_IDS:
        assert f'<section id="{section}">' in page
    for figure in report.FIGURE_IDS:
        assert f'<div id="{figure}" class="plotly-graph-div"' in page
        assert f'Plotly.newPlot(                        "{figure}"' in page
    assert page.count("class=\"note\"") == 0, "a full run leaves no part out"


def test_every_figure_has_title_axis_titles_and_legend(page, figure_specs):
    figures = figure_specs(page)
    assert set(figures) == set(report.FIGURE_IDS)
    for name, (data, layout) in figures.items():
        assert layout["title"]["text"].strip(), name
        assert any(trace.get("name") for trace in data), f"{name}: no legend entries"
        axes = [k for k in layout if re.fullmatch(r"[xy]axis\d*", k)]
        for axis in axes:
            if layout[axis].get("title", {}).get("text") == "":
                continue  # the upper panel of a shared time axis
            assert layout[axis]["title"]["text"].strip(), f"{name} {axis}"
        if name == "fig-sky":
            assert layout["polar"]["angularaxis"]["direction"] == "clockwise"
        else:
            assert axes, name
    units = {"fig-timeline": "[UTC]", "fig-key-elevation": "[kbit]", "fig-cumulative": "[Mbit]",
             "fig-buffers": "[Mbit]", "fig-monthly": "[Mbit]", "fig-relay": "[Mbit]",
             "fig-groundtrack": "[deg E]"}
    for name, unit in units.items():
        assert unit in json.dumps(figures[name][1]), name


def test_summary_numbers(page, run):
    keys, passes = run["keys"], run["passes"]
    night = keys[keys["night"]]
    assert f"{len(passes):,} passes over 7 station(s)" in page
    assert f"{int(passes['night'].sum()):,} are at night" in page
    usable = int((night["secure_bits"] > 0).sum())
    assert f"{usable:,} of those yield secure key" in page
    assert f"{night['expected_secure_bits'].sum() / 1e6:,.1f} Mbit" in page
    for station, group in night.groupby("station"):
        row = re.search(rf"<tr><td>{station}</td>(.*?)</tr>", page).group(1)
        assert f"{group['expected_secure_bits'].sum() / 1e6:,.2f}" in row
    delivered = run["plan"].delivered
    for demand, row in delivered.iterrows():
        assert f"<td>{demand}</td>" in page
        assert f"{row['delivered_bits'] / 1e6:,.2f}" in page
    unmet = delivered["unmet_bits"].dropna().sum()
    assert f"{unmet / 1e6:,.1f} Mbit" in page and "unmet demand" in page


def test_provenance_values_present(page, run):
    assert "2026-11-24T00:00:00" in page  # element-set epoch: the generated default's, at START
    assert "generated Jinan-1-class orbit" in page and "ground_stations.yaml" in page
    assert f"qkdplan {__version__}" in page
    model = run["keys"].attrs["key_model"]
    assert f"<th>payload</th><td>{model['payload']}</td>" in page
    assert "repetition_rate_hz" in page and "625000000" in page
    assert f"<th>seed</th><td>{run['plan_seed']}</td>" in page  # plan weather
    assert f"<th>seed</th><td>{run['band_seed']}</td>" in page  # report's monthly band
    assert "Representative orbit." in page


def test_title_and_names_are_escaped(page):
    assert "Jinan-1 key budget &lt;test&gt;" in page
    assert "<test>" not in without_plotlyjs(page)


# ---------------------------------------------------------------------------------------------
# Offline, one plotly.js, size
# ---------------------------------------------------------------------------------------------


def test_page_is_self_contained(page):
    assert page.count("* plotly.js v") == 1, "plotly.js embedded exactly once"
    rest = without_plotlyjs(page)
    assert not re.search(r"<script[^>]+src=", rest, re.I)
    assert not re.search(r"<link[^>]+href=", rest, re.I)
    assert "cdn." not in rest.lower()
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", rest, re.I)
    for geo in ("scattergeo", "choropleth", "scattermap", "topojson"):
        assert f'"type":"{geo}"' not in rest and "topojson" not in rest


def test_year_of_seven_stations_stays_small(run, build_inputs):
    """365 days x 7 stations: the three-day run repeated (same pass density), under 10 MB."""
    keys = run["keys"]
    shifted = []
    for k in range(122):
        part = keys.copy()
        for column in ("aos_utc", "tca_utc", "los_utc"):
            part[column] = part[column] + pd.Timedelta(days=run["days"] * k)
        shifted.append(part)
    year = pd.concat(shifted, ignore_index=True)
    year.attrs = keys.attrs
    assert len(year) > 5000
    page = report.build_report(build_inputs(passes=year, keys=year, tracks=None,
                                            period=(year["aos_utc"].min(),
                                                    year["los_utc"].max())))
    size = len(page.encode())
    data = len(without_plotlyjs(page).encode())
    print(f"year-scale report: {size / 1e6:.2f} MB, of which data {data / 1e6:.2f} MB")
    assert size < 10e6
    assert data < 2.5e6
    assert '"2027-11"' in page or "2027-11" in page  # thirteen months in the budget


def test_sky_tracks_are_decimated(run):
    tracks = run["night_tracks"]
    thin = figs.decimate_tracks(tracks, report.SKY_STEP_S)
    passes = tracks["pass_id"].nunique()
    seconds = tracks.groupby("pass_id")["t_s"].max().sum()
    assert len(thin) <= seconds / report.SKY_STEP_S + 2 * passes
    for pass_id, group in tracks.groupby("pass_id"):  # ends are kept
        kept = thin[thin["pass_id"] == pass_id]["t_s"]
        assert kept.min() == group["t_s"].min() and kept.max() == group["t_s"].max()


# ---------------------------------------------------------------------------------------------
# Missing parts are said in words
# ---------------------------------------------------------------------------------------------


def test_no_passes_says_so_instead_of_plotting(run, build_inputs):
    empty = run["passes"].iloc[:0]
    page = report.build_report(build_inputs(
        passes=empty, keys=run["keys"].iloc[:0], tracks=None, plan=None, ground_track=None))
    assert "No passes: JINAN-1 (REPRESENTATIVE) does not rise above the minimum elevation" in page
    assert "Plotly.newPlot" not in page
    assert 'class="plotly-graph-div"' not in page
    for section in report.SECTION_IDS:
        assert f'<section id="{section}">' in page
    assert "2026-11-24T00:00:00" in page  # provenance is still there


def test_real_empty_selection(run):
    """A real run with no pass: one station, one hour of daylight with the satellite away."""
    inputs = jobs.load_inputs(start="2026-11-24T04:00:00Z", days=1 / 24,
                              station_names=["Stellenbosch"])
    passes = jobs.passes_for(inputs, night_only=False)
    assert passes.empty
    page = report.build_report(report.ReportInputs(
        passes=passes, stations=inputs.stations, provenance=jobs.run_provenance(inputs)))
    assert "No passes" in page and "Stellenbosch" in page and "Plotly.newPlot" not in page
    assert "2026-11-24 04:00 to 2026-11-24 05:00 UTC" in page


def test_no_night_passes(run, build_inputs):
    day_keys = run["keys"][~run["keys"]["night"]]
    page = report.build_report(build_inputs(passes=day_keys, keys=day_keys, tracks=None,
                                            plan=None))
    assert "No night passes in the selection" in page
    assert 'id="fig-timeline"' in page and 'id="fig-groundtrack"' in page
    for figure in ("fig-key-elevation", "fig-cumulative", "fig-monthly", "fig-sky"):
        assert f'id="{figure}"' not in page


def test_passes_only(run):
    page = report.build_report(report.ReportInputs(passes=run["passes"],
                                                   stations=run["inputs"].stations))
    assert "No key table was given" in page
    assert "No relay plan in this run" in page
    assert "No per-second tracks were given" in page
    assert "No ground-track samples were given" in page
    assert 'id="fig-timeline"' in page and 'id="fig-groundtrack"' in page
    assert 'id="fig-monthly"' not in page and 'id="fig-buffers"' not in page


def test_tracks_from_another_table_are_rejected(run, build_inputs):
    tracks = run["night_tracks"].assign(pass_id=run["night_tracks"]["pass_id"] + 10_000)
    with pytest.raises(PlannerInputError, match=r"tracks\.pass_id"):
        report.build_report(build_inputs(tracks=tracks))
    with pytest.raises(PlannerInputError, match="keys"):
        report.build_report(build_inputs(keys=run["keys"].drop(columns="qber")))


# ---------------------------------------------------------------------------------------------
# Files: atomic, tables beside the page, bad output paths
# ---------------------------------------------------------------------------------------------


def test_write_report_writes_page_and_tables(tmp_path, run, build_inputs):
    paths = report.write_report(tmp_path / "budget.html", build_inputs())
    assert {p.name for p in tmp_path.iterdir()} == {
        "budget.html", "budget_passes.csv", "budget_keys.csv", "budget_summary.json"}
    assert paths["html"] == tmp_path / "budget.html"
    passes = pd.read_csv(paths["passes"], comment="#")
    assert list(passes.columns) == PASS_COLUMNS
    assert len(passes) == len(run["passes"])
    assert passes["aos_utc"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").all()
    keys = pd.read_csv(paths["keys"], comment="#")
    assert list(keys.columns) == ["pass_id", *PASS_COLUMNS, *report.KEY_COLUMNS]
    assert (keys["pass_id"].to_numpy() == run["keys"].index.to_numpy()).all()
    header = paths["keys"].read_text().splitlines()[0]
    assert header.startswith("pass_id,satellite,")
    document = json.loads(paths["summary"].read_text())
    assert document["provenance"]["key_model"]["payload"] == "jinan-1"
    assert document["provenance"]["monthly_weather_band"]["seed"] == run["band_seed"]
    assert document["totals"]["passes"] == len(run["passes"])
    assert {r["demand"] for r in document["relay"]} == set(run["plan"].delivered.index)
    assert document["plan"]["weather"]["info"]["seed"] == run["plan_seed"]
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")


def test_failure_while_building_writes_nothing(tmp_path, monkeypatch, build_inputs):
    def broken(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(figs, "monthly_figure", broken)
    with pytest.raises(RuntimeError, match="figure failed"):
        report.write_report(tmp_path / "r.html", build_inputs())
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_leaves_the_previous_set(tmp_path, monkeypatch, build_inputs):
    old = tmp_path / "r.html"
    old.write_text("previous report")
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith(".html"):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(output_module.os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        report.write_report(old, build_inputs())
    # the tables renamed before the page are taken back: the set is the previous one, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
    assert old.read_text() == "previous report"


def test_missing_directory_is_an_option_error_before_any_work(tmp_path, monkeypatch,
                                                             build_inputs):
    monkeypatch.setattr(report_files, "render_report", _must_not_run)
    with pytest.raises(OptionError, match=r"^output: ") as info:
        report.write_report(tmp_path / "nowhere" / "r.html", build_inputs())
    assert "does not exist" in str(info.value)
    with pytest.raises(OptionError, match=r"^output: "):
        report.check_report_path(tmp_path / "nowhere" / "r.html")
    with pytest.raises(OptionError, match="is a directory"):
        report.check_report_path(tmp_path)


def test_read_only_directory_is_an_option_error(tmp_path, monkeypatch, build_inputs):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: make the permission check see what a user sees
        real_access = os.access
        monkeypatch.setattr(output_module.os, "access",
                            lambda p, mode: False if Path(p) == locked else real_access(p, mode))
    monkeypatch.setattr(report_files, "render_report", _must_not_run)
    try:
        with pytest.raises(OptionError, match=r"^output: .*not writable"):
            report.write_report(locked / "r.html", build_inputs())
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def _must_not_run(*args, **kwargs):
    raise AssertionError("the output path must be checked before any work")


def test_report_paths():
    paths = report.report_paths("out/budget.html")
    assert paths["passes"] == Path("out/budget_passes.csv")
    assert paths["keys"] == Path("out/budget_keys.csv")
    assert paths["summary"] == Path("out/budget_summary.json")
    assert report.report_paths("budget")["html"] == Path("budget")


# ---------------------------------------------------------------------------------------------
# Helpers: footprints, the chosen night
# ---------------------------------------------------------------------------------------------


def test_footprint_radius_matches_reference():
    """docs/reference.md §1: the footprint radius at 10 deg elevation is about 1,560 km at 500
    km."""
    radius = figs.footprint_angle_rad(10.0, 500.0) * figs.EARTH_RADIUS_KM
    assert abs(radius - 1560.0) < 15.0
    lat, lon = figs.small_circle(39.9, 116.4, np.radians(12.0))
    ok = np.isfinite(lat)
    a, b = np.radians(39.9), np.radians(116.4)
    cos_angle = (np.sin(a) * np.sin(np.radians(lat[ok]))
                 + np.cos(a) * np.cos(np.radians(lat[ok])) * np.cos(np.radians(lon[ok]) - b))
    np.testing.assert_allclose(np.degrees(np.arccos(cos_angle)), 12.0, atol=1e-9)


def test_circles_break_at_the_antimeridian():
    _, lon = figs.small_circle(0.0, 179.0, np.radians(5.0))
    assert np.isnan(lon).any()
    finite = lon[np.isfinite(lon)]
    assert finite.min() >= -180.0 and finite.max() < 180.0
    runs = np.split(lon, np.flatnonzero(np.isnan(lon)))
    assert all(np.all(np.abs(np.diff(r[np.isfinite(r)])) < 180.0) for r in runs)


def test_choose_night(run):
    keys = run["keys"]
    chosen = run["night"]
    night = keys[keys["night"]].sort_values("aos_utc")
    # by default tonight: the first night pass and every night pass within its night
    assert night.index[0] in chosen.index
    assert chosen["night"].all() and len(chosen) >= 2
    assert (chosen["los_utc"].max() - chosen["aos_utc"].min()) < pd.Timedelta(hours=16)
    # the busiest night: no other 16-hour window of night passes starting at a night pass's
    # AOS holds more expected key
    best = max(night[(night["aos_utc"] >= t) & (night["aos_utc"] < t + pd.Timedelta(hours=16))]
               ["expected_secure_bits"].sum() for t in night["aos_utc"])
    busiest = report.choose_night(keys, "best")
    assert busiest["expected_secure_bits"].sum() == pytest.approx(best)
    date = busiest["tca_utc"].min().strftime("%Y-%m-%d")
    assert report.choose_night(keys, date).index.equals(busiest.index)
    with pytest.raises(OptionError) as error:
        report.choose_night(keys, "2030-01-01")
    assert error.value.field == "night"
    assert report.choose_night(keys[~keys["night"]]).empty


def test_night_views(run):
    keys, inputs = run["keys"], run["inputs"]
    tracks, track = report.night_views(keys, inputs.catalogue, inputs.stations)
    chosen = run["night"]
    assert set(tracks["pass_id"]) == set(chosen.index)
    given, _ = report.night_views(keys, inputs.catalogue, inputs.stations, tracks=run["tracks"])
    np.testing.assert_allclose(tracks["elevation_deg"], given["elevation_deg"], atol=1e-6)
    assert track["time_utc"].min() <= chosen["aos_utc"].min()
    assert track["time_utc"].max() >= chosen["los_utc"].max() - pd.Timedelta(seconds=30)
    assert report.night_views(keys[~keys["night"]], inputs.catalogue,
                              inputs.stations) == (None, None)
