"""The page's text sections: the summary (cards and tables) and the provenance."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner import __version__
from planner.report import parts
from planner.report.figures.sky import SKY_STEP_S
from planner.report.format import kbit, local, mbit, mbit_short, period_text, utc
from planner.report.inputs import ReportInputs
from planner.report.summary import Summary
from planner.report.tonight import shown_zones, zone_heading

if TYPE_CHECKING:  # pragma: no cover
    from planner.relay.plan import Plan

def satellites_from_provenance(inputs: ReportInputs) -> str:
    """Satellite names of the element sets in the provenance (when there are no passes)."""
    sets = inputs.provenance.get("element_sets") or []
    names = sorted({str(s.get("satellite")) for s in sets if isinstance(s, Mapping)})
    return ", ".join(names)


def satellites_text(inputs: ReportInputs, summary: Summary) -> str:
    """The satellites of the run, from the passes or else the provenance."""
    return ", ".join(summary.satellites) or satellites_from_provenance(inputs)


def _no_passes_text(inputs: ReportInputs, summary: Summary) -> str:
    sats = satellites_text(inputs, summary) or "the satellite(s)"
    stations = ", ".join(s.name for s in inputs.stations) or "the selected stations"
    return (f"No passes: {sats} does not rise above the minimum elevation of {stations} from "
            f"{period_text(summary.period)}. There is nothing to plan or plot; check the "
            "period, the stations' minimum elevations and the element sets.")


def summary_section(inputs: ReportInputs, summary: Summary) -> dict[str, Any]:
    """Headline cards, the per-station, per-month and per-demand tables."""
    t = summary.totals
    if t["passes"] == 0:
        return parts.section("sec-summary", "Summary",
                             [parts.note(_no_passes_text(inputs, summary))])
    cards = [(f"{t['passes']:,}", "passes", f"{t['night_passes']:,} at night"),
             (f"{t['usable_night_passes']:,}", "usable night passes",
              "night passes with secure key > 0" if inputs.keys is not None
              else "night passes (no key table)")]
    if "expected_bits" in t:
        spread = ""
        if t.get("weather_p10_bits") is not None:
            spread = (f"P10–P90 over weather: {mbit_short(t['weather_p10_bits'])}–"
                      f"{mbit_short(t['weather_p90_bits'])} Mbit")
        cards.append((f"{mbit_short(t['expected_bits'])} Mbit", "expected secure key",
                      spread))
        cards.append((f"{mbit_short(t['clear_sky_bits'])} Mbit", "if every night were clear",
                      ""))
    if "relay_delivered_bits" in t:
        cards.append((f"{mbit_short(t['relay_delivered_bits'])} Mbit",
                      "relay key delivered (plan)", ""))
        unmet = t.get("relay_unmet_bits")
        cards.append(("no targets" if unmet is None else f"{mbit_short(unmet)} Mbit",
                      "unmet demand", "sum over demands with a target"))
    content = [parts.paragraph(_sentence(inputs, summary), "period"), parts.cards(cards),
               parts.heading("Per station"), _station_table(inputs, summary)]
    if summary.monthly is not None:
        content += [parts.heading("Expected key per station per month [Mbit]"),
                    *_monthly_tables(summary)]
    elif inputs.keys is None:
        content.append(parts.note("No key table was given: key figures are left out."))
    else:
        content.append(parts.note("No night passes in the selection: no key can be "
                                  "distilled."))
    if summary.relay is not None:
        content += [parts.heading("Relay key per demand [Mbit]"),
                    *_relay_table(inputs.plan, summary)]
    else:
        content.append(parts.note("No relay plan in this run: relay figures are left out."))
    return parts.section("sec-summary", "Summary", content)


def _sentence(inputs: ReportInputs, summary: Summary) -> str:
    t = summary.totals
    text = (f"From {period_text(summary.period)}, {', '.join(summary.satellites)} makes "
            f"{t['passes']:,} passes over {len(summary.stations)} station(s); "
            f"{t['night_passes']:,} are at night")
    if inputs.keys is not None:
        text += f" and {t['usable_night_passes']:,} of those yield secure key"
    text += "."
    if "expected_bits" in t:
        text += (f" Expected secure key, weather included: {mbit(t['expected_bits'], 1)} Mbit"
                 f" ({mbit(t['clear_sky_bits'], 1)} Mbit if every night were clear).")
    return text


def _station_table(inputs: ReportInputs, summary: Summary) -> dict[str, Any]:
    s = summary.stations
    with_keys = inputs.keys is not None
    zones = shown_zones(inputs)
    header = ["station", "passes", "night passes", "usable night passes"]
    if with_keys:
        header += ["expected key [Mbit]", "clear-sky key [Mbit]", "median pass [kbit]",
                   "best pass [kbit]", f"best pass at ({zone_heading(inputs)})"]
    rows = []
    for name, r in s.iterrows():
        row = [name, f"{r['passes']:,}", f"{r['night_passes']:,}",
               f"{r['usable_night_passes']:,}"]
        if with_keys:
            row += [mbit(r["expected_bits"]), mbit(r["clear_sky_bits"]),
                    kbit(r["median_pass_bits"]), kbit(r["best_pass_bits"]),
                    local(r["best_pass_tca_utc"], zones.get(name))]
        rows.append(row)
    foot = ["all stations", f"{s['passes'].sum():,}", f"{s['night_passes'].sum():,}",
            f"{s['usable_night_passes'].sum():,}"]
    if with_keys:
        foot += [mbit(s["expected_bits"].sum()), mbit(s["clear_sky_bits"].sum()), "", "", ""]
    return parts.table(header, rows, foot=foot, css="data dense")


def _monthly_tables(summary: Summary) -> list[dict[str, Any]]:
    monthly = summary.monthly
    header = ["station", *monthly.index.astype(str), "total"]
    rows = [[name, *(mbit(v) for v in monthly[name]), mbit(monthly[name].sum())]
            for name in monthly.columns]
    foot = ["all stations", *(mbit(v) for v in monthly.sum(axis=1)),
            mbit(monthly.to_numpy().sum())]
    out = [parts.table(header, rows, foot=foot)]
    if summary.band is not None and not summary.band.empty:
        band = summary.band
        header = ["all stations", *band.index.astype(str)]
        rows = [["P10 (a poor season)", *(mbit(v) for v in band["p10"])],
                ["P50", *(mbit(v) for v in band["p50"])],
                ["P90 (a good season)", *(mbit(v) for v in band["p90"])],
                ["every night clear", *(mbit(v) for v in band["clear_sky"])]]
        w = summary.weather
        out += [parts.paragraph(f"Weather spread over {w['scenarios']:,} sampled seasons "
                                f"(seed {w['seed']}, night-to-night persistence "
                                f"{w['persistence']:g}) [Mbit]:", "small"),
                parts.table(header, rows)]
    return out


def _relay_table(plan: Plan, summary: Summary) -> list[dict[str, Any]]:
    relay = summary.relay
    weather = "p50_bits" in relay.columns
    header = ["demand", "target", "planned", "unmet", "target met at (UTC)"]
    if weather:
        header += ["P10", "P50", "P90", "P(target met)"]
    rows = []
    for label, r in relay.iterrows():
        row = [label, mbit(r["target_bits"]), mbit(r["delivered_bits"]),
               mbit(r["unmet_bits"]), utc(r["completion_utc"])]
        if weather:
            p = r["p_target_met"]
            row += [mbit(r["p10_bits"]), mbit(r["p50_bits"]), mbit(r["p90_bits"]),
                    "—" if pd.isna(p) else f"{p:.0%}"]
        rows.append(row)
    gap = "—" if plan.gap is None else f"{plan.gap:.2%}"
    text = (f"Plan: objective {plan.objective}, solver {plan.solver}, status {plan.status}, "
            f"optimality gap {gap}, solver time {plan.wall_time_s:.1f} s. Planned on expected "
            "key; P10–P90 replay the plan under sampled weather.")
    return [parts.table(header, rows), parts.paragraph(text, "small")]


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


def report_provenance(inputs: ReportInputs, summary: Summary) -> dict[str, Any]:
    """What this report adds to the run's provenance (its own settings and windows)."""
    record: dict[str, Any] = {"report": f"qkdplan {__version__} planner.report.page",
                              "sky_plot_step_s": SKY_STEP_S}
    if summary.weather:
        record["monthly_weather_band"] = summary.weather
    if inputs.ground_track is not None and not inputs.ground_track.empty:
        times = inputs.ground_track["time_utc"]
        record["ground_track_window_utc"] = f"{utc(times.min())} – {utc(times.max())}"
    return record


def _plan_record(plan: Plan) -> dict[str, Any]:
    return {"objective": plan.objective, "solver": plan.solver, "status": plan.status,
            "gap": plan.gap,
            "demands": [{"demand": d.label, "weight": d.weight, "target_bits": d.target_bits}
                        for d in plan.demands],
            "parameters": {k: v for k, v in plan.parameters.items() if k != "solver_stats"},
            "weather": plan.weather_info, "provenance": plan.provenance or None}


def provenance_section(inputs: ReportInputs, summary: Summary) -> dict[str, Any]:
    """Where every number comes from: the run, the key model, the relay plan, the report."""
    content = [parts.heading("Run"),
               parts.tree(dict(inputs.provenance)) if inputs.provenance
               else parts.note("The caller gave no provenance for this run.")]
    model = inputs.keys.attrs.get("key_model") if inputs.keys is not None else None
    if model:
        content += [parts.heading("Key model and payload"), parts.tree(model)]
    if inputs.plan is not None:
        content += [parts.heading("Relay plan"), parts.tree(_plan_record(inputs.plan))]
    content += [parts.heading("This report"), parts.tree(report_provenance(inputs, summary))]
    return parts.section("sec-provenance", "Provenance",
                         [parts.details("Show the provenance record", content)],
                         "Where every number comes from: element sets, stations, models and "
                         "seeds.")


def key_model_record(inputs: ReportInputs) -> dict[str, Any] | None:
    """The key table's model parameters as plain JSON values (for the tables' provenance)."""
    if inputs.keys is None or not inputs.keys.attrs.get("key_model"):
        return None
    return json.loads(json.dumps(inputs.keys.attrs["key_model"], default=str))
