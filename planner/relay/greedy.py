"""The greedy baseline: passes picked by the key they add, then flown on the ledger.

Passes are picked one at a time by the key they add to the demands (a global greedy on the
pair totals), then flown in time order relaying as soon as both keys exist; direct relays and
direct fibre deliveries only (no multi-hop through ground stations). Always feasible, never
proven optimal; fast enough for a year of passes.
"""

from __future__ import annotations

import math
import time

import numpy as np

from planner.relay.ledger import Ledger
from planner.relay.problem import (
    MBIT,
    Hop,
    Problem,
    Solution,
    delivered_by,
    fair_level,
    weighted_total,
)


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
    """Flies chosen passes in time order on a :class:`Ledger`, relaying as soon as it can."""

    def __init__(self, problem: Problem, objective: str) -> None:
        self.p = problem
        self.objective = objective
        self.ledger = Ledger.start(problem.state, memory=problem.memory,
                                   reserve=problem.reserve, unit_bits=MBIT)
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
        delivered = self.p.state.delivered
        return sorted(at, key=lambda d: (delivered[d] + self.got[d]) / dem[d].norm)

    def fly(self, q: int) -> float:
        """Fly pass ``q``; return the key kept (what fits in memory: deposit, then relay)."""
        p, ledger = self.p, self.ledger
        s, g, k = int(p.sat[q]), int(p.sta[q]), float(p.key[q])
        used = float(ledger.deposit(s, g, k)[0])
        for d in self.order(g):
            dem = p.demands[d]
            h = dem.b if g == dem.a else dem.a
            amount = min(float(ledger.available(s, g)[0]), float(ledger.available(s, h)[0]),
                         self.caps[d] - self.got[d])
            if amount > ledger.tol:
                ledger.relay(s, g, h, amount)
                self.hops.append(Hop(d, float(p.los[q]), dem.a, dem.b, amount, s, q))
                self.got[d] += amount
        return used

    def fibre(self) -> None:
        """Direct fibre deliveries for demands whose stations a fibre link joins."""
        p, ledger = self.p, self.ledger
        for f, link in enumerate(p.fibre):
            for d, dem in enumerate(p.demands):
                if {dem.a, dem.b} != {link.v, link.w}:
                    continue
                left = float(ledger.fibre_left(f, p.fibre_capacity(f, p.end))[0])
                amount = min(left, self.caps[d] - self.got[d])
                if amount > ledger.tol:
                    self.hops.append(Hop(d, p.end, dem.a, dem.b, amount, fibre=f))
                    ledger.draw_fibre(f, amount)
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
        chosen[q], used[q] = True, flight.fly(q)
    flight.fibre()
    sol = Solution(chosen, used, flight.hops, "greedy", "heuristic", None,
                   time.perf_counter() - start)
    sol.objective = objective_of(problem, sol, objective)
    return sol


def objective_of(problem: Problem, sol: Solution, objective: str) -> float:
    delivered = delivered_by(problem, sol)
    if objective == "fair":
        return fair_level(problem, delivered)
    return weighted_total(problem, delivered)

