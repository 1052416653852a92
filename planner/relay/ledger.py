"""The relay buffer ledger: one home for the rules by which key is held, relayed and spent.

Every path that *flies* a plan uses this ledger: replaying a solver's plan (the state it leaves
and the buffer levels the crew sees), the greedy baseline flying its passes, and the weather
replay that flies a plan under sampled clear/cloudy nights. The MILP states the same rules as
constraints (:mod:`planner.relay.milp`) and the independent checker (:mod:`planner.relay.check`)
re-derives them on purpose without this module.

Rules (docs/architecture.md, relay):

* a pass deposits its kept key into the satellite's buffer for that station at LOS;
* a relay of ``y`` bits during a pass takes ``y`` from the satellite's buffers of both stations
  it joins (the satellite publishes ``K_a XOR K_b``, docs/reference.md §1) and is limited by
  what each buffer holds above the authentication reserve once the link is *ready*;
* after a pass's relays the satellite keeps at most its memory: any excess is the part of the
  new deposit that could not be stored;
* a demand's key travels ``a -> (intermediates) -> b``; intermediate stations hold the partial
  key in ground storage; key reaching ``b`` is delivered;
* a fibre link hands out at most ``rate x elapsed - reserve``.

All amounts carry a leading scenario axis of length ``N`` (one for planning, many for weather),
in one unit chosen by the caller (Mbit in the solvers, bits in the weather replay). One
tolerance, :data:`TOL_BITS`, decides what amount is zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.relay.problem import MBIT, Hop, Problem, Solution, State

#: Amounts below this are zero on every ledger path [bit].
TOL_BITS = 1e-3


@dataclass
class Ledger:
    """Key held by satellites, ground stations and fibre links over ``N`` scenarios.

    Attributes
    ----------
    buffers
        (N, S, G) key each satellite shares with each station.
    ready
        (N, S, G) bool: the link's authentication reserve is established.
    storage
        (N, D, G) partial key of each demand held at intermediate stations.
    fibre_used
        (N, F) key drawn from each fibre link.
    delivered
        (N, D) key delivered to each demand.
    memory, reserve
        Satellite memory and per-link reserve, in the ledger's unit.
    tol
        :data:`TOL_BITS` in the ledger's unit.
    """

    buffers: np.ndarray
    ready: np.ndarray
    storage: np.ndarray
    fibre_used: np.ndarray
    delivered: np.ndarray
    memory: float
    reserve: float
    tol: float

    @classmethod
    def empty(cls, n_scenarios: int, n_sat: int, n_sta: int, n_dem: int, n_fib: int, *,
              memory: float, reserve: float, unit_bits: float = 1.0) -> Ledger:
        """A ledger with nothing held yet (``unit_bits``: bits per unit of the amounts)."""
        n = int(n_scenarios)
        return cls(np.zeros((n, n_sat, n_sta)), np.zeros((n, n_sat, n_sta), bool),
                   np.zeros((n, n_dem, n_sta)), np.zeros((n, n_fib)), np.zeros((n, n_dem)),
                   float(memory), float(reserve), TOL_BITS / unit_bits)

    @classmethod
    def start(cls, state: State, *, memory: float, reserve: float, unit_bits: float,
              n_scenarios: int = 1) -> Ledger:
        """A ledger starting from a carried :class:`~planner.relay.problem.State`."""
        n = int(n_scenarios)

        def tile(a):
            return np.repeat(np.asarray(a)[None], n, axis=0)

        return cls(tile(state.buffers).astype(float), tile(state.ready).astype(bool),
                   tile(state.storage).astype(float), tile(state.fibre_used).astype(float),
                   tile(state.delivered).astype(float), float(memory), float(reserve),
                   TOL_BITS / unit_bits)

    # ---- satellite buffers ---------------------------------------------------------------

    def deposit(self, s: int, g: int, amount, *, makes_ready=False) -> None:
        """Key of a pass of satellite ``s`` over station ``g`` enters the buffer at LOS."""
        self.buffers[:, s, g] += amount
        if self.reserve > 0:
            self.ready[:, s, g] |= np.asarray(makes_ready, bool)

    def available(self, s: int, g: int) -> np.ndarray:
        """Key a relay may take from buffer ``(s, g)``: above the reserve, on ready links."""
        if self.reserve <= 0:
            return self.buffers[:, s, g].copy()
        return np.where(self.ready[:, s, g],
                        np.maximum(self.buffers[:, s, g] - self.reserve, 0.0), 0.0)

    def relay(self, s: int, src: int, dst: int, amount) -> None:
        """A relay through satellite ``s`` spends ``amount`` from both stations' buffers."""
        self.buffers[:, s, src] -= amount
        self.buffers[:, s, dst] -= amount

    def trim_memory(self, s: int, g: int) -> np.ndarray:
        """Drop from buffer ``(s, g)`` what exceeds the memory; return the excess (N,)."""
        excess = np.maximum(self.buffers[:, s].sum(axis=1) - self.memory, 0.0)
        self.buffers[:, s, g] = np.maximum(self.buffers[:, s, g] - excess, 0.0)
        return excess

    # ---- ground storage, fibre and delivery -------------------------------------------------

    def held(self, d: int, g: int) -> np.ndarray:
        """Partial key of demand ``d`` held at station ``g`` (N,)."""
        return self.storage[:, d, g]

    def fibre_left(self, f: int, produced) -> np.ndarray:
        """Key fibre link ``f`` can still hand out, given what it has ``produced`` (N,)."""
        return np.maximum(np.asarray(produced, float) - self.fibre_used[:, f], 0.0)

    def draw_fibre(self, f: int, amount) -> None:
        """A fibre hop spends ``amount`` of link ``f``'s key."""
        self.fibre_used[:, f] += amount

    def move(self, d: int, src: int, dst: int, amount, *, from_source: bool,
             to_sink: bool) -> None:
        """Demand ``d``'s key moves from ``src`` to ``dst`` (storage or delivery)."""
        if not from_source:
            self.storage[:, d, src] -= amount
        if to_sink:
            self.delivered[:, d] += amount
        else:
            self.storage[:, d, dst] += amount

    # ---- transactions ---------------------------------------------------------------------

    def snapshot(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """Copy of satellite ``s``'s buffers and readiness (to undo a tentative pass)."""
        return self.buffers[:, s].copy(), self.ready[:, s].copy()

    def restore(self, s: int, saved: tuple[np.ndarray, np.ndarray]) -> None:
        """Undo to a :meth:`snapshot`."""
        self.buffers[:, s], self.ready[:, s] = saved

    def state(self, k: int = 0) -> State:
        """Scenario ``k`` as a :class:`~planner.relay.problem.State` (levels clipped at 0)."""
        return State(np.maximum(self.buffers[k], 0.0), self.ready[k].copy(),
                     np.maximum(self.storage[k], 0.0), self.fibre_used[k].copy(),
                     self.delivered[k].copy())


def replay(problem: Problem, solution: Solution) -> tuple[State, list[tuple]]:
    """Fly a solution's deposits and hops in time order on a :class:`Ledger`.

    Returns the state after the last event and the buffer levels after each event as
    ``(pass index, satellite, station, Mbit)`` tuples (stations the satellite has touched).
    """
    p = problem
    ledger = Ledger.start(p.state, memory=p.memory, reserve=p.reserve, unit_bits=MBIT)
    levels: list[tuple] = []
    hops_at: dict[tuple[int, int], list[Hop]] = {}
    for hop in solution.hops:
        if hop.satellite is not None:
            hops_at.setdefault((hop.satellite, hop.event), []).append(hop)
    order = np.flatnonzero(solution.chosen)
    order = order[np.lexsort((p.aos[order], p.los[order]))]
    touched = {s: set(np.flatnonzero(ledger.buffers[0, s] > ledger.tol).tolist())
               for s in range(len(p.satellites))}
    for q in order.tolist():
        s, g = int(p.sat[q]), int(p.sta[q])
        ledger.deposit(s, g, solution.used[q], makes_ready=p.key[q] >= p.reserve)
        touched[s].add(g)
        for hop in hops_at.get((s, q), []):
            ledger.relay(s, hop.src, hop.dst, hop.amount)
        levels.extend((q, s, h, float(ledger.buffers[0, s, h])) for h in sorted(touched[s]))
    for hop in solution.hops:
        if hop.fibre is not None:
            ledger.draw_fibre(hop.fibre, hop.amount)
        dem = p.demands[hop.demand]
        ledger.move(hop.demand, hop.src, hop.dst, hop.amount, from_source=hop.src == dem.a,
                    to_sink=hop.dst == dem.b)
    return ledger.state(), levels
