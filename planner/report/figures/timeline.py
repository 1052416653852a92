"""The pass timeline: every pass at its culmination, one row per station."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from planner.report.figures.style import (
    DAY_GREY,
    KBIT,
    LEGEND_ONLY_DAY_PASSES,
    date_axis,
    epoch_ms,
    f32,
    style_figure,
)


def timeline_figure(passes: pd.DataFrame, station_order: Sequence[str], *,
                    key_column: str | None = None) -> go.Figure:
    """Every pass as a mark at its culmination, one row per station.

    Parameters
    ----------
    passes : pandas.DataFrame
        Pass (or key) table: ``station, tca_utc, duration_s, max_elevation_deg,
        sun_elevation_deg, night`` and ``key_column`` if given.
    station_order : sequence of str
        Stations, top row first (stations without passes keep an empty row).
    key_column : str, optional
        Colour night passes by this column [bit] (e.g. ``expected_secure_bits``); by maximum
        elevation otherwise.
    """
    fig = go.Figure()
    night = passes["night"].to_numpy(bool)
    hover = ("<b>%{y}</b><br>TCA %{x|%Y-%m-%d %H:%M:%S} UTC<br>max elevation "
             "%{customdata[0]:.1f}°, %{customdata[1]:.0f} s above minimum<br>sun "
             "%{customdata[2]:.1f}°")
    crowded = len(passes) > LEGEND_ONLY_DAY_PASSES
    day_label = "day or twilight pass (no QKD)" + (": click to show" if crowded else "")
    for is_night, label in ((False, day_label), (True, "night pass")):
        rows = passes[night == is_night]
        if rows.empty:
            continue
        custom = np.column_stack([rows["max_elevation_deg"], rows["duration_s"],
                                  rows["sun_elevation_deg"]])
        marker: dict[str, Any] = {"symbol": "line-ns-open", "size": 14, "line": {"width": 2}}
        text = hover
        if not is_night:
            marker["color"] = DAY_GREY
            marker["line"]["color"] = DAY_GREY
        elif key_column is not None:
            kbit = rows[key_column].to_numpy(float) / KBIT
            custom = np.column_stack([custom, kbit])
            text += "<br>expected key %{customdata[3]:,.0f} kbit"
            marker.update(color=f32(kbit), colorscale="Viridis", cmin=0,
                          showscale=True,
                          colorbar={"title": {"text": "expected key<br>per pass [kbit]"},
                                    "len": 0.9, "thickness": 14})
            marker["line"]["color"] = f32(kbit)
            marker["line"]["colorscale"] = "Viridis"
            marker["line"]["cmin"] = 0
        else:
            elevation = rows["max_elevation_deg"].to_numpy(float)
            marker.update(color=f32(elevation), colorscale="Viridis", cmin=0, cmax=90,
                          showscale=True,
                          colorbar={"title": {"text": "max elevation [deg]"}, "len": 0.9})
            marker["line"].update(color=f32(elevation), colorscale="Viridis", cmin=0, cmax=90)
        fig.add_trace(go.Scatter(
            x=epoch_ms(rows["tca_utc"]), y=rows["station"].astype(str).to_numpy(),
            mode="markers", name=label, marker=marker, customdata=f32(custom),
            hovertemplate=text + "<extra>" + label + "</extra>",
            visible="legendonly" if crowded and not is_night else True))
    order = list(station_order)
    fig.update_yaxes(title={"text": "ground station"}, type="category",
                     categoryorder="array", categoryarray=order[::-1],
                     range=[-0.6, len(order) - 0.4], showgrid=True)
    fig.update_xaxes(**date_axis("time of culmination (TCA) [UTC]"))
    fig.update_layout(updatemenus=[_zoom_buttons(epoch_ms(passes["aos_utc"]).min())])
    style_figure(fig, "Pass timeline per station",
                 subtitle="each mark is one pass at its culmination; colour: expected key of night "
                 "passes (grey: daylight or twilight, no QKD)" if key_column else
                 "each mark is one pass at its culmination; colour: maximum elevation of night "
                 "passes (grey: daylight or twilight)",
                 height=190 + 42 * len(order))
    fig.update_layout(legend={"orientation": "h", "y": -0.25 - 0.3 / max(len(order), 1),
                              "x": 0})
    return fig


def _zoom_buttons(start_ms: float) -> dict[str, Any]:
    """Buttons that show the first days of the period, or all of it."""
    day = 86_400_000.0

    def text(ms: float) -> str:
        return pd.Timestamp(ms, unit="ms").strftime("%Y-%m-%d %H:%M:%S")

    spans = (("first 3 days", 3 * day), ("first 2 weeks", 14 * day))
    buttons = [{"label": label, "method": "relayout",
                "args": [{"xaxis.range": [text(start_ms - 0.1 * day), text(start_ms + span)]}]}
               for label, span in spans]
    buttons.append({"label": "whole period", "method": "relayout",
                    "args": [{"xaxis.autorange": True}]})
    return {"type": "buttons", "direction": "right", "buttons": buttons, "x": 1,
            "xanchor": "right", "y": 1.02, "yanchor": "bottom", "showactive": False,
            "pad": {"t": 0, "b": 0}, "font": {"size": 12}}

