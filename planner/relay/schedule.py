"""Trusted-relay scheduler: which passes to fly, when to relay, how much key each pair gets.

An operations lead names the station pairs that need shared key (:class:`Demand`, with a weight
or a target in bits) and the planning period (a key table). :func:`plan_schedule` decides which
passes each satellite uses, when it combines stored keys to relay them (the satellite publishes
``K_a XOR K_b``; docs/reference.md §1), and how much key every pair ends up with, and when. Three
solvers share one problem definition (:mod:`planner.relay.problem`):

* ``milp`` — the exact mixed-integer program (:mod:`planner.relay.milp`), solved by HiGHS
  warm-started from the greedy plan (:mod:`planner.relay.exact`); the better of the two is
  returned, and status, gap and wall time are reported;
* ``greedy`` — a fast baseline (:mod:`planner.relay.greedy`);
* ``rolling`` — the MILP night by night (:mod:`planner.relay.rolling`).

Plans are made on ``expected_secure_bits``. The scheduler does not evaluate plans under weather:
the caller does (:func:`planner.relay.weather.evaluate_plan`, called by the pipeline), and
:mod:`planner.relay.check` verifies any plan independently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from planner.errors import ScheduleInputError
from planner.relay.demands import Demand
from planner.relay.earliest import solve_earliest
from planner.relay.exact import solve_milp
from planner.relay.fibre import FibreLink
from planner.relay.greedy import objective_of, solve_greedy
from planner.relay.inputs import OBJECTIVES, SOLVERS, PlanInputs, prepare
from planner.relay.plan import Plan, assemble_plan
from planner.relay.problem import MBIT, TOL, Solution, reachable_upper_bound
from planner.relay.rolling import DEFAULT_CARRY_VALUE, solve_rolling, window_bounds
from planner.relay.state import RelayState
from planner.relay.tidy import drop_idle_passes

#: On-board key memory per satellite [bit] [A]: no published figure for Jinan-1; 1 Gbit holds
#: about three years of 1-Mbit passes, so by default memory only binds when set smaller.
DEFAULT_MEMORY_BITS = 1e9
#: Re-pointing gap between consecutive passes of one satellite [s].
DEFAULT_GAP_S = 120.0


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
    solver: str = "milp",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    window_nights: int = 1,
    night_cut_hour_utc: float | None = None,
    ground_relays: bool | None = None,
    start: object | None = None,
    end: object | None = None,
    carry_value: float = DEFAULT_CARRY_VALUE,
    state: RelayState | None = None,
) -> Plan:
    """Plan passes and trusted relays for the given demands.

    Parameters
    ----------
    key_table
        One row per pass, unique integer index (the pass id); columns at least
        ``satellite, station, aos_utc, tca_utc, los_utc, night, expected_secure_bits``. Only
        night passes are used.
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
        ``(station, date)`` pairs: nights (see :func:`planner.relay.nights.night_dates`) a station
        cannot observe.
    fibre_links
        :class:`~planner.relay.fibre.FibreLink` objects or ``"A:B:RATEbps"`` / ``"A:B:LENGTHkm"``.
    objective
        ``total``, ``fair`` or ``earliest`` (needs a target for every demand).
    solver
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
    carry_value
        Rolling horizon: value of key left in buffers at a window's end, fraction of weight.
    state
        The measured state of the campaign (:func:`planner.relay.state.load_state`,
        docs/relay-state.md): the plan covers the rest of the period from its ``as_of`` time,
        starting from its buffers, ground storage and delivered key; its flown passes are not
        planned again, and a satellite's next pass keeps the re-pointing gap after them.

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
                     objective=objective, solver=solver, time_limit_s=time_limit_s,
                     mip_rel_gap=mip_rel_gap, window_nights=window_nights,
                     night_cut_hour_utc=night_cut_hour_utc, ground_relays=ground_relays,
                     start=start, end=end, carry_value=carry_value, state=state)
    solution = _solve(inputs, objective, solver, time_limit_s, mip_rel_gap, window_nights,
                      carry_value)
    return assemble_plan(inputs, solution, objective)


def _solve(inputs: PlanInputs, objective: str, solver: str, time_limit_s: float,
           mip_rel_gap: float, window_nights: int, carry_value: float) -> Solution:
    sol = _solve_with(inputs, objective, solver, time_limit_s, mip_rel_gap, window_nights,
                      carry_value)
    return drop_idle_passes(inputs.problem, sol)


def _solve_with(inputs: PlanInputs, objective: str, solver: str, time_limit_s: float,
                mip_rel_gap: float, window_nights: int, carry_value: float) -> Solution:
    problem = inputs.problem
    if objective == "earliest":
        _check_reachable(inputs)
    if solver == "greedy":
        return solve_greedy(problem, objective)
    if solver == "rolling" and problem.n_pass:
        bounds = window_bounds(inputs, window_nights)
        return solve_rolling(problem, objective, bounds, time_limit_s=time_limit_s,
                             mip_rel_gap=mip_rel_gap, carry_value=carry_value)
    if objective == "earliest":
        sol, completion = solve_earliest(problem, time_limit=time_limit_s)
        if completion is None:
            _raise_unmet(sol.status, time_limit_s)
        return sol
    seed = solve_greedy(problem, objective)
    sol = solve_milp(problem, objective, time_limit=time_limit_s, mip_rel_gap=mip_rel_gap,
                     seed=seed)
    return _better(problem, objective, sol, seed)


def _better(problem, objective: str, sol: Solution, seed: Solution) -> Solution:
    """The MILP's plan unless the greedy seed is better (a MILP stopped early); gap kept."""
    if sol.objective is None:  # no incumbent within the time limit: the greedy plan
        seed.status = f"{sol.status}: no MILP solution, greedy plan"
        seed.wall_s += sol.wall_s
        return seed
    mine, theirs = objective_of(problem, sol, objective), objective_of(problem, seed, objective)
    if theirs > mine * (1 + 1e-6) + TOL:  # beyond the solvers' tolerance
        seed.status = f"{sol.status}: the greedy plan is better, kept"
        seed.gap, seed.wall_s = sol.gap, seed.wall_s + sol.wall_s
        seed.stats = dict(sol.stats, kept="greedy")
        return seed
    return sol


def _check_reachable(inputs: PlanInputs) -> None:
    bound = reachable_upper_bound(inputs.problem) * MBIT
    for demand, most in zip(inputs.demands, bound, strict=True):
        if demand.target_bits is not None and most < demand.target_bits * (1 - 1e-9):
            raise ScheduleInputError(
                f"objective earliest: {demand.label}: target {demand.target_bits:.6g} bits is "
                f"unreachable: at "
                f"most {most:.6g} bits of key reach these stations in the period",
                field=demand.field_name)


def _raise_unmet(status: str, time_limit_s: float) -> None:
    if status == "infeasible":
        raise ScheduleInputError(
            "objective earliest: the targets cannot all be met together in the period; "
            "lower them, lengthen the period, or use the objective total or fair to see how "
            "much can be delivered", field="objective")
    raise ScheduleInputError(
        f"objective earliest: no plan meeting every target was found within the time limit of "
        f"{time_limit_s:g} s; raise it or use the rolling solver", field="time_limit_s")


__all__ = [
    "DEFAULT_CARRY_VALUE", "DEFAULT_GAP_S", "DEFAULT_MEMORY_BITS", "OBJECTIVES", "SOLVERS",
    "plan_schedule",
]
