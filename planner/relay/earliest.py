"""The ``earliest`` objective: the first time by which every target can be met (MILP search)."""

from __future__ import annotations

import time

import numpy as np

from planner.relay.exact import fill_kept_key
from planner.relay.milp import RelayModel
from planner.relay.problem import ONE_BIT, Problem, Solution, delivered_by


def targets_met(problem: Problem, solution: Solution) -> bool:
    """Whether ``solution``'s own relays deliver every demand's target (to 1 bit)."""
    got = delivered_by(problem, solution) - problem.state.delivered
    return all(dem.target is None or got[d] >= dem.target - ONE_BIT
               for d, dem in enumerate(problem.demands))


def _reach_targets(problem: Problem, t: float, time_limit: float) -> tuple[str, Solution | None]:
    """Can every target be met by time ``t``? ``"yes"`` (with a plan), ``"no"`` or ``"unknown"``.

    The LP relaxation answers "no" quickly when even fractional pass use falls short; otherwise
    the MILP maximises the met fraction of the targets and stops as soon as all are met.
    "yes" is the final plan's own answer (:func:`targets_met`: its polished relays, not the
    MILP's objective, which within its tolerance of 1e-7 reached the top for a 5 Gbit target
    that only 250 bits less could meet). A MILP proven optimal whose plan falls short is "no";
    one stopped early, "unknown".
    """
    start = time.perf_counter()
    model = RelayModel(problem, horizon=t)
    top = model.objective_reached()
    relaxed = model.solve(time_limit=time_limit, relax=True)
    if relaxed["status"] == "optimal" and relaxed["objective"] < top - 1e-7:
        return "no", None
    left = max(time_limit - (time.perf_counter() - start), 0.01)
    res = model.solve(time_limit=left, mip_rel_gap=1e-7)
    if res["has_solution"]:
        plan = fill_kept_key(problem, model.solution(res))
        if targets_met(problem, plan):
            return "yes", plan
    if res["status"] == "optimal" or (res["bound"] is not None and res["bound"] < top - 1e-7):
        return "no", None
    return "unknown", None


def solve_earliest(problem: Problem, *, time_limit: float = 60.0) -> tuple[Solution, float | None]:
    """The earliest event time by which every target can be met, and a plan meeting them.

    A binary search over the problem's event times (and its end); each step asks
    :func:`_reach_targets` on the passes up to that time, within a share of the time limit. The
    plan returned is the one found at the earliest feasible time; it uses no pass after it.
    Status ``optimal`` means the time before it was proven too early; ``time_limit`` means some
    earlier time could not be ruled out (``stats["completion_lower_bound_s"]`` says how early).
    Returns ``(solution, completion time in s)`` or ``(solution with status "infeasible" or
    "time_limit", None)`` when no plan meets the targets.
    """
    start = time.perf_counter()
    times = np.unique(np.r_[problem.los, problem.end])
    lo, hi = -1, times.size - 1  # lo: largest index proven too early; hi: feasible candidate
    verdict, best = _reach_targets(problem, float(times[hi]), time_limit / 2)
    steps = 1
    if verdict != "yes":
        status = "infeasible" if verdict == "no" else "time_limit"
        sol = Solution(np.zeros(problem.n_pass, bool), np.zeros(problem.n_pass), [], "milp",
                       status, None, time.perf_counter() - start)
        return sol, None
    search_lo = lo
    while hi - search_lo > 1:
        left = time_limit - (time.perf_counter() - start)
        if left <= 0.05:
            break
        todo = max(int(np.ceil(np.log2(hi - search_lo))), 1)
        mid = (search_lo + hi) // 2
        verdict, sol = _reach_targets(problem, float(times[mid]), left / todo)
        steps += 1
        if verdict == "yes":
            hi, best = mid, sol
        else:  # "unknown" moves the search on but proves nothing
            search_lo = mid
            if verdict == "no":  # feasibility is monotone in time: earlier is infeasible too
                lo = max(lo, mid)
    proven = hi - lo == 1
    best.status = "optimal" if proven else "time_limit"
    best.objective = float(times[hi])
    # gap: how much earlier the completion might still be, relative to the period's start
    best.gap = float((times[hi] - times[lo + 1]) / max(times[hi], 1.0))
    best.wall_s = time.perf_counter() - start
    best.stats["feasibility_solves"] = steps
    best.stats["completion_lower_bound_s"] = float(times[lo + 1])
    return best, float(times[hi])

