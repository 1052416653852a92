"""The trusted-relay scheduling problem and its exact MILP (HiGHS).

It works on a :class:`~planner.relay.problem.Problem` (plain numpy arrays, key in Mbit, times
in seconds after a fixed origin) and returns a :class:`~planner.relay.problem.Solution`.

Formulation (single satellite, no fibre — the clean case)
---------------------------------------------------------
For each candidate pass ``p`` (satellite ``s``, station ``g``, key ``k_p``) a binary ``x_p``
(pass used) and ``0 <= u_p <= k_p x_p`` (key kept; less than ``k_p`` only when memory is full).
The passes of one satellite, ordered by LOS, are its *events*; the key of a pass enters the
satellite's buffer ``B[s, i, g]`` (key shared with ``g`` after event ``i``) at LOS. A relay for
demand ``d = (a, b)`` takes ``y`` bits from ``B[s, ., a]`` and ``B[s, ., b]`` at an event of a
used pass over ``a`` or ``b`` and delivers ``y`` to the pair (any used pass over either station
may relay, so key can wait on board for the other half of a chain). Constraints:

* balance ``B[i, g] = B[i-1, g] + u_p [g = g_p] - (relays at i that use g)``, ``B >= 0``;
* memory, deposit then relay: the key of a pass is stored before it can be XORed, so
  ``sum_g B[i-1, g] + u_i <= M`` (the buffers before the pass's relays; relays only lower them);
* relays only during used passes: ``sum(relays at i) <= Cap_i x_p``;
* non-overlap: one row ``sum x_p <= 1`` per maximal clique of the satellite's intervals
  ``[aos - gap, los)`` and ``sum x_p <= telescopes_g`` per maximal clique of a station's intervals
  ``[aos, los)`` (interval graphs: cliques from one sweep, far tighter than pairwise big-M);
* authentication reserve ``R`` (optional), cumulative: a binary ``A[i, g]`` says the link is
  *ready*; it may switch on only at a deposit into ``g`` and never switches off, a ready link
  keeps ``B >= R A`` and only ready links are relayed from. Key built up over several passes
  therefore counts towards the reserve, and no relay ever draws a buffer below it.

Trusted nodes on the ground (several satellites, fibre)
-------------------------------------------------------
Demand ``d`` is a commodity flowing from ``a`` to ``b`` over *hops*: a satellite hop ``v -> w``
(at a used pass of that satellite over ``v`` or ``w``; consumes ``B[s, ., v]`` and
``B[s, ., w]``) or a fibre hop (consumes the link's pool, which grows at the link's rate:
cumulative use ``<= rate * t - R``). An intermediate station ``v`` keeps the partial key
in ground storage (unbounded). Trusted-node XORs commute, so a chain need not be built source to
sink: ``v`` may first share key with ``b`` and combine it with ``a``'s key when that arrives;
only at the horizon must ``H[d, v] = carried + in - out >= 0`` (order-free storage; a chain
delivers when its last segment is made, which :mod:`planner.relay.chains` works out for the
plan's times). Intermediates are only stations with two or more *channels*
(satellites or fibre links), so in the single-satellite case the model reduces exactly to the
one above. This is a restriction: a chain through the same satellite twice is never better
than the direct relay while the memory holds everything, but when it fills, relaying key to
a station's ground storage empties the board for a later pass (one satellite seeing B
(200 kbit), A (100 kbit), C (200 kbit) and A again, with 300 kbit of memory: 150 kbit B-C
directly, 200 kbit through A). Allowing every station seen by a satellite whose memory can
fill as an intermediate multiplies the hops by the stations (the benchmark's 24-satellite
week then left a buffer 1.1 bit below zero); it is left out.
Ground relaying is switched on by the caller (:mod:`planner.relay.schedule` does so when fibre links
exist or no single satellite serves both stations of some demand).

Objectives: ``total`` (maximise ``sum_d w_d min(D_d, T_d)``), ``fair`` (maximise ``z`` with
``z n_d <= D_d``, ``n_d`` the targets if every demand has one, else the weights; then, with
``z`` held, the total), and
``earliest`` (a binary search over event times for the first time point by which all targets can
be met; each step maximises ``sum_d min(D_d, T_d) / T_d`` on the passes up to that time with
every ``D_d`` held to its target less half a bit, so a time is ruled out by the infeasibility of
that model, after an LP-relaxation test that rules hopeless times out at once).

Solutions are *polished*: the binaries are rounded and fixed and the LP is re-solved (removing
tolerance-sized relays during passes that are not flown); then, with the objective held at that
optimum and each demand's delivery at its value up to its target, a second LP optimises the
tie-breaks alone: a bonus for early delivery so that, among equally good schedules, key is
relayed at the first opportunity, and the relay cost on every hop (``total`` carries it in
the MILP as well: the polish LP holds that objective as a row and optimises the tie-breaks
alone, so without the relay cost there its bonus bought key beyond the targets). Their relative
sizes follow what a Mbit delivered to the hop's demand is worth in the objective being solved
(``w_d`` for ``total``, ``1 / n_d`` for ``fair``'s level, ``1 / T_d`` for ``earliest``), scaled
to a largest coefficient of 1 in that LP. Added to the objective, they could outweigh a
delivery (a relay cost ``1e-5 w_d`` per Mbit against ``1 / T_d`` for targets over ``100 / w_d``
Gbit: the ``earliest`` polish dropped the deliveries its MILP had found) or, as fractions of
``1 / T_d``, fall below HiGHS's optimality tolerance for targets over ~100 Mbit and be ignored
(an extra relay, key later than it could be).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from planner.relay.highs import LpBuilder
from planner.relay.problem import (
    ONE_BIT,
    TOL,
    Hop,
    Problem,
    Solution,
    maximal_cliques,
)

# The two tie-breaks below are per Mbit x the value of a Mbit delivered to the hop's demand in
# the objective solved (RelayModel.value: its weight, 1 / its fair norm or 1 / its target)
_EARLY_BONUS = 1e-6  # per Mbit x value: tie-break towards early relays (LP polish only)
_RELAY_COST = 1e-5  # per Mbit x value of its demand: every relay must raise some delivery
_PASS_COST = 1e-7  # per pass x the smallest weight: every flown pass must serve some relay
#: Smallest relay kept from a solution: one bit, so that no relay rests on a buffer that is
#: negative within the LP's tolerance (a 0.11-bit relay of key with a station whose pass had
#: deposited nothing)
_LEAST_HOP = ONE_BIT


@dataclass
class _HopCols:
    """Hop variables before their columns exist: parallel lists, one entry per hop."""

    ub: list[float] = field(default_factory=list)
    demand: list[int] = field(default_factory=list)
    src: list[int] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)
    tpoint: list[int] = field(default_factory=list)
    satellite: list[int | None] = field(default_factory=list)
    event: list[int | None] = field(default_factory=list)
    fibre: list[int | None] = field(default_factory=list)


class RelayModel:
    """Builds the MILP of a :class:`Problem` (see the module docstring) into an LpBuilder.

    Parameters
    ----------
    problem
        The problem.
    horizon
        Only passes with LOS at or before this time (s) are used (``None``: all); fibre key
        is counted up to it. Used by the ``earliest`` search.
    passes
        Only these passes (bool per pass of the problem; ``None``: all) are in the model, and
        only their LOS (and the horizon) are its time points. Used to re-optimise the relays of
        a plan's flown passes (:func:`planner.relay.tidy.tidy_relays`): the passes not flown
        would only add columns held at zero, and fibre hops at their times, which a fibre hop
        at the next time point matches in every delivery (a link's capacity only grows).
        Intermediate stations are still those of the whole problem.
    """

    def __init__(self, problem: Problem, horizon: float | None = None,
                 passes: np.ndarray | None = None) -> None:
        self.p = problem
        self.lp = LpBuilder()
        self.horizon = problem.end if horizon is None else horizon
        mask = problem.los <= self.horizon + 1e-9
        if passes is not None:
            mask &= np.asarray(passes, bool)
        self.active = np.flatnonzero(mask)
        self.hops = _HopCols()
        #: What a Mbit delivered to each demand is worth in the objective (each objective sets
        #: it); the polish's relay cost and early bonus are fractions of it.
        self.value = np.array([d.weight for d in problem.demands], float)
        self._build()

    # ---- structure ------------------------------------------------------------------------

    def _build(self) -> None:
        p, lp = self.p, self.lp
        act = self.active
        self.x = lp.cols(act.size, 0.0, 1.0, integer=True)
        self.u = lp.cols(act.size, 0.0, p.key[act])
        self.col_of = {int(q): j for j, q in enumerate(act)}  # pass index -> position
        n = act.size
        lp.rows(np.full(n, -math.inf), np.zeros(n), np.r_[np.arange(n), np.arange(n)],
                np.r_[self.u, self.x], np.r_[np.ones(n), -p.key[act]])
        times = np.unique(np.r_[p.los[act], self.horizon])
        self.times = times
        self.tpoint_of_pass = np.searchsorted(times, p.los)
        self.nodes = p.relay_nodes()
        self._clique_rows()
        self._enumerate_hops()
        self._satellite_rows()
        self._storage_rows()
        self._fibre_rows()
        self._delivery_rows()

    def _clique_rows(self) -> None:
        p, act = self.p, self.active
        for s in range(len(p.satellites)):
            sel = np.flatnonzero(p.sat[act] == s)
            self._cliques(sel, p.aos[act][sel] - p.gap, p.los[act][sel], 1)
        for g in range(len(p.stations)):
            sel = np.flatnonzero(p.sta[act] == g)
            self._cliques(sel, p.aos[act][sel], p.los[act][sel], int(p.telescopes[g]))

    def _cliques(self, sel: np.ndarray, start: np.ndarray, end: np.ndarray, cap: int) -> None:
        if sel.size == 0:
            return
        for clique in maximal_cliques(start, end):
            if clique.size > cap:
                self.lp.row(-math.inf, cap, self.x[sel[clique]], 1.0)

    def _sat_events(self, s: int) -> np.ndarray:
        """Active pass indices of satellite ``s`` in event order (LOS, then AOS)."""
        p = self.p
        idx = self.active[p.sat[self.active] == s]
        return idx[np.lexsort((p.aos[idx], p.los[idx]))]

    def _sat_stations(self, s: int, events: np.ndarray) -> list[int]:
        p = self.p
        carried = np.flatnonzero(p.state.buffers[s] > TOL)
        return sorted(set(p.sta[events].tolist()) | set(carried.tolist()))

    def _add_hop(self, d: int, src: int, dst: int, tpoint: int, ub: float, *,
                 satellite: int | None = None, event: int | None = None,
                 fibre: int | None = None) -> None:
        h = self.hops
        h.ub.append(ub)  # the columns themselves are made in one block afterwards
        h.demand.append(d)
        h.src.append(src)
        h.dst.append(dst)
        h.tpoint.append(tpoint)
        h.satellite.append(satellite)
        h.event.append(event)
        h.fibre.append(fibre)

    def _enumerate_hops(self) -> None:
        p = self.p
        self.sat_events = {s: self._sat_events(s) for s in range(len(p.satellites))}
        self.sat_stations = {s: self._sat_stations(s, ev) for s, ev in self.sat_events.items()}
        for d, dem in enumerate(p.demands):
            nodes = set(self.nodes[d])
            for s, events in self.sat_events.items():
                on_sat = nodes & set(self.sat_stations[s])
                for q in events.tolist():
                    g = int(p.sta[q])
                    if g not in on_sat:
                        continue
                    for w in sorted(on_sat - {g}):
                        for src, dst in ((g, w), (w, g)):
                            if src != dem.b and dst != dem.a:
                                self._add_hop(d, src, dst, int(self.tpoint_of_pass[q]),
                                              p.memory, satellite=s, event=q)
            for f, link in enumerate(p.fibre):
                if link.v not in nodes or link.w not in nodes:
                    continue
                cap_end = float(p.fibre_capacity(f, self.horizon)) - p.state.fibre_used[f]
                if cap_end <= TOL:
                    continue
                for k in range(self.times.size):
                    for src, dst in ((link.v, link.w), (link.w, link.v)):
                        if src != dem.b and dst != dem.a:
                            self._add_hop(d, src, dst, k, cap_end, fibre=f)
        h = self.hops
        self.hop_cols = self.lp.cols(len(h.ub), 0.0, np.asarray(h.ub, float))
        self.hop_src = np.asarray(h.src, int)
        self.hop_dst = np.asarray(h.dst, int)
        self.hop_dem = np.asarray(h.demand, int)
        self.hop_tp = np.asarray(h.tpoint, int)
        self.hop_sat = np.asarray([-1 if v is None else v for v in h.satellite], int)
        self.hop_event = np.asarray([-1 if v is None else v for v in h.event], int)
        self.hop_fibre = np.asarray([-1 if v is None else v for v in h.fibre], int)

    def _satellite_rows(self) -> None:
        self.B: dict[int, np.ndarray] = {}
        for s, events in self.sat_events.items():
            stations = self.sat_stations[s]
            if events.size == 0 or not stations:
                continue
            self._one_satellite(s, events, stations)

    def _one_satellite(self, s: int, events: np.ndarray, stations: list[int]) -> None:
        p, lp = self.p, self.lp
        n, m = events.size, len(stations)
        gi = {g: j for j, g in enumerate(stations)}
        B = lp.cols(n * m, 0.0, p.memory).reshape(n, m)
        self.B[s] = B
        ev_pos = {int(q): i for i, q in enumerate(events)}
        mine = np.flatnonzero(self.hop_sat == s)
        hop_i = np.array([ev_pos[q] for q in self.hop_event[mine]], int)
        hop_ends = [hop_i * m + np.array([gi[g] for g in end], int)
                    for end in (self.hop_src[mine], self.hop_dst[mine])]
        g_ev = np.array([gi[int(p.sta[q])] for q in events], int)
        pos = np.array([self.col_of[int(q)] for q in events], int)
        u_cols, x_cols = self.u[pos], self.x[pos]
        # balance: B[i,g] - B[i-1,g] - [g = g_i] u_i + sum(hops at i using g) = B0 (i = 0) / 0
        rhs = np.zeros((n, m))
        rhs[0] = p.state.buffers[s, stations]
        flat = np.arange(n * m)
        lp.rows(rhs.ravel(), rhs.ravel(),
                np.concatenate([flat, flat[m:], np.arange(n) * m + g_ev, *hop_ends]),
                np.concatenate([B.ravel(), B[:-1].ravel(), u_cols, self.hop_cols[mine],
                                self.hop_cols[mine]]),
                np.concatenate([np.ones(n * m), -np.ones((n - 1) * m), -np.ones(n),
                                np.ones(2 * mine.size)]))
        if m >= 2:  # deposit, then relay: memory holds B[i-1] + u_i before the pass's relays
            held = np.full(n, p.memory)
            held[0] -= float(p.state.buffers[s, stations].sum())
            lp.rows(np.full(n, -math.inf), held,
                    np.r_[np.repeat(np.arange(1, n), m), np.arange(n)],
                    np.r_[B[:-1].ravel(), u_cols], 1.0)
        cum_key = self._cumulative_key(events, stations, g_ev)
        self._relay_on_used_pass(hop_i, mine, x_cols, cum_key[np.arange(n), g_ev])
        if p.reserve > 0:
            self._reserve_rows(B, mine, hop_ends, g_ev, cum_key)

    def _cumulative_key(self, events, stations, g_ev) -> np.ndarray:
        """Upper bound on each buffer after each event: carried + all key so far, <= memory."""
        p = self.p
        n, m = events.size, len(stations)
        add = np.zeros((n, m))
        add[np.arange(n), g_ev] = p.key[events]
        s = int(p.sat[events[0]])
        total = np.cumsum(add, axis=0) + p.state.buffers[s, stations]
        return np.minimum(total, p.memory)

    def _relay_on_used_pass(self, hop_i, mine, x_cols, cap) -> None:
        """Relays only during a used pass: sum(hops at event i) <= cap_i x_i."""
        if mine.size == 0:
            return
        has, rows = np.unique(hop_i, return_inverse=True)
        self.lp.rows(np.full(has.size, -math.inf), np.zeros(has.size),
                     np.r_[rows, np.arange(has.size)], np.r_[self.hop_cols[mine], x_cols[has]],
                     np.r_[np.ones(mine.size), -cap[has]])

    def _reserve_rows(self, B, mine, hop_ends, g_ev, cum_key) -> None:
        """Readiness ``A`` of each link and the cumulative reserve (see the module docstring)."""
        p, lp = self.p, self.lp
        n, m = B.shape
        A = lp.cols(n * m, 0.0, 1.0, integer=True).reshape(n, m)
        flat = np.arange(n * m)
        # A[i, g] >= A[i-1, g]; A only changes at a deposit into g: A[i, g] = A[i-1, g] else
        later = flat[m:]
        own = np.zeros((n, m), bool)
        own[np.arange(n), g_ev] = True
        upper = np.where(own[1:].ravel(), math.inf, 0.0)
        lp.rows(np.zeros(later.size), upper, np.r_[np.arange(later.size), np.arange(later.size)],
                np.r_[A.ravel()[later], A.ravel()[later - m]],
                np.r_[np.ones(later.size), -np.ones(later.size)])
        # B >= R A: a ready link never falls below the reserve
        lp.rows(np.zeros(n * m), np.full(n * m, math.inf), np.r_[flat, flat],
                np.r_[B.ravel(), A.ravel()], np.r_[np.ones(n * m), -p.reserve * np.ones(n * m)])
        # only ready links are relayed from: sum(hops at i using g) <= cap A[i, g]
        if mine.size:
            ends = np.concatenate(hop_ends)
            keys, rows = np.unique(ends, return_inverse=True)
            lp.rows(np.full(keys.size, -math.inf), np.zeros(keys.size),
                    np.r_[rows, np.arange(keys.size)],
                    np.r_[np.tile(self.hop_cols[mine], 2), A.ravel()[keys]],
                    np.r_[np.ones(ends.size), -cum_key.ravel()[keys]])

    def _storage_rows(self) -> None:
        """Order-free ground storage: by the horizon every intermediate received what it sent.

        Trusted-node XORs commute, so a segment ``v -> b`` may be made before ``a -> v``; only
        the net key of demand ``d`` held at ``v`` at the end, ``H[d, v]``, must be >= 0.
        """
        p, lp = self.p, self.lp
        self.H: dict[tuple[int, int], np.ndarray] = {}
        for d, _dem in enumerate(p.demands):
            for v in self.nodes[d][2:]:
                inflow = np.flatnonzero((self.hop_dem == d) & (self.hop_dst == v))
                outflow = np.flatnonzero((self.hop_dem == d) & (self.hop_src == v))
                if inflow.size == 0 and outflow.size == 0 and p.state.storage[d, v] <= TOL:
                    continue
                H = lp.cols(1, 0.0, math.inf)
                self.H[(d, v)] = H
                held = float(p.state.storage[d, v])
                lp.rows([held], [held], np.zeros(1 + inflow.size + outflow.size, int),
                        np.r_[H, self.hop_cols[inflow], self.hop_cols[outflow]],
                        np.r_[1.0, -np.ones(inflow.size), np.ones(outflow.size)])

    def _fibre_rows(self) -> None:
        p, lp = self.p, self.lp
        k_n = self.times.size
        for f in range(len(p.fibre)):
            mine = np.flatnonzero(self.hop_fibre == f)
            if mine.size == 0:
                continue
            cap = np.maximum(p.fibre_capacity(f, self.times) - p.state.fibre_used[f], 0.0)
            F = lp.cols(k_n, 0.0, cap)  # cumulative use
            r = [np.arange(k_n), np.arange(1, k_n), self.hop_tp[mine]]
            c = [F, F[:-1], self.hop_cols[mine]]
            v = [np.ones(k_n), -np.ones(k_n - 1), -np.ones(mine.size)]
            lp.rows(np.zeros(k_n), np.zeros(k_n), np.concatenate(r), np.concatenate(c),
                    np.concatenate(v))

    def _delivery_rows(self) -> None:
        p, lp = self.p, self.lp
        self.D = lp.cols(len(p.demands), 0.0, math.inf)
        self.into: list[np.ndarray] = []
        for d, dem in enumerate(p.demands):
            into = np.flatnonzero((self.hop_dem == d) & (self.hop_dst == dem.b))
            self.into.append(into)
            base = float(p.state.delivered[d])
            lp.row(base, base, [self.D[d], *self.hop_cols[into]], [1.0, *-np.ones(into.size)])

    # ---- objectives -----------------------------------------------------------------------

    def objective_total(self, terminal: dict | None = None) -> None:
        """Maximise ``sum_d w_d min(D_d, T_d)`` (plus optional end-of-window key values).

        Small costs make operations that raise no delivery lose: ``_RELAY_COST x w_d`` per
        Mbit relayed for demand ``d`` and ``_PASS_COST x min w`` per pass flown. They are far
        below any delivered bit's value (a chain has a few hops), so they only break ties.
        """
        p, lp = self.p, self.lp
        for d, dem in enumerate(p.demands):
            if dem.target is None:
                lp.set_cost([self.D[d]], dem.weight)
            else:
                c = lp.cols(1, 0.0, dem.target + float(p.state.delivered[d]), cost=dem.weight)
                lp.row(-math.inf, 0.0, [c[0], self.D[d]], [1.0, -1.0])
        weights = np.array([d.weight for d in p.demands], float)
        self.value = weights
        if self.hop_cols.size:
            lp.set_cost(self.hop_cols, -_RELAY_COST * weights[self.hop_dem])
        if self.x.size and weights.size:
            lp.set_cost(self.x, -_PASS_COST * float(weights.min()))
        if terminal:
            self._terminal(terminal)

    def _terminal(self, terminal: dict) -> None:
        """Value per Mbit left in satellite buffers / ground storage at the window's end.

        A value applies only up to its cap (``buffer_cap[(s, g)]``, ``storage_cap[(d, v)]``
        in Mbit, default unbounded): key the rest of the period can still use.
        """
        for s, B in self.B.items():
            for j, g in enumerate(self.sat_stations[s]):
                value = terminal["buffer"].get(g, 0.0)
                if value:
                    self._bounded_value(B[-1, j], value,
                                        terminal.get("buffer_cap", {}).get((s, g), math.inf))
        for (d, v), H in self.H.items():
            value = terminal["storage"].get(d, 0.0)
            if value:
                self._bounded_value(H[-1], value,
                                    terminal.get("storage_cap", {}).get((d, v), math.inf))

    def _bounded_value(self, col: int, value: float, cap: float) -> None:
        """``value`` per Mbit of column ``col``, for at most ``cap`` Mbit of it."""
        if not math.isfinite(cap):
            self.lp.set_cost([col], value)
            return
        c = self.lp.cols(1, 0.0, max(cap, 0.0), cost=value)
        self.lp.row(-math.inf, 0.0, [c[0], col], [1.0, -1.0])

    def objective_fair(self, floor: float | None = None) -> int:
        """Maximise ``z`` with ``z n_d <= D_d``; with ``floor`` the level is held instead.

        A Mbit delivered to demand ``d`` raises the level by up to ``1 / n_d``: that is its value
        for the polish's tie-breaks (with ``floor``, the objective added next sets them).
        """
        p, lp = self.p, self.lp
        z = int(lp.cols(1, 0.0 if floor is None else floor, math.inf,
                        cost=1.0 if floor is None else 0.0)[0])
        for d, dem in enumerate(p.demands):
            lp.row(-math.inf, 0.0, [z, self.D[d]], [dem.norm, -1.0])
        if floor is None:
            self.value = np.array([1.0 / dem.norm for dem in p.demands], float)
        return z

    def objective_reached(self) -> float:
        """Maximise ``sum_d min(D_d, T_d) / T_d`` over demands with targets; return its top.

        The value equals the number of targeted demands exactly when every target is met. A Mbit
        delivered to demand ``d`` is worth ``1 / T_d`` (up to its target): the polish's relay
        cost and early bonus are fractions of that, however large the target (a demand without
        a target counts for nothing and takes the smallest of these values).
        """
        p, lp = self.p, self.lp
        top = 0.0
        value = np.full(len(p.demands), np.nan)
        for d, dem in enumerate(p.demands):
            if dem.target is None or dem.target <= TOL:
                continue
            base = float(p.state.delivered[d])
            # the met fraction f, T f <= D - carried: its cost 1, not 1/T per Mbit, which
            # from T ~ 1e7 Mbit (10 Tbit) was below the LP's optimality tolerance
            f = lp.cols(1, 0.0, 1.0, cost=1.0)
            lp.row(-math.inf, -base, [f[0], self.D[d]], [dem.target, -1.0])
            value[d] = 1.0 / dem.target
            top += 1.0
        if value.size:
            self.value = np.where(np.isnan(value),
                                  np.nanmin(value) if top else 1.0, value)
        return top

    # ---- solution -------------------------------------------------------------------------

    def solution(self, result: dict, solver: str = "milp") -> Solution:
        """Turn a solver result into a :class:`Solution`."""
        p = self.p
        chosen = np.zeros(p.n_pass, bool)
        used = np.zeros(p.n_pass)
        hops: list[Hop] = []
        values = result["values"]
        if values is not None:
            xs = values[self.x] > 0.5
            chosen[self.active] = xs
            used[self.active] = np.where(xs, np.clip(values[self.u], 0.0, p.key[self.active]),
                                         0.0)
            amounts = values[self.hop_cols] if self.hop_cols.size else np.zeros(0)
            flown = self.hop_event < 0
            flown[~flown] = chosen[self.hop_event[~flown]]
            for j in np.flatnonzero((amounts > _LEAST_HOP) & flown):
                hops.append(Hop(
                    demand=int(self.hop_dem[j]), time=float(self.times[self.hop_tp[j]]),
                    src=int(self.hop_src[j]), dst=int(self.hop_dst[j]), amount=float(amounts[j]),
                    satellite=None if self.hop_sat[j] < 0 else int(self.hop_sat[j]),
                    event=None if self.hop_event[j] < 0 else int(self.hop_event[j]),
                    fibre=None if self.hop_fibre[j] < 0 else int(self.hop_fibre[j])))
        return Solution(chosen, used, hops, solver, result["status"], result["gap"],
                        result["wall_s"], result["objective"], dict(result["size"]))

    def solve(self, *, maximize: bool = True, time_limit: float = 60.0,
              mip_rel_gap: float = 1e-4, relax: bool = False,
              chosen: np.ndarray | None = None, start: np.ndarray | None = None,
              mip_feasibility_tolerance: float | None = None) -> dict:
        """Solve the model as built so far.

        ``relax``: its LP relaxation; ``chosen`` (bool per pass of the problem): fly exactly
        these passes (the relays are optimised for them); ``start``: a complete point of this
        model (a previous result's ``values``) as the first incumbent;
        ``mip_feasibility_tolerance``: HiGHS's integrality and row tolerance of the MIP
        (:meth:`planner.relay.highs.LpBuilder.solve`).
        """
        fixed = None
        if chosen is not None:
            fixed = (self.x, np.asarray(chosen, bool)[self.active].astype(float))
        return self.lp.solve(maximize=maximize, time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                             bonus=self._early_bonus() if maximize and not relax else None,
                             relax=relax, fixed=fixed, start=start,
                             mip_feasibility_tolerance=mip_feasibility_tolerance)

    def _early_bonus(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Tie-breaks of the polish LP: no relay that raises no delivery; deliver key early.

        Returns columns and their tie-break costs, each in proportion to what a Mbit delivered
        to the hop's demand is worth (:attr:`value`), and the columns of the demands'
        deliveries with their caps (the targets, plus key delivered before), which the polish
        holds (:func:`planner.relay.highs._tie_breaks`). Every hop pays the relay cost here,
        whatever the objective: the tie-break LP optimises these costs alone (the objective is a
        row), so ``total``'s own relay cost does not reach it, and without one the early bonus
        bought relays beyond the targets.
        """
        span = max(float(self.times[-1]), 1.0)
        cols, costs = [np.zeros(0, int)], [np.zeros(0)]
        cols.append(self.hop_cols)
        costs.append(-_RELAY_COST * self.value[self.hop_dem])
        for d, into in enumerate(self.into):
            cols.append(self.hop_cols[into])
            costs.append(_EARLY_BONUS * self.value[d]
                         * (1.0 - self.times[self.hop_tp[into]] / span))
        # one entry per column: a hop into b may carry both the relay cost and its bonus
        unique, where = np.unique(np.concatenate(cols), return_inverse=True)
        total = np.zeros(unique.size)
        np.add.at(total, where, np.concatenate(costs))
        p = self.p
        caps = np.array([math.inf if d.target is None else d.target + float(p.state.delivered[i])
                         for i, d in enumerate(p.demands)], float)
        return unique, total, np.asarray(self.D, int), caps  # deliveries held up to targets
