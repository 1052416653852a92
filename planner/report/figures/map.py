"""Ground-track map: the satellite's ground track, the stations and their footprints.

No figure uses plotly's geographic (``geo``) traces: those fetch their map outlines from a CDN at
view time, and the report must open offline. The map is a plain longitude/latitude plot with
the coastline of :mod:`planner.report.figures.coastline`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from planner.report.figures.coastline import coastline_xy, land_source
from planner.report.figures.style import (
    EARTH_RADIUS_KM,
    f32,
    style_figure,
)


def footprint_angle_rad(min_elevation_deg: float, altitude_km: float) -> float:
    """Geocentric half-angle of the region seeing the satellite above ``min_elevation_deg``.

    ``lambda = arccos(R cos(e) / (R + h)) - e`` on a sphere of radius ``R`` (docs/reference.md §1:
    1,560 km of ground radius at 10 deg for 500 km).
    """
    e = np.radians(min_elevation_deg)
    return float(np.arccos(EARTH_RADIUS_KM * np.cos(e) / (EARTH_RADIUS_KM + altitude_km)) - e)


def small_circle(latitude_deg: float, longitude_deg: float, angle_rad: float,
                 points: int = 121) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude [deg] of a circle of geocentric radius ``angle_rad`` on a sphere.

    Longitudes are wrapped to [-180, 180); a NaN breaks the line where it crosses the
    antimeridian, so plotly does not draw a stroke across the whole map.
    """
    lat1, lon1 = np.radians(latitude_deg), np.radians(longitude_deg)
    bearing = np.linspace(0.0, 2 * np.pi, points)
    lat = np.arcsin(np.sin(lat1) * np.cos(angle_rad)
                    + np.cos(lat1) * np.sin(angle_rad) * np.cos(bearing))
    lon = lon1 + np.arctan2(np.sin(bearing) * np.sin(angle_rad) * np.cos(lat1),
                            np.cos(angle_rad) - np.sin(lat1) * np.sin(lat))
    return break_at_antimeridian(np.degrees(lat), np.degrees(lon))


def break_at_antimeridian(lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray]:
    """Wrap longitudes to [-180, 180) and insert NaN where consecutive points jump across."""
    lat = np.asarray(lat_deg, float)
    lon = (np.asarray(lon_deg, float) + 180.0) % 360.0 - 180.0
    jump = np.flatnonzero(np.abs(np.diff(lon)) > 180.0) + 1
    return np.insert(lat, jump, np.nan), np.insert(lon, jump, np.nan)


def station_cluster(stations: Sequence[Any], radius_deg: float = 20.0) -> list[int]:
    """Indices of the largest group of stations within ``radius_deg`` of one of them.

    The map zooms on this group: the Chinese stations lie within a few hundred kilometres of
    each other and are unreadable at world scale.
    """
    if not stations:
        return []
    lat = np.radians([s.latitude_deg for s in stations])
    lon = np.radians([s.longitude_deg for s in stations])
    cos_angle = (np.sin(lat)[:, None] * np.sin(lat)[None, :]
                 + np.cos(lat)[:, None] * np.cos(lat)[None, :]
                 * np.cos(lon[:, None] - lon[None, :]))
    near = np.degrees(np.arccos(np.clip(cos_angle, -1, 1))) <= radius_deg
    centre = int(np.argmax(near.sum(axis=1)))
    return np.flatnonzero(near[centre]).tolist()


def ground_track_figure(stations: Sequence[Any], colours: Mapping[str, str], *,
                        altitude_km: float, track: pd.DataFrame | None = None,
                        in_view: np.ndarray | None = None,
                        window_label: str | None = None) -> go.Figure:
    """Ground track, stations and their footprints on longitude/latitude maps.

    A world map, and beside it a zoom on the largest cluster of stations
    (:func:`station_cluster`) when it has two or more stations.

    Parameters
    ----------
    stations : sequence
        Objects with ``name, latitude_deg, longitude_deg, min_elevation_deg``.
    colours : mapping
        Station colours.
    altitude_km : float
        Satellite altitude used for the footprints [km].
    track : pandas.DataFrame, optional
        ``satellite, time_utc, latitude_deg, longitude_deg`` (see
        :func:`planner.report.page.ground_track`).
    in_view : numpy.ndarray of bool, optional
        Marks samples of ``track`` that fall inside a pass (drawn thicker).
    window_label : str, optional
        The ground track's time window, for the legend.
    """
    cluster = station_cluster(stations)
    zoom = len(cluster) >= 2
    angles = [footprint_angle_rad(s.min_elevation_deg, altitude_km) for s in stations]
    names = [s.name for s in stations]
    titles = ["world"]
    if zoom:
        titles.append(f"zoom on {len(cluster)} neighbouring stations")
    fig = make_subplots(rows=1, cols=2 if zoom else 1, subplot_titles=titles,
                        column_widths=[0.6, 0.4] if zoom else None, horizontal_spacing=0.07)
    ranges = [((-180.0, 180.0), (-90.0, 90.0))]
    if zoom:
        pad = np.degrees(max(angles[i] for i in cluster)) + 3.0
        lats = [stations[i].latitude_deg for i in cluster]
        lons = [stations[i].longitude_deg for i in cluster]
        ranges.append(((min(lons) - pad, max(lons) + pad),
                       (max(min(lats) - pad, -90.0), min(max(lats) + pad, 90.0))))
    widths = [MAP_WIDTH_PX * (0.6 if zoom else 1.0), MAP_WIDTH_PX * 0.4]
    for col, (x_range, y_range) in enumerate(ranges, start=1):
        first = col == 1
        _map_layers(fig, col, first, track, in_view, window_label)
        _footprints(fig, col, first, stations, angles, colours)
        fig.add_trace(go.Scatter(
            x=[s.longitude_deg for s in stations], y=[s.latitude_deg for s in stations],
            mode="markers", customdata=names,
            marker={"size": 11, "color": [colours.get(n, "#333") for n in names],
                    "symbol": "star", "line": {"color": "#222", "width": 1}},
            name="ground stations", showlegend=first, legendgroup="stations",
            hovertemplate="<b>%{customdata}</b><br>%{y:.3f}° N, %{x:.3f}° E<extra></extra>"),
            row=1, col=col)
        shown = [i for i, s in enumerate(stations)
                 if (not first or not zoom or i not in cluster)
                 and x_range[0] <= s.longitude_deg <= x_range[1]
                 and y_range[0] <= s.latitude_deg <= y_range[1]]
        _labels(fig, col, [stations[i] for i in shown], x_range, y_range, widths[col - 1])
        fig.update_xaxes(title={"text": "longitude [deg E]"}, zeroline=False,
                         constrain="domain", range=list(x_range), row=1, col=col)
        fig.update_yaxes(title={"text": "latitude [deg N]"}, zeroline=False,
                         scaleanchor="x" if first else "x2", scaleratio=1, constrain="domain",
                         range=list(y_range), row=1, col=col)
    fig.update_xaxes(dtick=30, row=1, col=1)
    fig.update_yaxes(dtick=30, row=1, col=1)
    style_figure(fig, "Ground track and station footprints",
                 subtitle=f"dotted circles: where the satellite (at {altitude_km:,.0f} km) is "
                 "above each station's minimum elevation; equirectangular maps",
                 height=660)
    fig.update_layout(legend={"orientation": "h", "y": -0.17, "x": 0})
    return fig


MAP_WIDTH_PX = 1100.0
"""Width the map panels share [px]: the page's figure width (~1,290 px in a 1,400 px window)
less margins and the gap between panels; label places are chosen at this scale, so in much
narrower windows labels may touch."""
MAP_HEIGHT_PX = 460.0
"""Height of the map panels [px] (figure height less title, margins and legend)."""


def place_labels(x_px: np.ndarray, y_px: np.ndarray, widths_px: Sequence[float], *,
                 height_px: float = 18.0, marker_px: float = 12.0, gap_px: float = 3.0
                 ) -> list[tuple[float, float]]:
    """Offsets [px] of label centres from their points, so that labels do not overlap.

    Greedy: each label in turn takes the first of a ring of candidate places (above, below,
    right, left, then the diagonals, at growing distances) whose box meets no label already
    placed and no marker; when none is free, the one with the least overlap.

    Parameters
    ----------
    x_px, y_px : array
        The points in screen pixels (y down).
    widths_px : sequence of float
        Width of each label [px].
    height_px, marker_px, gap_px : float
        Label height, marker size and the clearance kept around each label [px].

    Returns
    -------
    list of (dx, dy)
        Offsets of each label's centre from its point [px], y down.
    """
    x, y = np.asarray(x_px, float), np.asarray(y_px, float)
    markers = [(xi - marker_px / 2, yi - marker_px / 2, xi + marker_px / 2, yi + marker_px / 2)
               for xi, yi in zip(x, y, strict=True)]
    placed: list[tuple[float, float, float, float]] = []
    directions = ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1))
    offsets = []
    for xi, yi, width in zip(x, y, widths_px, strict=True):
        best, best_overlap = (0.0, -(marker_px + height_px) / 2), np.inf
        for distance in (4.0, 16.0, 30.0, 48.0, 70.0):
            for ux, uy in directions:
                dx = ux * (marker_px / 2 + distance + width / 2)
                dy = uy * (marker_px / 2 + distance * 0.6 + height_px / 2)
                box = (xi + dx - width / 2, yi + dy - height_px / 2,
                       xi + dx + width / 2, yi + dy + height_px / 2)
                padded = (box[0] - gap_px, box[1] - gap_px, box[2] + gap_px, box[3] + gap_px)
                overlap = sum(_overlap(padded, other) for other in (*placed, *markers))
                if overlap < best_overlap:
                    best, best_overlap, best_box = (dx, dy), overlap, box
                if overlap == 0:
                    break
            if best_overlap == 0:
                break
        placed.append(best_box)
        offsets.append(best)
    return offsets


def _overlap(a, b) -> float:
    return (max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            * max(0.0, min(a[3], b[3]) - max(a[1], b[1])))


def label_width_px(text: str, font_px: float = 12.0) -> float:
    """Width of a label in the report's sans-serif font, about 0.6 em a character [px]."""
    return 0.6 * font_px * len(text) + 8.0


def _labels(fig: go.Figure, col: int, stations, x_range, y_range, width_px: float) -> None:
    """Station names with leader lines, placed so they do not overlap (:func:`place_labels`)."""
    if not stations:
        return
    scale = max((x_range[1] - x_range[0]) / width_px,
                (y_range[1] - y_range[0]) / MAP_HEIGHT_PX)  # deg per px (equal axes)
    x = np.array([(s.longitude_deg - x_range[0]) / scale for s in stations])
    y = np.array([(y_range[1] - s.latitude_deg) / scale for s in stations])
    names = [s.name for s in stations]
    offsets = place_labels(x, y, [label_width_px(n) for n in names])
    axis = "" if col == 1 else str(col)
    for station, (dx, dy) in zip(stations, offsets, strict=True):
        fig.add_annotation(x=station.longitude_deg, y=station.latitude_deg, text=station.name,
                           xref=f"x{axis}", yref=f"y{axis}", ax=dx, ay=dy, showarrow=True,
                           arrowhead=0, arrowwidth=1, arrowcolor="#666", standoff=6,
                           font={"size": 12}, bgcolor="rgba(255,255,255,0.75)",
                           xanchor="center", yanchor="middle", name="station label")


def _map_layers(fig: go.Figure, col: int, first: bool, track, in_view, window_label) -> None:
    coast_lat, coast_lon = coastline_xy()
    fig.add_trace(go.Scatter(x=f32(coast_lon), y=f32(coast_lat), mode="lines",
                             line={"color": "#9aa7b0", "width": 1}, showlegend=first,
                             legendgroup="coast", name=f"coastline: {land_source()}",
                             hoverinfo="skip"), row=1, col=col)
    if track is None or track.empty:
        return
    view = np.zeros(len(track), bool) if in_view is None else np.asarray(in_view, bool)
    satellites = track["satellite"].to_numpy()
    for satellite, rows in track.groupby("satellite", sort=False):
        sel = satellites == satellite
        lat, lon = break_at_antimeridian(rows["latitude_deg"], rows["longitude_deg"])
        label = f"{satellite} ground track" + (f", {window_label}" if window_label else "")
        fig.add_trace(go.Scatter(x=f32(lon), y=f32(lat), mode="lines", name=label,
                                 legendgroup=f"track {satellite}", showlegend=first,
                                 line={"color": "#5b6f8a", "width": 1.2}, hoverinfo="skip"),
                      row=1, col=col)
        if view[sel].any():
            vlat = np.where(view[sel], rows["latitude_deg"].to_numpy(float), np.nan)
            vlon = np.where(view[sel], rows["longitude_deg"].to_numpy(float), np.nan)
            lat, lon = break_at_antimeridian(vlat, vlon)
            fig.add_trace(go.Scatter(
                x=f32(lon), y=f32(lat), mode="lines", showlegend=first,
                name=f"{satellite} during the passes of the sky plot",
                legendgroup=f"view {satellite}", line={"color": "#d62728", "width": 4},
                hoverinfo="skip"), row=1, col=col)


def _footprints(fig: go.Figure, col: int, first: bool, stations, angles, colours) -> None:
    radii = [a * EARTH_RADIUS_KM for a in angles]
    levels = sorted({s.min_elevation_deg for s in stations})
    if len(levels) == 1:
        label = f"footprints ({levels[0]:g}° minimum elevation: {radii[0]:,.0f} km radius)"
    else:
        label = (f"footprints at each station's minimum elevation ({min(radii):,.0f}–"
                 f"{max(radii):,.0f} km radius)")
    for index, (station, angle) in enumerate(zip(stations, angles, strict=True)):
        lat, lon = small_circle(station.latitude_deg, station.longitude_deg, angle)
        fig.add_trace(go.Scatter(
            x=f32(lon), y=f32(lat), mode="lines", legendgroup="footprints",
            showlegend=first and index == 0, name=label,
            line={"color": colours.get(station.name, "#333"), "dash": "dot", "width": 1.5},
            hoverinfo="skip"), row=1, col=col)

