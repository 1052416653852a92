"""Trusted-relay scheduler: which passes to fly, when to relay, how much key each pair gets.

An operations lead names the station pairs that need shared key (:class:`Demand`, with a weight
or a target in bits) and the planning period (a key table). :func:`plan_schedule` decides which
passes each satellite uses, when it combines stored keys to relay them (the satellite publishes
``K_a XOR K_b``; docs/reference.md §1), and how much key every pair ends up with, and when. Three
methods share one problem definition (:mod:`planner.relay.model`):

* ``milp`` — the exact mixed-integer program, solved by HiGHS (status, gap and wall time are
  reported);
* ``greedy`` — a fast baseline: passes picked one at a time by the key they add to the demands
  (a global greedy on the pair totals), then flown in time order relaying as soon as both keys
  exist; direct relays only (no multi-hop through ground stations);
* ``rolling`` — the MILP night by night (``window_nights`` per window), carrying buffers, ground
  storage, fibre use and delivered key from one window to the next; key left in a buffer at the
  end of a window is valued at ``carry_value`` x its demand's weight so windows do not waste it.

Plans are made on ``expected_secure_bits``; :func:`planner.relay.weather.evaluate_plan` replays a
plan
under sampled weather. :mod:`planner.relay.check` verifies any plan independently.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import ScheduleInputError
from planner.relay.fibre import FibreLink, parse_fibre_link, resolve_station
from planner.relay.model import (
    MBIT,
    DemandSpec,
    FibreSpec,
    Hop,
    Problem,
    Solution,
    State,
    fair_level,
    reachable_upper_bound,
    replay,
    solve_earliest,
    solve_milp,
    terminal_values,
    weighted_total,
)
from planner.relay.weather import (
    DEFAULT_PERSISTENCE,
    auto_night_cut_hour,
    check_scenarios,
    evaluate_plan,
    night_dates,
)

OBJECTIVES = ("total", "fair", "earliest")
METHODS = ("milp", "greedy", "rolling")
#: On-board key memory per satellite [bit] [A]: no published figure for Jinan-1; 1 Gbit holds
#: about three years of 1-Mbit passes, so by default memory only binds when set smaller.
DEFAULT_MEMORY_BITS = 1e9
#: Re-pointing gap between consecutive passes of one satellite [s].
DEFAULT_GAP_S = 120.0
#: Rolling horizon: value of a bit left in a buffer at the end of a window, as a fraction of
#: the weight of the demands it can serve (< 0.5 keeps relaying now better than holding).
DEFAULT_CARRY_VALUE = 0.25

_BIT_TOL = 1.0  # bit: the MILP's feasibility tolerance is 1e-7 Mbit = 0.1 bit
_DECIMALS = 3  # bit values in plans are rounded to millibits (float noise removed)

KEY_TABLE_COLUMNS = ("satellite", "station", "aos_utc", "tca_utc", "los_utc", "night",
                     "expected_secure_bits")


# --------------------------------------------------------------------------------------------
# Demands
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """A station pair that needs shared key.

    Attributes
    ----------
    station_a, station_b
        The two stations.
    weight
        Relative importance (> 0) in the ``total`` objective; in ``fair`` without targets the
        key per unit weight is equalised.
    target_bits
        Key wanted over the period [bit], or ``None``. Key beyond the target earns nothing.
    """

    station_a: str
    station_b: str
    weight: float = 1.0
    target_bits: float | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """``"A:B"``: how the demand is named in plans."""
        return f"{self.station_a}:{self.station_b}"

    @property
    def field_name(self) -> str:
        """Where the demand came from, for error messages."""
        return self.source or f"--demand {self.label!r}"


def _number(text, what: str, field_name: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ScheduleInputError(f"{what} {text!r} is not a number", field=field_name) from None
    if not math.isfinite(value):
        raise ScheduleInputError(f"{what} {text!r} must be finite", field=field_name)
    return value


def make_demand(station_a: str, station_b: str, weight=1.0, target_bits=None, *,
                known_stations: Iterable[str] | None = None,
                field_name: str = "demand") -> Demand:
    """Validate and build a :class:`Demand`.

    Raises
    ------
    ScheduleInputError
        Unknown station (with the closest names), the same station twice, a weight or target
        that is not a positive number.
    """
    if known_stations is not None:
        known = list(known_stations)
        station_a = resolve_station(station_a, known, field_name)
        station_b = resolve_station(station_b, known, field_name)
    station_a, station_b = str(station_a).strip(), str(station_b).strip()
    if not station_a or not station_b:
        raise ScheduleInputError("both stations must be named", field=field_name)
    if station_a.casefold() == station_b.casefold():
        raise ScheduleInputError("the two stations must differ", field=field_name)
    weight = _number(weight, "weight", field_name)
    if weight <= 0:
        raise ScheduleInputError(f"weight {weight:g} must be positive", field=field_name)
    if target_bits is not None:
        target_bits = _number(target_bits, "target", field_name)
        if target_bits <= 0:
            raise ScheduleInputError(f"target {target_bits:g} bits must be positive",
                                     field=field_name)
    return Demand(station_a, station_b, weight, target_bits, source=field_name)


def parse_demand(text: str, known_stations: Iterable[str] | None = None) -> Demand:
    """Parse ``A:B[:weight[:target_bits]]``.

    Parameters
    ----------
    text
        e.g. ``"Beijing:Stellenbosch"``, ``"Beijing:Stellenbosch:2"`` or
        ``"Beijing:Stellenbosch:1:5e6"`` (an empty weight means 1).
    known_stations
        Known station names; names are matched case-insensitively and replaced by their
        canonical spelling. ``None`` skips the check.

    Raises
    ------
    ScheduleInputError
        Malformed text or an invalid demand; the message names ``--demand '<text>'``.
    """
    field_name = f"--demand {text!r}"
    parts = [p.strip() for p in str(text).split(":")]
    if not 2 <= len(parts) <= 4:
        raise ScheduleInputError("expected STATION_A:STATION_B[:WEIGHT[:TARGET_BITS]]",
                                 field=field_name)
    weight = parts[2] if len(parts) > 2 and parts[2] else 1.0
    target = parts[3] if len(parts) > 3 and parts[3] else None
    return make_demand(parts[0], parts[1], weight, target, known_stations=known_stations,
                       field_name=field_name)


def load_demands(path: str | Path, known_stations: Iterable[str] | None = None) -> list[Demand]:
    """Read demands from a YAML file.

    The file holds a list ``demands:`` whose items are either ``"A:B[:weight[:target]]"``
    strings or mappings with ``stations: [A, B]`` (or ``station_a``/``station_b``), optional
    ``weight`` and ``target_bits``.

    Raises
    ------
    ScheduleInputError
        Naming the file, line and field at fault.
    """
    from planner.io.yamlfile import format_location, load_yaml

    doc = load_yaml(path, ScheduleInputError)
    items = doc.data.get("demands") if isinstance(doc.data, dict) else None
    if not isinstance(items, list) or not items:
        raise ScheduleInputError("expected a non-empty list under 'demands:'", path=str(path),
                                 line=doc.line_of(("demands",)), field="demands")
    demands = []
    for i, item in enumerate(items):
        loc = ("demands", i)
        where = {"path": str(path), "line": doc.line_of(loc)}
        try:
            demands.append(_demand_from_item(item, known_stations, format_location(loc)))
        except ScheduleInputError as exc:
            raise ScheduleInputError(exc.message, field=exc.field, **where) from None
    return check_demands(demands)


def _demand_from_item(item, known_stations, where: str) -> Demand:
    if isinstance(item, str):
        demand = parse_demand(item, known_stations)
        return Demand(demand.station_a, demand.station_b, demand.weight, demand.target_bits,
                      source=where)
    if not isinstance(item, dict):
        raise ScheduleInputError("expected 'A:B[:weight[:target]]' or a mapping", field=where)
    unknown = set(item) - {"stations", "station_a", "station_b", "weight", "target_bits"}
    if unknown:
        raise ScheduleInputError(f"unknown field {sorted(unknown)[0]!r} (check the spelling)",
                                 field=where)
    pair = item.get("stations", [item.get("station_a"), item.get("station_b")])
    if not isinstance(pair, list) or len(pair) != 2 or None in pair:
        raise ScheduleInputError("give the two stations as 'stations: [A, B]'", field=where)
    return make_demand(pair[0], pair[1], item.get("weight", 1.0), item.get("target_bits"),
                       known_stations=known_stations, field_name=where)


def check_demands(demands: Sequence[Demand]) -> list[Demand]:
    """Reject an empty list and pairs given twice; return the demands as a list."""
    demands = list(demands)
    if not demands:
        raise ScheduleInputError("give at least one station pair", field="--demand")
    seen: dict[frozenset, Demand] = {}
    for demand in demands:
        pair = frozenset((demand.station_a.casefold(), demand.station_b.casefold()))
        if pair in seen:
            raise ScheduleInputError(f"the pair {demand.label} is given twice",
                                     field=demand.field_name)
        seen[pair] = demand
    return demands


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """A relay plan and how it was found.

    Attributes
    ----------
    objective, method
        What was optimised and how (``milp``, ``greedy``, ``rolling``).
    status
        ``optimal``, ``time_limit``, ``heuristic`` (greedy) or the solver's word.
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
        delivered_bits, unmet_bits, completion_utc``.
    delivered_by_night
        Delivered key per night (rows) and demand (columns) [bit].
    parameters
        Every setting the plan depends on (memory, gap, reserve, telescopes, ...).
    weather, weather_info
        P10/P50/P90 of delivered key over weather scenarios and the seed etc. (if evaluated).
    provenance
        Slot for element-set epochs, station file, package version (filled by the caller).
    """

    objective: str
    method: str
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


@dataclass
class _Inputs:
    """Validated inputs and the model problem built from them."""

    problem: Problem
    table: pd.DataFrame  # candidate passes, aligned with the problem's passes
    t0: pd.Timestamp
    cut_hour: float
    nights: np.ndarray  # night of each candidate pass
    demands: list[Demand]
    fibre_links: list[FibreLink]
    parameters: dict


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def plan_schedule(
    key_table: pd.DataFrame,
    demands: Sequence[Demand | str],
    *,
    known_stations: Iterable[str] | None = None,
    memory_bits: float = DEFAULT_MEMORY_BITS,
    gap_s: float = DEFAULT_GAP_S,
    reserve_bits: float = 0.0,
    telescopes: Mapping[str, int] | None = None,
    unavailable: Iterable[tuple[str, object]] = (),
    fibre_links: Iterable[FibreLink | str] = (),
    objective: str = "total",
    method: str = "milp",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    window_nights: int = 1,
    night_cut_hour_utc: float | None = None,
    ground_relays: bool | None = None,
    start: object | None = None,
    end: object | None = None,
    scenarios: int | None = None,
    seed: int | None = None,
    persistence: float = DEFAULT_PERSISTENCE,
    carry_value: float = DEFAULT_CARRY_VALUE,
) -> Plan:
    """Plan passes and trusted relays for the given demands.

    Parameters
    ----------
    key_table
        One row per pass, unique integer index (the pass id); columns at least
        ``satellite, station, aos_utc, tca_utc, los_utc, night, expected_secure_bits`` (and
        ``secure_bits, clear_sky_probability`` for weather scenarios). Only night passes are used.
    demands
        :class:`Demand` objects or ``"A:B[:weight[:target_bits]]"`` strings.
    known_stations
        Valid station names (e.g. from the station file); default: the key table's stations.
    memory_bits
        On-board key memory of each satellite [bit], > 0.
    gap_s
        Re-pointing gap between consecutive passes of one satellite [s].
    reserve_bits
        Key each link keeps for authenticating its next session [bit]; relays never draw a
        buffer (or a fibre link's pool) below it.
    telescopes
        Telescopes per station (default 1): how many satellites it can serve at once.
    unavailable
        ``(station, date)`` pairs: nights (see :func:`planner.relay.weather.night_dates`) a station
        cannot observe.
    fibre_links
        :class:`~planner.relay.fibre.FibreLink` objects or ``"A:B:RATEbps"`` / ``"A:B:LENGTHkm"``.
    objective
        ``total``, ``fair`` or ``earliest`` (needs a target for every demand).
    method
        ``milp``, ``greedy`` or ``rolling``.
    time_limit_s
        Solver time limit [s] (per window for ``rolling``).
    mip_rel_gap
        Relative gap at which the MILP stops.
    window_nights
        Nights per window of the rolling horizon.
    night_cut_hour_utc
        UTC hour separating one night from the next (default: middle of the daytime gap).
    ground_relays
        Allow key to pass through intermediate ground stations (needed with fibre links or when
        no single satellite serves both stations of a demand). ``None``: only then.
    start, end
        Planning period (default: first AOS and last LOS of the key table); fibre key grows over
        it and passes outside it are ignored.
    scenarios
        If given, evaluate the plan over this many weather scenarios (>= 1).
    seed
        Weather seed (``None``: fresh, recorded in ``plan.weather_info``).
    persistence
        Night-to-night cloud persistence [A] (see :mod:`planner.relay.weather`).
    carry_value
        Rolling horizon: value of key left in buffers at a window's end, fraction of weight.

    Returns
    -------
    Plan

    Raises
    ------
    ScheduleInputError
        Invalid input (the message names the field), or ``earliest`` with targets that cannot be
        met in the period.
    """
    inputs = prepare(key_table, demands, known_stations=known_stations,
                     memory_bits=memory_bits, gap_s=gap_s, reserve_bits=reserve_bits,
                     telescopes=telescopes, unavailable=unavailable, fibre_links=fibre_links,
                     objective=objective, method=method, time_limit_s=time_limit_s,
                     mip_rel_gap=mip_rel_gap, window_nights=window_nights,
                     night_cut_hour_utc=night_cut_hour_utc, ground_relays=ground_relays,
                     start=start, end=end, carry_value=carry_value)
    if scenarios is not None:
        check_scenarios(scenarios, persistence)
    solution = _solve(inputs, objective, method, time_limit_s, mip_rel_gap, window_nights,
                      carry_value)
    plan = assemble_plan(inputs, solution, objective)
    if scenarios is not None:
        plan.weather, plan.weather_info = evaluate_plan(
            plan, key_table, n_scenarios=scenarios, seed=seed, persistence=persistence)
    return plan


def _solve(inputs: _Inputs, objective: str, method: str, time_limit_s: float,
           mip_rel_gap: float, window_nights: int, carry_value: float) -> Solution:
    problem = inputs.problem
    if objective == "earliest":
        _check_reachable(inputs)
    if method == "greedy":
        return solve_greedy(problem, objective)
    if method == "rolling" and problem.n_pass:
        bounds = _window_bounds(inputs, window_nights)
        return solve_rolling(problem, objective, bounds, time_limit_s=time_limit_s,
                             mip_rel_gap=mip_rel_gap, carry_value=carry_value)
    if objective == "earliest":
        sol, completion = solve_earliest(problem, time_limit=time_limit_s)
        if completion is None:
            _raise_unmet(sol.status, time_limit_s)
        return sol
    sol = solve_milp(problem, objective, time_limit=time_limit_s, mip_rel_gap=mip_rel_gap)
    if sol.objective is None:  # no incumbent within the time limit: fall back on the greedy
        fallback = solve_greedy(problem, objective)
        fallback.status = f"{sol.status}: no MILP solution, greedy plan"
        fallback.wall_s += sol.wall_s
        return fallback
    return sol


def _check_reachable(inputs: _Inputs) -> None:
    bound = reachable_upper_bound(inputs.problem) * MBIT
    for demand, most in zip(inputs.demands, bound, strict=True):
        if demand.target_bits is not None and most < demand.target_bits * (1 - 1e-9):
            raise ScheduleInputError(
                f"objective earliest: target {demand.target_bits:.6g} bits is unreachable: at "
                f"most {most:.6g} bits of key reach these stations in the period",
                field=demand.field_name)


def _raise_unmet(status: str, time_limit_s: float) -> None:
    if status == "infeasible":
        raise ScheduleInputError(
            "objective earliest: the targets cannot all be met together in the period; "
            "lower them, lengthen the period, or use --objective total or fair to see how "
            "much can be delivered", field="--objective earliest")
    raise ScheduleInputError(
        f"objective earliest: no plan meeting every target was found within the time limit of "
        f"{time_limit_s:g} s; raise it or use --method rolling", field="--time-limit")


# --------------------------------------------------------------------------------------------
# Validation and problem construction
# --------------------------------------------------------------------------------------------


def prepare(key_table: pd.DataFrame, demands, *, known_stations, memory_bits, gap_s,
            reserve_bits, telescopes, unavailable, fibre_links, objective, method,
            time_limit_s, mip_rel_gap, window_nights, night_cut_hour_utc, ground_relays,
            start, end, carry_value) -> _Inputs:
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
    _check_options(memory_bits, gap_s, reserve_bits, objective, method, time_limit_s,
                   mip_rel_gap, window_nights, carry_value)
    if objective == "earliest":
        missing = [d for d in demand_list if d.target_bits is None]
        if missing:
            raise ScheduleInputError("objective earliest needs a target for every demand "
                                     "(A:B:WEIGHT:TARGET_BITS)", field=missing[0].field_name)
    scopes = _telescopes(telescopes, known)
    t0, t_end = _period(key_table, start, end)
    nights_all = key_table[key_table["night"].astype(bool)]
    cut = (auto_night_cut_hour(nights_all["tca_utc"]) if night_cut_hour_utc is None
           else _check_cut(night_cut_hour_utc))
    off = _unavailable(unavailable, known)
    table = _candidates(key_table, t0, t_end, cut, off)
    return _build(table, demand_list, links, known, scopes, t0, t_end, cut, off,
                  memory_bits=memory_bits, gap_s=gap_s, reserve_bits=reserve_bits,
                  ground_relays=ground_relays, objective=objective)


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
    from planner.relay.fibre import make_fibre_link

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


def _check_options(memory_bits, gap_s, reserve_bits, objective, method, time_limit_s,
                   mip_rel_gap, window_nights, carry_value) -> None:
    _positive(memory_bits, "--memory")
    _positive(gap_s, "--gap", allow_zero=True)
    _positive(reserve_bits, "--reserve", allow_zero=True)
    _positive(time_limit_s, "--time-limit")
    _positive(mip_rel_gap, "--mip-gap", allow_zero=True)
    if objective not in OBJECTIVES:
        raise ScheduleInputError(f"{objective!r}: choose one of {', '.join(OBJECTIVES)}",
                                 field="--objective")
    if method not in METHODS:
        raise ScheduleInputError(f"{method!r}: choose one of {', '.join(METHODS)}",
                                 field="--method")
    if isinstance(window_nights, bool) or not isinstance(window_nights, int) \
            or window_nights < 1:
        raise ScheduleInputError(f"{window_nights!r}: must be a whole number >= 1",
                                 field="--window-nights")
    value = _positive(carry_value, "--carry-value", allow_zero=True)
    if value >= 0.5:
        raise ScheduleInputError(f"{carry_value!r}: must be below 0.5", field="--carry-value")


def _check_cut(hour) -> float:
    value = _positive(hour, "--night-cut-hour", allow_zero=True)
    if value >= 24:
        raise ScheduleInputError(f"{hour!r}: must be an hour in [0, 24)",
                                 field="--night-cut-hour")
    return value


def _telescopes(telescopes: Mapping[str, int] | None, known: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(known, 1)
    for name, count in (telescopes or {}).items():
        field_name = f"--telescopes {name}"
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
                                     field="--unavailable") from None
        field_name = f"--unavailable {name}:{day}"
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
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ScheduleInputError(f"cannot read {value!r} as a time", field=field_name) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _period(key_table: pd.DataFrame, start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    if len(key_table) == 0 and (start is None or end is None):
        raise ScheduleInputError("the key table is empty: no passes to plan",
                                 field="key table")
    t0 = (_timestamp(start, "--start") if start is not None
          else pd.Timestamp(key_table["aos_utc"].min()).tz_convert("UTC"))
    t1 = (_timestamp(end, "--end") if end is not None
          else pd.Timestamp(key_table["los_utc"].max()).tz_convert("UTC"))
    if t1 <= t0:
        raise ScheduleInputError(f"the period ends ({t1}) before it starts ({t0})",
                                 field="--end")
    return t0, t1


def _candidates(key_table: pd.DataFrame, t0, t1, cut: float, off: set) -> pd.DataFrame:
    table = key_table.copy()
    table["night_date"] = night_dates(table["tca_utc"], cut)
    key = pd.to_numeric(table["expected_secure_bits"], errors="coerce").fillna(0.0)
    keep = (table["night"].astype(bool) & (key > 0)
            & (table["aos_utc"] >= t0) & (table["los_utc"] <= t1))
    if off:
        pairs = list(zip(table["station"].astype(str), table["night_date"], strict=True))
        keep &= np.array([p not in off for p in pairs], bool)
    return table[keep.to_numpy(bool)]


def _build(table: pd.DataFrame, demands: list[Demand], links: list[FibreLink],
           known: list[str], scopes: dict[str, int], t0, t1, cut, off, *, memory_bits, gap_s,
           reserve_bits, ground_relays, objective) -> _Inputs:
    stations = sorted(set(known) | set(table["station"].astype(str)))
    g_of = {g: i for i, g in enumerate(stations)}
    satellites = sorted(set(table["satellite"].astype(str)))
    s_of = {s: i for i, s in enumerate(satellites)}
    secs = (lambda col: (table[col] - t0).dt.total_seconds().to_numpy(float))  # noqa: E731
    all_targets = all(d.target_bits is not None for d in demands)
    specs = [DemandSpec(g_of[d.station_a], g_of[d.station_b], d.weight,
                        None if d.target_bits is None else d.target_bits / MBIT,
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
    return _Inputs(problem, table, t0, cut, table["night_date"].to_numpy("datetime64[D]"),
                   demands, links, parameters)


def _all_direct(table: pd.DataFrame, demands: list[Demand]) -> bool:
    """True if every demand has a satellite with passes over both of its stations."""
    visited = table.groupby(table["satellite"].astype(str))["station"].agg(
        lambda s: set(s.astype(str)))
    return all(any({d.station_a, d.station_b} <= v for v in visited) for d in demands)


# --------------------------------------------------------------------------------------------
# Greedy baseline
# --------------------------------------------------------------------------------------------


def _demand_values(problem: Problem, objective: str) -> np.ndarray:
    if objective == "total":
        return np.array([d.weight for d in problem.demands])
    return np.array([1.0 / d.norm if objective == "fair" else 1.0 / max(d.target or 1.0, 1e-9)
                     for d in problem.demands])


def _greedy_select(problem: Problem, objective: str) -> np.ndarray:
    """Pick passes one at a time by the key they add to the demands' pair totals.

    The pair total of a demand on a satellite is ``min(key over a, key over b)`` (capped at the
    target): what the satellite could relay with ample memory. ``total`` picks the pass with the
    largest weighted gain; ``fair`` the pass with the largest gain for the demand that is worst
    off (per unit weight or target). Ties (no gain yet) go to the pass with the most key for a
    demand still short of its target.
    """
    p = problem
    value = _demand_values(p, objective)
    totals = p.state.buffers.copy()
    alive = np.ones(p.n_pass, bool)
    chosen = np.zeros(p.n_pass, bool)
    while alive.any():
        gains, potentials, levels = _greedy_gains(p, totals, alive)
        if objective == "fair":
            score = np.full(p.n_pass, -1.0)
            for d in np.argsort(levels, kind="stable"):
                score = np.where(alive, gains[d] + 1e-6 * potentials[d], -1.0)
                if score.max() > 0:
                    break
        else:
            score = np.where(alive, value @ gains + 1e-6 * (value @ potentials), -1.0)
        j = int(np.argmax(score))
        if score[j] <= 0:
            break
        alive[j] = False
        if not _station_has_room(p, chosen, j):
            continue
        chosen[j] = True
        totals[p.sat[j], p.sta[j]] += p.key[j]
        alive &= ~_conflicts(p, j)
    return chosen


def _greedy_gains(p: Problem, totals: np.ndarray, alive: np.ndarray):
    """Per demand: gain and potential of adding each pass, and the demand's current level."""
    n_dem = len(p.demands)
    gains = np.zeros((n_dem, p.n_pass))
    potentials = np.zeros((n_dem, p.n_pass))
    levels = np.zeros(n_dem)
    for d, dem in enumerate(p.demands):
        cap = math.inf if dem.target is None else dem.target
        pair = np.minimum(totals[:, dem.a], totals[:, dem.b])
        levels[d] = min(pair.sum(), cap) / dem.norm
        short = pair.sum() < cap
        for end, other in ((dem.a, dem.b), (dem.b, dem.a)):
            m = np.flatnonzero(alive & (p.sta == end))
            mine, theirs = totals[p.sat[m], end], totals[p.sat[m], other]
            rest = pair.sum() - np.minimum(mine, theirs)  # the other satellites' pair totals
            before = np.minimum(rest + np.minimum(mine, theirs), cap)
            after = np.minimum(rest + np.minimum(mine + p.key[m], theirs), cap)
            gains[d, m] = after - before
            potentials[d, m] = p.key[m] * short
    return gains, potentials, levels


def _conflicts(p: Problem, j: int) -> np.ndarray:
    """Passes that can no longer be flown once pass ``j`` is."""
    same_sat = (p.sat == p.sat[j]) & (p.aos - p.gap < p.los[j]) & (p.aos[j] - p.gap < p.los)
    if p.telescopes[p.sta[j]] <= 1:
        same_sta = (p.sta == p.sta[j]) & (p.aos < p.los[j]) & (p.aos[j] < p.los)
        return same_sat | same_sta
    return same_sat


def _station_has_room(p: Problem, chosen: np.ndarray, j: int) -> bool:
    cap = int(p.telescopes[p.sta[j]])
    if cap <= 0:
        return False
    others = np.flatnonzero(chosen & (p.sta == p.sta[j]) & (p.aos < p.los[j])
                            & (p.aos[j] < p.los))
    if others.size < cap:
        return True
    # the most passes in flight at once during pass j (they start inside it or before it)
    starts = np.r_[p.aos[others], p.aos[j]]
    inside = [np.sum((p.aos[others] <= t) & (p.los[others] > t)) for t in starts
              if p.aos[j] <= t < p.los[j]]
    return max(inside, default=0) + 1 <= cap


class _GreedyFlight:
    """Flies chosen passes in time order, relaying as soon as both keys exist."""

    def __init__(self, problem: Problem, objective: str) -> None:
        self.p = problem
        self.objective = objective
        self.state = problem.state.copy()
        self.got = np.zeros(len(problem.demands))
        self.caps = np.array([math.inf if d.target is None else d.target
                              for d in problem.demands])
        self.hops: list[Hop] = []

    def order(self, g: int) -> list[int]:
        """Demands at station ``g`` in relay priority order."""
        at = [d for d, dem in enumerate(self.p.demands) if g in (dem.a, dem.b)]
        dem = self.p.demands
        if self.objective == "total":
            return sorted(at, key=lambda d: -dem[d].weight)
        return sorted(at, key=lambda d: (self.state.delivered[d] + self.got[d]) / dem[d].norm)

    def fly(self, q: int) -> float | None:
        """Fly pass ``q``; return the key kept, or ``None`` if it cannot be flown."""
        p = self.p
        s, g, k = int(p.sat[q]), int(p.sta[q]), float(p.key[q])
        buf, ready = self.state.buffers[s].copy(), self.state.ready[s].copy()
        buf[g] += k
        if p.reserve > 0 and k >= p.reserve:
            ready[g] = True
        hops = []
        for d in self.order(g):
            dem = p.demands[d]
            h = dem.b if g == dem.a else dem.a
            if p.reserve > 0 and not (ready[g] and ready[h]):
                continue
            amount = min(buf[g] - p.reserve * ready[g], buf[h] - p.reserve * ready[h],
                         self.caps[d] - self.got[d])
            if amount > 1e-9:
                buf[g] -= amount
                buf[h] -= amount
                hops.append(Hop(d, float(p.los[q]), dem.a, dem.b, amount, s, q))
                self.got[d] += amount
        excess = buf.sum() - p.memory
        used = k - max(excess, 0.0)
        buf[g] -= max(excess, 0.0)
        if buf[g] < p.reserve * ready[g] - 1e-9 or used < -1e-9:
            for hop in hops:
                self.got[hop.demand] -= hop.amount
            return None
        self.state.buffers[s], self.state.ready[s] = buf, ready
        self.hops.extend(hops)
        return max(used, 0.0)

    def fibre(self) -> None:
        """Direct fibre deliveries for demands whose stations a fibre link joins."""
        p = self.p
        for f, link in enumerate(p.fibre):
            for d, dem in enumerate(p.demands):
                if {dem.a, dem.b} != {link.v, link.w}:
                    continue
                amount = min(float(p.fibre_capacity(f, p.end)) - self.state.fibre_used[f],
                             self.caps[d] - self.got[d])
                if amount > 1e-9:
                    self.hops.append(Hop(d, p.end, dem.a, dem.b, amount, fibre=f))
                    self.state.fibre_used[f] += amount
                    self.got[d] += amount


def solve_greedy(problem: Problem, objective: str) -> Solution:
    """The greedy baseline (see the module docstring); always feasible, never optimal-proven."""
    start = time.perf_counter()
    picked = _greedy_select(problem, objective)
    order = np.flatnonzero(picked)
    order = order[np.lexsort((problem.aos[order], problem.los[order]))]
    flight = _GreedyFlight(problem, objective)
    chosen = np.zeros(problem.n_pass, bool)
    used = np.zeros(problem.n_pass)
    for q in order.tolist():
        kept = flight.fly(q)
        if kept is not None:
            chosen[q], used[q] = True, kept
    flight.fibre()
    sol = Solution(chosen, used, flight.hops, "greedy", "heuristic", None,
                   time.perf_counter() - start)
    sol.objective = _objective_of(problem, sol, objective)
    return sol


def _objective_of(problem: Problem, sol: Solution, objective: str) -> float:
    delivered = problem.state.delivered.copy()
    for hop in sol.hops:
        if hop.dst == problem.demands[hop.demand].b:
            delivered[hop.demand] += hop.amount
    if objective == "fair":
        return fair_level(problem, delivered)
    return weighted_total(problem, delivered)


# --------------------------------------------------------------------------------------------
# Rolling horizon
# --------------------------------------------------------------------------------------------


def _window_bounds(inputs: _Inputs, window_nights: int) -> list[tuple[np.ndarray, float]]:
    """Windows of ``window_nights`` nights: (mask of passes, end time in s)."""
    nights = inputs.nights
    if nights.size == 0:
        return []
    first = nights.min()
    index = ((nights - first).astype(int)) // window_nights
    windows = []
    for w in np.unique(index):
        start_night = first + np.timedelta64(int((w + 1) * window_nights), "D")
        cut = (pd.Timestamp(start_night).tz_localize("UTC")
               + pd.Timedelta(hours=inputs.cut_hour))
        mask = index == w
        end = min((cut - inputs.t0).total_seconds(), inputs.problem.end)
        windows.append((mask, max(end, float(inputs.problem.los[mask].max()))))
    windows[-1] = (windows[-1][0], inputs.problem.end)
    return windows


def solve_rolling(problem: Problem, objective: str, windows: list[tuple[np.ndarray, float]],
                  *, time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4,
                  carry_value: float = DEFAULT_CARRY_VALUE) -> Solution:
    """Solve window by window, carrying the state (see the module docstring).

    ``earliest`` runs as ``total`` with the targets as caps (the window MILPs deliver as soon as
    they can; the completion time is read off the result).
    """
    start = time.perf_counter()
    window_objective = "fair" if objective == "fair" else "total"
    state = problem.state.copy()
    chosen = np.zeros(problem.n_pass, bool)
    used = np.zeros(problem.n_pass)
    hops: list[Hop] = []
    statuses, gaps = [], []
    previous = np.zeros(0, int)
    for w, (mask, end) in enumerate(windows):
        mask = mask & ~_blocked(problem, previous, mask)
        sub, idx = problem.subset(mask, end=end, state=state)
        for d, (spec, full) in enumerate(zip(sub.demands, problem.demands, strict=True)):
            if full.target is not None:
                spec.target = max(full.target - state.delivered[d], 0.0)
        last = w == len(windows) - 1
        terminal = None if last else terminal_values(sub, carry_value)
        sol = solve_milp(sub, window_objective, time_limit=time_limit_s,
                         mip_rel_gap=mip_rel_gap, terminal=terminal)
        if not sol.chosen.any() and sol.status not in ("optimal",):
            sol = solve_greedy(sub, window_objective)
        statuses.append(sol.status)
        gaps.append(sol.gap)
        state, _ = replay(sub, sol)
        chosen[idx], used[idx] = sol.chosen, sol.used
        previous = idx[sol.chosen]
        hops.extend(_remap(h, idx) for h in sol.hops)
    status = "optimal" if all(s == "optimal" for s in statuses) else (
        next((s for s in statuses if s != "optimal"), "optimal"))
    known_gaps = [g for g in gaps if g is not None]
    sol = Solution(chosen, used, hops, "rolling", f"{status} per window" if statuses else status,
                   max(known_gaps) if known_gaps else None, time.perf_counter() - start)
    sol.objective = _objective_of(problem, sol, objective)
    sol.stats["windows"] = len(windows)
    return sol


def _remap(hop: Hop, idx: np.ndarray) -> Hop:
    if hop.event is None:
        return hop
    return Hop(hop.demand, hop.time, hop.src, hop.dst, hop.amount, hop.satellite,
               int(idx[hop.event]), hop.fibre)


def _blocked(problem: Problem, previous: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Candidates in ``mask`` that clash with the passes chosen in the previous window.

    Windows are cut in the daytime gap, so only a pass near the cut can clash, and only with the
    window just before. A candidate overlapping a previous pass at the same station is dropped
    even if the station has a spare telescope (conservative, and rare at a daytime cut).
    """
    blocked = np.zeros(problem.n_pass, bool)
    if previous.size == 0:
        return blocked
    cand = np.flatnonzero(mask)
    for q in previous.tolist():
        p = problem
        clash = (p.sat[cand] == p.sat[q]) & (p.aos[cand] - p.gap < p.los[q]) \
            & (p.aos[q] - p.gap < p.los[cand])
        clash |= (p.sta[cand] == p.sta[q]) & (p.aos[cand] < p.los[q]) & (p.aos[q] < p.los[cand])
        blocked[cand[clash]] = True
    return blocked


# --------------------------------------------------------------------------------------------
# Plan assembly and outputs
# --------------------------------------------------------------------------------------------


def assemble_plan(inputs: _Inputs, sol: Solution, objective: str) -> Plan:
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
    delivered = _delivered_frame(inputs, relays)
    end_of = {d.label: d.station_b for d in inputs.demands}
    by_night = (relays[relays["to_station"] == relays["demand"].map(end_of)]
                .pivot_table(index="night_date", columns="demand", values="bits",
                             aggfunc="sum", fill_value=0.0)
                .reindex(columns=[d.label for d in inputs.demands], fill_value=0.0))
    value = sol.objective
    if objective == "earliest":
        done = delivered["completion_utc"]
        value = (None if done.isna().any() else
                 (pd.Timestamp(done.max()) - inputs.t0).total_seconds())
    elif value is not None:
        value = value * (1.0 if objective == "fair" and _all_targets(inputs) else MBIT)
    params = dict(inputs.parameters, method=sol.method)
    params["solver_stats"] = dict(sol.stats)
    for frame, col in ((passes, "used_bits"), (relays, "bits"), (buffers, "bits")):
        frame[col] = frame[col].astype(float).round(_DECIMALS)
    return Plan(objective, sol.method, sol.status, sol.gap, sol.wall_s, value,
                inputs.demands, inputs.fibre_links, passes, relays, buffers, delivered,
                by_night.round(_DECIMALS), params)


def _all_targets(inputs: _Inputs) -> bool:
    return all(d.target_bits is not None for d in inputs.demands)


def _passes_frame(table: pd.DataFrame, sol: Solution) -> pd.DataFrame:
    cols = ["satellite", "station", "aos_utc", "tca_utc", "los_utc", "max_elevation_deg",
            "aos_azimuth_deg", "expected_secure_bits", "night_date"]
    chosen = table.iloc[np.flatnonzero(sol.chosen)]
    frame = chosen.reindex(columns=cols).copy()
    frame["used_bits"] = sol.used[sol.chosen] * MBIT
    frame.index.name = "pass_id"
    return frame.sort_values(["los_utc", "satellite"])


def _relays_frame(inputs: _Inputs, sol: Solution) -> pd.DataFrame:
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


def _delivered_frame(inputs: _Inputs, relays: pd.DataFrame) -> pd.DataFrame:
    records = []
    for d in inputs.demands:
        into = relays[(relays["demand"] == d.label) & (relays["to_station"] == d.station_b)]
        total = round(float(into["bits"].astype(float).round(_DECIMALS).sum()), _DECIMALS)
        done = None
        if d.target_bits is not None:
            cum = into["bits"].cumsum().to_numpy()
            hit = np.flatnonzero(cum >= d.target_bits - _BIT_TOL)
            done = into["time_utc"].iloc[hit[0]] if hit.size else None
        records.append({"demand": d.label, "station_a": d.station_a, "station_b": d.station_b,
                        "weight": d.weight, "target_bits": d.target_bits,
                        "delivered_bits": total,
                        "unmet_bits": (None if d.target_bits is None else
                                       _clean(max(d.target_bits - total, 0.0))),
                        "completion_utc": done})
    return pd.DataFrame.from_records(records).set_index("demand")


def _clean(bits: float) -> float:
    """Bits below the solver's tolerance (one bit) are zero."""
    return 0.0 if abs(bits) < _BIT_TOL else bits


def station_night_sheet(plan: Plan, key_table: pd.DataFrame, station: str) -> pd.DataFrame:
    """Chosen passes of one station, in time order, for the night crew.

    Returns
    -------
    pandas.DataFrame
        Index ``pass_id``; ``night_date, satellite, aos_utc, tca_utc, los_utc,
        aos_azimuth_deg, max_elevation_deg, expected_secure_bits, used_bits``.
    """
    known = sorted(set(key_table["station"].astype(str)) | set(plan.parameters["telescopes"]))
    name = resolve_station(station, known, f"--station {station!r}")
    chosen = plan.passes[plan.passes["station"] == name]
    rows = key_table.loc[chosen.index]
    sheet = pd.DataFrame({
        "night_date": chosen["night_date"], "satellite": rows["satellite"],
        "aos_utc": rows["aos_utc"], "tca_utc": rows["tca_utc"], "los_utc": rows["los_utc"],
        "aos_azimuth_deg": rows.get("aos_azimuth_deg"),
        "max_elevation_deg": rows.get("max_elevation_deg"),
        "expected_secure_bits": rows["expected_secure_bits"], "used_bits": chosen["used_bits"],
    }, index=chosen.index)
    sheet.index.name = "pass_id"
    return sheet.sort_values("aos_utc")


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
        "objective": plan.objective, "method": plan.method,
        "solver": {"status": plan.status, "gap": plan.gap,
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


__all__ = [
    "DEFAULT_CARRY_VALUE", "DEFAULT_GAP_S", "DEFAULT_MEMORY_BITS", "METHODS", "OBJECTIVES",
    "Demand", "Plan", "State", "check_demands", "load_demands", "make_demand", "parse_demand",
    "plan_schedule", "plan_to_json", "solve_greedy", "solve_rolling", "station_night_sheet",
]
