"""The trusted-relay scheduling problem in model units, and what a solver returns.

A :class:`Problem` holds plain numpy arrays (key in Mbit, times in seconds after a fixed
origin); every solver (:mod:`planner.relay.milp`, :mod:`planner.relay.greedy`,
:mod:`planner.relay.rolling`) returns a :class:`Solution` (which passes are used, how much key
each yields, and every relay :class:`Hop`). The formulation is described in
:mod:`planner.relay.milp`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Internal key unit: Mbit (keeps the MILP's coefficients near 1).
MBIT = 1e6
TOL = 1e-7  # Mbit: amounts below this (0.1 bit, the LP's feasibility tolerance) are zero
#: One bit [Mbit], ten times :data:`TOL`: the smallest amount a plan counts (a relay kept, a
#: target met, key unmet), so that nothing a plan reports rests on the LP's tolerance.
ONE_BIT = 10 * TOL
#: :data:`ONE_BIT` in bits, for amounts counted in bits.
ONE_BIT_BITS = ONE_BIT * MBIT
#: A solver status: the plan is a warm start's point that the solver reported beating but did
#: not return, and a solve without the start found nothing better; its gap is to the most
#: optimistic bound either solve reported. Not a time limit, and not proven optimal.
UNPROVEN = "unproven"


@dataclass
class DemandSpec:
    """One demand inside the model (station indices, key in Mbit)."""

    a: int
    b: int
    weight: float
    target: float | None  # Mbit, still to deliver in this problem (None: no target)
    norm: float = 1.0  # the fair objective maximises min_d delivered_d / norm_d


@dataclass
class FibreSpec:
    """One fibre link inside the model."""

    v: int
    w: int
    rate: float  # Mbit/s


@dataclass
class State:
    """Carried state between planning windows (all key in Mbit)."""

    buffers: np.ndarray  # (S, G) key each satellite shares with each station
    storage: np.ndarray  # (D, G) partial key of each demand held at intermediate stations
    fibre_used: np.ndarray  # (F,) key drawn from each fibre link so far
    delivered: np.ndarray  # (D,) key delivered to each demand so far

    @classmethod
    def zeros(cls, n_sat: int, n_sta: int, n_dem: int, n_fib: int) -> State:
        """The empty state at the start of a plan."""
        return cls(np.zeros((n_sat, n_sta)), np.zeros((n_dem, n_sta)), np.zeros(n_fib),
                   np.zeros(n_dem))

    def copy(self) -> State:
        """Deep copy."""
        return State(self.buffers.copy(), self.storage.copy(), self.fibre_used.copy(),
                     self.delivered.copy())


@dataclass
class Problem:
    """A scheduling problem in model units.

    Passes are candidate passes only (night, station available, station useful). Times are
    seconds after the plan's origin; ``end`` is the end of the planning period (fibre key grows
    until then).
    """

    satellites: list[str]
    stations: list[str]
    sat: np.ndarray  # (P,) satellite index of each pass
    sta: np.ndarray  # (P,) station index
    aos: np.ndarray  # (P,) s
    los: np.ndarray  # (P,) s
    key: np.ndarray  # (P,) Mbit (planning key: expected secure bits)
    demands: list[DemandSpec]
    fibre: list[FibreSpec]
    memory: float  # Mbit per satellite
    gap: float  # s, re-pointing gap between passes of one satellite
    reserve: float  # Mbit per link
    telescopes: np.ndarray  # (G,) int
    end: float  # s
    ground_relays: bool = False
    state: State | None = None
    fibre_start: float = 0.0  # s: fibre links produce key from this time on

    def __post_init__(self) -> None:
        if self.state is None:
            self.state = State.zeros(len(self.satellites), len(self.stations),
                                     len(self.demands), len(self.fibre))

    @property
    def n_pass(self) -> int:
        """Number of candidate passes."""
        return int(self.sat.size)

    def subset(self, mask: np.ndarray, *, end: float | None = None,
               state: State | None = None) -> tuple[Problem, np.ndarray]:
        """The same problem restricted to the passes in ``mask``.

        Returns the sub-problem and the indices (into this problem) of its passes.
        """
        idx = np.flatnonzero(mask)
        sub = Problem(self.satellites, self.stations, self.sat[idx], self.sta[idx],
                      self.aos[idx], self.los[idx], self.key[idx],
                      [DemandSpec(d.a, d.b, d.weight, d.target, d.norm) for d in self.demands],
                      self.fibre, self.memory, self.gap, self.reserve, self.telescopes,
                      self.end if end is None else end, self.ground_relays,
                      (state or self.state).copy(), self.fibre_start)
        return sub, idx

    def fibre_capacity(self, f: int, t: float | np.ndarray) -> np.ndarray:
        """Usable key of fibre link ``f`` by time ``t`` [Mbit]: rate x time - reserve, >= 0."""
        grown = self.fibre[f].rate * np.maximum(np.asarray(t, float) - self.fibre_start, 0.0)
        return np.maximum(grown - self.reserve, 0.0)

    def channels(self) -> list[set]:
        """Per station, its channels: ``('s', satellite)`` and ``('f', fibre link)``."""
        chans: list[set] = [set() for _ in self.stations]
        for s, g in set(zip(self.sat.tolist(), self.sta.tolist(), strict=True)):
            chans[g].add(("s", s))
        for f, link in enumerate(self.fibre):
            chans[link.v].add(("f", f))
            chans[link.w].add(("f", f))
        return chans

    def relay_nodes(self) -> list[list[int]]:
        """Per demand, the stations its key may pass through: ``[a, b, intermediates...]``.

        With ground relays, the intermediates are the stations with two or more channels (the
        restriction :mod:`planner.relay.milp` explains: a station one satellite alone serves
        could still help when that satellite's memory fills).
        """
        chans = self.channels()
        nodes = []
        for d in self.demands:
            inter = []
            if self.ground_relays:
                inter = [g for g in range(len(self.stations))
                         if g not in (d.a, d.b) and len(chans[g]) >= 2]
            nodes.append([d.a, d.b, *inter])
        return nodes


@dataclass
class Hop:
    """One relay hop of one demand's key (amount in Mbit)."""

    demand: int
    time: float  # s
    src: int  # station the demand's key comes from (a or an intermediate)
    dst: int  # station it reaches (b or an intermediate)
    amount: float
    satellite: int | None = None  # satellite hop: which satellite ...
    event: int | None = None  # ... during which pass (index into the problem's passes)
    fibre: int | None = None  # fibre hop: which link


@dataclass
class Solution:
    """Result of a solver on a :class:`Problem`."""

    chosen: np.ndarray  # (P,) bool
    used: np.ndarray  # (P,) Mbit kept from each pass (0 if not chosen)
    hops: list[Hop]
    solver: str
    status: str
    gap: float | None = None
    wall_s: float = 0.0
    objective: float | None = None
    stats: dict = field(default_factory=dict)


def maximal_cliques(start: np.ndarray, end: np.ndarray) -> list[np.ndarray]:
    """Maximal cliques of the interval graph of half-open intervals ``[start, end)``.

    One sweep over the sorted end points: whenever an interval closes right after one opened,
    the set of open intervals is a maximal clique. At equal times ends come before starts, so
    intervals that only touch do not overlap.

    Parameters
    ----------
    start, end
        Interval bounds, shape (n,).

    Returns
    -------
    list of numpy.ndarray
        Indices of each maximal clique (every interval lies in at least one).
    """
    start = np.asarray(start, float)
    end = np.asarray(end, float)
    n = start.size
    times = np.concatenate([end, start])
    kind = np.concatenate([np.zeros(n, int), np.ones(n, int)])  # 0 = end first at ties
    who = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((kind, times))
    active: set[int] = set()
    cliques = []
    last_was_start = False
    for j in order:
        if kind[j] == 1:
            active.add(int(who[j]))
            last_was_start = True
        else:
            if last_was_start:
                cliques.append(np.array(sorted(active)))
            active.discard(int(who[j]))
            last_was_start = False
    return cliques



def delivered_by(problem: Problem, solution: Solution) -> np.ndarray:
    """Key each demand holds at the end of a solution [Mbit] (carried plus relayed into b)."""
    got = problem.state.delivered.copy()
    for hop in solution.hops:
        if hop.dst == problem.demands[hop.demand].b:
            got[hop.demand] += hop.amount
    return got


def weighted_total(problem: Problem, delivered: np.ndarray) -> float:
    """``sum_d w_d min(D_d, T_d)`` [weight x Mbit], the ``total`` objective."""
    total = 0.0
    for d, dem in enumerate(problem.demands):
        cap = math.inf if dem.target is None else dem.target + problem.state.delivered[d]
        total += dem.weight * min(float(delivered[d]), cap)
    return total


def fair_level(problem: Problem, delivered: np.ndarray) -> float:
    """``min_d D_d / n_d``, the ``fair`` objective."""
    return min((float(delivered[d]) / dem.norm for d, dem in enumerate(problem.demands)),
               default=0.0)


def reachable_upper_bound(problem: Problem) -> np.ndarray:
    """A quick upper bound on the key each demand can receive [Mbit].

    Every delivered bit consumes one bit of some link at each end station, so a demand gets at
    most the smaller of the total key ever available at its two stations (passes, carried buffers
    and fibre), ignoring every other constraint.
    """
    p = problem
    incident = np.zeros(len(p.stations))
    np.add.at(incident, p.sta, p.key)
    incident += p.state.buffers.sum(axis=0)
    for f, link in enumerate(p.fibre):
        cap = float(p.fibre_capacity(f, p.end)) - p.state.fibre_used[f]
        incident[link.v] += max(cap, 0.0)
        incident[link.w] += max(cap, 0.0)
    return np.array([p.state.delivered[d] + min(incident[dem.a], incident[dem.b])
                     for d, dem in enumerate(p.demands)])

