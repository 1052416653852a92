"""Plotly figures of the key-budget report (:mod:`planner.report.page` puts them on one page).

Every function takes tables the report has already checked to be non-empty and returns a
:class:`plotly.graph_objects.Figure` with a title, axis titles with units and a legend.

Conventions
-----------
* Times go to plotly as milliseconds since 1970-01-01 UTC on axes of type ``date``: numeric
  arrays are written as compact binary (base64) blocks, where ISO strings would cost ~30 bytes a
  point, and plotly shows them as UTC wall-clock times (it applies no time zone).
* Key is shown in kbit (per pass) or Mbit (totals), never in raw bits.
* Stations keep one colour in every figure (:func:`station_colours`).
* No figure uses plotly's geographic (``geo``) traces: those fetch their map outlines from a
  CDN at view time, and the report must open offline. The ground-track map is a plain
  longitude/latitude plot with a coarse coastline drawn from :data:`COASTLINE`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

KBIT = 1e3
MBIT = 1e6
EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius [km] (IUGG), for footprints drawn on a sphere."""

_TEMPLATE = go.layout.Template(layout={
    "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "closest",
    "xaxis": {"gridcolor": "#ebebeb", "linecolor": "#bbb", "ticks": "outside",
              "tickcolor": "#bbb", "automargin": True, "zerolinecolor": "#ccc"},
    "yaxis": {"gridcolor": "#ebebeb", "linecolor": "#bbb", "ticks": "outside",
              "tickcolor": "#bbb", "automargin": True, "zerolinecolor": "#ccc"},
    "polar": {"bgcolor": "white"},
    "hoverlabel": {"align": "left"},
})
"""A small template (plotly's own copy ~7 kB into every figure and cost time to apply)."""

_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
         "size": 13, "color": "#222"}
_PALETTE = [*qualitative.D3, *qualitative.Dark24]
_DAY_GREY = "#b8b8b8"
LEGEND_ONLY_DAY_PASSES = 1500
"""With more passes than this, the timeline hides daylight passes until asked (they would
bury the night passes at the scale of months)."""
_MONTH_FORMAT = "%Y-%m"


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def station_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per station, stable in the order given."""
    return {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(names)}


def epoch_ms(times) -> np.ndarray:
    """Milliseconds since 1970-01-01 UTC of UTC timestamps (float64, NaN for missing)."""
    values = pd.to_datetime(pd.Series(times), utc=True)
    ns = values.to_numpy("datetime64[ns]").astype(np.int64).astype(float)
    ns[values.isna().to_numpy()] = np.nan
    return ns / 1e6


def _style(fig: go.Figure, title: str, *, height: int, legend_title: str | None = None,
           subtitle: str | None = None) -> go.Figure:
    text = f"<b>{title}</b>" + (f"<br><sup>{subtitle}</sup>" if subtitle else "")
    fig.update_layout(
        template=_TEMPLATE, height=height, font=_FONT,
        title={"text": text, "x": 0.01, "xanchor": "left", "font": {"size": 17}},
        margin={"l": 80, "r": 30, "t": 90 if subtitle else 70, "b": 70},
        legend={"title": {"text": legend_title or ""}, "bgcolor": "rgba(255,255,255,0.85)",
                "bordercolor": "#ddd", "borderwidth": 1},
        hoverlabel={"font": {"size": 13}},
    )
    return fig


def _date_axis(title: str = "time [UTC]") -> dict[str, Any]:
    return {"type": "date", "title": {"text": title}, "showgrid": True,
            "hoverformat": "%Y-%m-%d %H:%M:%S"}


def _ordered(stations: pd.Series, colours: Mapping[str, str]) -> list[str]:
    """The stations present, in the report's station order (the order of ``colours``)."""
    present = set(stations.astype(str))
    return [s for s in colours if s in present] + sorted(present - set(colours))


def _f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# Pass timeline
# --------------------------------------------------------------------------------------------


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
            marker["color"] = _DAY_GREY
            marker["line"]["color"] = _DAY_GREY
        elif key_column is not None:
            kbit = rows[key_column].to_numpy(float) / KBIT
            custom = np.column_stack([custom, kbit])
            text += "<br>expected key %{customdata[3]:,.0f} kbit"
            marker.update(color=_f32(kbit), colorscale="Viridis", cmin=0,
                          showscale=True,
                          colorbar={"title": {"text": "expected key<br>per pass [kbit]"},
                                    "len": 0.9, "thickness": 14})
            marker["line"]["color"] = _f32(kbit)
            marker["line"]["colorscale"] = "Viridis"
            marker["line"]["cmin"] = 0
        else:
            elevation = rows["max_elevation_deg"].to_numpy(float)
            marker.update(color=_f32(elevation), colorscale="Viridis", cmin=0, cmax=90,
                          showscale=True,
                          colorbar={"title": {"text": "max elevation [deg]"}, "len": 0.9})
            marker["line"].update(color=_f32(elevation), colorscale="Viridis", cmin=0, cmax=90)
        fig.add_trace(go.Scatter(
            x=epoch_ms(rows["tca_utc"]), y=rows["station"].astype(str).to_numpy(),
            mode="markers", name=label, marker=marker, customdata=_f32(custom),
            hovertemplate=text + "<extra>" + label + "</extra>",
            visible="legendonly" if crowded and not is_night else True))
    order = list(station_order)
    fig.update_yaxes(title={"text": "ground station"}, type="category",
                     categoryorder="array", categoryarray=order[::-1],
                     range=[-0.6, len(order) - 0.4], showgrid=True)
    fig.update_xaxes(**_date_axis("time of culmination (TCA) [UTC]"))
    fig.update_layout(updatemenus=[_zoom_buttons(epoch_ms(passes["aos_utc"]).min())])
    _style(fig, "Pass timeline per station",
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


# --------------------------------------------------------------------------------------------
# Sky plot
# --------------------------------------------------------------------------------------------


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
            r=_f32(np.full(theta.size, 90.0 - levels)), theta=_f32(theta), mode="lines",
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
            r=_f32(90.0 - elevation), theta=_f32(track["azimuth_deg"]), mode="lines+markers",
            name=label, legendgroup=station, line={"color": colour, "width": 2.5},
            marker={"size": size, "color": colour, "symbol": "circle"},
            customdata=_f32(elevation),
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
    _style(fig, f"Sky plot, {night_label}: {len(order)} pass(es) over "
           f"{', '.join(sorted(shown))}",
           subtitle="azimuth clockwise from north; rings: elevation every 15° (90° at the "
           "centre, 0° at the rim); a dot marks rise (AOS)", height=640,
           legend_title="pass (AOS time)")
    return fig


# --------------------------------------------------------------------------------------------
# Ground-track map
# --------------------------------------------------------------------------------------------


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


def _coastline_xy() -> tuple[np.ndarray, np.ndarray]:
    lats, lons = [], []
    for ring in COASTLINE:
        points = np.asarray(ring, float)
        lat, lon = break_at_antimeridian(points[:, 1], points[:, 0])
        lats += [lat, [np.nan]]
        lons += [lon, [np.nan]]
    return np.concatenate(lats), np.concatenate(lons)


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
    _style(fig, "Ground track and station footprints",
           subtitle=f"dotted circles: where the satellite (at {altitude_km:,.0f} km) is above "
           "each station's minimum elevation; equirectangular maps, coarse coastline",
           height=660)
    fig.update_layout(legend={"orientation": "h", "y": -0.17, "x": 0})
    return fig


def _map_layers(fig: go.Figure, col: int, first: bool, track, in_view, window_label) -> None:
    coast_lat, coast_lon = _coastline_xy()
    fig.add_trace(go.Scatter(x=_f32(coast_lon), y=_f32(coast_lat), mode="lines",
                             line={"color": "#9aa7b0", "width": 1}, showlegend=first,
                             legendgroup="coast", name="coastline (coarse outline)",
                             hoverinfo="skip"), row=1, col=col)
    if track is None or track.empty:
        return
    view = np.zeros(len(track), bool) if in_view is None else np.asarray(in_view, bool)
    satellites = track["satellite"].to_numpy()
    for satellite, rows in track.groupby("satellite", sort=False):
        sel = satellites == satellite
        lat, lon = break_at_antimeridian(rows["latitude_deg"], rows["longitude_deg"])
        label = f"{satellite} ground track" + (f", {window_label}" if window_label else "")
        fig.add_trace(go.Scatter(x=_f32(lon), y=_f32(lat), mode="lines", name=label,
                                 legendgroup=f"track {satellite}", showlegend=first,
                                 line={"color": "#5b6f8a", "width": 1.2}, hoverinfo="skip"),
                      row=1, col=col)
        if view[sel].any():
            vlat = np.where(view[sel], rows["latitude_deg"].to_numpy(float), np.nan)
            vlon = np.where(view[sel], rows["longitude_deg"].to_numpy(float), np.nan)
            lat, lon = break_at_antimeridian(vlat, vlon)
            fig.add_trace(go.Scatter(
                x=_f32(lon), y=_f32(lat), mode="lines", showlegend=first,
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
            x=_f32(lon), y=_f32(lat), mode="lines", legendgroup="footprints",
            showlegend=first and index == 0, name=label,
            line={"color": colours.get(station.name, "#333"), "dash": "dot", "width": 1.5},
            hoverinfo="skip"), row=1, col=col)


# --------------------------------------------------------------------------------------------
# Key per pass, cumulative key, buffers
# --------------------------------------------------------------------------------------------


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
    for station in _ordered(keys["station"], colours):
        rows = keys[keys["station"] == station]
        custom = np.empty((len(rows), 3), dtype=object)
        custom[:, 0] = pd.to_datetime(rows["tca_utc"], utc=True).dt.strftime(
            "%Y-%m-%d %H:%M").to_numpy()
        custom[:, 1] = np.round(rows["expected_secure_bits"].to_numpy(float) / KBIT, 1)
        custom[:, 2] = np.round(rows["qber"].to_numpy(float), 5)
        fig.add_trace(go.Scatter(
            x=_f32(rows["max_elevation_deg"]), y=_f32(rows["secure_bits"] / KBIT),
            mode="markers", name=str(station), customdata=custom,
            marker={"color": colours.get(str(station), "#333"), "size": 7, "opacity": 0.8},
            hovertemplate=hover))
    fig.add_trace(go.Scatter(
        x=_f32(keys["max_elevation_deg"]), y=_f32(keys["secure_bits_asymptotic"] / KBIT),
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
    _style(fig, "Secure key per night pass against maximum elevation",
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
    for station in _ordered(keys["station"], colours):
        group = keys[keys["station"] == station].sort_values("los_utc")
        x = np.r_[start_ms, epoch_ms(group["los_utc"]), end_ms]
        total = np.cumsum(group["expected_secure_bits"].to_numpy(float)) / MBIT
        y = np.r_[0.0, total, total[-1] if total.size else 0.0]
        fig.add_trace(go.Scatter(
            x=x, y=_f32(y), mode="lines", line={"shape": "hv", "width": 2,
                                                "color": colours.get(str(station), "#333")},
            name=str(station), legendgroup="stations", legendgrouptitle={"text": "station"},
            hovertemplate=f"<b>{station}</b><br>%{{x|%Y-%m-%d %H:%M}} UTC<br>"
                          "%{y:,.2f} Mbit<extra></extra>"), row=1, col=1)
    for index, (label, hops) in enumerate((delivered or {}).items()):
        colour = _PALETTE[(index + 3) % len(_PALETTE)]
        hops = hops.sort_values("time_utc")
        total = np.cumsum(hops["bits"].to_numpy(float)) / MBIT
        x = np.r_[start_ms, epoch_ms(hops["time_utc"]), end_ms]
        y = np.r_[0.0, total, total[-1] if total.size else 0.0]
        fig.add_trace(go.Scatter(
            x=x, y=_f32(y), mode="lines", line={"shape": "hv", "width": 2.5, "color": colour},
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
        fig.update_xaxes(**_date_axis("time [UTC]" if row == rows else ""), row=row, col=1)
    _style(fig, "Cumulative key over the period", height=420 if rows == 1 else 760)
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
            x=x, y=_f32(y), mode="lines", name=name,
            line={"shape": "hv", "width": 2, "color": colours.get(str(station), "#333")},
            hovertemplate=f"<b>{name}</b><br>%{{x|%Y-%m-%d %H:%M}} UTC<br>"
                          "%{y:,.3f} Mbit on board<extra></extra>"))
    if memory_bits and peak > 0.1 * memory_bits:
        fig.add_hline(y=memory_bits / MBIT, line={"color": "#c00", "dash": "dash"},
                      annotation_text="on-board memory", annotation_position="top left")
    fig.update_xaxes(**_date_axis())
    fig.update_yaxes(title={"text": "key held on board [Mbit]"}, rangemode="tozero")
    _style(fig, "On-board key buffers (relay plan)",
           subtitle="secret key the satellite shares with each station: grows with each "
           "used pass, shrinks with each relay", height=440,
           legend_title="shared with station")
    return fig


# --------------------------------------------------------------------------------------------
# Monthly budget and relay outcome
# --------------------------------------------------------------------------------------------


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
            x=months, y=_f32(values), name=str(station),
            marker={"color": colours.get(str(station), "#333")},
            hovertemplate=f"<b>{station}</b><br>%{{x}}: %{{y:,.2f}} Mbit expected"
                          "<extra></extra>"))
    if band is not None and not band.empty:
        p10, p50, p90 = (band[c].to_numpy(float) / MBIT for c in ("p10", "p50", "p90"))
        fig.add_trace(go.Scatter(
            x=band.index.astype(str).tolist(), y=_f32(p50), mode="markers",
            name=f"all stations, P50 with P10–P90 range ({band_label})",
            marker={"symbol": "diamond", "size": 10, "color": "#111"},
            error_y={"type": "data", "array": _f32(p90 - p50), "arrayminus": _f32(p50 - p10),
                     "color": "#111", "thickness": 2, "width": 8},
            customdata=np.column_stack([p10, p90]).astype(np.float32),
            hovertemplate="%{x}: P50 %{y:,.2f} Mbit<br>P10 %{customdata[0]:,.2f} – "
                          "P90 %{customdata[1]:,.2f} Mbit<extra>weather</extra>"))
        fig.add_trace(go.Scatter(
            x=band.index.astype(str).tolist(), y=_f32(band["clear_sky"] / MBIT),
            mode="markers", name="all stations if every night were clear",
            marker={"symbol": "line-ew-open", "size": 26, "color": "#555",
                    "line": {"width": 2}},
            hovertemplate="%{x}: %{y:,.2f} Mbit if every night were clear<extra></extra>"))
    fig.update_layout(barmode="stack", bargap=0.25)
    fig.update_xaxes(title={"text": "month (of culmination, UTC)"}, type="category")
    fig.update_yaxes(title={"text": "secure key [Mbit]"}, rangemode="tozero")
    _style(fig, "Monthly key budget",
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
    fig.add_trace(go.Bar(x=labels, y=_f32(planned), name="planned (expected key)",
                         marker={"color": "#4c78a8"}, width=0.5,
                         hovertemplate="%{x}: %{y:,.2f} Mbit planned<extra></extra>"))
    if weather is not None and not weather.empty:
        w = weather.reindex(labels)
        p10, p50, p90 = (w[c].to_numpy(float) / MBIT for c in ("p10_bits", "p50_bits",
                                                                "p90_bits"))
        fig.add_trace(go.Scatter(
            x=labels, y=_f32(p50), mode="markers",
            name="under sampled weather: P50, P10–P90" + (f" ({band_label})"
                                                          if band_label else ""),
            marker={"symbol": "diamond", "size": 11, "color": "#111"},
            error_y={"type": "data", "array": _f32(p90 - p50), "arrayminus": _f32(p50 - p10),
                     "color": "#111", "thickness": 2, "width": 10},
            hovertemplate="%{x}: P50 %{y:,.2f} Mbit<extra>weather</extra>"))
    target = delivered["target_bits"].to_numpy(float) / MBIT
    if np.isfinite(target).any():
        fig.add_trace(go.Scatter(
            x=labels, y=_f32(target), mode="markers", name="target",
            marker={"symbol": "line-ew-open", "size": 40, "color": "#d62728",
                    "line": {"width": 3}},
            hovertemplate="%{x}: target %{y:,.2f} Mbit<extra></extra>"))
    fig.update_xaxes(title={"text": "relay demand (station A : station B)"}, type="category")
    fig.update_yaxes(title={"text": "key delivered over the period [Mbit]"},
                     rangemode="tozero")
    _style(fig, "Relay key per demand", height=480, legend_title="",
           subtitle="trusted relay through the satellite: key shared by both stations")
    fig.update_layout(legend={"orientation": "h", "y": -0.25, "x": 0})
    return fig


# --------------------------------------------------------------------------------------------
# A coarse coastline
# --------------------------------------------------------------------------------------------

#: Coarse outlines of the major land masses, (longitude, latitude) [deg], hand-traced from
#: an atlas to about 1-3 deg [A]: for orientation on the ground-track map only, never for
#: computation. Small islands, the Canadian Arctic archipelago and most inland seas are left
#: out. Replace with Natural Earth's 1:110m coastline (public domain) if finer detail is needed.
COASTLINE: tuple[tuple[tuple[float, float], ...], ...] = (
    # Africa
    ((-6, 36), (10, 37), (11, 33.5), (19, 30.5), (20, 32), (30, 31), (32.5, 31.3),
     (32.5, 30), (35, 24), (37.5, 18.5), (43, 12.5), (44, 10.5), (51, 12), (49, 6), (45, 2),
     (41, -2), (39.5, -6), (40.5, -10.5), (40.5, -15), (35, -20), (35.5, -24), (32.5, -26),
     (31, -29.5), (26, -34), (20, -34.8), (18.4, -34), (15, -27), (14.5, -23), (12, -17),
     (13.5, -12), (12.3, -6), (9.5, 0), (9.5, 4), (6, 4.3), (3, 6.4), (-2, 5), (-7.5, 4.4),
     (-11.5, 7), (-13.5, 9.5), (-17.2, 14.7), (-16, 19), (-17, 21), (-13, 27.5),
     (-9.8, 30), (-7.6, 33.6), (-6, 36)),
    # Madagascar
    ((44, -25), (47, -25), (50.5, -15.5), (49.3, -12), (44, -16.5), (43.5, -22), (44, -25)),
    # Eurasia
    ((-5.6, 36), (-2, 36.7), (0, 39.5), (2, 41.4), (3.2, 42.3), (5, 43.3), (9, 44.4),
     (12, 42), (14.3, 40.8), (16, 38), (18.5, 40.2), (16, 41.5), (14, 42.5), (12.3, 44.5),
     (12.5, 45.5), (15, 44), (18, 42.6), (19.5, 41.5), (21, 38.3), (22, 36.5), (24, 38),
     (23, 40.5), (26, 40.8), (26.2, 39.5), (27.2, 37), (30.5, 36.8), (36, 36.5),
     (35.5, 34), (34.5, 31.5), (32.5, 31.3), (32.5, 30), (34.9, 29.5), (39, 21.5),
     (42.5, 16), (45, 12.8), (52, 15.5), (55, 17), (57.5, 19), (59.8, 22.5), (56.3, 26.4),
     (51.5, 24.5), (50, 26.5), (48, 29.5), (50.5, 29.5), (56, 27), (61.5, 25.2),
     (67, 24.8), (68.5, 23), (70, 21), (72.8, 19), (73.8, 15.5), (76.3, 9.5), (77.5, 8.1),
     (80.3, 13), (82.3, 16.5), (86.5, 20), (88.5, 21.8), (91.8, 22.3), (94.3, 18.5),
     (97.5, 16.5), (98.5, 10), (100.3, 5.4), (103.5, 1.3), (103.5, 5.3), (100.5, 13.5),
     (103, 10.5), (105, 8.7), (109.2, 12), (108.3, 16), (105.7, 19), (107, 21),
     (108.5, 21.6), (110, 20.3), (113.5, 22.2), (117, 23.5), (119.5, 26), (121.5, 28.5),
     (121.9, 31), (120.5, 34), (120.3, 36), (122.5, 37), (120.7, 37.8), (119, 37.2),
     (118, 38.5), (117.7, 39), (119.5, 39.9), (121, 40.8), (121.2, 38.8), (124, 39.8),
     (125, 37.8), (126.6, 37.5), (126.3, 34.5), (129, 35.1), (129.5, 37), (127.5, 39.8),
     (129.8, 41), (131.9, 43.1), (135.5, 43.8), (140.5, 48.5), (141.3, 53), (137, 54),
     (143, 59.3), (150.8, 59.5), (156, 61.5), (163, 62), (156.7, 51), (162.5, 56.2),
     (163.5, 59.8), (170, 60), (179.9, 65), (180, 68.5), (170, 69.8), (160, 69.7),
     (150, 71.5), (140, 72.5), (130, 71), (113, 73.5), (104, 77.7), (95, 76), (80, 73.5),
     (70, 73), (66, 69), (60, 69.8), (53, 68), (44, 66.5), (40, 64.5), (33, 69.3),
     (25.8, 71.1), (15, 68.5), (5, 62), (5.5, 59), (7, 58), (10.5, 59.5), (11.5, 58.5),
     (12.8, 56), (14, 55.4), (16, 56.2), (18.5, 59.4), (17.5, 62.5), (21, 64.5),
     (24.5, 65.8), (25.5, 65), (21.5, 61.5), (22.5, 60), (25, 60.2), (30.2, 59.9),
     (24, 59.3), (23.5, 58), (24, 57), (21, 56.5), (21, 55.3), (19.5, 54.5), (18.7, 54.4),
     (14.3, 53.9), (12, 54.2), (10.5, 54.5), (10.6, 57.7), (8.1, 56.5), (8.6, 55),
     (7, 53.5), (4.5, 52.5), (3, 51.2), (1.8, 50.9), (0, 49.5), (-4.7, 48.4), (-1.5, 47),
     (-1.2, 44.7), (-1.8, 43.4), (-8, 43.6), (-9.3, 43), (-9, 39), (-8.8, 37),
     (-6.3, 36.8), (-5.6, 36)),
    # Great Britain, Ireland, Iceland
    ((-5.7, 50), (1.4, 51.2), (1.7, 52.7), (0, 53.5), (-1.6, 55.6), (-2, 57.7), (-3, 58.6),
     (-5, 58.6), (-6, 56.5), (-5, 55), (-3, 54.2), (-3, 53.3), (-4.6, 52.8), (-5.2, 51.7),
     (-3.2, 51.4), (-5.7, 50)),
    ((-6, 52.2), (-6, 54), (-7.3, 55.3), (-10, 54.2), (-10.3, 51.8), (-8, 51.6), (-6, 52.2)),
    ((-22, 64), (-24, 65.5), (-22, 66.4), (-15, 66.5), (-13.5, 65), (-18, 63.4), (-22, 64)),
    # Black Sea, Caspian Sea, Sicily
    ((29, 41.2), (28, 43.5), (30, 45.8), (33, 46), (33.5, 44.4), (36.5, 45.3), (38, 47),
     (39.5, 44.5), (41.5, 41.6), (36, 41.7), (31, 41.1), (29, 41.2)),
    ((47, 44.5), (49.5, 46.5), (53, 46.8), (51.3, 43.3), (53, 42), (53.9, 37.4),
     (50.3, 37.4), (49.3, 40.5), (48.4, 41.8), (47, 44.5)),
    ((12.5, 38.1), (15.6, 38.3), (15.1, 36.7), (12.5, 37.6), (12.5, 38.1)),
    # Japan, Sakhalin, Taiwan, Hainan, Sri Lanka
    ((130, 31.3), (131.5, 31.5), (132, 33.8), (135, 33.5), (136.9, 34.5), (139.8, 35),
     (140.9, 36.9), (141.9, 39), (141.4, 41.4), (143.3, 42), (145.5, 43.3), (141.9, 45.5),
     (140, 43.2), (140, 41.5), (140, 40), (139.5, 38), (138, 37), (136.7, 36.9),
     (135.9, 35.6), (133, 35.5), (131, 34.3), (129.7, 33.3), (130, 31.3)),
    ((142, 46), (143.5, 49), (142.5, 54.3), (142, 51), (141.8, 46.5), (142, 46)),
    ((120.1, 23), (120.7, 22), (121.9, 25.1), (121.5, 25.3), (120.1, 23)),
    ((108.6, 19.2), (110, 18.2), (111, 19.6), (110.2, 20.1), (108.6, 19.2)),
    ((79.8, 6.5), (80.2, 9.8), (81.9, 7.3), (80.6, 5.9), (79.8, 6.5)),
    # Maritime South-East Asia
    ((95.3, 5.6), (98.7, 3.7), (104, -1), (106, -5.9), (104.5, -5.9), (101, -2.5),
     (95.3, 5.6)),
    ((105.5, -6.8), (114.4, -8.7), (114.4, -7.7), (106, -5.9), (105.5, -6.8)),
    ((109, 1.5), (110.3, -1.3), (114.5, -3.6), (116.5, -2.5), (118, 1), (119, 5), (116, 7),
     (113.9, 4.5), (111, 2), (109, 1.5)),
    ((120, 18.5), (122.3, 18.5), (122, 14), (124.2, 12.6), (125.5, 11.5), (126.5, 7),
     (125.4, 5.6), (122, 6.9), (123.5, 9.5), (121.5, 13.5), (120.6, 14.2), (119.8, 16.2),
     (120, 18.5)),
    ((131, -1.3), (141, -2.6), (147.5, -6), (150.5, -10.6), (146, -8.5), (141, -9.2),
     (138, -8.3), (134.2, -3.9), (131, -1.3)),
    # Australia, Tasmania, New Zealand
    ((113.5, -22), (114, -26.5), (115, -34.3), (118, -35), (123.5, -33.9), (129, -31.6),
     (134, -32.5), (137.5, -35.5), (138.5, -34.8), (140.5, -38), (144.5, -38.2),
     (146.3, -39.1), (150, -37.5), (151.2, -33.9), (153.6, -28.2), (153, -25),
     (150.8, -22.5), (146, -18.5), (145.3, -15), (143.5, -14), (142.5, -10.7),
     (141.6, -12.5), (141.6, -17), (140.8, -17.5), (139.2, -17.4), (136, -15.2),
     (136.7, -12.2), (132.5, -11.3), (130.8, -12.4), (129.5, -15), (126.5, -13.9),
     (122, -17.2), (121, -19.5), (116.7, -20.6), (113.5, -22)),
    ((144.7, -40.7), (148.3, -41), (148, -43.2), (146, -43.6), (144.7, -40.7)),
    ((172.7, -34.4), (174.8, -36.8), (178.5, -37.7), (177, -39.5), (174.8, -41.3),
     (174.6, -39.8), (173.8, -39.1), (174.5, -37.5), (172.7, -34.4)),
    ((172.7, -40.5), (174.2, -41.7), (173, -43.7), (171.2, -44.4), (170.5, -45.9),
     (169, -46.6), (166.5, -46), (168, -44), (171.5, -41.7), (172.7, -40.5)),
    # The Americas
    ((-168, 65.6), (-165, 68.9), (-156.8, 71.3), (-141, 69.6), (-128, 70.2), (-115, 67.8),
     (-95, 68), (-85, 69.8), (-82, 67), (-86, 64), (-93, 61), (-94.5, 58.8), (-92, 57),
     (-82, 55), (-79.5, 51.5), (-78.5, 54), (-77, 60), (-78, 62.4), (-72, 62),
     (-64.5, 60.3), (-61, 56), (-55.7, 52.5), (-57, 51.4), (-60, 50.2), (-66.5, 50),
     (-64.5, 49), (-64.2, 48.8), (-65, 47), (-60, 46), (-66, 43.8), (-70.2, 43.6),
     (-70, 41.8), (-74, 40.5), (-75, 38.8), (-76, 37), (-75.5, 35.2), (-79, 33.5),
     (-81, 31.5), (-80, 26.7), (-80.4, 25.2), (-81.7, 25.9), (-82.8, 28.5), (-84, 30),
     (-89, 30.3), (-89.5, 29), (-94, 29.7), (-97.3, 27.6), (-97.7, 24), (-97.2, 21),
     (-95, 18.6), (-91, 19), (-90.3, 21), (-87, 21.5), (-87.5, 18), (-88.5, 16),
     (-84, 15.8), (-83.4, 12), (-83.5, 10.5), (-81.5, 9), (-79.5, 9.5), (-77.5, 8.5),
     (-75.5, 10.5), (-71.6, 12.4), (-71, 11), (-68, 10.5), (-64, 10.6), (-61, 10),
     (-57, 6), (-52, 5), (-50, 0.5), (-48.5, -1.4), (-44, -2.6), (-39, -3.5),
     (-35.2, -5.5), (-35, -9), (-38.5, -13), (-39, -17.8), (-41, -22), (-43.2, -23),
     (-48.5, -26.5), (-51, -31), (-53.4, -33.7), (-56.2, -34.9), (-58, -34.3),
     (-57.5, -38), (-62.3, -38.8), (-65, -41), (-64, -42.5), (-65.5, -45), (-67.5, -46.5),
     (-69, -51.6), (-68.5, -52.3), (-67, -55), (-70.5, -53), (-74.5, -52), (-75.5, -47),
     (-73.5, -41.5), (-73.5, -37), (-71.6, -33), (-71.4, -28), (-70.3, -18.5),
     (-76, -14), (-77, -12), (-81.2, -5.5), (-80, -2.2), (-80.1, 0.8), (-78.9, 1.8),
     (-77.3, 4), (-77.5, 7.5), (-79.5, 8), (-80.3, 7.4), (-82.5, 8.2), (-85.7, 10),
     (-87.5, 13), (-91.5, 14), (-94, 16), (-97, 15.7), (-100, 17), (-105.5, 20),
     (-105.3, 23), (-109, 25.5), (-112.5, 29.5), (-114.8, 31.7), (-112, 27), (-109.9, 22.9),
     (-114, 28), (-116.5, 31.5), (-117.2, 32.7), (-118.5, 34), (-120.6, 34.5),
     (-122.5, 37.8), (-124.2, 40.4), (-124, 46.2), (-124.7, 48.4), (-123, 49),
     (-127, 50.5), (-130.5, 54.5), (-134, 58), (-140, 59.8), (-146, 60.8), (-151, 59.5),
     (-154, 57.5), (-158, 56.5), (-162, 55), (-164.5, 54.5), (-158.5, 58.5), (-162.5, 60),
     (-165.3, 62), (-162.5, 64), (-166, 64.6), (-168, 65.6)),
    ((-84.9, 21.9), (-81, 23.2), (-77, 21.6), (-74.1, 20.2), (-77.7, 19.8), (-81.5, 22.3),
     (-84.9, 21.9)),
    ((-73, 78), (-60, 82), (-30, 83.5), (-20, 81.5), (-18.5, 76.5), (-22, 70.5),
     (-32, 68.2), (-40, 65), (-43.5, 60), (-48, 61), (-52, 64.5), (-54, 68.5), (-55, 71.5),
     (-58, 75.5), (-66, 76.2), (-73, 78)),
    # Antarctica (open line along the coast)
    ((-180, -78), (-150, -77), (-120, -73.5), (-90, -73), (-75, -70), (-60, -64),
     (-57, -63.3), (-62, -70), (-60, -75), (-30, -78), (-15, -72.5), (0, -70), (30, -69.5),
     (60, -67), (90, -66.5), (120, -66.5), (150, -68), (170, -72), (179.99, -78)),
)
