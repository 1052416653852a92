"""Rolling horizon: the MILP night by night, carrying the state from one window to the next.

Each window of ``window_nights`` nights is solved exactly (warm-started from the greedy plan of
the window), carrying buffers, ground storage, fibre use and delivered key; key left in a buffer
at the end of a window is valued at ``carry_value`` x its demand's weight, and partial key at an
intermediate station at twice that, each only up to what the rest of the period can still use
(:func:`planner.relay.exact.terminal_values`), so windows neither waste key nor hoard it. The
relays of the chosen passes are finally re-optimised over the whole period
(:func:`planner.relay.tidy.tidy_relays`) so that no relay is left that raises no delivery.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from planner.relay.exact import solve_milp, terminal_values
from planner.relay.greedy import objective_of, solve_greedy
from planner.relay.inputs import PlanInputs
from planner.relay.ledger import replay
from planner.relay.problem import Hop, Problem, Solution
from planner.relay.tidy import tidy_relays

#: Value of a bit left in a buffer at the end of a window, as a fraction of the weight of the
#: demands it can serve (< 0.5 keeps relaying now better than holding).
DEFAULT_CARRY_VALUE = 0.25


def window_bounds(inputs: PlanInputs, window_nights: int) -> list[tuple[np.ndarray, float]]:
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
        terminal = None
        if not last:
            later, _ = problem.subset(problem.aos >= end, state=state)
            terminal = terminal_values(sub, carry_value, future=later)
        seed = solve_greedy(sub, window_objective)
        sol = solve_milp(sub, window_objective, time_limit=time_limit_s,
                         mip_rel_gap=mip_rel_gap, terminal=terminal, seed=seed)
        if not sol.chosen.any() and sol.status not in ("optimal",):
            sol = seed
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
    sol.objective = objective_of(problem, sol, objective)
    sol.stats["windows"] = len(windows)
    # a window values the key it leaves behind, which later windows may not use: the relays
    # of the chosen passes are re-optimised over the whole period, no demand getting less
    return tidy_relays(problem, sol, objective, time_limit=time_limit_s,
                       mip_rel_gap=mip_rel_gap)


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

