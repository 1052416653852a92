"""A relay plan (:class:`Plan`): its tables in bits, how it was found, and its JSON form."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.relay.chains import delivery_steps
from planner.relay.demands import Demand
from planner.relay.fibre import FibreLink
from planner.relay.inputs import PlanInputs
from planner.relay.ledger import replay
from planner.relay.nights import night_dates
from planner.relay.problem import MBIT, ONE_BIT_BITS, UNPROVEN, Solution
from planner.relay.shortfall import explain

_DECIMALS = 3  # bit values in plans are rounded to millibits (float noise removed)


@dataclass
class Plan:
    """A relay plan and how it was found.

    Attributes
    ----------
    objective, solver
        What was optimised and the algorithm that found the plan (``milp``, ``greedy``,
        ``rolling``).
    status
        ``optimal``, ``time_limit``, ``unproven`` (a warm start's point the MILP reported
        beating without returning a better one: :data:`~planner.relay.problem.UNPROVEN`),
        ``heuristic`` (greedy) or the solver's word.
    gap
        Relative optimality gap proven by the solver (``None`` when not known).
    wall_time_s
        Solver wall time [s].
    objective_value
        ``total``: sum of weight x min(delivered, target) [bit]; ``fair``: the max-min level
        (fraction of target, or bits per unit weight); ``earliest``: seconds from the period's
        start until every target is met.
    demands, fibre_links
        The inputs, validated.
    passes
        Chosen passes, index ``pass_id`` (the key table's index): ``satellite, station, aos_utc,
        tca_utc, los_utc, max_elevation_deg, aos_azimuth_deg, expected_secure_bits, used_bits,
        night_date``.
    relays
        Relay hops: ``time_utc, night_date, demand, satellite, via, from_station, to_station,
        bits, pass_id`` (``via`` is the satellite or the fibre link ``A~B``; ``pass_id`` is the
        pass during which a satellite relays, -1 for fibre).
    buffers
        Key each satellite shares with each station after each of its events: ``time_utc,
        satellite, station, bits``.
    delivered
        Per demand (index ``demand``): ``station_a, station_b, weight, target_bits,
        already_delivered_bits`` (before the plan, from a measured state), ``delivered_bits``
        (by this plan), ``unmet_bits`` (target - already - delivered) and ``completion_utc``
        (when the target's last chain is complete).
    delivered_by_night
        Delivered key per night (rows) and demand (columns) [bit]: key counts on the night
        its chain is complete (:mod:`planner.relay.chains`), which with order-free chains
        through ground stations may be after its last hop into ``station_b``.
    parameters
        Every setting the plan depends on (memory, gap, reserve, telescopes, ...).
    weather, weather_info
        P10/P50/P90 of delivered key over weather scenarios and the seed etc. (if evaluated).
    provenance
        Slot for element-set epochs, station file, package version (filled by the caller).
    notes
        Why each demand gets less than it asked for (:mod:`planner.relay.shortfall`: no common
        visibility, period too short, memory, reserve, weather), and a solver stopped short of
        optimality.
    """

    objective: str
    solver: str
    status: str
    gap: float | None
    wall_time_s: float
    objective_value: float | None
    demands: list[Demand]
    fibre_links: list[FibreLink]
    passes: pd.DataFrame
    relays: pd.DataFrame
    buffers: pd.DataFrame
    delivered: pd.DataFrame
    delivered_by_night: pd.DataFrame
    parameters: dict
    weather: pd.DataFrame | None = None
    weather_info: dict | None = None
    provenance: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)




def assemble_plan(inputs: PlanInputs, sol: Solution, objective: str) -> Plan:
    """Turn a model solution into a :class:`Plan` with bit-valued tables."""
    p, table = inputs.problem, inputs.table
    passes = _passes_frame(table, sol)
    relays = _relays_frame(inputs, sol)
    _, levels = replay(p, sol)
    los = table["los_utc"]
    buffers = pd.DataFrame(
        {"time_utc": los.iloc[[q for q, *_ in levels]].to_numpy(),
         "satellite": [p.satellites[s] for _, s, _, _ in levels],
         "station": [p.stations[g] for _, _, g, _ in levels],
         "bits": [v * MBIT for *_, v in levels]})
    buffers["time_utc"] = pd.to_datetime(buffers["time_utc"], utc=True)
    steps = _delivery_steps(inputs, relays)
    delivered = _delivered_frame(inputs, relays, steps)
    by_night = (steps.pivot_table(index="night_date", columns="demand", values="bits",
                                  aggfunc="sum", fill_value=0.0)
                .reindex(columns=[d.label for d in inputs.demands], fill_value=0.0))
    value = sol.objective
    if objective == "earliest":
        done = delivered["completion_utc"]
        value = (None if done.isna().any() else
                 (pd.Timestamp(done.max()) - inputs.t0).total_seconds())
    elif value is not None:
        value = value * (1.0 if objective == "fair" and _all_targets(inputs) else MBIT)
    params = dict(inputs.parameters, solver=sol.solver)
    params["solver_stats"] = dict(sol.stats)
    for frame, col in ((passes, "used_bits"), (relays, "bits"), (buffers, "bits")):
        frame[col] = frame[col].astype(float).round(_DECIMALS)
    notes = explain(p, passes, delivered)
    if sol.gap is not None and sol.gap > 1e-3 and objective != "earliest":
        notes.append(_gap_note(sol))
    return Plan(objective, sol.solver, sol.status, sol.gap, sol.wall_s, value,
                inputs.demands, inputs.fibre_links, passes, relays, buffers, delivered,
                by_night.round(_DECIMALS), params, notes=notes)


def _gap_note(sol: Solution) -> str:
    """The plan's note on a solver that left a gap: what stopped it, and what may help."""
    if sol.status.startswith(UNPROVEN):
        return (f"the solver reported a plan up to {100 * sol.gap:.3g}% better than this one "
                f"but did not return it, and a solve without its warm start found none "
                f"({sol.status}): a better plan may exist")
    return (f"the solver stopped with a proven gap of {100 * sol.gap:.3g}% "
            f"({sol.status}): a better plan may exist; raise the time limit")


def _all_targets(inputs: PlanInputs) -> bool:
    return all(d.target_bits is not None for d in inputs.demands)


def _passes_frame(table: pd.DataFrame, sol: Solution) -> pd.DataFrame:
    cols = ["satellite", "station", "aos_utc", "tca_utc", "los_utc", "max_elevation_deg",
            "aos_azimuth_deg", "expected_secure_bits", "night_date"]
    chosen = table.iloc[np.flatnonzero(sol.chosen)]
    frame = chosen.reindex(columns=cols).copy()
    frame["used_bits"] = sol.used[sol.chosen] * MBIT
    frame.index.name = "pass_id"
    return frame.sort_values(["los_utc", "satellite"])


def _relays_frame(inputs: PlanInputs, sol: Solution) -> pd.DataFrame:
    p, table = inputs.problem, inputs.table
    pass_ids = table.index.to_numpy()
    los = table["los_utc"].to_numpy()
    rows = []
    for hop in sol.hops:
        if hop.event is not None:
            when = pd.Timestamp(los[hop.event])
            via, sat, pid = p.satellites[hop.satellite], p.satellites[hop.satellite], \
                int(pass_ids[hop.event])
        else:
            when = inputs.t0 + pd.Timedelta(seconds=hop.time)
            via, sat, pid = inputs.fibre_links[hop.fibre].label, None, -1
        rows.append({"time_utc": when, "demand": inputs.demands[hop.demand].label,
                     "satellite": sat, "via": via, "from_station": p.stations[hop.src],
                     "to_station": p.stations[hop.dst], "bits": hop.amount * MBIT,
                     "pass_id": pid})
    cols = ["time_utc", "night_date", "demand", "satellite", "via", "from_station",
            "to_station", "bits", "pass_id"]
    if not rows:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        frame["time_utc"] = pd.Series(dtype="datetime64[ns, UTC]")
        frame["bits"] = pd.Series(dtype=float)
        frame["pass_id"] = pd.Series(dtype=int)
        return frame
    frame = pd.DataFrame.from_records(rows)
    frame["time_utc"] = pd.to_datetime(frame["time_utc"], utc=True)
    frame["night_date"] = night_dates(frame["time_utc"], inputs.cut_hour)
    return frame.sort_values(["time_utc", "demand"], kind="stable").reset_index(drop=True)[cols]


def _delivery_steps(inputs: PlanInputs, relays: pd.DataFrame) -> pd.DataFrame:
    """Key each demand receives at each time, chains completed in any order (bits)."""
    p = inputs.problem
    records = []
    for d, dem in enumerate(inputs.demands):
        mine = relays[relays["demand"] == dem.label]
        hops = zip(mine["time_utc"], mine["from_station"], mine["to_station"],
                   mine["bits"].astype(float), strict=True)
        carried = {p.stations[g]: float(v) * MBIT for g, v in enumerate(p.state.storage[d])}
        for when, bits in delivery_steps(hops, dem.station_a, dem.station_b, carried):
            records.append({"time_utc": when, "demand": dem.label, "bits": bits})
    frame = pd.DataFrame.from_records(records, columns=["time_utc", "demand", "bits"])
    frame["time_utc"] = pd.to_datetime(frame["time_utc"], utc=True)
    frame["night_date"] = night_dates(frame["time_utc"], inputs.cut_hour)
    return frame


def _delivered_frame(inputs: PlanInputs, relays: pd.DataFrame,
                     steps: pd.DataFrame) -> pd.DataFrame:
    before = {} if inputs.state is None else inputs.state.delivered
    records = []
    for d in inputs.demands:
        into = relays[(relays["demand"] == d.label) & (relays["to_station"] == d.station_b)]
        total = round(float(into["bits"].astype(float).round(_DECIMALS).sum()), _DECIMALS)
        done = None
        if d.target_bits is not None:
            mine = steps[steps["demand"] == d.label]
            cum = before.get(d.label, 0.0) + mine["bits"].cumsum().to_numpy()
            hit = np.flatnonzero(cum >= d.target_bits - ONE_BIT_BITS)
            done = mine["time_utc"].iloc[hit[0]] if hit.size else None
        records.append({"demand": d.label, "station_a": d.station_a, "station_b": d.station_b,
                        "weight": d.weight, "target_bits": d.target_bits,
                        "already_delivered_bits": before.get(d.label, 0.0),
                        "delivered_bits": total,
                        "unmet_bits": (None if d.target_bits is None else
                                       _clean(max(d.target_bits - before.get(d.label, 0.0)
                                                  - total, 0.0))),
                        "completion_utc": done})
    return pd.DataFrame.from_records(records).set_index("demand")


def _clean(bits: float) -> float:
    """Bits below the solver's tolerance (one bit) are zero."""
    return 0.0 if abs(bits) < ONE_BIT_BITS else bits



def _iso(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return _iso(value)
    if isinstance(value, (np.datetime64, dt.date)):
        return str(np.datetime64(value, "D"))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NaT:
        return None
    return value


def _records(frame: pd.DataFrame, index_name: str | None = None) -> list[dict]:
    out = (frame.reset_index() if index_name else frame).copy()
    if "night_date" in out.columns:  # a date, not a time
        nights = pd.to_datetime(out["night_date"])
        out["night_date"] = [None if pd.isna(n) else n.strftime("%Y-%m-%d") for n in nights]
    return [_jsonable(r) for r in out.to_dict(orient="records")]


def plan_to_json(plan: Plan) -> dict:
    """The plan as a JSON-ready dict (times ISO 8601 UTC with ``Z``, key in bits).

    The solver's wall time is left out (it is printed, and kept on :class:`Plan`) so that the
    same inputs and seed give byte-identical JSON.
    """
    by_night = plan.delivered_by_night.copy()
    by_night.index = [str(np.datetime64(i, "D")) for i in by_night.index]
    return _jsonable({
        "objective": plan.objective,
        "solver": {"name": plan.solver, "status": plan.status, "gap": plan.gap,
                   "objective_value": plan.objective_value},
        "demands": [{"label": d.label, "station_a": d.station_a, "station_b": d.station_b,
                     "weight": d.weight, "target_bits": d.target_bits} for d in plan.demands],
        "passes": _records(plan.passes, "pass_id"),
        "relays": _records(plan.relays),
        "buffers": _records(plan.buffers),
        "delivered": _records(plan.delivered, "demand"),
        "delivered_by_night": {n: row.to_dict() for n, row in by_night.iterrows()},
        "weather": (None if plan.weather is None else
                    {"info": plan.weather_info, "per_demand": _records(plan.weather, "demand")}),
        "parameters": plan.parameters,
        "provenance": plan.provenance,
        "notes": plan.notes,
    })

