"""The design-sweep figure: the key budget against each swept axis, one panel per axis."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from planner.report.figures.style import MBIT, style_figure

__all__ = ["MEASURES", "MEASURE_STYLES", "sweep_figure"]

MEASURES = (("secure_bits", "finite-key, clear sky"),
            ("expected_secure_bits", "expected with weather"))
"""Columns of the sweep table drawn in every panel, with their legend names."""

MEASURE_STYLES = {"secure_bits": {"color": "#1f77b4", "dash": "solid", "symbol": "circle"},
                  "expected_secure_bits": {"color": "#e6550d", "dash": "dash",
                                           "symbol": "diamond"}}
"""Each measure's colour, line dash and marker: blue and orange (CIEDE2000 about 50 apart, and
apart for the common red-green colour-vision deficiencies too), with a dash and marker besides,
so the two lines differ without colour. (They were the station palette's first two, which the
CIE76 distance made D3's blue and pure blue.)"""

PANEL_HEIGHT_PX = 300
"""Height of one panel's plot area [px]."""
PANEL_GAP_PX = 120
"""Space between panels [px], room for the x-axis title above and the next panel's title."""


def _categorical(values: pd.Series) -> bool:
    return not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def sweep_figure(table: pd.DataFrame, axis_titles: Mapping[str, str], *,
                 title: str = "Key budget against each axis") -> go.Figure:
    """One panel per swept axis: the period's key for each value of that axis.

    Numeric axes (aperture, divergence, elevation, satellites, ...) are drawn as lines with
    markers; categorical ones (station subsets) as grouped bars on a category axis, since
    their order means nothing. Each measure keeps one colour in every panel.

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep table: ``axis, value`` and the :data:`MEASURES` columns [bit].
    axis_titles : mapping
        A description of each axis (with its unit), used as the panel title.
    title : str
        The figure title.
    """
    axes = list(dict.fromkeys(table["axis"]))
    plot_height = len(axes) * PANEL_HEIGHT_PX + (len(axes) - 1) * PANEL_GAP_PX
    fig = make_subplots(rows=len(axes), cols=1,
                        subplot_titles=[axis_titles.get(a, a) for a in axes],
                        vertical_spacing=PANEL_GAP_PX / plot_height if len(axes) > 1 else 0)
    for row, axis in enumerate(axes, start=1):
        part = table[table["axis"] == axis]
        categorical = _categorical(part["value"])
        x = ([", ".join(v) if isinstance(v, (list, tuple)) else str(v) for v in part["value"]]
             if categorical else part["value"].astype(float))
        for column, name in MEASURES:
            style = MEASURE_STYLES[column]
            common = {"name": name, "legendgroup": column, "showlegend": row == 1,
                      "hovertemplate": f"{axis} %{{x}}: %{{y:,.2f}} Mbit<extra>{name}</extra>"}
            y = part[column].to_numpy(float) / MBIT
            if categorical:
                trace = go.Bar(x=x, y=y, marker={"color": style["color"]}, **common)
            else:
                trace = go.Scatter(x=x, y=y, mode="lines+markers",
                                   line={"color": style["color"], "width": 2,
                                         "dash": style["dash"]},
                                   marker={"color": style["color"], "size": 8,
                                           "symbol": style["symbol"]}, **common)
            fig.add_trace(trace, row=row, col=1)
        fig.update_xaxes(title={"text": axis}, type="category" if categorical else "linear",
                         row=row, col=1)
        fig.update_yaxes(title={"text": "key over the period [Mbit]"}, rangemode="tozero",
                         row=row, col=1)
    fig.update_layout(barmode="group")
    style_figure(fig, title, subtitle="one axis varied at a time from the base case",
                 height=plot_height + 200, legend_title="")
    for annotation in fig.layout.annotations:  # panel titles clear of the legend and axes
        annotation.update(yshift=8)
    return fig
