"""No wasted operations: relays re-optimised for a plan's passes, idle passes dropped.

A plan the crew flies should contain no relay that raises no demand's delivery and no pass
whose key is never used. The MILP's small relay and pass costs (:mod:`planner.relay.milp`)
see to that for one model; a rolling horizon's windows cannot (a window values key it leaves
for later, which a later window may never use), so :func:`tidy_relays` re-optimises the relays
of the chosen passes over the whole period while keeping every demand's delivery, and
:func:`drop_idle_passes` removes the passes no relay needs.
"""

from __future__ import annotations

import math
import time

import numpy as np

from planner.relay.exact import fill_kept_key
from planner.relay.greedy import objective_of
from planner.relay.milp import RelayModel
from planner.relay.problem import TOL, Problem, Solution, delivered_by

#: How far below a rolling plan's delivery the re-optimised relays may fall, relative, when
#: they cannot keep it to the LP's tolerance
_FLOOR_SLACK = 1e-6


def tidy_relays(problem: Problem, solution: Solution, objective: str, *,
                time_limit: float, mip_rel_gap: float) -> Solution:
    """The relays of ``solution``'s passes re-optimised over the whole period.

    Every demand keeps at least the key the solution delivers; among such relay plans the
    weighted total is maximised and, with the MILP's relay cost, no relay raises no delivery.
    The model holds the flown passes alone (``RelayModel(passes=...)``: on the relay_scale
    benchmark's fibre case 8k columns instead of 34k). Returns the solution unchanged if the
    solve finds nothing.
    """
    if not solution.chosen.any() and not solution.hops:
        return solution   # nothing flown, nothing relayed (fibre hops need no pass)
    floors = delivered_by(problem, solution)
    begun = time.perf_counter()
    model = RelayModel(problem, passes=solution.chosen)
    model.objective_total()
    floor_rows = [model.lp.row(_floor(floor, 0.0), math.inf, [model.D[d]], [1.0])
                  for d, floor in enumerate(floors)]
    for retry in (False, True):
        if retry:
            # the windows' deliveries are exact only to their LPs' tolerances, which carried
            # from window to window can leave them a bit above what the passes allow over the
            # whole period (a fibre case's floors were infeasible, and its untidied relays drew
            # a buffer 1.1 bit below zero): then the floors are lowered by a millionth
            model.lp.set_row_bounds(floor_rows, [_floor(f, _FLOOR_SLACK) for f in floors],
                                    math.inf)
        left = max(time_limit - (time.perf_counter() - begun), 0.01)
        result = model.solve(time_limit=left, mip_rel_gap=mip_rel_gap, chosen=solution.chosen)
        if result["has_solution"]:
            break
    else:
        return solution
    tidy = fill_kept_key(problem, model.solution(result))
    tidy.solver, tidy.status, tidy.gap = solution.solver, solution.status, solution.gap
    tidy.wall_s = solution.wall_s + result["wall_s"]
    tidy.stats = dict(solution.stats, relays_tidied=True)
    tidy.objective = objective_of(problem, tidy, objective)
    return tidy


def _floor(delivered: float, relative: float) -> float:
    """A demand's floor [Mbit]: what it was delivered, less ``relative`` of it (at least TOL)."""
    return max(float(delivered) - max(TOL, relative * float(delivered)), 0.0)


def drop_idle_passes(problem: Problem, solution: Solution) -> Solution:
    """Unflag chosen passes whose key no relay needs (in place; returns the solution).

    A pass with no relay of its own is dropped when every later buffer level of its satellite
    and station, lowered by the key it kept, still leaves each relay drawing on that buffer at
    or above the reserve (and every buffer at or above zero). Latest passes are tried first.
    """
    p = problem
    relayed_at = {h.event for h in solution.hops if h.event is not None}
    drawn: dict[int, dict[int, float]] = {}
    for hop in solution.hops:
        if hop.event is not None:
            at = drawn.setdefault(hop.event, {})
            for g in (hop.src, hop.dst):
                at[g] = at.get(g, 0.0) + hop.amount
    for s in range(len(p.satellites)):
        events = np.flatnonzero(solution.chosen & (p.sat == s))
        if events.size == 0:
            continue
        events = events[np.lexsort((p.aos[events], p.los[events]))]
        level = np.tile(p.state.buffers[s], (events.size, 1))
        for i, q in enumerate(events.tolist()):
            level[i:, p.sta[q]] += solution.used[q]
            for g, amount in drawn.get(q, {}).items():
                level[i:, g] -= amount
        floor = np.zeros_like(level)
        for i, q in enumerate(events.tolist()):
            for g in drawn.get(q, {}):
                floor[i, g] = p.reserve
        for i in range(events.size - 1, -1, -1):
            q = int(events[i])
            if q in relayed_at:
                continue
            g = int(p.sta[q])
            kept = float(solution.used[q])
            if np.all(level[i:, g] - kept >= floor[i:, g] - 1e-9):
                level[i:, g] -= kept
                solution.chosen[q] = False
                solution.used[q] = 0.0
    return solution
