"""The report's numbers: per station, per month, per relay demand, and the weather spread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner.relay.weather_band import month_labels, weather_band
from planner.report.inputs import ReportInputs, weather_settings
from planner.timebase import utc_timestamp

if TYPE_CHECKING:  # pragma: no cover
    from planner.relay.plan import Plan

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


def period_of(inputs: ReportInputs) -> tuple[pd.Timestamp, pd.Timestamp] | None:
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
    return utc_timestamp(start), utc_timestamp(end)


def night_keys(inputs: ReportInputs) -> pd.DataFrame | None:
    if inputs.keys is None:
        return None
    return inputs.keys[inputs.keys["night"].astype(bool)]


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
    months = month_labels(keys_night["tca_utc"])
    table = (keys_night.assign(month=months)
             .pivot_table(index="month", columns="station", values="expected_secure_bits",
                          aggfunc="sum", fill_value=0.0))
    return table.reindex(columns=[n for n in names if n in table.columns], fill_value=0.0)



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
    keys_night = night_keys(inputs)
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
        scenarios, seed = weather_settings(inputs)
        band, spread = weather_band(keys_night, scenarios=scenarios,
                                    seed=seed, persistence=inputs.persistence)
        totals["expected_bits"] = float(stations["expected_bits"].sum())
        totals["clear_sky_bits"] = float(stations["clear_sky_bits"].sum())
        totals["weather_p10_bits"] = spread.get("p10")
        totals["weather_p90_bits"] = spread.get("p90")
        weather = {"scenarios": scenarios, "seed": seed,
                   "persistence": inputs.persistence,
                   "model": "planner.relay.weather.sample_clear_sky (one draw per station-night)"}
    relay = None
    if inputs.plan is not None:
        relay = relay_summary(inputs.plan)
        totals["relay_delivered_bits"] = float(relay["delivered_bits"].sum())
        unmet = relay["unmet_bits"].astype(float)
        totals["relay_unmet_bits"] = float(unmet.sum()) if unmet.notna().any() else None
    return Summary(period_of(inputs), satellites, stations, monthly, band, totals, relay, weather)
