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
        titles.append("zoom: " + ", ".join(names[i] for i in cluster))
    fig = make_subplots(rows=1, cols=2 if zoom else 1, subplot_titles=titles,
                        column_widths=[0.6, 0.4] if zoom else None, horizontal_spacing=0.07)
    for col in range(1, 3 if zoom else 2):
        first = col == 1
        _map_layers(fig, col, first, track, in_view, window_label)
        _footprints(fig, col, first, stations, angles, colours)
        labelled = [i for i in range(len(stations)) if not first or not zoom or i not in cluster]
        fig.add_trace(go.Scatter(
            x=[s.longitude_deg for s in stations], y=[s.latitude_deg for s in stations],
            mode="markers+text", text=[n if i in labelled else "" for i, n in enumerate(names)],
            textposition="top center", textfont={"size": 12}, customdata=names,
            marker={"size": 11, "color": [colours.get(n, "#333") for n in names],
                    "symbol": "star", "line": {"color": "#222", "width": 1}},
            name="ground stations", showlegend=first, legendgroup="stations",
            hovertemplate="<b>%{customdata}</b><br>%{y:.3f}° N, %{x:.3f}° E<extra></extra>"),
            row=1, col=col)
        fig.update_xaxes(title={"text": "longitude [deg E]"}, zeroline=False,
                         constrain="domain", row=1, col=col)
        fig.update_yaxes(title={"text": "latitude [deg N]"}, zeroline=False,
                         scaleanchor="x" if first else "x2", scaleratio=1, constrain="domain",
                         row=1, col=col)
    fig.update_xaxes(range=[-180, 180], dtick=30, row=1, col=1)
    fig.update_yaxes(range=[-90, 90], dtick=30, row=1, col=1)
    if zoom:
        pad = np.degrees(max(angles[i] for i in cluster)) + 3.0
        lats = [stations[i].latitude_deg for i in cluster]
        lons = [stations[i].longitude_deg for i in cluster]
        fig.update_xaxes(range=[min(lons) - pad, max(lons) + pad], row=1, col=2)
        fig.update_yaxes(range=[max(min(lats) - pad, -90), min(max(lats) + pad, 90)],
                         row=1, col=2)
    style_figure(fig, "Ground track and station footprints",
           subtitle=f"dotted circles: where the satellite (at {altitude_km:,.0f} km) is above "
           "each station's minimum elevation; equirectangular maps",
           height=660)
    fig.update_layout(legend={"orientation": "h", "y": -0.17, "x": 0})
    return fig


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

