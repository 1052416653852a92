"""Shared look of the report's figures: template, fonts, station colours, time axes.

Conventions
-----------
* Times go to plotly as milliseconds since 1970-01-01 UTC on axes of type ``date``: numeric
  arrays are written as compact binary (base64) blocks, where ISO strings would cost ~30 bytes a
  point, and plotly shows them as UTC wall-clock times (it applies no time zone).
* Key is shown in kbit (per pass) or Mbit (totals), never in raw bits.
* Stations keep one colour in every figure (:func:`station_colours`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

KBIT = 1e3
MBIT = 1e6
EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius [km] (IUGG), for footprints drawn on a sphere."""

TEMPLATE = go.layout.Template(layout={
    "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "closest",
    "xaxis": {"gridcolor": "#ebebeb", "linecolor": "#bbb", "ticks": "outside",
              "tickcolor": "#bbb", "automargin": True, "zerolinecolor": "#ccc"},
    "yaxis": {"gridcolor": "#ebebeb", "linecolor": "#bbb", "ticks": "outside",
              "tickcolor": "#bbb", "automargin": True, "zerolinecolor": "#ccc"},
    "polar": {"bgcolor": "white"},
    "hoverlabel": {"align": "left"},
})
"""A small template (plotly's own copy ~7 kB into every figure and cost time to apply)."""

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
        "size": 13, "color": "#222"}
PALETTE = [*qualitative.D3, *qualitative.Dark24]
DAY_GREY = "#b8b8b8"
LEGEND_ONLY_DAY_PASSES = 1500
"""With more passes than this, the timeline hides daylight passes until asked (they would
bury the night passes at the scale of months)."""


def station_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per station, stable in the order given."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def epoch_ms(times) -> np.ndarray:
    """Milliseconds since 1970-01-01 UTC of UTC timestamps (float64, NaN for missing)."""
    values = pd.to_datetime(pd.Series(times), utc=True)
    ns = values.to_numpy("datetime64[ns]").astype(np.int64).astype(float)
    ns[values.isna().to_numpy()] = np.nan
    return ns / 1e6


def style_figure(fig: go.Figure, title: str, *, height: int, legend_title: str | None = None,
                 subtitle: str | None = None) -> go.Figure:
    """Apply the report's template, fonts, title (with an optional subtitle) and legend box."""
    text = f"<b>{title}</b>" + (f"<br><sup>{subtitle}</sup>" if subtitle else "")
    fig.update_layout(
        template=TEMPLATE, height=height, font=FONT,
        title={"text": text, "x": 0.01, "xanchor": "left", "font": {"size": 17}},
        margin={"l": 80, "r": 30, "t": 90 if subtitle else 70, "b": 70},
        legend={"title": {"text": legend_title or ""}, "bgcolor": "rgba(255,255,255,0.85)",
                "bordercolor": "#ddd", "borderwidth": 1},
        hoverlabel={"font": {"size": 13}},
    )
    return fig


def date_axis(title: str = "time [UTC]") -> dict[str, Any]:
    """Settings of a UTC time axis."""
    return {"type": "date", "title": {"text": title}, "showgrid": True,
            "hoverformat": "%Y-%m-%d %H:%M:%S"}


def ordered_stations(stations: pd.Series, colours: Mapping[str, str]) -> list[str]:
    """The stations present, in the report's station order (the order of ``colours``)."""
    present = set(stations.astype(str))
    return [s for s in colours if s in present] + sorted(present - set(colours))


def f32(values) -> np.ndarray:
    """Single precision: half the bytes in the page, more than enough to draw."""
    return np.asarray(values, dtype=np.float32)

