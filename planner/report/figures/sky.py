"""Sky plots: azimuth/elevation tracks of passes as a station's telescope sees them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from planner.report.figures.style import f32, mark, ordered_stations, style_figure
from planner.zones import local_dates, local_time, zone_labels


def decimate_tracks(tracks: pd.DataFrame, step_s: float) -> pd.DataFrame:
    """Keep one sample every ``step_s`` seconds of each pass, plus its first and last sample."""
    t = tracks["t_s"].to_numpy(float)
    pid = tracks["pass_id"].to_numpy()
    bucket = np.floor(t / step_s + 1e-9)
    first = np.r_[True, (pid[1:] != pid[:-1]) | (bucket[1:] != bucket[:-1])]
    last = np.r_[pid[1:] != pid[:-1], True]
    return tracks[first | last]


SKY_STEP_S = 10.0
"""Sky-plot tracks keep one sample every this many seconds [s] (plus each pass's ends)."""

SKY_COLUMNS = 3
"""Sky plots per row."""

ELEVATION_TICKS_DEG = (60, 30, 0)
"""Elevation rings that carry a label [deg] (the zenith, at the centre, needs none)."""

LABEL_AZIMUTHS_DEG = tuple(22.5 + 45.0 * k for k in range(8))
"""Azimuths [deg] the elevation labels may run along: halfway between the compass spokes,
NNE first (the choice on a tie)."""


def label_azimuth(azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> float:
    """The azimuth [deg] of :data:`LABEL_AZIMUTHS_DEG` whose 45-degree sector holds the fewest
    track samples below 70 degrees elevation (where the labels sit), so the elevation labels do
    not sit on the tracks; the first such azimuth on a tie."""
    low = np.asarray(elevation_deg, float) < 70.0
    az = np.asarray(azimuth_deg, float)[low]
    counts = [int(np.sum(np.abs((az - a + 180.0) % 360.0 - 180.0) < 22.5))
              for a in LABEL_AZIMUTHS_DEG]
    return LABEL_AZIMUTHS_DEG[int(np.argmin(counts))]


def sky_figure(tracks: pd.DataFrame, passes: pd.DataFrame, colours: Mapping[str, str],
               min_elevations: Mapping[str, float], *, night_label: str,
               local_zones: Mapping[str, Any] | None = None) -> go.Figure:
    """One polar sky plot per station: the tracks of its passes of one night.

    Zenith at the centre, horizon at the rim, north up, azimuth clockwise, as the telescope
    sees the sky. Stations appear in the order of ``colours`` (the report's station order).

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
        Minimum elevation [deg] per station, drawn as a dashed circle.
    night_label : str
        Shown in the title (e.g. ``"night of 2026-11-25"``).
    local_zones : mapping, optional
        Time zone per station (its own or the one chosen with ``--tz``), to show local times
        beside UTC.
    """
    order = passes.loc[pd.unique(tracks["pass_id"])].sort_values("aos_utc")
    stations = ordered_stations(order["station"], colours)
    cols = min(SKY_COLUMNS, len(stations))
    rows = math.ceil(len(stations) / cols)
    zones = local_zones or {}
    titles = []
    for station in stations:
        rises = pd.to_datetime(order.loc[order["station"] == station, "aos_utc"], utc=True)
        count = int((order["station"] == station).sum())
        zone = zones.get(station)
        # both dates of a night past local midnight; every abbreviation of its passes (a night
        # across a change to or from summer time)
        when = f"{local_dates(rises, zone)} {'/'.join(zone_labels(rises, zone))}"
        titles.append(f"<b>{station}</b>: {count} pass{'es' if count > 1 else ''}, {when}")
    specs = [[{"type": "polar"} if r * cols + c < len(stations) else None for c in range(cols)]
             for r in range(rows)]  # no empty plots in the last row
    fig = make_subplots(rows=rows, cols=cols, specs=specs,
                        subplot_titles=titles, horizontal_spacing=0.1,
                        vertical_spacing=min(0.3 / rows, 0.12))
    groups = dict(tuple(tracks.groupby("pass_id", sort=False)))
    rings: set[float] = set()
    for index, station in enumerate(stations):
        row, col = index // cols + 1, index % cols + 1
        level = float(min_elevations.get(station, 0.0))
        theta = np.linspace(0.0, 360.0, 73)
        fig.add_trace(go.Scatterpolar(
            r=f32(np.full(theta.size, 90.0 - level)), theta=f32(theta), mode="lines",
            line={"color": "#888", "dash": "dash", "width": 1},
            name=f"minimum elevation {level:g}°", legendgroup=f"min {level:g}",
            showlegend=level not in rings, hoverinfo="skip"), row=row, col=col)
        rings.add(level)
        colour = colours.get(station, "#333")
        for pass_id, row_data in order[order["station"] == station].iterrows():
            track = groups[pass_id]
            aos = pd.Timestamp(row_data["aos_utc"])
            label = local_time(aos, None, "%H:%M")
            if station in zones:
                label = f"{local_time(aos, zones[station], '%H:%M')} ({label})"
            label += f", max {row_data['max_elevation_deg']:.0f}°"
            elevation = track["elevation_deg"].to_numpy(float)
            size = np.zeros(elevation.size)
            size[0] = 9
            fig.add_trace(go.Scatterpolar(
                r=f32(90.0 - elevation), theta=f32(track["azimuth_deg"]),
                mode="lines+markers", name=label, legendgroup=station,
                legendgrouptitle={"text": station},
                line={"color": colour, "width": 2.5, "dash": mark(colours, station, "dash")},
                marker={"size": size, "color": colour, "symbol": "circle"},
                customdata=f32(elevation),
                hovertemplate=(f"<b>{station}</b>, rise {label}<br>azimuth %{{theta:.1f}}°"
                               "<br>elevation %{customdata:.1f}°<extra></extra>")),
                row=row, col=col)
    fig.update_polars(
        radialaxis={"range": [0, 90], "tickvals": [90 - e for e in ELEVATION_TICKS_DEG],
                    "ticktext": [f"{e}°" for e in ELEVATION_TICKS_DEG], "tickangle": 0,
                    "tickfont": {"size": 10, "color": "#555"}, "gridcolor": "#ddd",
                    "showline": False},
        angularaxis={"rotation": 90, "direction": "clockwise",
                     "tickvals": [0, 45, 90, 135, 180, 225, 270, 315],
                     "ticktext": ["<b>N</b>", "NE", "<b>E</b>", "SE", "<b>S</b>", "SW",
                                  "<b>W</b>", "NW"], "gridcolor": "#ddd",
                     "tickfont": {"size": 12}})
    for index, station in enumerate(stations):  # elevation labels where no track runs
        mine = tracks[tracks["pass_id"].isin(order.index[order["station"] == station])]
        azimuth = label_azimuth(mine["azimuth_deg"].to_numpy(), mine["elevation_deg"].to_numpy())
        # the polar's own angle: counter-clockwise from east (north up, azimuth clockwise)
        angle = (90.0 - azimuth) % 360
        # plotly turns the labels with the axis: turning them back keeps them level
        fig.layout[f"polar{index + 1 if index else ''}"].radialaxis.update(
            angle=angle, tickangle=(angle + 180.0) % 360 - 180.0)
    for annotation in fig.layout.annotations:  # station titles clear of the "N" label
        annotation.update(yanchor="bottom", yshift=26, font={"size": 14})
    style_figure(fig, f"Sky plot per station, {night_label}: {len(order)} pass(es)",
                 subtitle="azimuth clockwise from north; rings: elevation 60° and 30° (90° at "
                 "the centre, 0° at the rim), labelled where no track runs; a dot marks rise "
                 "(AOS)",
                 height=170 + 400 * rows, legend_title="pass (rise time)")
    fig.update_layout(margin={"t": 150, "b": 40})
    return fig
