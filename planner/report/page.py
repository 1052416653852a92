"""Key-budget report: one self-contained HTML page, with its tables beside it as CSV and JSON.

What the people who run the stations and fund the mission look at. :func:`build_report` turns
the planning stages' outputs (:class:`ReportInputs`) into one HTML page that opens offline:
plotly.js is embedded once and no figure fetches anything (no ``geo`` traces, whose outlines
come from a CDN; the ground-track map is a longitude/latitude plot, see
:mod:`planner.report.figures`). :func:`write_report` writes the page and, beside it, the pass table
(``<stem>_passes.csv``), the key table (``<stem>_keys.csv``) and a JSON summary with the relay
plan (``<stem>_summary.json``), each atomically.

The page, top to bottom
-----------------------
1. Summary: passes, usable night passes (night passes with secure key > 0), expected key per
   station and per month, relay key delivered per demand, unmet demand; the spread over
   sampled weather (P10-P90).
2. Pass timeline per station (:data:`FIGURE_IDS` names every figure's ``div`` id).
3. Sky plot (azimuth/elevation) of one chosen night.
4. Ground-track map with station footprints at their minimum elevation.
5. Secure key per pass against maximum elevation.
6. Cumulative key per station and per relay demand.
7. On-board key buffers.
8. Monthly key budget with the P10-P90 weather band.
9. Relay key per demand against target, with the weather spread.
10. Provenance: element-set epochs and sources, station file, payload and model parameters,
    plan settings, seeds, package version.

A part without data (no passes, no night passes, no key table, no plan, no tracks) is replaced by
a sentence saying so; no empty plot is drawn.

Size: plotly.js is ~4.8 MB; the data of a year over seven stations adds well under 1 MB
(numeric arrays are binary-encoded, tracks are decimated to :data:`SKY_STEP_S`).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from planner import __version__
from planner.errors import OptionError, PlannerInputError
from planner.geometry.frames import SatellitePropagator
from planner.geometry.passes import PASS_COLUMNS
from planner.io.output import check_output_path, provenance, to_csv, to_json, write_atomic
from planner.relay.weather import (
    DEFAULT_PERSISTENCE,
    auto_night_cut_hour,
    night_dates,
    sample_clear_sky,
)
from planner.report import figures as figs
from planner.timebase import TimeBase, as_utc_datetime

if TYPE_CHECKING:  # pragma: no cover
    from planner.elements.elementsets import Catalogue
    from planner.relay.schedule import Plan

__all__ = [
    "FIGURE_IDS",
    "KEY_COLUMNS",
    "SECTION_IDS",
    "ReportInputs",
    "Summary",
    "build_report",
    "check_report_path",
    "choose_night",
    "ground_track",
    "itrs_to_geodetic",
    "night_views",
    "report_paths",
    "summarise",
    "write_report",
]

KEY_COLUMNS = ("min_loss_db", "max_loss_db", "detections", "qber", "secure_bits",
               "secure_bits_asymptotic", "clear_sky_probability", "expected_secure_bits")
"""Columns the key table adds to the pass table (docs/architecture.md)."""

TRACK_COLUMNS = ("pass_id", "azimuth_deg", "elevation_deg", "t_s")
"""Track columns the sky plot needs (``pass_tracks`` output has them)."""

SKY_STEP_S = 10.0
"""Sky-plot tracks keep one sample every this many seconds [s] (plus each pass's ends)."""

GROUND_TRACK_STEP_S = 30.0
"""Default step of :func:`ground_track` [s] (a 500 km orbit moves ~230 km in 30 s)."""

MAX_GROUND_TRACK_POINTS = 20_000
"""The map draws at most this many ground-track samples (evenly thinned beyond)."""

DEFAULT_WEATHER_SCENARIOS = 500
"""Weather scenarios drawn for the P10-P90 band of the monthly budget."""

SECTION_IDS = ("sec-summary", "sec-timeline", "sec-sky", "sec-map", "sec-key-elevation",
               "sec-cumulative", "sec-buffers", "sec-monthly", "sec-relay", "sec-provenance")
"""``id`` of every section of the page, in order."""

FIGURE_IDS = ("fig-timeline", "fig-sky", "fig-groundtrack", "fig-key-elevation",
              "fig-cumulative", "fig-buffers", "fig-monthly", "fig-relay")
"""``id`` of every figure ``div`` (present when the figure has data to show)."""

NOT_DRAWN = "Not drawn: there are no passes in the selection (see the summary)."
"""What a figure's section says when there are no passes at all."""

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                  "toImageButtonOptions": {"format": "png", "scale": 2}}
_WGS84_A_KM = 6378.137
_WGS84_F = 1 / 298.257223563


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@dataclass
class ReportInputs:
    """Everything a report shows.

    Attributes
    ----------
    passes : pandas.DataFrame
        The pass table (docs/architecture.md columns), all passes, day and night; its index is the
        pass id.
    stations : sequence
        The stations (objects with ``name, latitude_deg, longitude_deg, altitude_m, timezone,
        min_elevation_deg``), in the order the report lists them.
    keys : pandas.DataFrame, optional
        The key table (pass table + :data:`KEY_COLUMNS`), same index as ``passes``. Its
        ``attrs["key_model"]`` (set by :func:`planner.key.perpass.key_table`) goes into provenance.
    tracks : pandas.DataFrame, optional
        Per-second tracks of one chosen night (:func:`planner.geometry.tracks.pass_tracks` of, e.g.,
        :func:`choose_night`); ``pass_id`` refers to the index of ``passes``.
    plan : planner.relay.schedule.Plan, optional
        A relay plan (with ``weather`` if it was evaluated over weather scenarios).
    ground_track : pandas.DataFrame, optional
        Satellite sub-points (:func:`ground_track`): ``satellite, time_utc, latitude_deg,
        longitude_deg, altitude_km``.
    provenance : mapping
        Element-set epochs and sources, station file, period, options (e.g.
        :func:`planner.run.pipeline.run_provenance`); shown in full and written to every table.
    title : str
        Page title.
    period : (start, end), optional
        The planning period (UTC); taken from ``provenance["period_utc"]`` or the passes if
        absent.
    weather_scenarios, weather_seed, persistence
        Weather sampling for the monthly P10-P90 band
        (:func:`planner.relay.weather.sample_clear_sky`);
        the seed is recorded in the provenance block.
    """

    passes: pd.DataFrame
    stations: Sequence[Any]
    keys: pd.DataFrame | None = None
    tracks: pd.DataFrame | None = None
    plan: Plan | None = None
    ground_track: pd.DataFrame | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict)
    title: str = "QKD key-budget report"
    period: tuple[Any, Any] | None = None
    weather_scenarios: int = DEFAULT_WEATHER_SCENARIOS
    weather_seed: int = 0
    persistence: float = DEFAULT_PERSISTENCE


def _check_inputs(inputs: ReportInputs) -> None:
    """Reject tables that lack the columns the report reads (programming errors upstream)."""
    _require(inputs.passes, PASS_COLUMNS, "passes")
    if inputs.keys is not None:
        _require(inputs.keys, (*PASS_COLUMNS, *KEY_COLUMNS), "keys")
    if inputs.tracks is not None:
        _require(inputs.tracks, TRACK_COLUMNS, "tracks")
        table = inputs.keys if inputs.keys is not None else inputs.passes
        unknown = np.setdiff1d(inputs.tracks["pass_id"].unique(), table.index.to_numpy())
        if unknown.size:
            raise PlannerInputError(f"track pass id {unknown[0]} is not in the pass table "
                                    "(tracks must come from this pass table)",
                                    field="tracks.pass_id")
    if inputs.ground_track is not None:
        _require(inputs.ground_track, ("satellite", "time_utc", "latitude_deg",
                                       "longitude_deg"), "ground_track")
    if not isinstance(inputs.weather_scenarios, int) or inputs.weather_scenarios < 1:
        raise PlannerInputError(f"{inputs.weather_scenarios!r} must be a whole number >= 1",
                                field="weather_scenarios")


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PlannerInputError(f"lacks column(s) {', '.join(missing)}", field=name)


# --------------------------------------------------------------------------------------------
# Helpers for the caller: the chosen night, the ground track
# --------------------------------------------------------------------------------------------


def choose_night(table: pd.DataFrame, night: str | datetime | None = None) -> pd.DataFrame:
    """The night passes of one night, for the sky plot.

    Nights are cut as in the scheduler (:func:`planner.relay.weather.night_dates` with the cut hour
    in the largest daytime gap), so a night that spans China and South Africa is one night.

    Parameters
    ----------
    table : pandas.DataFrame
        Pass or key table (needs ``night`` and ``tca_utc``).
    night : str or datetime, optional
        The night's date (``YYYY-MM-DD``, the UTC date on which it starts). Default: the night
        with the most expected key (key table) or the most night passes (pass table); the
        earliest such night on a tie.

    Returns
    -------
    pandas.DataFrame
        The rows of that night (same index), empty if there are no night passes.

    Raises
    ------
    OptionError
        If ``night`` is not a date or has no night passes (names ``--night``).
    """
    nights = table[table["night"].astype(bool)]
    if nights.empty:
        return nights
    dates = night_dates(nights["tca_utc"], auto_night_cut_hour(nights["tca_utc"]))
    if night is None:
        score = (nights["expected_secure_bits"].to_numpy(float)
                 if "expected_secure_bits" in nights else np.ones(len(nights)))
        totals = pd.Series(score).groupby(dates).sum()
        chosen = totals.index[int(np.argmax(totals.to_numpy()))]
    else:
        chosen = np.datetime64(as_utc_datetime(night, option="--night").date(), "D")
        if not (dates == chosen).any():
            raise OptionError(f"no night passes in the night of {chosen} (nights with passes: "
                              f"{dates.min()} to {dates.max()})", field="--night")
    return nights[dates == np.datetime64(chosen, "D")]


def itrs_to_geodetic(r_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geodetic latitude, longitude [deg] and height [km] on WGS84 of Earth-fixed positions.

    Fixed-point iteration ``phi = atan2(z + e^2 N(phi) sin(phi), p)``, which contracts by a
    factor ~e^2 per step; six steps reach 1e-12 rad for any height above a few km.

    Parameters
    ----------
    r_km : (N, 3) array
        Earth-fixed (ITRS) positions [km].

    References
    ----------
    B. Hofmann-Wellenhof, H. Lichtenegger, E. Wasle, *GNSS*, Springer 2008, §10.2.1.
    """
    r = np.atleast_2d(np.asarray(r_km, dtype=float))
    x, y, z = r[:, 0], r[:, 1], r[:, 2]
    e2 = _WGS84_F * (2 - _WGS84_F)
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1 - e2))
    for _ in range(6):
        n = _WGS84_A_KM / np.sqrt(1 - e2 * np.sin(lat) ** 2)
        lat = np.arctan2(z + e2 * n * np.sin(lat), p)
    height = (p * np.cos(lat) + z * np.sin(lat)
              - _WGS84_A_KM * np.sqrt(1 - e2 * np.sin(lat) ** 2))
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), height


def ground_track(catalogue: Catalogue, start: str | datetime, end: str | datetime, *,
                 step_s: float = GROUND_TRACK_STEP_S,
                 satellites: Sequence[str] | None = None) -> pd.DataFrame:
    """Sub-satellite points of every satellite of a catalogue over ``[start, end]``.

    SGP4 with the element set nearest each time
    (:class:`planner.geometry.frames.SatellitePropagator`,
    the pass finder's propagator), then Earth-fixed to WGS84 geodetic coordinates
    (:func:`itrs_to_geodetic`; the same point as Skyfield's ``wgs84.subpoint_of``).

    Parameters
    ----------
    catalogue : planner.elements.elementsets.Catalogue
        The element sets.
    start, end : str or datetime
        The window (UTC).
    step_s : float
        Sample spacing [s].
    satellites : sequence of str, optional
        Satellite keys, names or catalogue numbers; all by default.

    Returns
    -------
    pandas.DataFrame
        ``satellite, norad, time_utc, latitude_deg, longitude_deg, altitude_km``; samples where
        SGP4 fails are left out.

    Raises
    ------
    OptionError
        If the window is empty or the step is not positive.
    """
    t0, t1 = as_utc_datetime(start, option="start"), as_utc_datetime(end, option="end")
    span = (t1 - t0).total_seconds()
    if not step_s > 0:
        raise OptionError(f"{step_s} is not a positive step", field="step_s")
    if not span > 0:
        raise OptionError("the ground-track window is empty", field="end")
    offsets = np.arange(0.0, span + 1e-9, step_s)
    times = (np.datetime64(t0.replace(tzinfo=None), "ns")
             + (offsets * 1e9).astype("timedelta64[ns]"))
    timebase = TimeBase(t0, span)
    tau = timebase.tau_of(times)
    pieces = []
    for key in [catalogue.resolve(s) for s in satellites] if satellites else catalogue.satellites:
        sets = catalogue.sets(key)
        epoch_tau = np.array([timebase.tau_of(s.epoch) for s in sets])
        propagator = SatellitePropagator([s.satrec for s in sets], epoch_tau, timebase)
        r_itrs, _, error = propagator.state(tau)
        ok = error == 0
        lat, lon, height = itrs_to_geodetic(r_itrs[ok])
        pieces.append(pd.DataFrame({
            "satellite": catalogue.name(key), "norad": catalogue.norad(key),
            "time_utc": pd.to_datetime(times[ok], utc=True), "latitude_deg": lat,
            "longitude_deg": lon, "altitude_km": height}))
    return pd.concat(pieces, ignore_index=True)


def night_views(table: pd.DataFrame, catalogue: Catalogue, stations: Sequence[Any], *,
                tracks: pd.DataFrame | None = None, night: str | datetime | None = None,
                margin_minutes: float = 20.0
                ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Tracks and ground track of one night, ready for :class:`ReportInputs`.

    Parameters
    ----------
    table : pandas.DataFrame
        Pass or key table (its index is the pass id).
    catalogue : planner.elements.elementsets.Catalogue
        The element sets the passes were found with.
    stations : sequence of Station
        The stations.
    tracks : pandas.DataFrame, optional
        Per-second tracks already computed for ``table`` (e.g. for the key table); computed
        for the chosen night's passes only when absent.
    night : str or datetime, optional
        See :func:`choose_night` (default: the night with the most expected key).
    margin_minutes : float
        The ground track runs from this long before the night's first AOS to as long after its
        last LOS [min].

    Returns
    -------
    (tracks, ground_track)
        Both ``None`` when there are no night passes.
    """
    from planner.geometry.tracks import pass_tracks

    chosen = choose_night(table, night)
    if chosen.empty:
        return None, None
    if tracks is None:
        night_tracks = pass_tracks(chosen, catalogue, stations)
    else:
        night_tracks = tracks[tracks["pass_id"].isin(chosen.index)]
    margin = pd.Timedelta(minutes=margin_minutes)
    track = ground_track(catalogue, chosen["aos_utc"].min() - margin,
                         chosen["los_utc"].max() + margin)
    return night_tracks, track


# --------------------------------------------------------------------------------------------
# The numbers: per station, per month, per demand, weather spread
# --------------------------------------------------------------------------------------------


@dataclass
class Summary:
    """The report's numbers (also written to ``<stem>_summary.json``)."""

    period: tuple[pd.Timestamp, pd.Timestamp] | None
    satellites: list[str]
    stations: pd.DataFrame
    monthly: pd.DataFrame | None
    band: pd.DataFrame | None
    totals: dict[str, Any]
    relay: pd.DataFrame | None
    weather: dict[str, Any] | None


def _utc_stamp(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _period(inputs: ReportInputs) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The planning period: given, from provenance (``period_utc``), or spanned by the passes."""
    text = inputs.provenance.get("period_utc")
    if inputs.period is not None:
        start, end = inputs.period
    elif isinstance(text, str) and "/" in text:
        start, end = text.split("/", 1)
    elif not inputs.passes.empty:
        start, end = inputs.passes["aos_utc"].min(), inputs.passes["los_utc"].max()
    else:
        return None
    return _utc_stamp(start), _utc_stamp(end)


def _night_keys(inputs: ReportInputs) -> pd.DataFrame | None:
    if inputs.keys is None:
        return None
    return inputs.keys[inputs.keys["night"].astype(bool)]


def _month_labels(times) -> np.ndarray:
    return pd.to_datetime(pd.Series(times), utc=True).dt.strftime("%Y-%m").to_numpy()


def station_summary(passes: pd.DataFrame, keys: pd.DataFrame | None,
                    names: Sequence[str]) -> pd.DataFrame:
    """Per station: passes, night passes, usable night passes and key.

    Usable night passes are night passes with finite-key secure key > 0 (all night passes when
    there is no key table). Key columns are in bits.
    """
    frame = pd.DataFrame(index=pd.Index(list(names), name="station"))
    frame["passes"] = passes.groupby("station").size().reindex(frame.index, fill_value=0)
    night = passes[passes["night"].astype(bool)]
    frame["night_passes"] = night.groupby("station").size().reindex(frame.index, fill_value=0)
    if keys is None:
        frame["usable_night_passes"] = frame["night_passes"]
        return frame
    usable = keys[keys["night"].astype(bool) & (keys["secure_bits"] > 0)]
    grouped = usable.groupby("station")
    frame["usable_night_passes"] = grouped.size().reindex(frame.index, fill_value=0)
    frame["expected_bits"] = grouped["expected_secure_bits"].sum().reindex(frame.index,
                                                                          fill_value=0.0)
    frame["clear_sky_bits"] = grouped["secure_bits"].sum().reindex(frame.index, fill_value=0.0)
    frame["median_pass_bits"] = grouped["secure_bits"].median().reindex(frame.index)
    frame["best_pass_bits"] = grouped["secure_bits"].max().reindex(frame.index)
    best = usable.loc[grouped["secure_bits"].idxmax()] if not usable.empty else usable
    frame["best_pass_tca_utc"] = best.set_index("station")["tca_utc"].reindex(frame.index) \
        if not usable.empty else pd.NaT
    return frame


def monthly_key(keys_night: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Expected key [bit] per month (rows, ``YYYY-MM`` of TCA in UTC) and station (columns)."""
    months = _month_labels(keys_night["tca_utc"])
    table = (keys_night.assign(month=months)
             .pivot_table(index="month", columns="station", values="expected_secure_bits",
                          aggfunc="sum", fill_value=0.0))
    return table.reindex(columns=[n for n in names if n in table.columns], fill_value=0.0)


def weather_band(keys_night: pd.DataFrame, *, scenarios: int, seed: int,
                 persistence: float) -> tuple[pd.DataFrame, dict[str, float]]:
    """P10/P50/P90 of the all-station key per month over sampled weather.

    Clear and cloudy station-nights are drawn with :func:`planner.relay.weather.sample_clear_sky`
    (night-to-night persistence, one draw per station-night); a clear night yields each pass's
    clear-sky key (``secure_bits``), a cloudy one nothing.

    Returns
    -------
    band : pandas.DataFrame
        Index month label; ``p10, p50, p90, clear_sky, expected`` [bit].
    total : dict
        The same for the whole period.
    """
    rows = keys_night[keys_night["secure_bits"] > 0]
    if rows.empty:
        return pd.DataFrame(columns=["p10", "p50", "p90", "clear_sky", "expected"]), {}
    nights = night_dates(rows["tca_utc"], auto_night_cut_hour(rows["tca_utc"]))
    clear = sample_clear_sky(rows["station"].to_numpy(str), nights,
                             rows["clear_sky_probability"].to_numpy(float),
                             n_scenarios=scenarios, seed=seed, persistence=persistence)
    bits = rows["secure_bits"].to_numpy(float)
    months = _month_labels(rows["tca_utc"])
    labels, code = np.unique(months, return_inverse=True)
    per_month = np.zeros((scenarios, labels.size))
    for k in range(labels.size):
        per_month[:, k] = clear[:, code == k].astype(float) @ bits[code == k]
    band = pd.DataFrame({
        "p10": np.percentile(per_month, 10, axis=0),
        "p50": np.percentile(per_month, 50, axis=0),
        "p90": np.percentile(per_month, 90, axis=0),
        "clear_sky": np.bincount(code, weights=bits, minlength=labels.size),
        "expected": np.bincount(code, weights=rows["expected_secure_bits"].to_numpy(float),
                                minlength=labels.size),
    }, index=pd.Index(labels, name="month"))
    total = per_month.sum(axis=1)
    return band, {"p10": float(np.percentile(total, 10)),
                  "p50": float(np.percentile(total, 50)),
                  "p90": float(np.percentile(total, 90))}


def relay_summary(plan: Plan) -> pd.DataFrame:
    """Per demand: target, planned delivery, unmet, completion and weather spread [bit]."""
    frame = plan.delivered[["target_bits", "delivered_bits", "unmet_bits",
                            "completion_utc"]].copy()
    if plan.weather is not None and not plan.weather.empty:
        weather = plan.weather.reindex(frame.index)
        for column in ("p10_bits", "p50_bits", "p90_bits", "p_target_met"):
            frame[column] = weather[column]
    return frame


def summarise(inputs: ReportInputs) -> Summary:
    """Compute every number the report shows."""
    names = [s.name for s in inputs.stations]
    extra = sorted(set(inputs.passes["station"].astype(str)) - set(names))
    names += extra
    keys_night = _night_keys(inputs)
    satellites = list(pd.unique(inputs.passes["satellite"].astype(str)))
    stations = station_summary(inputs.passes, inputs.keys, names)
    totals: dict[str, Any] = {
        "passes": len(inputs.passes),
        "night_passes": int(inputs.passes["night"].astype(bool).sum()),
        "usable_night_passes": int(stations["usable_night_passes"].sum()),
    }
    monthly = band = weather = None
    if keys_night is not None and not keys_night.empty:
        monthly = monthly_key(keys_night, names)
        band, spread = weather_band(keys_night, scenarios=inputs.weather_scenarios,
                                    seed=inputs.weather_seed, persistence=inputs.persistence)
        totals["expected_bits"] = float(stations["expected_bits"].sum())
        totals["clear_sky_bits"] = float(stations["clear_sky_bits"].sum())
        totals["weather_p10_bits"] = spread.get("p10")
        totals["weather_p90_bits"] = spread.get("p90")
        weather = {"scenarios": inputs.weather_scenarios, "seed": inputs.weather_seed,
                   "persistence": inputs.persistence,
                   "model": "planner.relay.weather.sample_clear_sky (one draw per station-night)"}
    relay = None
    if inputs.plan is not None:
        relay = relay_summary(inputs.plan)
        totals["relay_delivered_bits"] = float(relay["delivered_bits"].sum())
        unmet = relay["unmet_bits"].astype(float)
        totals["relay_unmet_bits"] = float(unmet.sum()) if unmet.notna().any() else None
    return Summary(_period(inputs), satellites, stations, monthly, band, totals, relay, weather)


# --------------------------------------------------------------------------------------------
# HTML pieces
# --------------------------------------------------------------------------------------------


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _mbit(bits: Any, digits: int = 2) -> str:
    if bits is None or (isinstance(bits, float) and not math.isfinite(bits)) or pd.isna(bits):
        return "—"
    return f"{float(bits) / 1e6:,.{digits}f}"


def _mbit_short(bits: Any) -> str:
    """Mbit for headline cards: no decimals from 100 Mbit on."""
    if bits is None or pd.isna(bits):
        return "—"
    return _mbit(bits, 0 if abs(float(bits)) >= 1e8 else 1)


def _kbit(bits: Any) -> str:
    if bits is None or pd.isna(bits):
        return "—"
    return f"{float(bits) / 1e3:,.0f}"


def _utc(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "—"
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime(fmt)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric_from: int = 1,
           css: str = "data", foot: Sequence[Any] | None = None) -> str:
    """An HTML table; cells from column ``numeric_from`` on are right-aligned."""
    def cells(row, tag):
        return "".join(f'<{tag}{" class=num" if i >= numeric_from else ""}>{_esc(v)}</{tag}>'
                       for i, v in enumerate(row))
    body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    tail = f"<tfoot><tr>{cells(foot, 'th')}</tr></tfoot>" if foot is not None else ""
    return (f'<div class="scroll"><table class="{css}"><thead><tr>{cells(header, "th")}</tr>'
            f"</thead><tbody>{body}</tbody>{tail}</table></div>")


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


def _section(section_id: str, heading: str, content: str, lede: str | None = None) -> str:
    intro = f'<p class="lede">{_esc(lede)}</p>' if lede else ""
    return (f'<section id="{section_id}"><h2>{_esc(heading)}</h2>{intro}{content}'
            "</section>")


def _figure(fig, div_id: str) -> str:
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id,
                       config=_PLOTLY_CONFIG, validate=False)


def _card(value: str, label: str, detail: str = "") -> str:
    extra = f'<div class="detail">{_esc(detail)}</div>' if detail else ""
    return (f'<div class="card"><div class="value">{_esc(value)}</div>'
            f'<div class="label">{_esc(label)}</div>{extra}</div>')


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _period_text(summary: Summary) -> str:
    if summary.period is None:
        return "an unspecified period"
    start, end = summary.period
    days = (end - start).total_seconds() / 86400
    return f"{_utc(start)} to {_utc(end)} UTC ({days:,.4g} days)"


def _no_passes_text(inputs: ReportInputs, summary: Summary) -> str:
    sats = ", ".join(summary.satellites) or _satellites_from_provenance(inputs) or \
        "the satellite(s)"
    stations = ", ".join(s.name for s in inputs.stations) or "the selected stations"
    return (f"No passes: {sats} never rises above the minimum elevation of {stations} from "
            f"{_period_text(summary)}. There is nothing to plan or plot; check the period, the "
            "stations' minimum elevations and the element sets.")


def _satellites_from_provenance(inputs: ReportInputs) -> str:
    sets = inputs.provenance.get("element_sets") or []
    names = sorted({str(s.get("satellite")) for s in sets if isinstance(s, Mapping)})
    return ", ".join(names)


def _summary_section(inputs: ReportInputs, summary: Summary) -> str:
    t = summary.totals
    if t["passes"] == 0:
        return _section("sec-summary", "Summary", _note(_no_passes_text(inputs, summary)))
    cards = [_card(f"{t['passes']:,}", "passes", f"{t['night_passes']:,} at night"),
             _card(f"{t['usable_night_passes']:,}", "usable night passes",
                   "night passes with secure key > 0" if inputs.keys is not None
                   else "night passes (no key table)")]
    if "expected_bits" in t:
        spread = ""
        if t.get("weather_p10_bits") is not None:
            spread = (f"P10–P90 over weather: {_mbit_short(t['weather_p10_bits'])}–"
                      f"{_mbit_short(t['weather_p90_bits'])} Mbit")
        cards.append(_card(f"{_mbit_short(t['expected_bits'])} Mbit", "expected secure key",
                           spread))
        cards.append(_card(f"{_mbit_short(t['clear_sky_bits'])} Mbit", "if every night were clear"))
    if "relay_delivered_bits" in t:
        cards.append(_card(f"{_mbit_short(t['relay_delivered_bits'])} Mbit",
                           "relay key delivered (plan)"))
        unmet = t.get("relay_unmet_bits")
        cards.append(_card("no targets" if unmet is None else f"{_mbit_short(unmet)} Mbit",
                           "unmet demand", "sum over demands with a target"))
    parts = [f'<p class="period">{_esc(_sentence(inputs, summary))}</p>',
             f'<div class="cards">{"".join(cards)}</div>',
             "<h3>Per station</h3>", _station_table(summary, inputs.keys is not None)]
    if summary.monthly is not None:
        parts += ["<h3>Expected key per station per month [Mbit]</h3>",
                  _monthly_table(summary)]
    elif inputs.keys is None:
        parts.append(_note("No key table was given: key figures are left out."))
    else:
        parts.append(_note("No night passes in the selection: no key can be distilled."))
    if summary.relay is not None:
        parts += ["<h3>Relay key per demand [Mbit]</h3>", _relay_table(inputs.plan, summary)]
    else:
        parts.append(_note("No relay plan in this run: relay figures are left out."))
    return _section("sec-summary", "Summary", "".join(parts))


def _sentence(inputs: ReportInputs, summary: Summary) -> str:
    t = summary.totals
    text = (f"From {_period_text(summary)}, {', '.join(summary.satellites)} makes "
            f"{t['passes']:,} passes over {len(summary.stations)} station(s); "
            f"{t['night_passes']:,} are at night")
    if inputs.keys is not None:
        text += f" and {t['usable_night_passes']:,} of those yield secure key"
    text += "."
    if "expected_bits" in t:
        text += (f" Expected secure key, weather included: {_mbit(t['expected_bits'], 1)} Mbit"
                 f" ({_mbit(t['clear_sky_bits'], 1)} Mbit if every night were clear).")
    return text


def _station_table(summary: Summary, with_keys: bool) -> str:
    s = summary.stations
    header = ["station", "passes", "night passes", "usable night passes"]
    if with_keys:
        header += ["expected key [Mbit]", "clear-sky key [Mbit]", "median pass [kbit]",
                   "best pass [kbit]", "best pass at (UTC)"]
    rows = []
    for name, r in s.iterrows():
        row = [name, f"{r['passes']:,}", f"{r['night_passes']:,}",
               f"{r['usable_night_passes']:,}"]
        if with_keys:
            row += [_mbit(r["expected_bits"]), _mbit(r["clear_sky_bits"]),
                    _kbit(r["median_pass_bits"]), _kbit(r["best_pass_bits"]),
                    _utc(r["best_pass_tca_utc"])]
        rows.append(row)
    foot = ["all stations", f"{s['passes'].sum():,}", f"{s['night_passes'].sum():,}",
            f"{s['usable_night_passes'].sum():,}"]
    if with_keys:
        foot += [_mbit(s["expected_bits"].sum()), _mbit(s["clear_sky_bits"].sum()), "", "", ""]
    return _table(header, rows, foot=foot)


def _monthly_table(summary: Summary) -> str:
    monthly = summary.monthly
    header = ["station", *monthly.index.astype(str), "total"]
    rows = [[name, *(_mbit(v) for v in monthly[name]), _mbit(monthly[name].sum())]
            for name in monthly.columns]
    foot = ["all stations", *(_mbit(v) for v in monthly.sum(axis=1)),
            _mbit(monthly.to_numpy().sum())]
    table = _table(header, rows, foot=foot)
    if summary.band is not None and not summary.band.empty:
        band = summary.band
        header = ["all stations", *band.index.astype(str)]
        rows = [["P10 (a poor season)", *(_mbit(v) for v in band["p10"])],
                ["P50", *(_mbit(v) for v in band["p50"])],
                ["P90 (a good season)", *(_mbit(v) for v in band["p90"])],
                ["every night clear", *(_mbit(v) for v in band["clear_sky"])]]
        w = summary.weather
        table += (f'<p class="small">Weather spread over {w["scenarios"]:,} sampled seasons '
                  f'(seed {w["seed"]}, night-to-night persistence {w["persistence"]:g}) '
                  "[Mbit]:</p>" + _table(header, rows))
    return table


def _relay_table(plan: Plan, summary: Summary) -> str:
    relay = summary.relay
    weather = "p50_bits" in relay.columns
    header = ["demand", "target", "planned", "unmet", "target met at (UTC)"]
    if weather:
        header += ["P10", "P50", "P90", "P(target met)"]
    rows = []
    for label, r in relay.iterrows():
        row = [label, _mbit(r["target_bits"]), _mbit(r["delivered_bits"]),
               _mbit(r["unmet_bits"]), _utc(r["completion_utc"])]
        if weather:
            p = r["p_target_met"]
            row += [_mbit(r["p10_bits"]), _mbit(r["p50_bits"]), _mbit(r["p90_bits"]),
                    "—" if pd.isna(p) else f"{p:.0%}"]
        rows.append(row)
    gap = "—" if plan.gap is None else f"{plan.gap:.2%}"
    text = (f'<p class="small">Plan: objective {_esc(plan.objective)}, method '
            f"{_esc(plan.method)}, status {_esc(plan.status)}, optimality gap {gap}, "
            f"solver time {plan.wall_time_s:.1f} s. Planned on expected key; P10–P90 replay "
            "the plan under sampled weather.</p>")
    return _table(header, rows) + text


def _timeline_section(inputs: ReportInputs, colours, summary: Summary) -> str:
    lede = ("When each station sees the satellite. Night passes carry key; daylight and "
            "twilight passes do not. Use the buttons or drag to zoom into a few days.")
    if inputs.passes.empty:
        return _section("sec-timeline", "Pass timeline", _note(NOT_DRAWN))
    table = inputs.keys if inputs.keys is not None else inputs.passes
    fig = figs.timeline_figure(table, list(summary.stations.index),
                               key_column="expected_secure_bits" if inputs.keys is not None
                               else None)
    return _section("sec-timeline", "Pass timeline", _figure(fig, "fig-timeline"), lede)


def _night_label(passes: pd.DataFrame, night_table: pd.DataFrame) -> str:
    nights = night_table[night_table["night"].astype(bool)]
    times = nights["tca_utc"] if not nights.empty else passes["tca_utc"]
    date = night_dates(passes["tca_utc"], auto_night_cut_hour(times))[0]
    return (f"night of {date} ({_utc(passes['aos_utc'].min(), '%H:%M')}–"
            f"{_utc(passes['los_utc'].max(), '%H:%M')} UTC)")


def _sky_section(inputs: ReportInputs, colours, summary: Summary) -> str:
    lede = ("The path of each pass of one night across the sky as the telescope sees it: the "
            "centre is straight up, the rim the horizon, north at the top.")
    if inputs.passes.empty:
        return _section("sec-sky", "Sky plot of one night", _note(NOT_DRAWN))
    if inputs.tracks is None or inputs.tracks.empty:
        return _section("sec-sky", "Sky plot of one night",
                        _note("No per-second tracks were given for a chosen night, so the sky "
                              "plot is left out."))
    table = inputs.keys if inputs.keys is not None else inputs.passes
    tracks = figs.decimate_tracks(inputs.tracks, SKY_STEP_S)
    passes = table.loc[pd.unique(tracks["pass_id"])]
    by_name = {s.name: s for s in inputs.stations}
    fig = figs.sky_figure(
        tracks, passes, colours,
        {name: float(getattr(by_name.get(name), "min_elevation_deg", 0.0))
         for name in passes["station"].astype(str)},
        night_label=_night_label(passes, table),
        local_zones={n: _zone(s) for n, s in by_name.items() if _zone(s) is not None})
    return _section("sec-sky", "Sky plot of one night", _figure(fig, "fig-sky"), lede)


def _zone(station: Any) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(station.timezone))
    except (AttributeError, ValueError, ZoneInfoNotFoundError):
        return None


def _orbit_altitude_km(inputs: ReportInputs) -> float:
    """Satellite altitude for the footprints [km]: the ground track's median, else the passes'.

    From a pass, the height follows from its minimum range L at maximum elevation e:
    ``(R + h)^2 = R^2 + L^2 + 2 R L sin(e)``.
    """
    if inputs.ground_track is not None and "altitude_km" in inputs.ground_track \
            and not inputs.ground_track.empty:
        return float(inputs.ground_track["altitude_km"].median())
    r = figs.EARTH_RADIUS_KM
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


def _map_section(inputs: ReportInputs, colours, summary: Summary) -> str:
    lede = ("Where the satellite flies over the ground, and the region each station can reach: "
            "the dotted circles are the footprints at the station's minimum elevation.")
    if inputs.passes.empty:
        return _section("sec-map", "Ground track and footprints",
                        _note(NOT_DRAWN))
    track = in_view = label = None
    notes = ""
    if inputs.ground_track is not None and not inputs.ground_track.empty:
        track = _thin(inputs.ground_track.sort_values(["satellite", "time_utc"]))
        passes = inputs.passes
        if inputs.tracks is not None and not inputs.tracks.empty:
            table = inputs.keys if inputs.keys is not None else inputs.passes
            passes = table.loc[pd.unique(inputs.tracks["pass_id"])]
        in_view = _in_view(track, passes)
        label = (f"{_utc(track['time_utc'].min())}–{_utc(track['time_utc'].max(), '%H:%M')} "
                 "UTC")
    else:
        notes = _note("No ground-track samples were given: the map shows stations and "
                      "footprints only.")
    fig = figs.ground_track_figure(inputs.stations, colours,
                                   altitude_km=_orbit_altitude_km(inputs), track=track,
                                   in_view=in_view, window_label=label)
    return _section("sec-map", "Ground track and footprints",
                    notes + _figure(fig, "fig-groundtrack"), lede)


def _key_note(inputs: ReportInputs) -> str | None:
    if inputs.passes.empty:
        return NOT_DRAWN
    if inputs.keys is None:
        return "No key table was given, so there is no key to show."
    if not inputs.keys["night"].astype(bool).any():
        return ("No night passes in the selection: QKD needs darkness, so no key can be "
                "distilled.")
    return None


def _key_elevation_section(inputs: ReportInputs, colours, summary: Summary) -> str:
    title = "Key per pass against maximum elevation"
    lede = ("What a single night pass is worth under a clear sky: high passes are closer and "
            "longer, so they give more key.")
    note = _key_note(inputs)
    if note:
        return _section("sec-key-elevation", title, _note(note))
    model = inputs.keys.attrs.get("key_model", {}) if inputs.keys is not None else {}
    fig = figs.key_elevation_figure(_night_keys(inputs), colours,
                                    min_key_elevation_deg=model.get("min_key_elevation_deg"))
    return _section("sec-key-elevation", title, _figure(fig, "fig-key-elevation"), lede)


def _delivered_hops(plan: Plan) -> dict[str, pd.DataFrame]:
    """Relay hops that bring key to each demand's far station (what counts as delivered)."""
    relays = plan.relays
    out = {}
    for demand in plan.demands:
        into = relays[(relays["demand"] == demand.label)
                      & (relays["to_station"] == demand.station_b)]
        out[demand.label] = into[["time_utc", "bits"]]
    return out


def _cumulative_section(inputs: ReportInputs, colours, summary: Summary) -> str:
    title = "Cumulative key"
    lede = ("How key builds up over the period: expected key shared with each station and, "
            "with a relay plan, key delivered to each station pair.")
    note = _key_note(inputs)
    if note:
        return _section("sec-cumulative", title, _note(note))
    start, end = summary.period
    plan = inputs.plan
    fig = figs.cumulative_figure(
        _night_keys(inputs), colours, start_ms=figs.epoch_ms([start])[0],
        end_ms=figs.epoch_ms([end])[0],
        delivered=_delivered_hops(plan) if plan is not None else None,
        targets={d.label: d.target_bits for d in plan.demands} if plan is not None else None)
    return _section("sec-cumulative", title, _figure(fig, "fig-cumulative"), lede)


def _buffer_section(inputs: ReportInputs, colours, summary: Summary) -> str:
    title = "On-board key buffers"
    lede = ("Key the satellite holds for each station: it grows with every pass the plan uses "
            "and is spent when the satellite relays key between two stations.")
    if inputs.plan is None:
        return _section("sec-buffers", title, _note("No relay plan in this run, so there are "
                                                    "no on-board buffers to show."))
    if inputs.plan.buffers.empty:
        return _section("sec-buffers", title, _note("The relay plan uses no passes, so the "
                                                    "on-board buffers stay empty."))
    start, end = summary.period
    fig = figs.buffer_figure(inputs.plan.buffers, colours, start_ms=figs.epoch_ms([start])[0],
                             end_ms=figs.epoch_ms([end])[0],
                             memory_bits=inputs.plan.parameters.get("memory_bits"))
    return _section("sec-buffers", title, _figure(fig, "fig-buffers"), lede)


def _band_label(summary: Summary) -> str:
    w = summary.weather or {}
    return f"{w.get('scenarios', 0):,} weather scenarios, seed {w.get('seed')}"


def _monthly_section(inputs: ReportInputs, colours, summary: Summary) -> str:
    title = "Monthly key budget"
    lede = ("Expected key per month by station. The diamond and its bar show the range a "
            "season's weather gives for all stations together: one year in ten is worse than "
            "P10, one in ten better than P90.")
    note = _key_note(inputs)
    if note:
        return _section("sec-monthly", title, _note(note))
    fig = figs.monthly_figure(summary.monthly, summary.band, colours,
                              band_label=_band_label(summary))
    return _section("sec-monthly", title, _figure(fig, "fig-monthly"), lede)


def _relay_section(inputs: ReportInputs, summary: Summary) -> str:
    title = "Relay key per demand"
    lede = ("Key each station pair ends up sharing through the satellite, against its target; "
            "the diamond and bar show the spread when the plan meets real weather.")
    plan = inputs.plan
    if plan is None:
        return _section("sec-relay", title, _note("No relay plan in this run."))
    band = None
    if plan.weather_info:
        band = (f"{plan.weather_info.get('scenarios', '?')} scenarios, seed "
                f"{plan.weather_info.get('seed', '?')}")
    fig = figs.relay_figure(plan.delivered, plan.weather, band_label=band)
    return _section("sec-relay", title, _figure(fig, "fig-relay"), lede)


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


def _render(value: Any, depth: int = 0) -> str:
    """Nested dicts as definition tables, lists of records as tables, the rest as text."""
    if isinstance(value, Mapping):
        if not value:
            return "—"
        if len(value) > 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                  for v in value.values()):
            return _esc(", ".join(f"{k}: {_plain(v)}" for k, v in value.items()))
        rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_render(v, depth + 1)}</td></tr>"
                       for k, v in value.items())
        return f'<table class="kv">{rows}</table>'
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Mapping) for v in value):
            keys = list(dict.fromkeys(k for v in value for k in v))
            body = "".join("<tr>" + "".join(f"<td>{_render(v.get(k), depth + 1)}</td>"
                                            for k in keys) + "</tr>" for v in value)
            head = "".join(f"<th>{_esc(k)}</th>" for k in keys)
            return f'<table class="rec"><tr>{head}</tr>{body}</table>'
        return _esc(", ".join(_plain(v) for v in value)) if value else "—"
    return _esc(_plain(value))


def _plain(value: Any) -> str:
    if isinstance(value, (pd.Timestamp, datetime)):
        return _utc(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, float):
        return f"{value:.10g}"
    if value is None:
        return "—"
    return str(value)


def _report_provenance(inputs: ReportInputs, summary: Summary) -> dict[str, Any]:
    record: dict[str, Any] = {"report": f"qkdplan {__version__} planner.report.page",
                              "sky_plot_step_s": SKY_STEP_S}
    if summary.weather:
        record["monthly_weather_band"] = summary.weather
    if inputs.ground_track is not None and not inputs.ground_track.empty:
        times = inputs.ground_track["time_utc"]
        record["ground_track_window_utc"] = f"{_utc(times.min())} – {_utc(times.max())}"
    return record


def _plan_record(plan: Plan) -> dict[str, Any]:
    return {"objective": plan.objective, "method": plan.method, "status": plan.status,
            "gap": plan.gap,
            "demands": [{"demand": d.label, "weight": d.weight, "target_bits": d.target_bits}
                        for d in plan.demands],
            "parameters": {k: v for k, v in plan.parameters.items() if k != "solver_stats"},
            "weather": plan.weather_info, "provenance": plan.provenance or None}


def _provenance_section(inputs: ReportInputs, summary: Summary) -> str:
    parts = ["<h3>Run</h3>", _render(dict(inputs.provenance)) if inputs.provenance
             else _note("The caller gave no provenance for this run.")]
    model = inputs.keys.attrs.get("key_model") if inputs.keys is not None else None
    if model:
        parts += ["<h3>Key model and payload</h3>", _render(model)]
    if inputs.plan is not None:
        parts += ["<h3>Relay plan</h3>", _render(_plan_record(inputs.plan))]
    parts += ["<h3>This report</h3>", _render(_report_provenance(inputs, summary))]
    return _section("sec-provenance", "Provenance", "".join(parts),
                    "Where every number comes from: element sets, stations, models and seeds.")


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------

_CSS = """
:root{--ink:#222;--muted:#666;--line:#e3e3e3;--accent:#1f5fa8;--bg:#fafafa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,
sans-serif;color:var(--ink);background:var(--bg)}
header{background:#13294b;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:26px}
header p{margin:2px 0;color:#d7e0ee}
nav{position:sticky;top:0;z-index:10;background:#fff;border-bottom:1px solid var(--line);
padding:8px 32px;font-size:14px}
nav a{margin-right:16px;color:var(--accent);text-decoration:none;white-space:nowrap}
main{max-width:1400px;margin:0 auto;padding:8px 32px 48px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;margin:20px 0;
padding:16px 20px}
h2{margin:0 0 6px;font-size:21px}h3{margin:18px 0 6px;font-size:16px}
.lede{color:var(--muted);margin:0 0 10px}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:10px 14px;margin:10px 0}
.banner{background:#fdecea;border-left:4px solid #c62828;padding:10px 14px;margin:16px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px;
margin:12px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#f6f9fd}
.card .value{font-size:26px;font-weight:600;color:#13294b}
.card .label{font-size:14px}.card .detail{font-size:12px;color:var(--muted)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:13.5px;margin:4px 0 8px}
table.data th,table.data td{padding:4px 10px;border-bottom:1px solid var(--line);
text-align:left;white-space:nowrap}
table.data thead th{background:#eef2f7}table.data tfoot th{background:#f4f4f4}
table.data tbody tr:nth-child(even){background:#fbfbfb}
.num{text-align:right!important;font-variant-numeric:tabular-nums}
table.kv th{text-align:left;vertical-align:top;padding:2px 12px 2px 0;color:#444;
font-weight:600;white-space:nowrap}
table.kv td{padding:2px 0;word-break:break-word}
table.rec th,table.rec td{border:1px solid var(--line);padding:2px 8px;text-align:left;
font-size:12.5px}
.small{font-size:13px;color:var(--muted)}
footer{color:var(--muted);font-size:12px;text-align:center;padding:16px}
"""

_NAV = (("sec-summary", "Summary"), ("sec-timeline", "Timeline"), ("sec-sky", "Sky plot"),
        ("sec-map", "Map"), ("sec-key-elevation", "Key per pass"),
        ("sec-cumulative", "Cumulative"), ("sec-buffers", "Buffers"),
        ("sec-monthly", "Monthly budget"), ("sec-relay", "Relay"),
        ("sec-provenance", "Provenance"))


def _banner(inputs: ReportInputs, summary: Summary) -> str:
    names = summary.satellites or [_satellites_from_provenance(inputs)]
    if any("REPRESENTATIVE" in n.upper() for n in names):
        return ('<div class="banner"><b>Representative orbit.</b> The element set is a '
                "representative one, not a real one: pass times and key are illustrative. "
                "Load real elements (TLE or OMM) for operations.</div>")
    return ""


def _page(inputs: ReportInputs, summary: Summary, sections: Sequence[str]) -> str:
    nav = "".join(f'<a href="#{i}">{_esc(t)}</a>' for i, t in _NAV)
    stations = ", ".join(s.name for s in inputs.stations)
    generator = inputs.provenance.get("generator", f"qkdplan {__version__}")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"{_esc(generator)}\">\n"
        f"<title>{_esc(inputs.title)}</title>\n<style>{_CSS}</style>\n"
        "<!-- plotly.js, embedded once: the page needs no network -->\n"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script>\n</head>\n<body>\n"
        f"<header><h1>{_esc(inputs.title)}</h1>"
        f"<p>{_esc(', '.join(summary.satellites) or _satellites_from_provenance(inputs))} · "
        f"{_esc(_period_text(summary))}</p><p>Stations: {_esc(stations)}</p></header>\n"
        f"<nav>{nav}</nav>\n<main>{_banner(inputs, summary)}\n" + "\n".join(sections)
        + f"\n</main>\n<footer>Generated by {_esc(generator)}. Times are UTC unless marked "
        "local. Key in bits: 1 kbit = 1,000 bits, 1 Mbit = 10<sup>6</sup> bits.</footer>\n"
        "</body>\n</html>\n")


def _render_report(inputs: ReportInputs) -> tuple[str, Summary]:
    _check_inputs(inputs)
    summary = summarise(inputs)
    colours = figs.station_colours(list(summary.stations.index))
    sections = [
        _summary_section(inputs, summary),
        _timeline_section(inputs, colours, summary),
        _sky_section(inputs, colours, summary),
        _map_section(inputs, colours, summary),
        _key_elevation_section(inputs, colours, summary),
        _cumulative_section(inputs, colours, summary),
        _buffer_section(inputs, colours, summary),
        _monthly_section(inputs, colours, summary),
        _relay_section(inputs, summary),
        _provenance_section(inputs, summary),
    ]
    return _page(inputs, summary, sections), summary


def build_report(inputs: ReportInputs) -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    inputs : ReportInputs
        What to show.

    Returns
    -------
    str
        HTML text; it embeds plotly.js once and loads nothing from the network.

    Raises
    ------
    PlannerInputError
        If a table lacks a column the report needs.
    """
    return _render_report(inputs)[0]


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def report_paths(path: str | Path) -> dict[str, Path]:
    """The files :func:`write_report` writes for ``path``.

    ``reports/budget.html`` gives ``reports/budget_passes.csv``, ``reports/budget_keys.csv``
    and ``reports/budget_summary.json`` beside the page.
    """
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower() in (".html", ".htm") else path
    return {"html": path, "passes": stem.with_name(stem.name + "_passes.csv"),
            "keys": stem.with_name(stem.name + "_keys.csv"),
            "summary": stem.with_name(stem.name + "_summary.json")}


def check_report_path(path: str | Path, option: str = "--output") -> Path:
    """Fail early, before any planning, if the report's files cannot be written.

    Raises
    ------
    OptionError
        Naming ``option`` when the directory does not exist or is not writable, or the path
        is a directory.
    """
    for target in report_paths(path).values():
        check_output_path(target, option)
    return Path(path)


def _summary_json(inputs: ReportInputs, summary: Summary, record: Mapping[str, Any]) -> str:
    tables: dict[str, Any] = {
        "totals": summary.totals,
        "stations": summary.stations.reset_index(),
    }
    if summary.monthly is not None:
        tables["monthly_expected_bits"] = (summary.monthly.reset_index()
                                           .melt(id_vars="month", var_name="station",
                                                 value_name="expected_bits"))
    if summary.band is not None:
        tables["monthly_weather_band_bits"] = summary.band.reset_index()
    if summary.relay is not None:
        tables["relay"] = summary.relay.reset_index()
    if inputs.plan is not None:
        from planner.relay.schedule import plan_to_json

        tables["plan"] = plan_to_json(inputs.plan)
    return to_json(tables, record)


def _key_csv_table(keys: pd.DataFrame) -> pd.DataFrame:
    table = keys[[*PASS_COLUMNS, *KEY_COLUMNS]].copy()
    table.insert(0, "pass_id", keys.index.to_numpy())
    return table


def write_report(path: str | Path, inputs: ReportInputs) -> dict[str, Path]:
    """Write the HTML report and its tables beside it, each file atomically.

    The output directory is checked before any work; every file's content is built in memory
    before the first is written; then the tables are written and the page last, each through
    :func:`planner.io.output.write_atomic` (temporary name + rename), so a failure never leaves a
    partial file.

    Parameters
    ----------
    path : str or pathlib.Path
        The HTML file; tables go beside it (:func:`report_paths`).
    inputs : ReportInputs
        What to show.

    Returns
    -------
    dict of str to pathlib.Path
        ``html``, ``passes``, ``summary`` and, with a key table, ``keys``.

    Raises
    ------
    OptionError
        Naming ``--output`` when the directory is missing or not writable.
    """
    check_report_path(path)
    paths = report_paths(path)
    page, summary = _render_report(inputs)
    record = provenance(**{k: v for k, v in inputs.provenance.items() if k != "generator"})
    if inputs.keys is not None and inputs.keys.attrs.get("key_model"):
        record["key_model"] = json.loads(json.dumps(inputs.keys.attrs["key_model"],
                                                    default=str))
    if summary.weather:
        record["monthly_weather_band"] = summary.weather
    texts = {"passes": to_csv(inputs.passes[list(PASS_COLUMNS)], record)}
    if inputs.keys is not None:
        texts["keys"] = to_csv(_key_csv_table(inputs.keys), record)
    texts["summary"] = _summary_json(inputs, summary, record)
    texts["html"] = page
    written = {}
    for name, text in texts.items():
        written[name] = write_atomic(paths[name], text)
    return written
