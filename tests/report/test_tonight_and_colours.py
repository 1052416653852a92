"""Issue 15's report items: the tonight table, one sky plot per station, distinct station
colours, map labels that do not overlap, provenance folded away."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd

from planner.report.figures.map import label_width_px, place_labels
from planner.report.figures.style import srgb_to_lab, station_colours
from planner.report.summary import summarise
from planner.report.tonight import tonight_section


def test_tonight_lists_the_first_24_hours_in_local_time(build_inputs):
    inputs = build_inputs()
    summary = summarise(inputs)
    start = summary.period[0]
    table = tonight_section(inputs, summary)["parts"][0]
    passes = inputs.passes
    aos = pd.to_datetime(passes["aos_utc"], utc=True)
    expected = passes[(aos >= start) & (aos < start + pd.Timedelta(hours=24))]
    assert len(table["rows"]) == len(expected) > 0
    offsets = {"Beijing": 8, "Jinan": 8, "Stellenbosch": 2}  # CST and SAST, no summer time
    checked = 0
    for row in table["rows"]:
        station, rise_local, rise_set_utc = row[:3]
        if station not in offsets:
            continue
        utc_rise = pd.Timestamp(f"{start.year}-{rise_set_utc[:11]}", tz="UTC")
        local = utc_rise + pd.Timedelta(hours=offsets[station])
        assert rise_local.startswith(local.strftime("%a %d %b %H:%M")), row
        checked += 1
    assert checked
    night = [row for row in table["rows"] if row[3] == "night"]
    assert night and all(row[7] != "—" for row in night)
    assert all(row[7:] == ["—"] * 3 for row in table["rows"] if row[3] != "night")


def test_tonight_section_is_on_the_page(page):
    assert '<section id="sec-tonight">' in page
    assert '<a href="#sec-tonight">Tonight</a>' in page


def test_one_polar_sky_plot_per_station(page, run, figure_specs):
    data, layout = figure_specs(page)["fig-sky"]
    tracks = run["night_tracks"]
    stations = set(run["keys"].loc[tracks["pass_id"].unique(), "station"])
    polars = sorted(k for k in layout if re.fullmatch(r"polar\d*", k))
    assert len(polars) == len(stations) > 1
    by_subplot: dict[str, set] = {}
    for trace in data:
        if trace.get("legendgroup") in stations:
            by_subplot.setdefault(trace.get("subplot", "polar"), set()).add(trace["legendgroup"])
    assert all(len(names) == 1 for names in by_subplot.values())
    assert {next(iter(v)) for v in by_subplot.values()} == stations
    titles = [a["text"] for a in layout["annotations"]]
    assert all(any(f"<b>{s}</b>" in t for t in titles) for s in stations)


def test_provenance_is_folded_away(page):
    section = page[page.index('<section id="sec-provenance">'):]
    assert section.index("<details>") < section.index("element_sets")


def test_lab_conversion_matches_published_values():
    """sRGB white, red and mid-grey in CIE L*a*b* (D65), as published for the sRGB space."""
    np.testing.assert_allclose(srgb_to_lab([1.0, 1.0, 1.0]), [100.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(srgb_to_lab([1.0, 0.0, 0.0]), [53.24, 80.09, 67.20], atol=0.02)
    np.testing.assert_allclose(srgb_to_lab([0.5, 0.5, 0.5]), [53.39, 0.0, 0.0], atol=0.02)


def test_the_twelve_bundled_stations_get_twelve_colours(run):
    names = [s.name for s in run["inputs"].stations]
    from planner.mission.stations import load_stations

    every = [s.name for s in load_stations()]
    colours = station_colours(every)
    assert len(set(colours.values())) == len(every) >= 12
    assert set(names) <= set(colours)


def _boxes(x, y, widths, offsets, height=16.0):
    return [(xi + dx - w / 2, yi + dy - height / 2, xi + dx + w / 2, yi + dy + height / 2)
            for xi, yi, w, (dx, dy) in zip(x, y, widths, offsets, strict=True)]


def test_labels_do_not_overlap_each_other_or_markers():
    rng = np.random.default_rng(3)
    for _ in range(20):
        x, y = rng.uniform(100, 400, 10), rng.uniform(100, 300, 10)
        widths = [label_width_px(n) for n in
                  ("Beijing", "Xinglong", "Jinan", "Hefei", "Shanghai", "Wuhan", "Nanshan",
                   "Delingha", "Lijiang", "Ngari")]
        boxes = _boxes(x, y, widths, place_labels(x, y, widths))
        for a, b in itertools.combinations(boxes, 2):
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        for box in boxes:
            for xi, yi in zip(x, y, strict=True):
                assert not (box[0] < xi < box[2] and box[1] < yi < box[3])
