"""The page's figure sections: each turns the report's inputs into one figure, or a note why not."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.relay.weather import auto_night_cut_hour, night_dates
from planner.report import figures, parts
from planner.report.figures.sky import SKY_STEP_S
from planner.report.inputs import ReportInputs
from planner.report.summary import Summary, night_keys
from planner.report.tonight import shown_zones
from planner.timebase import utc_timestamp
from planner.zones import is_utc, local_span

if TYPE_CHECKING:  # pragma: no cover
    from planner.relay.plan import Plan

MAX_GROUND_TRACK_POINTS = 20_000
"""The map draws at most this many ground-track samples (evenly thinned beyond)."""

NOT_DRAWN = "Not drawn: there are no passes in the selection (see the summary)."
"""What a figure's section says when there are no passes at all."""

Section = dict[str, Any]


def _drawn_table(inputs: ReportInputs) -> pd.DataFrame:
    """The key table when there is one, else the pass table."""
    return inputs.keys if inputs.keys is not None else inputs.passes


def timeline_section(inputs: ReportInputs, colours, summary: Summary) -> Section:
    """Every pass on a time line, one row per station."""
    lede = ("When each station sees the satellite. Night passes carry key; daylight and "
            "twilight passes do not. Use the buttons or drag to zoom into a few days.")
    if inputs.passes.empty:
        return parts.section("sec-timeline", "Pass timeline", [parts.note(NOT_DRAWN)])
    fig = figures.timeline_figure(_drawn_table(inputs), list(summary.stations.index),
                                  key_column="expected_secure_bits"
                                  if inputs.keys is not None else None)
    return parts.section("sec-timeline", "Pass timeline",
                         [parts.figure(fig, "fig-timeline")], lede)


def _night_label(passes: pd.DataFrame, night_table: pd.DataFrame) -> str:
    nights = night_table[night_table["night"].astype(bool)]
    times = nights["tca_utc"] if not nights.empty else passes["tca_utc"]
    date = night_dates(passes["tca_utc"], auto_night_cut_hour(times))[0]
    first, last = (utc_timestamp(t) for t in (passes["aos_utc"].min(), passes["los_utc"].max()))
    return f"night of {date} ({local_span(first, last, None, '%H:%M')})"


def sky_section(inputs: ReportInputs, colours, summary: Summary) -> Section:
    """Azimuth/elevation tracks of the chosen night's passes."""
    title = "Sky plot per station"
    lede = ("The path of each night pass across the sky as each station's telescope sees it, "
            "tonight (the first night of the period with night passes) unless another night "
            "was chosen: the centre is straight up, the rim the horizon, north at the top.")
    if inputs.passes.empty:
        return parts.section("sec-sky", title, [parts.note(NOT_DRAWN)])
    if inputs.tracks is None or inputs.tracks.empty:
        return parts.section("sec-sky", title, [parts.note(
            "No per-second tracks were given for a chosen night, so the sky plot is left out.")])
    table = _drawn_table(inputs)
    tracks = figures.decimate_tracks(inputs.tracks, SKY_STEP_S)
    passes = table.loc[pd.unique(tracks["pass_id"])]
    by_name = {s.name: s for s in inputs.stations}
    fig = figures.sky_figure(
        tracks, passes, colours,
        {name: float(getattr(by_name.get(name), "min_elevation_deg", 0.0))
         for name in passes["station"].astype(str)},
        night_label=_night_label(passes, table),
        local_zones={n: z for n, z in shown_zones(inputs).items()
                     if z is not None and not is_utc(z)})  # no 'UTC (UTC)' labels
    return parts.section("sec-sky", title, [parts.figure(fig, "fig-sky")], lede)


def _orbit_altitude_km(inputs: ReportInputs) -> float:
    """Satellite altitude for the footprints [km]: the ground track's median, else the passes'.

    From a pass, the height follows from its minimum range L at maximum elevation e:
    ``(R + h)^2 = R^2 + L^2 + 2 R L sin(e)``.
    """
    if inputs.ground_track is not None and "altitude_km" in inputs.ground_track \
            and not inputs.ground_track.empty:
        return float(inputs.ground_track["altitude_km"].median())
    r = figures.EARTH_RADIUS_KM
    length = inputs.passes["min_range_km"].to_numpy(float)
    sin_e = np.sin(np.radians(inputs.passes["max_elevation_deg"].to_numpy(float)))
    return float(np.median(np.sqrt(r * r + length ** 2 + 2 * r * length * sin_e) - r))


def _thin(track: pd.DataFrame) -> pd.DataFrame:
    if len(track) <= MAX_GROUND_TRACK_POINTS:
        return track
    step = math.ceil(len(track) / MAX_GROUND_TRACK_POINTS)
    return track.iloc[::step]


def _in_view(track: pd.DataFrame, passes: pd.DataFrame) -> np.ndarray:
    """Which ground-track samples fall inside one of the given passes (same satellite)."""
    times = track["time_utc"].to_numpy("datetime64[ns]")
    inside = np.zeros(len(track), bool)
    for satellite, group in passes.groupby("satellite"):
        aos = np.sort(group["aos_utc"].to_numpy("datetime64[ns]"))
        los = group["los_utc"].to_numpy("datetime64[ns]")[np.argsort(
            group["aos_utc"].to_numpy("datetime64[ns]"))]
        k = np.searchsorted(aos, times, side="right") - 1
        ok = (k >= 0) & (track["satellite"].to_numpy() == satellite)
        inside |= ok & (times <= los[np.clip(k, 0, None)])
    return inside


def map_section(inputs: ReportInputs, colours, summary: Summary) -> Section:
    """Ground track, stations and footprints."""
    title = "Ground track and footprints"
    lede = ("Where the satellite flies over the ground, and the region each station can reach: "
            "the dotted circles are the footprints at the station's minimum elevation.")
    if inputs.passes.empty:
        return parts.section("sec-map", title, [parts.note(NOT_DRAWN)])
    track = in_view = label = None
    content = []
    if inputs.ground_track is not None and not inputs.ground_track.empty:
        track = _thin(inputs.ground_track.sort_values(["satellite", "time_utc"]))
        passes = inputs.passes
        if inputs.tracks is not None and not inputs.tracks.empty:
            passes = _drawn_table(inputs).loc[pd.unique(inputs.tracks["pass_id"])]
        in_view = _in_view(track, passes)
        label = local_span(utc_timestamp(track["time_utc"].min()),
                           utc_timestamp(track["time_utc"].max()), None, "%Y-%m-%d %H:%M")
    else:
        content.append(parts.note("No ground-track samples were given: the map shows "
                                  "stations and footprints only."))
    fig = figures.ground_track_figure(inputs.stations, colours,
                                      altitude_km=_orbit_altitude_km(inputs), track=track,
                                      in_view=in_view, window_label=label)
    content.append(parts.figure(fig, "fig-groundtrack"))
    return parts.section("sec-map", title, content, lede)


def _key_note(inputs: ReportInputs) -> str | None:
    if inputs.passes.empty:
        return NOT_DRAWN
    if inputs.keys is None:
        return "No key table was given, so there is no key to show."
    if not inputs.keys["night"].astype(bool).any():
        return ("No night passes in the selection: QKD needs darkness, so no key can be "
                "distilled.")
    return None


def _key_figure_section(inputs: ReportInputs, name: str, title: str, lede: str,
                        draw) -> Section:
    """Section ``sec-<name>`` with figure ``fig-<name>`` drawn by ``draw()``, or a note when
    there is no key to draw."""
    note = _key_note(inputs)
    if note:
        return parts.section(f"sec-{name}", title, [parts.note(note)])
    return parts.section(f"sec-{name}", title, [parts.figure(draw(), f"fig-{name}")], lede)


def key_elevation_section(inputs: ReportInputs, colours, summary: Summary) -> Section:
    """Clear-sky key of each night pass against its maximum elevation."""
    def draw():
        model = inputs.keys.attrs.get("key_model", {})
        return figures.key_elevation_figure(
            night_keys(inputs), colours,
            min_key_elevation_deg=model.get("min_key_elevation_deg"))

    return _key_figure_section(
        inputs, "key-elevation", "Key per pass against maximum elevation",
        "What a single night pass is worth under a clear sky: high passes are closer and "
        "longer, so they give more key.", draw)


def _delivered_hops(plan: Plan) -> dict[str, pd.DataFrame]:
    """Relay hops that bring key to each demand's far station (what counts as delivered)."""
    relays = plan.relays
    out = {}
    for demand in plan.demands:
        into = relays[(relays["demand"] == demand.label)
                      & (relays["to_station"] == demand.station_b)]
        out[demand.label] = into[["time_utc", "bits"]]
    return out


def cumulative_section(inputs: ReportInputs, colours, summary: Summary) -> Section:
    """Key building up over the period, per station and per relay demand."""
    def draw():
        start, end = summary.period
        plan = inputs.plan
        return figures.cumulative_figure(
            night_keys(inputs), colours, start_ms=figures.epoch_ms([start])[0],
            end_ms=figures.epoch_ms([end])[0],
            delivered=_delivered_hops(plan) if plan is not None else None,
            targets={d.label: d.target_bits for d in plan.demands} if plan is not None
            else None)

    return _key_figure_section(
        inputs, "cumulative", "Cumulative key",
        "How key builds up over the period: expected key shared with each station and, with a "
        "relay plan, key delivered to each station pair.", draw)


def buffer_section(inputs: ReportInputs, colours, summary: Summary) -> Section:
    """Key the satellite holds for each station under the relay plan."""
    title = "On-board key buffers"
    lede = ("Key the satellite holds for each station: it grows with every pass the plan uses "
            "and is spent when the satellite relays key between two stations.")
    if inputs.plan is None:
        return parts.section("sec-buffers", title, [parts.note(
            "No relay plan in this run, so there are no on-board buffers to show.")])
    if inputs.plan.buffers.empty:
        return parts.section("sec-buffers", title, [parts.note(
            "The relay plan uses no passes, so the on-board buffers stay empty.")])
    start, end = summary.period
    fig = figures.buffer_figure(inputs.plan.buffers, colours,
                                start_ms=figures.epoch_ms([start])[0],
                                end_ms=figures.epoch_ms([end])[0],
                                memory_bits=inputs.plan.parameters.get("memory_bits"))
    return parts.section("sec-buffers", title, [parts.figure(fig, "fig-buffers")], lede)


def _scenarios_text(weather: dict) -> str:
    """``N weather scenarios, seed S`` of a weather record."""
    count = weather.get("scenarios", 0)
    return (f"{count:,}" if isinstance(count, int) else "?") + (
        f" weather scenarios, seed {weather.get('seed')}")


def _band_label(summary: Summary) -> str:
    return _scenarios_text(summary.weather or {})


def _relay_band_label(plan_weather: dict | None, band: dict | None) -> str | None:
    """The relay figure's weather label, in the words of :func:`_band_label`; when the plan's
    replay drew other scenarios than the monthly band, it says so and why (the caller chose
    the band's count or seed separately)."""
    if not plan_weather:
        return None
    text = _scenarios_text(plan_weather)
    count, seed = plan_weather.get("scenarios"), plan_weather.get("seed")
    if band and (band.get("scenarios"), band.get("seed")) != (count, seed):
        text += (f"; the relay plan's own replay, while the monthly band draws "
                 f"{band.get('scenarios', 0):,}, seed {band.get('seed')}")
    return text


def monthly_section(inputs: ReportInputs, colours, summary: Summary) -> Section:
    """Expected key per month and station, with the weather band."""
    return _key_figure_section(
        inputs, "monthly", "Monthly key budget",
        "Expected key per month by station. The diamond and its bar show the range a season's "
        "weather gives for all stations together: one year in ten is worse than P10, one in ten "
        "better than P90.",
        lambda: figures.monthly_figure(summary.monthly, summary.band, colours,
                                       band_label=_band_label(summary)))


def relay_section(inputs: ReportInputs, colours, summary: Summary) -> Section:
    """Relay key per demand against its target, with the weather spread."""
    title = "Relay key per demand"
    lede = ("Key each station pair ends up sharing through the satellite, against its target; "
            "the diamond and bar show the spread when the plan meets real weather.")
    plan = inputs.plan
    if plan is None:
        return parts.section("sec-relay", title, [parts.note("No relay plan in this run.")])
    band = _relay_band_label(plan.weather_info, summary.weather)
    fig = figures.relay_figure(plan.delivered, plan.weather, band_label=band)
    return parts.section("sec-relay", title, [parts.figure(fig, "fig-relay")], lede)
