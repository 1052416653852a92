"""The ``earliest`` objective: the first time by which every target can be met (MILP search)."""

from __future__ import annotations

import math
import time

import numpy as np

from planner.relay.exact import fill_kept_key
from planner.relay.milp import RelayModel
from planner.relay.problem import ONE_BIT, TOL, Problem, Solution, delivered_by


def targets_met(problem: Problem, solution: Solution) -> bool:
    """Whether ``solution``'s own relays deliver every demand's target (to 1 bit)."""
    got = delivered_by(problem, solution) - problem.state.delivered
    return all(dem.target is None or got[d] >= dem.target - ONE_BIT
               for d, dem in enumerate(problem.demands))


def _require_targets(problem: Problem, model: RelayModel) -> None:
    """Rows holding every targeted demand's delivery to its target less half a bit.

    "No plan meets the targets" is then the model's infeasibility, which HiGHS proves to its
    primal feasibility tolerance (0.1 bit in the model's Mbit), well inside a bit. An
    optimality proof on the met fraction would not do: HiGHS prunes every node within its MIP
    feasibility tolerance (1e-6) of the incumbent's objective, whatever gaps it is given, and
    1e-6 of a met fraction is 5 kbit of a 5 Gbit target. Half a bit below the target leaves a
    plan meeting it in full room for that tolerance, and :func:`targets_met` (one bit) accepts
    whatever the rows admit.
    """
    for d, dem in enumerate(problem.demands):
        if dem.target is not None and dem.target > TOL:
            need = float(problem.state.delivered[d]) + dem.target - ONE_BIT / 2
            model.lp.row(need, math.inf, [model.D[d]], [1.0])


def integrality_tolerance(problem: Problem) -> float:
    """HiGHS's MIP feasibility tolerance for the ``earliest`` search: 0.1 bit of the largest pass.

    A binary within the tolerance of 0 still lets that fraction of its pass's key through
    (``u <= k x``): at HiGHS's default, 1e-6, that was 275 bits of a 5 Gbit pass not flown,
    a point that met its target only through that leak and whose polished plan fell short
    (the polish fixes the binaries). The tolerance is held to 0.1 bit (:data:`TOL`) of the
    largest key, between HiGHS's floor 1e-10 and its default 1e-6.

    Returns
    -------
    float
        The tolerance (dimensionless: a binary's distance from an integer, or a row's
        violation in Mbit).
    """
    largest = float(np.max(problem.key, initial=0.0))
    return float(np.clip(TOL / max(largest, TOL), 1e-10, 1e-6))


def _reach_targets(problem: Problem, t: float, time_limit: float) -> tuple[str, Solution | None]:
    """Can every target be met by time ``t``? ``"yes"`` (with a plan), ``"no"`` or ``"unknown"``.

    The model holds every delivery to its target less half a bit (:func:`_require_targets`)
    and maximises the met fraction of the targets. "no" means no plan meets the targets in
    full: the model's LP relaxation, or the MILP, is infeasible (the LP relaxation answers
    quickly when even fractional pass use falls short). "yes" is the final plan's own answer
    (:func:`targets_met`: its polished relays, not the MILP's objective, which within its
    tolerance of 1e-7 reached the top for a 5 Gbit target that only 250 bits less could
    meet). Anything else, a MILP stopped early, answers "unknown". (Read off a MILP proven
    optimal on the met fraction alone, "no" once wrongly ruled out a time at which a 5 Gbit
    target could be met in full: HiGHS stopped 219 bits short.)
    """
    start = time.perf_counter()
    model = RelayModel(problem, horizon=t)
    model.objective_reached()
    _require_targets(problem, model)
    relaxed = model.solve(time_limit=time_limit, relax=True)
    if relaxed["status"] == "infeasible":
        return "no", None
    left = max(time_limit - (time.perf_counter() - start), 0.01)
    res = model.solve(time_limit=left, mip_rel_gap=1e-7,
                      mip_feasibility_tolerance=integrality_tolerance(problem))
    if res["has_solution"]:
        plan = fill_kept_key(problem, model.solution(res))
        if targets_met(problem, plan):
            return "yes", plan
    if res["status"] == "infeasible":
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

