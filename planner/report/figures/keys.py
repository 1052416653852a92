"""Key per pass against elevation, cumulative key and on-board key buffers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from planner.report.figures.style import (
    KBIT,
    MBIT,
    date_axis,
    distinct_colours,
    epoch_ms,
    f32,
    mark,
    ordered_stations,
    style_figure,
)


def key_elevation_figure(keys: pd.DataFrame, colours: Mapping[str, str], *,
                         min_key_elevation_deg: float | None = None) -> go.Figure:
    """Clear-sky secure key of each night pass against its maximum elevation.

    Parameters
    ----------
    keys : pandas.DataFrame
        Night rows of the key table: ``station, tca_utc, max_elevation_deg, secure_bits,
        secure_bits_asymptotic, qber, expected_secure_bits``.
    colours : mapping
        Station colours.
    min_key_elevation_deg : float, optional
        Lowest elevation the payload uses for key, drawn as a vertical line.
    """
    fig = go.Figure()
    hover = ("<b>%{fullData.name}</b><br>TCA %{customdata[0]} UTC<br>"
             "max elevation %{x:.1f}°<br>secure key %{y:,.0f} kbit (clear sky)<br>"
             "expected %{customdata[1]:,.0f} kbit, QBER %{customdata[2]:.2%}<extra></extra>")
    for station in ordered_stations(keys["station"], colours):
        rows = keys[keys["station"] == station]
        custom = np.empty((len(rows), 3), dtype=object)
        custom[:, 0] = pd.to_datetime(rows["tca_utc"], utc=True).dt.strftime(
            "%Y-%m-%d %H:%M").to_numpy()
        custom[:, 1] = np.round(rows["expected_secure_bits"].to_numpy(float) / KBIT, 1)
        custom[:, 2] = np.round(rows["qber"].to_numpy(float), 5)
        fig.add_trace(go.Scatter(
            x=f32(rows["max_elevation_deg"]), y=f32(rows["secure_bits"] / KBIT),
            mode="markers", name=str(station), customdata=custom,
            marker={"color": colours.get(str(station), "#333"), "size": 7, "opacity": 0.8,
                    "symbol": mark(colours, station, "symbol")},
            hovertemplate=hover))
    fig.add_trace(go.Scatter(
        x=f32(keys["max_elevation_deg"]), y=f32(keys["secure_bits_asymptotic"] / KBIT),
        mode="markers", name="asymptotic bound (upper limit, all stations)",
        marker={"symbol": "x-thin-open", "size": 7, "color": "#777"}, visible="legendonly",
        hovertemplate="max elevation %{x:.1f}°<br>asymptotic %{y:,.0f} kbit<extra></extra>"))
    if min_key_elevation_deg is not None:
        fig.add_vline(x=min_key_elevation_deg, line={"color": "#999", "dash": "dash"},
                      annotation_text=f"key from {min_key_elevation_deg:g}°",
                      annotation_position="top right")
    fig.update_xaxes(title={"text": "maximum elevation of the pass [deg]"}, range=[0, 91],
                     dtick=15)
    fig.update_yaxes(title={"text": "secure key per pass [kbit]"}, rangemode="tozero")
    style_figure(fig, "Secure key per night pass against maximum elevation",
                 subtitle="finite-key length under a clear sky (weather not applied); "
                 "higher passes are shorter-range and longer", height=520,
                 legend_title="station")
    return fig


def cumulative_figure(keys: pd.DataFrame, colours: Mapping[str, str], *,
                      start_ms: float, end_ms: float,
                      delivered: Mapping[str, pd.DataFrame] | None = None,
                      targets: Mapping[str, float | None] | None = None) -> go.Figure:
    """Cumulative expected key per station and, with a plan, relay key per demand.

    Parameters
    ----------
    keys : pandas.DataFrame
        Night rows of the key table: ``station, los_utc, expected_secure_bits``.
    colours : mapping
        Station colours.
    start_ms, end_ms : float
        The period [ms since 1970, UTC]; every curve starts at zero and runs to the end.
    delivered : mapping of str to DataFrame, optional
        Per demand label, its relay hops into the far station (``time_utc, bits``).
    targets : mapping, optional
        Target per demand [bit] (``None``: no target).
    """
    rows = 2 if delivered else 1
    titles = ["expected key shared with each station (weather applied as clear-sky probability)"]
    if delivered:
        titles.append("relay key delivered per demand (plan)")
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=titles)
    for station in ordered_stations(keys["station"], colours):
        group = keys[keys["station"] == station].sort_values("los_utc")
        x = np.r_[start_ms, epoch_ms(group["los_utc"]), end_ms]
        total = np.cumsum(group["expected_secure_bits"].to_numpy(float)) / MBIT
        y = np.r_[0.0, total, total[-1] if total.size else 0.0]
        fig.add_trace(go.Scatter(
            x=x, y=f32(y), mode="lines", line={"shape": "hv", "width": 2,
                                                "color": colours.get(str(station), "#333"),
                                                "dash": mark(colours, station, "dash")},
            name=str(station), legendgroup="stations", legendgrouptitle={"text": "station"},
            hovertemplate=f"<b>{station}</b><br>%{{x|%Y-%m-%d %H:%M}} UTC<br>"
                          "%{y:,.2f} Mbit<extra></extra>"), row=1, col=1)
    demand_colours = distinct_colours(len(colours) + len(delivered or {}))[len(colours):]
    for (label, hops), colour in zip((delivered or {}).items(), demand_colours, strict=True):
        hops = hops.sort_values("time_utc")
        total = np.cumsum(hops["bits"].to_numpy(float)) / MBIT
        x = np.r_[start_ms, epoch_ms(hops["time_utc"]), end_ms]
        y = np.r_[0.0, total, total[-1] if total.size else 0.0]
        fig.add_trace(go.Scatter(
            x=x, y=f32(y), mode="lines", line={"shape": "hv", "width": 2.5, "color": colour},
            name=label, legendgroup="demands", legendgrouptitle={"text": "relay demand"},
            hovertemplate=f"<b>{label}</b><br>%{{x|%Y-%m-%d %H:%M}} UTC<br>"
                          "%{y:,.2f} Mbit delivered<extra></extra>"), row=2, col=1)
        target = (targets or {}).get(label)
        if target:
            fig.add_trace(go.Scatter(
                x=[start_ms, end_ms], y=[target / MBIT] * 2, mode="lines",
                line={"dash": "dash", "color": colour, "width": 1.5}, legendgroup="demands",
                name=f"{label} target", hoverinfo="skip"), row=2, col=1)
    for row in range(1, rows + 1):
        fig.update_yaxes(title={"text": "cumulative key [Mbit]"}, rangemode="tozero",
                         row=row, col=1)
        fig.update_xaxes(**date_axis("time [UTC]" if row == rows else ""), row=row, col=1)
    style_figure(fig, "Cumulative key over the period", height=420 if rows == 1 else 760)
    return fig


def buffer_figure(buffers: pd.DataFrame, colours: Mapping[str, str], *, start_ms: float,
                  end_ms: float, memory_bits: float | None = None) -> go.Figure:
    """On-board key buffers: key each satellite shares with each station, over time.

    Parameters
    ----------
    buffers : pandas.DataFrame
        The plan's ``buffers``: ``time_utc, satellite, station, bits`` (level after each event).
    colours : mapping
        Station colours.
    start_ms, end_ms : float
        The period [ms since 1970, UTC].
    memory_bits : float, optional
        On-board memory; drawn when the buffers come within a tenth of it.
    """
    fig = go.Figure()
    satellites = buffers["satellite"].nunique()
    peak = 0.0
    for (satellite, station), group in buffers.sort_values("time_utc").groupby(
            ["satellite", "station"], sort=False):
        bits = group["bits"].to_numpy(float)
        peak = max(peak, float(bits.max(initial=0.0)))
        x = np.r_[start_ms, epoch_ms(group["time_utc"]), end_ms]
        y = np.r_[0.0, bits, bits[-1]] / MBIT
        name = str(station) if satellites == 1 else f"{satellite} · {station}"
        fig.add_trace(go.Scatter(
            x=x, y=f32(y), mode="lines", name=name,
            line={"shape": "hv", "width": 2, "color": colours.get(str(station), "#333"),
                  "dash": mark(colours, station, "dash")},
            hovertemplate=f"<b>{name}</b><br>%{{x|%Y-%m-%d %H:%M}} UTC<br>"
                          "%{y:,.3f} Mbit on board<extra></extra>"))
    if memory_bits and peak > 0.1 * memory_bits:
        fig.add_hline(y=memory_bits / MBIT, line={"color": "#c00", "dash": "dash"},
                      annotation_text="on-board memory", annotation_position="top left")
    fig.update_xaxes(**date_axis())
    fig.update_yaxes(title={"text": "key held on board [Mbit]"}, rangemode="tozero")
    style_figure(fig, "On-board key buffers (relay plan)",
                 subtitle="secret key the satellite shares with each station: grows with each "
                 "used pass, shrinks with each relay", height=440,
                 legend_title="shared with station")
    return fig

