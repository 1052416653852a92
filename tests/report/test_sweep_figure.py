"""The sweep plot: panels apart, one colour per measure, station subsets as categories."""

from __future__ import annotations

import itertools

import pandas as pd

from planner.report.figures.sweep import MEASURES, PANEL_GAP_PX, sweep_figure
from planner.run.sweep import AXES, sweep_figure_html


def sweep_table() -> pd.DataFrame:
    rows = []
    for value, bits in ((0.2, 1e6), (0.5, 4e6), (1.0, 9e6)):
        rows.append({"axis": "aperture_m", "value": value, "secure_bits": bits,
                     "expected_secure_bits": bits / 2})
    for value, bits in ((["Beijing", "Stellenbosch"], 3e6), (["Jinan", "Hefei"], 5e6)):
        rows.append({"axis": "stations", "value": value, "secure_bits": bits,
                     "expected_secure_bits": bits / 3})
    for value in (10, 20, 30):
        rows.append({"axis": "min_elevation_deg", "value": value, "secure_bits": 1e6 / value,
                     "expected_secure_bits": 5e5 / value})
    return pd.DataFrame(rows)


def test_panels_titles_colours_and_categories():
    fig = sweep_figure(sweep_table(), AXES)
    layout = fig.layout
    # panels stay PANEL_GAP_PX apart: room for an axis title and the next panel's title
    plot_px = layout.height - layout.margin.t - layout.margin.b
    domains = sorted((layout[f"yaxis{'' if i == 1 else i}"].domain for i in (1, 2, 3)),
                     key=lambda d: d[0])
    for lower, upper in itertools.pairwise(domains):
        assert (upper[0] - lower[1]) * plot_px >= 0.8 * PANEL_GAP_PX
    titles = [a.text for a in layout.annotations]
    assert titles == [AXES["aperture_m"], AXES["stations"], AXES["min_elevation_deg"]]
    # one colour per measure, the same in every panel, different between measures
    colours: dict[str, set] = {}
    for trace in fig.data:
        colour = trace.marker.color
        colours.setdefault(trace.legendgroup, set()).add(colour)
    assert all(len(c) == 1 for c in colours.values()) and len(colours) == len(MEASURES)
    assert len({next(iter(c)) for c in colours.values()}) == len(MEASURES)
    # the station subsets are categories drawn as bars; numeric axes as lines
    by_axis = {trace.xaxis: trace.type for trace in fig.data}
    assert by_axis == {"x": "scatter", "x2": "bar", "x3": "scatter"}
    assert layout.xaxis2.type == "category" and layout.xaxis.type == "linear"
    assert list(fig.data[2].x) == ["Beijing, Stellenbosch", "Jinan, Hefei"]
    assert sum(trace.showlegend is not False for trace in fig.data) == len(MEASURES)


def test_html_page_embeds_plotly():
    page = sweep_figure_html(sweep_table())
    assert page.lower().startswith("<!doctype html>") and "plotly.js" in page
