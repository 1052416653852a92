"""The relay buffer ledger: one home for the rules by which key is held, relayed and spent.

Every path that *flies* a plan uses this ledger: replaying a solver's plan (the state it leaves
and the buffer levels the crew sees), the greedy baseline flying its passes, and the weather
replay that flies a plan under sampled clear/cloudy nights. The MILP states the same rules as
constraints (:mod:`planner.relay.milp`) and the independent checker (:mod:`planner.relay.check`)
re-derives them on purpose without this module.

Rules (docs/architecture.md, relay):

* a pass deposits its kept key into the satellite's buffer for that station at LOS;
* deposit, then relay: the deposit is stored before it can be XORed, so the satellite's memory
  is checked right after the deposit, before the pass's relays (key that does not fit is the
  part of the new deposit that is not kept); relays only lower the buffers;
* a relay of ``y`` bits during a pass takes ``y`` from the satellite's buffers of both stations
  it joins (the satellite publishes ``K_a XOR K_b``, docs/reference.md §1) and never draws a
  buffer below the authentication reserve ``R``: key built up over several passes counts
  towards the reserve (a cumulative reserve), so a link relays once its buffer holds more than
  ``R``, and only what lies above it;
* a demand's key travels ``a -> (intermediates) -> b``; intermediate stations hold the partial
  key in ground storage; trusted-node XORs commute, so segments may be made in any order and
  only the end of the period needs every intermediate to have received at least what it
  passed on; key reaching ``b`` is delivered;
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
        return cls(np.zeros((n, n_sat, n_sta)), np.zeros((n, n_dem, n_sta)),
                   np.zeros((n, n_fib)), np.zeros((n, n_dem)), float(memory), float(reserve),
                   TOL_BITS / unit_bits)

    @classmethod
    def start(cls, state: State, *, memory: float, reserve: float, unit_bits: float,
              n_scenarios: int = 1) -> Ledger:
        """A ledger starting from a carried :class:`~planner.relay.problem.State`."""
        n = int(n_scenarios)

        def tile(a):
            return np.repeat(np.asarray(a)[None], n, axis=0)

        return cls(tile(state.buffers).astype(float), tile(state.storage).astype(float),
                   tile(state.fibre_used).astype(float),
                   tile(state.delivered).astype(float), float(memory), float(reserve),
                   TOL_BITS / unit_bits)

    # ---- satellite buffers ---------------------------------------------------------------

    def deposit(self, s: int, g: int, amount) -> np.ndarray:
        """Key of a pass of satellite ``s`` over station ``g`` enters the buffer at LOS.

        The memory is checked at once (deposit, then relay): what does not fit is not kept.
        Returns the key kept (N,).
        """
        amount = np.broadcast_to(np.asarray(amount, float), self.buffers.shape[:1])
        self.buffers[:, s, g] += amount
        return amount - self.trim_memory(s, g)

    def available(self, s: int, g: int) -> np.ndarray:
        """Key a relay may take from buffer ``(s, g)``: what lies above the reserve."""
        return np.maximum(self.buffers[:, s, g] - self.reserve, 0.0)

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

    def state(self, k: int = 0) -> State:
        """Scenario ``k`` as a :class:`~planner.relay.problem.State` (levels clipped at 0)."""
        return State(np.maximum(self.buffers[k], 0.0), np.maximum(self.storage[k], 0.0),
                     self.fibre_used[k].copy(),
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
        ledger.deposit(s, g, solution.used[q])
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
