"""The exact MILP solved: warm-started from a heuristic plan, kept key filled in, window values.

:class:`~planner.relay.milp.RelayModel` states the model; this module solves it.
:func:`solve_milp` hands HiGHS a feasible first incumbent (the relays of a heuristic plan's
passes, optimised by one LP), so a MILP stopped at its time limit is never worse than that plan;
:func:`terminal_values` gives a rolling horizon's windows a bounded value for key they leave
behind; :func:`fill_kept_key` keeps the unused key of flown passes that memory can hold.
"""

from __future__ import annotations

import time

import numpy as np

from planner.relay.milp import RelayModel
from planner.relay.problem import TOL, Problem, Solution, weighted_total

#: Share of the time limit the warm start's LP may take.
_SEED_SHARE = 0.25


def terminal_values(problem: Problem, fraction: float, future: Problem | None = None) -> dict:
    """End-of-window values for rolling horizons [per Mbit], bounded by what is still usable.

    Key left in a satellite buffer for station ``g`` is worth ``fraction`` x the largest weight
    of a still-open demand at ``g`` (``fraction < 0.5`` keeps relaying now strictly better than
    holding both halves); partial key at an intermediate is worth ``2 * fraction`` x its
    demand's weight. With ``future`` (the passes after the window, and the period's end), a
    value applies only to key the rest of the period can still use: a buffer ``(s, g)`` up to
    the key ``s`` will yet share with ``g``'s partner stations (and the memory); partial key at
    ``v`` up to the smaller of the key still to come at ``v`` and at ``b``.
    """
    buffer: dict[int, float] = {}
    storage: dict[int, float] = {}
    partners: dict[int, set[int]] = {}
    nodes = problem.relay_nodes()
    for d, dem in enumerate(problem.demands):
        if dem.target is not None and dem.target <= TOL:
            continue
        for g in (dem.a, dem.b):
            buffer[g] = max(buffer.get(g, 0.0), fraction * dem.weight)
        storage[d] = 2 * fraction * dem.weight
        for g in nodes[d]:
            partners.setdefault(g, set()).update(set(nodes[d]) - {g})
    for node_list in nodes:
        for g in node_list[2:]:
            buffer.setdefault(g, fraction * min((d.weight for d in problem.demands),
                                                default=0.0))
    values = {"buffer": buffer, "storage": storage}
    if future is None:
        return values
    sat_key = np.zeros((len(problem.satellites), len(problem.stations)))
    np.add.at(sat_key, (future.sat, future.sta), future.key)
    station_key = sat_key.sum(axis=0)
    for link in future.fibre:
        grown = link.rate * max(future.end - problem.end, 0.0)
        station_key[link.v] += grown
        station_key[link.w] += grown
    values["buffer_cap"] = {
        (s, g): min(problem.memory, float(sum(sat_key[s, h] for h in partners.get(g, ()))))
        for s in range(len(problem.satellites)) for g in buffer}
    values["storage_cap"] = {
        (d, v): float(min(station_key[v], station_key[problem.demands[d].b]))
        for d in storage for v in nodes[d][2:]}
    return values


def _seeded(model: RelayModel, seed: Solution | None, time_limit: float,
            mip_rel_gap: float) -> dict | None:
    """A complete point of ``model`` flying ``seed``'s passes with the best relays for them."""
    if seed is None or not seed.chosen.any():
        return None
    result = model.solve(time_limit=time_limit, mip_rel_gap=mip_rel_gap, chosen=seed.chosen)
    return result if result["has_solution"] else None


def _solve_seeded(model: RelayModel, seed: Solution | None, time_limit: float,
                  mip_rel_gap: float) -> dict:
    """Solve ``model`` warm-started from ``seed``; the seed's point if the MILP finds nothing."""
    start = time.perf_counter()
    first = _seeded(model, seed, _SEED_SHARE * time_limit, mip_rel_gap)
    left = max(time_limit - (time.perf_counter() - start), 0.01)
    result = model.solve(time_limit=left, mip_rel_gap=mip_rel_gap,
                         start=None if first is None else first["values"])
    result["seeded"] = first is not None
    if not result["has_solution"] and first is not None:
        first = dict(first, status=result["status"], bound=result["bound"], seeded=True,
                     gap=_gap(first["objective"], result["bound"]))
        return first
    return result


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return max(bound - objective, 0.0) / max(abs(bound), 1e-9)


def solve_milp(problem: Problem, objective: str, *, time_limit: float = 60.0,
               mip_rel_gap: float = 1e-4, terminal: dict | None = None,
               seed: Solution | None = None) -> Solution:
    """Solve a problem exactly for objective ``total`` or ``fair``, warm-started from ``seed``.

    ``fair`` is lexicographic: the max-min level first, then the weighted total at that level
    (the wall time and the gap reported are those of both solves together / the first solve).
    The seed's passes, with their relays optimised by one LP, are HiGHS's first incumbent.
    """
    start = time.perf_counter()
    model = RelayModel(problem)
    if objective == "total":
        model.objective_total(terminal)
        result = _solve_seeded(model, seed, time_limit, mip_rel_gap)
        sol = fill_kept_key(problem, model.solution(result))
        sol.objective = _objective_value(problem, model, result)
        sol.stats["warm_start"] = bool(result.get("seeded"))
        sol.wall_s = time.perf_counter() - start
        return sol
    if objective != "fair":
        raise ValueError(f"unknown objective {objective!r}")
    model.objective_fair()
    first = _solve_seeded(model, seed, time_limit, mip_rel_gap)
    if not first["has_solution"]:
        sol = model.solution(first)
        sol.wall_s = time.perf_counter() - start
        return sol
    level = first["objective"]
    second_model = RelayModel(problem)
    second_model.objective_fair(floor=max(level * (1 - 1e-7) - 1e-9, 0.0))
    second_model.objective_total(terminal)
    remaining = max(time_limit - (time.perf_counter() - start), 1.0)
    first_plan = model.solution(first)
    second = _solve_seeded(second_model, first_plan, remaining, mip_rel_gap)
    chosen = second if second["has_solution"] else first
    sol = fill_kept_key(problem, (second_model if second["has_solution"] else model)
                        .solution(chosen))
    sol.status, sol.gap = first["status"], first["gap"]
    sol.objective = level
    sol.wall_s = time.perf_counter() - start
    sol.stats["second_stage_status"] = second["status"]
    sol.stats["warm_start"] = bool(first.get("seeded"))
    return sol


def _objective_value(problem: Problem, model: RelayModel, result: dict) -> float | None:
    if result["values"] is None:
        return None
    delivered = result["values"][model.D]
    return weighted_total(problem, delivered)


def fill_kept_key(problem: Problem, solution: Solution) -> Solution:
    """Keep as much of each used pass's key as memory allows (in place; returns the solution).

    The objectives do not care how much unused key a satellite keeps, so the solver may keep
    less than a pass yields. This raises every ``used`` to ``min(key, headroom)``, where the
    headroom is the least free memory from that pass on (later passes first; memory holds the
    buffers after each deposit, before its relays), which changes no relay and no constraint
    other than memory.
    """
    p = problem
    spent: dict[int, float] = {}
    for hop in solution.hops:
        if hop.event is not None:
            spent[hop.event] = spent.get(hop.event, 0.0) + 2.0 * hop.amount
    for s in range(len(p.satellites)):
        events = np.flatnonzero(solution.chosen & (p.sat == s))
        if events.size == 0:
            continue
        events = events[np.lexsort((p.aos[events], p.los[events]))]
        drawn = np.array([spent.get(int(q), 0.0) for q in events])
        # held before each pass's relays (deposit, then relay): the level memory bounds
        level = p.state.buffers[s].sum() + np.cumsum(solution.used[events] - drawn) + drawn
        for i in range(events.size - 1, -1, -1):
            q = events[i]
            extra = min(p.key[q] - solution.used[q], p.memory - level[i:].max())
            if extra > TOL:
                solution.used[q] += extra
                level[i:] += extra
    return solution


__all__ = ["fill_kept_key", "solve_milp", "terminal_values"]
