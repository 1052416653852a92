"""Validated scheduling inputs and the model :class:`~planner.relay.problem.Problem` of them.

Library errors name the parameter at fault (``memory_bits``, ``gap_s``, ...); the CLI maps
them to its flags.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.errors import ScheduleInputError
from planner.relay.demands import Demand, check_demands, make_demand, parse_demand
from planner.relay.fibre import FibreLink, make_fibre_link, parse_fibre_link, resolve_station
from planner.relay.nights import auto_night_cut_hour, night_dates
from planner.relay.problem import MBIT, DemandSpec, FibreSpec, Problem
from planner.relay.resume import after_flown, carried_state, check_state, state_parameters
from planner.relay.state import RelayState
from planner.timebase import utc_timestamp

OBJECTIVES = ("total", "fair", "earliest")
SOLVERS = ("milp", "greedy", "rolling")
KEY_TABLE_COLUMNS = ("satellite", "station", "aos_utc", "tca_utc", "los_utc", "night",
                     "expected_secure_bits")


@dataclass
class PlanInputs:
    """Validated inputs and the model problem built from them."""

    problem: Problem
    table: pd.DataFrame  # candidate passes, aligned with the problem's passes
    t0: pd.Timestamp
    cut_hour: float
    nights: np.ndarray  # night of each candidate pass
    demands: list[Demand]
    fibre_links: list[FibreLink]
    parameters: dict
    state: RelayState | None = None  # the measured state re-planned from, names resolved



def prepare(key_table: pd.DataFrame, demands, *, known_stations, memory_bits, gap_s,
            reserve_bits, telescopes, unavailable, fibre_links, objective, solver,
            time_limit_s, mip_rel_gap, window_nights, night_cut_hour_utc, ground_relays,
            start, end, carry_value, state=None) -> PlanInputs:
    """Validate every input and build the model :class:`Problem` (see :func:`plan_schedule`)."""
    _check_key_table(key_table)
    known = sorted(set(known_stations) if known_stations is not None
                   else set(key_table["station"].astype(str)))
    demand_list = check_demands([parse_demand(d, known) if isinstance(d, str)
                                 else make_demand(d.station_a, d.station_b, d.weight,
                                                  d.target_bits, known_stations=known,
                                                  field_name=d.field_name)
                                 for d in demands])
    links = [parse_fibre_link(f, known) if isinstance(f, str) else _check_link(f, known)
             for f in fibre_links]
    check_options(memory_bits=memory_bits, gap_s=gap_s, reserve_bits=reserve_bits,
                  objective=objective, solver=solver, time_limit_s=time_limit_s,
                  mip_rel_gap=mip_rel_gap, window_nights=window_nights, carry_value=carry_value)
    if objective == "earliest":
        missing = [d for d in demand_list if d.target_bits is None]
        if missing:
            raise ScheduleInputError("objective earliest needs a target for every demand "
                                     "(A:B:WEIGHT:TARGET_BITS)", field=missing[0].field_name)
    scopes = _telescopes(telescopes, known)
    t0, t_end = _period(key_table, start, end)
    if state is not None:
        check_state(state, set(key_table["satellite"].astype(str)), known, demand_list,
                    memory_bits)
        if state.as_of >= t_end:
            raise state.error(f"the state's time {state.as_of} is at or after the period's "
                              f"end {t_end}: nothing is left to plan", ("as_of_utc",))
        t0 = max(t0, state.as_of)
    nights_all = key_table[key_table["night"].astype(bool)]
    cut = (auto_night_cut_hour(nights_all["tca_utc"]) if night_cut_hour_utc is None
           else _check_cut(night_cut_hour_utc))
    off = _unavailable(unavailable, known)
    table = _candidates(key_table, t0, t_end, cut, off)
    if state is not None:
        table = table[~after_flown(table, state, float(gap_s))]
    inputs = _build(table, demand_list, links, known, scopes, t0, t_end, cut, off,
                    memory_bits=memory_bits, gap_s=gap_s, reserve_bits=reserve_bits,
                    ground_relays=ground_relays, objective=objective, state=state)
    return inputs


def _check_key_table(key_table) -> None:
    if not isinstance(key_table, pd.DataFrame):
        raise ScheduleInputError("expected a pandas DataFrame", field="key table")
    missing = [c for c in KEY_TABLE_COLUMNS if c not in key_table.columns]
    if missing:
        raise ScheduleInputError(f"missing column(s) {', '.join(missing)}", field="key table")
    if not key_table.index.is_unique or not pd.api.types.is_integer_dtype(key_table.index):
        raise ScheduleInputError("the index (pass id) must be unique integers",
                                 field="key table")
    for col in ("aos_utc", "tca_utc", "los_utc"):
        if len(key_table) and getattr(key_table[col].dt, "tz", None) is None:
            raise ScheduleInputError("times must be tz-aware UTC timestamps",
                                     field=f"key table.{col}")


def _check_link(link: FibreLink, known: list[str]) -> FibreLink:
    field_name = f"fibre link {link.label}"
    if link.length_km is not None:
        return make_fibre_link(link.station_a, link.station_b, known, length_km=link.length_km,
                               field=field_name)
    return make_fibre_link(link.station_a, link.station_b, known, rate_bps=link.rate_bps,
                           field=field_name)


def _positive(value, field_name: str, *, allow_zero: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ScheduleInputError(f"{value!r} is not a number", field=field_name) from None
    bad = number < 0 if allow_zero else number <= 0
    if not math.isfinite(number) or bad:
        need = "zero or positive" if allow_zero else "positive"
        raise ScheduleInputError(f"{value!r}: must be {need}", field=field_name)
    return number


def check_options(*, memory_bits=1.0, gap_s=0.0, reserve_bits=0.0, objective="total",
                  solver="milp", time_limit_s=1.0, mip_rel_gap=0.0, window_nights=1,
                  carry_value=0.0) -> None:
    """Validate the scalar planning options (defaults: any valid value).

    Raises
    ------
    ScheduleInputError
        Naming the parameter at fault (``memory_bits``, ``gap_s``, ...).
    """
    _positive(memory_bits, "memory_bits")
    _positive(gap_s, "gap_s", allow_zero=True)
    _positive(reserve_bits, "reserve_bits", allow_zero=True)
    _positive(time_limit_s, "time_limit_s")
    _positive(mip_rel_gap, "mip_rel_gap", allow_zero=True)
    if objective not in OBJECTIVES:
        raise ScheduleInputError(f"{objective!r}: choose one of {', '.join(OBJECTIVES)}",
                                 field="objective")
    if solver not in SOLVERS:
        raise ScheduleInputError(f"{solver!r}: choose one of {', '.join(SOLVERS)}",
                                 field="solver")
    if isinstance(window_nights, bool) or not isinstance(window_nights, int) \
            or window_nights < 1:
        raise ScheduleInputError(f"{window_nights!r}: must be a whole number >= 1",
                                 field="window_nights")
    value = _positive(carry_value, "carry_value", allow_zero=True)
    if value >= 0.5:
        raise ScheduleInputError(f"{carry_value!r}: must be below 0.5", field="carry_value")


def _check_cut(hour) -> float:
    value = _positive(hour, "night_cut_hour_utc", allow_zero=True)
    if value >= 24:
        raise ScheduleInputError(f"{hour!r}: must be an hour in [0, 24)",
                                 field="night_cut_hour_utc")
    return value


def _telescopes(telescopes: Mapping[str, int] | None, known: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(known, 1)
    for name, count in (telescopes or {}).items():
        field_name = f"telescopes[{name!r}]"
        station = resolve_station(name, known, field_name)
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise ScheduleInputError(f"{count!r}: must be a whole number >= 0", field=field_name)
        counts[station] = int(count)
    return counts


def _unavailable(pairs, known: list[str]) -> set[tuple[str, np.datetime64]]:
    off = set()
    for item in pairs:
        try:
            name, day = item
        except (TypeError, ValueError):
            raise ScheduleInputError(f"{item!r}: expected (station, date)",
                                     field="unavailable") from None
        field_name = f"unavailable {name}:{day}"
        station = resolve_station(name, known, field_name)
        try:
            date = np.datetime64(pd.Timestamp(day).date(), "D")
        except (TypeError, ValueError):
            raise ScheduleInputError(f"cannot read {day!r} as a date (YYYY-MM-DD)",
                                     field=field_name) from None
        off.add((station, date))
    return off


def _timestamp(value, field_name: str) -> pd.Timestamp:
    try:
        return utc_timestamp(value)
    except (TypeError, ValueError):
        raise ScheduleInputError(f"cannot read {value!r} as a time", field=field_name) from None


def _period(key_table: pd.DataFrame, start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    if len(key_table) == 0 and (start is None or end is None):
        raise ScheduleInputError("the key table is empty: no passes to plan",
                                 field="key table")
    t0 = (_timestamp(start, "start") if start is not None
          else pd.Timestamp(key_table["aos_utc"].min()).tz_convert("UTC"))
    t1 = (_timestamp(end, "end") if end is not None
          else pd.Timestamp(key_table["los_utc"].max()).tz_convert("UTC"))
    if t1 <= t0:
        raise ScheduleInputError(f"the period ends ({t1}) before it starts ({t0})",
                                 field="end")
    return t0, t1


def _candidates(key_table: pd.DataFrame, t0, t1, cut: float, off: set) -> pd.DataFrame:
    table = key_table.copy()
    nights = night_dates(table["tca_utc"], cut)
    table["night_date"] = nights
    key = pd.to_numeric(table["expected_secure_bits"], errors="coerce").fillna(0.0)
    keep = (table["night"].astype(bool) & (key > 0)
            & (table["aos_utc"] >= t0) & (table["los_utc"] <= t1))
    if off:
        # the dates as numpy's datetime64[D], as in ``off``: the column gives Timestamps,
        # which hash like numpy's dates in recent numpy only (not 1.26), so ``in off`` missed them
        pairs = list(zip(table["station"].astype(str), nights, strict=True))
        keep &= np.array([p not in off for p in pairs], bool)
    return table[keep.to_numpy(bool)]


def _build(table: pd.DataFrame, demands: list[Demand], links: list[FibreLink],
           known: list[str], scopes: dict[str, int], t0, t1, cut, off, *, memory_bits, gap_s,
           reserve_bits, ground_relays, objective, state=None) -> PlanInputs:
    stations = sorted(set(known) | set(table["station"].astype(str)))
    g_of = {g: i for i, g in enumerate(stations)}
    carried_sats = set() if state is None else {s for s, _ in state.buffers}
    satellites = sorted(set(table["satellite"].astype(str)) | carried_sats)
    s_of = {s: i for i, s in enumerate(satellites)}
    secs = (lambda col: (table[col] - t0).dt.total_seconds().to_numpy(float))  # noqa: E731
    all_targets = all(d.target_bits is not None for d in demands)
    before = {} if state is None else state.delivered
    specs = [DemandSpec(g_of[d.station_a], g_of[d.station_b], d.weight,
                        None if d.target_bits is None else
                        max(d.target_bits - before.get(d.label, 0.0), 0.0) / MBIT,
                        norm=(d.target_bits / MBIT if all_targets else d.weight))
             for d in demands]
    fib = [FibreSpec(g_of[f.station_a], g_of[f.station_b], f.rate_bps / MBIT) for f in links]
    if ground_relays is None:
        ground_relays = bool(links) or not _all_direct(table, demands)
    problem = Problem(
        satellites, stations, table["satellite"].astype(str).map(s_of).to_numpy(int),
        table["station"].astype(str).map(g_of).to_numpy(int), secs("aos_utc"), secs("los_utc"),
        pd.to_numeric(table["expected_secure_bits"]).to_numpy(float) / MBIT, specs, fib,
        float(memory_bits) / MBIT, float(gap_s), float(reserve_bits) / MBIT,
        np.array([scopes.get(g, 1) for g in stations], int), (t1 - t0).total_seconds(),
        bool(ground_relays))
    if state is not None:
        problem.state = carried_state(state, satellites, stations, demands, len(fib))
    useful = {g for nodes in problem.relay_nodes() for g in nodes}
    mask = np.isin(problem.sta, sorted(useful))
    problem, idx = problem.subset(mask)
    table = table.iloc[idx]
    parameters = {
        "objective": objective, "memory_bits": float(memory_bits), "gap_s": float(gap_s),
        "reserve_bits": float(reserve_bits), "telescopes": dict(scopes),
        "unavailable": sorted((s, str(d)) for s, d in off),
        "fibre_links": [{"label": f.label, "station_a": f.station_a, "station_b": f.station_b,
                         "rate_bps": f.rate_bps, "length_km": f.length_km} for f in links],
        "night_cut_hour_utc": float(cut), "start_utc": t0, "end_utc": t1,
        "ground_relays": bool(ground_relays), "planning_key": "expected_secure_bits",
    }
    if state is not None:
        parameters["initial_state"] = state_parameters(state)
    return PlanInputs(problem, table, t0, cut, table["night_date"].to_numpy("datetime64[D]"),
                      demands, links, parameters, state)


def _all_direct(table: pd.DataFrame, demands: list[Demand]) -> bool:
    """True if every demand has a satellite with passes over both of its stations."""
    visited = table.groupby(table["satellite"].astype(str))["station"].agg(
        lambda s: set(s.astype(str)))
    return all(any({d.station_a, d.station_b} <= v for v in visited) for d in demands)

