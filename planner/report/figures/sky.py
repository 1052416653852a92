"""Sky plots: azimuth/elevation tracks of passes as a station's telescope sees them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from planner.report.figures.style import (
    f32,
    style_figure,
)


def decimate_tracks(tracks: pd.DataFrame, step_s: float) -> pd.DataFrame:
    """Keep one sample every ``step_s`` seconds of each pass, plus its first and last sample."""
    t = tracks["t_s"].to_numpy(float)
    pid = tracks["pass_id"].to_numpy()
    bucket = np.floor(t / step_s + 1e-9)
    first = np.r_[True, (pid[1:] != pid[:-1]) | (bucket[1:] != bucket[:-1])]
    last = np.r_[pid[1:] != pid[:-1], True]
    return tracks[first | last]


def sky_figure(tracks: pd.DataFrame, passes: pd.DataFrame, colours: Mapping[str, str],
               min_elevations: Mapping[str, float], *, night_label: str,
               local_zones: Mapping[str, Any] | None = None) -> go.Figure:
    """Azimuth/elevation tracks of the passes of one night (zenith at the centre, north up).

    Parameters
    ----------
    tracks : pandas.DataFrame
        ``pass_id, azimuth_deg, elevation_deg`` (already decimated), grouped by pass.
    passes : pandas.DataFrame
        The pass table rows of ``tracks``' passes (index ``pass_id``): ``station, aos_utc,
        max_elevation_deg``.
    colours : mapping
        Station colours.
    min_elevations : mapping
        Minimum elevation [deg] per station, drawn as dashed circles.
    night_label : str
        Shown in the title (e.g. ``"night of 2026-11-25"``).
    local_zones : mapping, optional
        ``ZoneInfo`` per station, to show local AOS times beside UTC.
    """
    fig = go.Figure()
    order = passes.loc[pd.unique(tracks["pass_id"])].sort_values("aos_utc")
    for levels in sorted({float(min_elevations[s]) for s in order["station"]}):
        theta = np.linspace(0.0, 360.0, 73)
        fig.add_trace(go.Scatterpolar(
            r=f32(np.full(theta.size, 90.0 - levels)), theta=f32(theta), mode="lines",
            line={"color": "#888", "dash": "dash", "width": 1},
            name=f"minimum elevation {levels:g}°", hoverinfo="skip"))
    groups = dict(tuple(tracks.groupby("pass_id", sort=False)))
    shown: set[str] = set()
    for pass_id, row in order.iterrows():
        track = groups[pass_id]
        station = str(row["station"])
        aos = pd.Timestamp(row["aos_utc"])
        label = f"{station} {aos:%H:%M} UTC"
        if local_zones and station in local_zones:
            label += f" ({aos.tz_convert(local_zones[station]):%H:%M} local)"
        label += f", max {row['max_elevation_deg']:.0f}°"
        colour = colours.get(station, "#333")
        elevation = track["elevation_deg"].to_numpy(float)
        size = np.zeros(elevation.size)
        size[0] = 9
        fig.add_trace(go.Scatterpolar(
            r=f32(90.0 - elevation), theta=f32(track["azimuth_deg"]), mode="lines+markers",
            name=label, legendgroup=station, line={"color": colour, "width": 2.5},
            marker={"size": size, "color": colour, "symbol": "circle"},
            customdata=f32(elevation),
            hovertemplate=(f"<b>{label}</b><br>azimuth %{{theta:.1f}}°<br>elevation "
                           "%{customdata:.1f}°<extra></extra>")))
        shown.add(station)
    ticks = np.arange(0, 91, 15)
    fig.update_layout(polar={
        "radialaxis": {"range": [0, 90], "tickvals": ticks.tolist(),
                       "ticktext": [f"{90 - v}°" for v in ticks], "angle": 67.5,
                       "tickangle": 0, "tickfont": {"size": 11, "color": "#555"},
                       "gridcolor": "#ddd"},
        "angularaxis": {"rotation": 90, "direction": "clockwise",
                        "tickvals": [0, 45, 90, 135, 180, 225, 270, 315],
                        "ticktext": ["<b>N</b>", "NE", "<b>E</b>", "SE", "<b>S</b>", "SW",
                                     "<b>W</b>", "NW"], "gridcolor": "#ddd",
                        "tickfont": {"size": 14}},
    })
    style_figure(fig, f"Sky plot, {night_label}: {len(order)} pass(es) over "
           f"{', '.join(sorted(shown))}",
           subtitle="azimuth clockwise from north; rings: elevation every 15° (90° at the "
           "centre, 0° at the rim); a dot marks rise (AOS)", height=640,
           legend_title="pass (AOS time)")
    return fig

