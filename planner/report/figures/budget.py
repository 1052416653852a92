"""The monthly key budget with its weather band, and relay key per demand."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from planner.report.figures.style import (
    MBIT,
    f32,
    mark,
    style_figure,
)


def monthly_figure(monthly: pd.DataFrame, band: pd.DataFrame | None,
                   colours: Mapping[str, str], *, band_label: str) -> go.Figure:
    """Expected key per month, stacked by station, with the weather spread of the total.

    Parameters
    ----------
    monthly : pandas.DataFrame
        Expected key [bit], index month label (``YYYY-MM``), one column per station.
    band : pandas.DataFrame, optional
        Index month label; ``p10, p50, p90, clear_sky`` [bit] of the all-station total.
    colours : mapping
        Station colours.
    band_label : str
        Describes the weather scenarios (count, seed, persistence).
    """
    fig = go.Figure()
    months = monthly.index.astype(str).tolist()
    for station in monthly.columns:
        values = monthly[station].to_numpy(float) / MBIT
        fig.add_trace(go.Bar(
            x=months, y=f32(values), name=str(station),
            marker={"color": colours.get(str(station), "#333"),
                    "pattern": {"shape": mark(colours, station, "pattern")}},
            hovertemplate=f"<b>{station}</b><br>%{{x}}: %{{y:,.2f}} Mbit expected"
                          "<extra></extra>"))
    if band is not None and not band.empty:
        p10, p50, p90 = (band[c].to_numpy(float) / MBIT for c in ("p10", "p50", "p90"))
        fig.add_trace(go.Scatter(
            x=band.index.astype(str).tolist(), y=f32(p50), mode="markers",
            name=f"all stations, P50 with P10–P90 range ({band_label})",
            marker={"symbol": "diamond", "size": 10, "color": "#111"},
            error_y={"type": "data", "array": f32(p90 - p50), "arrayminus": f32(p50 - p10),
                     "color": "#111", "thickness": 2, "width": 8},
            customdata=np.column_stack([p10, p90]).astype(np.float32),
            hovertemplate="%{x}: P50 %{y:,.2f} Mbit<br>P10 %{customdata[0]:,.2f} – "
                          "P90 %{customdata[1]:,.2f} Mbit<extra>weather</extra>"))
        fig.add_trace(go.Scatter(
            x=band.index.astype(str).tolist(), y=f32(band["clear_sky"] / MBIT),
            mode="markers", name="all stations if every night were clear",
            marker={"symbol": "line-ew-open", "size": 26, "color": "#555",
                    "line": {"width": 2}},
            hovertemplate="%{x}: %{y:,.2f} Mbit if every night were clear<extra></extra>"))
    fig.update_layout(barmode="stack", bargap=0.25)
    fig.update_xaxes(title={"text": "month (of culmination, UTC)"}, type="category")
    fig.update_yaxes(title={"text": "secure key [Mbit]"}, rangemode="tozero")
    style_figure(fig, "Monthly key budget",
                 subtitle="bars: expected key (clear-sky key × clear-sky probability) by station; "
                 "first and last months may be partial", height=560, legend_title="")
    fig.update_layout(legend={"orientation": "h", "y": -0.3, "x": 0, "traceorder": "normal"})
    return fig


def relay_figure(delivered: pd.DataFrame, weather: pd.DataFrame | None, *,
                 band_label: str | None = None) -> go.Figure:
    """Relay key per demand: planned, the weather spread, and the target.

    Parameters
    ----------
    delivered : pandas.DataFrame
        The plan's ``delivered`` (index demand label): ``delivered_bits, target_bits``.
    weather : pandas.DataFrame, optional
        The plan's ``weather`` (index demand label): ``p10_bits, p50_bits, p90_bits``.
    band_label : str, optional
        Describes the weather scenarios.
    """
    fig = go.Figure()
    labels = delivered.index.astype(str).tolist()
    planned = delivered["delivered_bits"].to_numpy(float) / MBIT
    fig.add_trace(go.Bar(x=labels, y=f32(planned), name="planned (expected key)",
                         marker={"color": "#4c78a8"}, width=0.5,
                         hovertemplate="%{x}: %{y:,.2f} Mbit planned<extra></extra>"))
    if weather is not None and not weather.empty:
        w = weather.reindex(labels)
        p10, p50, p90 = (w[c].to_numpy(float) / MBIT for c in ("p10_bits", "p50_bits",
                                                                "p90_bits"))
        fig.add_trace(go.Scatter(
            x=labels, y=f32(p50), mode="markers",
            name="under sampled weather: P50, P10–P90" + (f" ({band_label})"
                                                          if band_label else ""),
            marker={"symbol": "diamond", "size": 11, "color": "#111"},
            error_y={"type": "data", "array": f32(p90 - p50), "arrayminus": f32(p50 - p10),
                     "color": "#111", "thickness": 2, "width": 10},
            hovertemplate="%{x}: P50 %{y:,.2f} Mbit<extra>weather</extra>"))
    target = delivered["target_bits"].to_numpy(float) / MBIT
    if np.isfinite(target).any():
        fig.add_trace(go.Scatter(
            x=labels, y=f32(target), mode="markers", name="target",
            marker={"symbol": "line-ew-open", "size": 40, "color": "#d62728",
                    "line": {"width": 3}},
            hovertemplate="%{x}: target %{y:,.2f} Mbit<extra></extra>"))
    fig.update_xaxes(title={"text": "relay demand (station A : station B)"}, type="category")
    fig.update_yaxes(title={"text": "key delivered over the period [Mbit]"},
                     rangemode="tozero")
    style_figure(fig, "Relay key per demand", height=480, legend_title="",
                 subtitle="trusted relay through the satellite: key shared by both stations")
    fig.update_layout(legend={"orientation": "h", "y": -0.25, "x": 0})
    return fig

