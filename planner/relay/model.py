"""The trusted-relay scheduling problem and its exact MILP (HiGHS).

This module is the numerical core behind :mod:`planner.relay.schedule`. It works on a
:class:`Problem`
(plain numpy arrays, key in Mbit, times in seconds after a fixed origin) and returns a
:class:`Solution` (which passes are used, how much key each yields, and every relay hop).

Formulation (single satellite, no fibre — the clean case)
---------------------------------------------------------
For each candidate pass ``p`` (satellite ``s``, station ``g``, key ``k_p``) a binary ``x_p``
(pass used) and ``0 <= u_p <= k_p x_p`` (key kept; less than ``k_p`` only when memory is full).
The passes of one satellite, ordered by LOS, are its *events*; the key of a pass enters the
satellite's buffer ``B[s, i, g]`` (key shared with ``g`` after event ``i``) at LOS. A relay for
demand ``d = (a, b)`` takes ``y`` bits from ``B[s, ., a]`` and ``B[s, ., b]`` at an event of a
used pass over ``a`` or ``b`` and delivers ``y`` to the pair (relaying later than the next pass
over one of the two stations never helps: it only holds memory longer). Constraints:

* balance ``B[i, g] = B[i-1, g] + u_p [g = g_p] - (relays at i that use g)``, ``B >= 0``;
* memory ``sum_g B[i, g] <= M`` after every event (deposit and relays of a pass are
  simultaneous: key is combined in real time during the pass);
* relays only during used passes: ``sum(relays at i) <= Cap_i x_p``;
* non-overlap: one row ``sum x_p <= 1`` per maximal clique of the satellite's intervals
  ``[aos - gap, los)`` and ``sum x_p <= telescopes_g`` per maximal clique of a station's intervals
  ``[aos, los)`` (interval graphs: cliques from one sweep, far tighter than pairwise big-M);
* authentication reserve ``R`` (optional): a link is *ready* (``A = 1``) from its first used pass
  of at least ``R`` bits; then ``B >= R`` forever and only ready links may be relayed from, so no
  relay ever draws a buffer below the reserve. ``A`` is continuous but forced to 0/1 by
  ``A[i] - A[i-1] <= x_p`` and ``A[i] >= x_p``.

Trusted nodes on the ground (several satellites, fibre)
-------------------------------------------------------
Demand ``d`` is a commodity flowing from ``a`` to ``b`` over *hops*: a satellite hop ``v -> w``
(at a used pass of that satellite over ``v`` or ``w``; consumes ``B[s, ., v]`` and
``B[s, ., w]``) or a fibre hop (consumes the link's pool, which grows at the link's rate:
cumulative use ``<= rate * t - R``). An intermediate station ``v`` keeps the partial key
(``a`` shares with ``v``) in ground storage ``H[d, v, k] >= 0`` (unbounded), balanced at every
global time point ``k``. Intermediates are only stations with two or more *channels*
(satellites or fibre links): a chain through the same satellite twice is never better than the
direct relay, so in the single-satellite case the model reduces exactly to the one above.
Ground relaying is switched on by the caller (:mod:`planner.relay.schedule` does so when fibre links
exist or no single satellite serves both stations of some demand).

Objectives: ``total`` (maximise ``sum_d w_d min(D_d, T_d)``), ``fair`` (maximise ``z`` with
``z n_d <= D_d``, ``n_d`` the targets if every demand has one, else the weights; then, with
``z`` held, the total), and
``earliest`` (a binary search over event times for the first time point by which all targets can
be met; each step maximises ``sum_d min(D_d, T_d) / T_d`` on the passes up to that time, after an
LP-relaxation test that rules hopeless times out at once).

Solutions are *polished*: the binaries are rounded and fixed and the LP is re-solved (removing
tolerance-sized relays during passes that are not flown), with a tiny bonus for early delivery so
that, among equally good schedules, key is relayed at the first opportunity.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

#: Internal key unit: Mbit (keeps the MILP's coefficients near 1).
MBIT = 1e6
_EARLY_BONUS = 1e-6  # per Mbit x weight: tie-break towards early relays (LP polish only)
_TOL = 1e-7  # Mbit: amounts below this (0.1 bit, the LP's feasibility tolerance) are zero


# --------------------------------------------------------------------------------------------
# Problem data
# --------------------------------------------------------------------------------------------


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
    ready: np.ndarray  # (S, G) bool: authentication reserve established
    storage: np.ndarray  # (D, G) partial key of each demand held at intermediate stations
    fibre_used: np.ndarray  # (F,) key drawn from each fibre link so far
    delivered: np.ndarray  # (D,) key delivered to each demand so far

    @classmethod
    def zeros(cls, n_sat: int, n_sta: int, n_dem: int, n_fib: int) -> State:
        """The empty state at the start of a plan."""
        return cls(np.zeros((n_sat, n_sta)), np.zeros((n_sat, n_sta), bool),
                   np.zeros((n_dem, n_sta)), np.zeros(n_fib), np.zeros(n_dem))

    def copy(self) -> State:
        """Deep copy."""
        return State(self.buffers.copy(), self.ready.copy(), self.storage.copy(),
                     self.fibre_used.copy(), self.delivered.copy())


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
        """Per demand, the stations its key may pass through: ``[a, b, intermediates...]``."""
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
    method: str
    status: str
    gap: float | None = None
    wall_s: float = 0.0
    objective: float | None = None
    stats: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Interval cliques
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# A small sparse LP builder on top of highspy
# --------------------------------------------------------------------------------------------

_highs_lock = threading.Lock()
_highs_banner_done = False


def new_highs():
    """A silent ``highspy.Highs`` instance.

    HiGHS prints a copyright banner to the process's standard output the first time an instance
    is created; it is sent to standard error instead so that JSON or CSV written to standard
    output stays clean.
    """
    import highspy

    global _highs_banner_done
    with _highs_lock:
        if _highs_banner_done:
            h = highspy.Highs()
        else:
            h = _construct_quietly(highspy.Highs)
            _highs_banner_done = True
    h.setOptionValue("output_flag", False)
    return h


def _construct_quietly(factory: Callable):
    try:
        out_fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        err_fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
    except (AttributeError, OSError, ValueError):
        return factory()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    saved = os.dup(out_fd)
    try:
        os.dup2(err_fd, out_fd)
        return factory()
    finally:
        os.dup2(saved, out_fd)
        os.close(saved)


class LpBuilder:
    """Collects columns, rows and coefficients, then solves with HiGHS."""

    def __init__(self) -> None:
        self.n_col = 0
        self.n_row = 0
        self._col: dict[str, list] = {"lb": [], "ub": [], "cost": [], "int": []}
        self._row: dict[str, list] = {"lb": [], "ub": []}
        self._coef: dict[str, list] = {"r": [], "c": [], "v": []}

    def cols(self, n: int, lb=0.0, ub=math.inf, cost=0.0, integer: bool = False) -> np.ndarray:
        """Add ``n`` columns; return their indices."""
        idx = np.arange(self.n_col, self.n_col + n)
        self.n_col += n
        for key, value in (("lb", lb), ("ub", ub), ("cost", cost)):
            self._col[key].append(np.broadcast_to(np.asarray(value, float), (n,)).copy())
        self._col["int"].append(np.full(n, bool(integer)))
        return idx

    def set_cost(self, cols: np.ndarray, cost) -> None:
        """Add to the objective coefficient of existing columns."""
        all_cost = np.concatenate(self._col["cost"]) if self._col["cost"] else np.zeros(0)
        np.add.at(all_cost, np.asarray(cols, int), np.broadcast_to(cost, np.shape(cols)))
        self._col["cost"] = [all_cost]

    def rows(self, lb, ub, r, c, v) -> np.ndarray:
        """Add ``len(lb)`` rows with coefficients ``(r local, c, v)``; return the row indices."""
        lb = np.atleast_1d(np.asarray(lb, float))
        ub = np.broadcast_to(np.asarray(ub, float), lb.shape).copy()
        idx = np.arange(self.n_row, self.n_row + lb.size)
        self._row["lb"].append(lb)
        self._row["ub"].append(ub)
        r = np.asarray(r, int)
        self._coef["r"].append(r + self.n_row)
        self._coef["c"].append(np.asarray(c, int))
        self._coef["v"].append(np.broadcast_to(np.asarray(v, float), r.shape).copy())
        self.n_row += lb.size
        return idx

    def row(self, lb: float, ub: float, c: Sequence[int], v) -> None:
        """Add one row."""
        c = np.asarray(c, int)
        self.rows([lb], [ub], np.zeros(c.size, int), c, v)

    def solve(self, *, maximize: bool, time_limit: float, mip_rel_gap: float,
              threads: int | None = None, bonus: tuple | None = None,
              relax: bool = False) -> dict:
        """Solve; return status, gap, objective, values and wall time.

        ``bonus = (columns, costs)`` is added to the objective only when the continuous part is
        re-solved with the integers fixed (a tie-break that cannot cost any real objective).
        """
        import highspy

        cat = (lambda parts: np.concatenate(parts) if parts else np.zeros(0))  # noqa: E731
        lb, ub, cost = cat(self._col["lb"]), cat(self._col["ub"]), cat(self._col["cost"])
        integer = cat(self._col["int"]).astype(bool) & (not relax)
        matrix = sparse.csc_matrix(
            (cat(self._coef["v"]), (cat(self._coef["r"]).astype(int),
                                    cat(self._coef["c"]).astype(int))),
            shape=(self.n_row, self.n_col))
        matrix.sum_duplicates()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_col, self.n_row
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lb, _inf(ub)
        lp.row_lower_, lp.row_upper_ = _inf(cat(self._row["lb"])), _inf(cat(self._row["ub"]))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        if integer.any():
            kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
            lp.integrality_ = [kinds[int(i)] for i in integer]
        h = new_highs()
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        if threads is not None:
            h.setOptionValue("threads", int(threads))
        t0 = time.perf_counter()
        h.passModel(lp)
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2
        values = np.asarray(h.getSolution().col_value, float) if has_solution else None
        gap = float(info.mip_gap) if integer.any() else 0.0
        objective = float(info.objective_function_value) if has_solution else None
        bound = float(info.mip_dual_bound) if integer.any() else objective
        if has_solution and (integer.any() or bonus is not None):
            values = _polish(h, values, np.flatnonzero(integer), cost, bonus)
        wall = time.perf_counter() - t0
        return {
            "status": _status_name(status, highspy),
            "has_solution": has_solution,
            "values": values,
            "objective": objective,
            "bound": bound if bound is not None and math.isfinite(bound) else None,
            "gap": gap if math.isfinite(gap) and has_solution else None,
            "wall_s": wall,
            "size": {"columns": self.n_col, "rows": self.n_row, "nonzeros": int(matrix.nnz),
                     "binaries": int(integer.sum())},
        }


def _polish(h, values: np.ndarray, integer: np.ndarray, cost: np.ndarray,
            bonus: tuple | None) -> np.ndarray:
    """Fix the integers at their rounded values and re-solve the LP.

    A MILP solution is integral only to a tolerance (``x = 1e-6`` counts as 0), which big-M rows
    turn into small but real amounts (relays during a pass that is not flown). Re-solving the
    continuous part with the integers fixed removes them; if that fails the raw values stay.
    The LP is solved to optimality, so a tiny ``bonus`` on some columns breaks ties among
    equally good relay schedules.
    """
    fixed = np.round(values[integer])
    idx = integer.astype(np.int32)
    if idx.size:
        h.changeColsIntegrality(idx.size, idx, np.zeros(idx.size, np.uint8))
        h.changeColsBounds(idx.size, idx, fixed, fixed)
    if bonus is not None and len(bonus[0]):
        cols = np.asarray(bonus[0], np.int32)
        h.changeColsCost(cols.size, cols, cost[cols] + np.asarray(bonus[1], float))
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return values
    polished = np.asarray(h.getSolution().col_value, float)
    polished[integer] = fixed
    return polished


def _inf(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, float).copy()
    a[np.isposinf(a)] = 1e30
    a[np.isneginf(a)] = -1e30
    return a


def _status_name(status, highspy) -> str:
    names = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
        highspy.HighsModelStatus.kTimeLimit: "time_limit",
        highspy.HighsModelStatus.kUnbounded: "unbounded",
        highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
        highspy.HighsModelStatus.kInterrupt: "interrupted",
        highspy.HighsModelStatus.kIterationLimit: "iteration_limit",
    }
    return names.get(status, str(status).split(".")[-1])


# --------------------------------------------------------------------------------------------
# The MILP
# --------------------------------------------------------------------------------------------


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
    """

    def __init__(self, problem: Problem, horizon: float | None = None) -> None:
        self.p = problem
        self.lp = LpBuilder()
        self.horizon = problem.end if horizon is None else horizon
        mask = problem.los <= self.horizon + 1e-9
        self.active = np.flatnonzero(mask)
        self.hops = _HopCols()
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
        carried = np.flatnonzero((p.state.buffers[s] > _TOL) | p.state.ready[s])
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
                if cap_end <= _TOL:
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
        if m >= 2:  # memory after every event
            lp.rows(np.full(n, -math.inf), np.full(n, p.memory),
                    np.repeat(np.arange(n), m), B.ravel(), 1.0)
        cum_key = self._cumulative_key(events, stations, g_ev)
        self._relay_on_used_pass(hop_i, mine, x_cols, cum_key[np.arange(n), g_ev])
        if p.reserve > 0:
            self._reserve_rows(s, events, stations, B, mine, hop_ends, g_ev, x_cols, cum_key)

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

    def _reserve_rows(self, s, events, stations, B, mine, hop_ends, g_ev, x_cols,
                      cum_key) -> None:
        """Readiness ``A`` of each link and the reserve rows (see the module docstring)."""
        p, lp = self.p, self.lp
        n, m = B.shape
        A = lp.cols(n * m, 0.0, 1.0).reshape(n, m)
        a0 = p.state.ready[s, stations].astype(float)
        big = p.key[events] >= p.reserve
        flat = np.arange(n * m)
        base = np.zeros((n, m))
        base[0] = a0
        # A[i] - A[i-1] >= 0  and  A[i] - A[i-1] - [triggered] x_i <= 0
        diff_r = np.r_[flat, flat[m:]]
        diff_c = np.r_[A.ravel(), A[:-1].ravel()]
        diff_v = np.r_[np.ones(n * m), -np.ones((n - 1) * m)]
        lp.rows(base.ravel(), np.full(n * m, math.inf), diff_r, diff_c, diff_v)
        trig = np.flatnonzero(big)
        trig_rows = trig * m + g_ev[trig]
        lp.rows(np.full(n * m, -math.inf), base.ravel(), np.r_[diff_r, trig_rows],
                np.r_[diff_c, x_cols[trig]], np.r_[diff_v, -np.ones(trig.size)])
        # A[i] >= x_i where the pass triggers readiness
        lp.rows(np.zeros(trig.size), np.full(trig.size, math.inf),
                np.r_[np.arange(trig.size), np.arange(trig.size)],
                np.r_[A.ravel()[trig_rows], x_cols[trig]],
                np.r_[np.ones(trig.size), -np.ones(trig.size)])
        # B >= R A
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
        p, lp = self.p, self.lp
        k_n = self.times.size
        self.H: dict[tuple[int, int], np.ndarray] = {}
        for d, _dem in enumerate(p.demands):
            for v in self.nodes[d][2:]:
                inflow = np.flatnonzero((self.hop_dem == d) & (self.hop_dst == v))
                outflow = np.flatnonzero((self.hop_dem == d) & (self.hop_src == v))
                if inflow.size == 0 and outflow.size == 0 and p.state.storage[d, v] <= _TOL:
                    continue
                H = lp.cols(k_n, 0.0, math.inf)
                self.H[(d, v)] = H
                rhs = np.zeros(k_n)
                rhs[0] = p.state.storage[d, v]
                r = [np.arange(k_n), np.arange(1, k_n), self.hop_tp[inflow], self.hop_tp[outflow]]
                c = [H, H[:-1], self.hop_cols[inflow], self.hop_cols[outflow]]
                v_ = [np.ones(k_n), -np.ones(k_n - 1), -np.ones(inflow.size),
                      np.ones(outflow.size)]
                lp.rows(rhs, rhs, np.concatenate(r), np.concatenate(c), np.concatenate(v_))

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
        """Maximise ``sum_d w_d min(D_d, T_d)`` (plus optional end-of-window key values)."""
        p, lp = self.p, self.lp
        for d, dem in enumerate(p.demands):
            if dem.target is None:
                lp.set_cost([self.D[d]], dem.weight)
            else:
                c = lp.cols(1, 0.0, dem.target + float(p.state.delivered[d]), cost=dem.weight)
                lp.row(-math.inf, 0.0, [c[0], self.D[d]], [1.0, -1.0])
        if terminal:
            self._terminal(terminal)

    def _terminal(self, terminal: dict) -> None:
        """Value per Mbit left in satellite buffers / ground storage at the window's end."""
        lp = self.lp
        for s, B in self.B.items():
            for j, g in enumerate(self.sat_stations[s]):
                value = terminal["buffer"].get(g, 0.0)
                if value:
                    lp.set_cost([B[-1, j]], value)
        for (d, _v), H in self.H.items():
            value = terminal["storage"].get(d, 0.0)
            if value:
                lp.set_cost([H[-1]], value)

    def objective_fair(self, floor: float | None = None) -> int:
        """Maximise ``z`` with ``z n_d <= D_d``; with ``floor`` the level is held instead."""
        p, lp = self.p, self.lp
        z = int(lp.cols(1, 0.0 if floor is None else floor, math.inf,
                        cost=1.0 if floor is None else 0.0)[0])
        for d, dem in enumerate(p.demands):
            lp.row(-math.inf, 0.0, [z, self.D[d]], [dem.norm, -1.0])
        return z

    def objective_reached(self) -> float:
        """Maximise ``sum_d min(D_d, T_d) / T_d`` over demands with targets; return its top.

        The value equals the number of targeted demands exactly when every target is met.
        """
        p, lp = self.p, self.lp
        top = 0.0
        for d, dem in enumerate(p.demands):
            if dem.target is None or dem.target <= _TOL:
                continue
            base = float(p.state.delivered[d])
            c = lp.cols(1, 0.0, dem.target, cost=1.0 / dem.target)
            lp.row(-math.inf, base, [c[0], self.D[d]], [1.0, -1.0])
            top += 1.0
        return top

    # ---- solution -------------------------------------------------------------------------

    def solution(self, result: dict, method: str = "milp") -> Solution:
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
            for j in np.flatnonzero((amounts > _TOL) & flown):
                hops.append(Hop(
                    demand=int(self.hop_dem[j]), time=float(self.times[self.hop_tp[j]]),
                    src=int(self.hop_src[j]), dst=int(self.hop_dst[j]), amount=float(amounts[j]),
                    satellite=None if self.hop_sat[j] < 0 else int(self.hop_sat[j]),
                    event=None if self.hop_event[j] < 0 else int(self.hop_event[j]),
                    fibre=None if self.hop_fibre[j] < 0 else int(self.hop_fibre[j])))
        return Solution(chosen, used, hops, method, result["status"], result["gap"],
                        result["wall_s"], result["objective"], dict(result["size"]))

    def solve(self, *, maximize: bool = True, time_limit: float = 60.0,
              mip_rel_gap: float = 1e-4, relax: bool = False) -> dict:
        """Solve the model as built so far (``relax``: its LP relaxation)."""
        return self.lp.solve(maximize=maximize, time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                             bonus=self._early_bonus() if maximize and not relax else None,
                             relax=relax)

    def _early_bonus(self) -> tuple[np.ndarray, np.ndarray]:
        """Tie-break: among equally good schedules deliver key as early as possible."""
        span = max(float(self.times[-1]), 1.0)
        cols, costs = [], []
        for d, into in enumerate(self.into):
            w = self.p.demands[d].weight
            cols.append(self.hop_cols[into])
            costs.append(_EARLY_BONUS * w * (1.0 - self.times[self.hop_tp[into]] / span))
        if not cols:
            return np.zeros(0, int), np.zeros(0)
        return np.concatenate(cols), np.concatenate(costs)


# --------------------------------------------------------------------------------------------
# Drivers
# --------------------------------------------------------------------------------------------


def terminal_values(problem: Problem, fraction: float) -> dict:
    """End-of-window values for rolling horizons [per Mbit].

    Key left in a satellite buffer for station ``g`` is worth ``fraction`` x the largest weight of
    a still-open demand at ``g`` (``fraction < 0.5`` keeps relaying now strictly better than
    holding both halves); partial key at an intermediate is worth ``2 * fraction`` x its
    demand's weight.
    """
    buffer: dict[int, float] = {}
    storage: dict[int, float] = {}
    for d, dem in enumerate(problem.demands):
        if dem.target is not None and dem.target <= _TOL:
            continue
        for g in (dem.a, dem.b):
            buffer[g] = max(buffer.get(g, 0.0), fraction * dem.weight)
        storage[d] = 2 * fraction * dem.weight
    for nodes in problem.relay_nodes():
        for g in nodes[2:]:
            buffer.setdefault(g, fraction * min((d.weight for d in problem.demands),
                                                default=0.0))
    return {"buffer": buffer, "storage": storage}


def solve_milp(problem: Problem, objective: str, *, time_limit: float = 60.0,
               mip_rel_gap: float = 1e-4, terminal: dict | None = None) -> Solution:
    """Solve a problem exactly for objective ``total`` or ``fair``.

    ``fair`` is lexicographic: the max-min level first, then the weighted total at that level
    (the wall time and the gap reported are those of both solves together / the first solve).
    """
    start = time.perf_counter()
    model = RelayModel(problem)
    if objective == "total":
        model.objective_total(terminal)
        result = model.solve(time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        sol = fill_kept_key(problem, model.solution(result))
        sol.objective = _objective_value(problem, model, result)
        return sol
    if objective != "fair":
        raise ValueError(f"unknown objective {objective!r}")
    model.objective_fair()
    first = model.solve(time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    if not first["has_solution"]:
        sol = model.solution(first)
        sol.wall_s = time.perf_counter() - start
        return sol
    level = first["objective"]
    second_model = RelayModel(problem)
    second_model.objective_fair(floor=max(level * (1 - 1e-7) - 1e-9, 0.0))
    second_model.objective_total(terminal)
    remaining = max(time_limit - (time.perf_counter() - start), 1.0)
    second = second_model.solve(time_limit=remaining, mip_rel_gap=mip_rel_gap)
    chosen = second if second["has_solution"] else first
    sol = fill_kept_key(problem, (second_model if second["has_solution"] else model)
                        .solution(chosen))
    sol.status, sol.gap = first["status"], first["gap"]
    sol.objective = level
    sol.wall_s = time.perf_counter() - start
    sol.stats["second_stage_status"] = second["status"]
    return sol


def _objective_value(problem: Problem, model: RelayModel, result: dict) -> float | None:
    if result["values"] is None:
        return None
    delivered = result["values"][model.D]
    return weighted_total(problem, delivered)


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


def _reach_targets(problem: Problem, t: float, time_limit: float) -> tuple[str, Solution | None]:
    """Can every target be met by time ``t``? ``"yes"`` (with a plan), ``"no"`` or ``"unknown"``.

    The LP relaxation answers "no" quickly when even fractional pass use falls short; otherwise
    the MILP maximises the met fraction of the targets and stops as soon as all are met.
    """
    start = time.perf_counter()
    model = RelayModel(problem, horizon=t)
    top = model.objective_reached()
    relaxed = model.solve(time_limit=time_limit, relax=True)
    if relaxed["status"] == "optimal" and relaxed["objective"] < top - 1e-7:
        return "no", None
    left = max(time_limit - (time.perf_counter() - start), 0.01)
    res = model.solve(time_limit=left, mip_rel_gap=1e-7)
    if res["has_solution"] and res["objective"] >= top - 1e-7:
        return "yes", fill_kept_key(problem, model.solution(res))
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


# --------------------------------------------------------------------------------------------
# Replaying a solution (state after it, buffer levels)
# --------------------------------------------------------------------------------------------


def replay(problem: Problem, solution: Solution) -> tuple[State, list[tuple]]:
    """Apply a solution's deposits and hops in time order.

    Returns the state after the last event and the buffer levels after each event as
    ``(pass index, satellite, station, Mbit)`` tuples.
    """
    p = problem
    state = p.state.copy()
    levels: list[tuple] = []
    hops_at: dict[tuple[int, int], list[Hop]] = {}
    for hop in solution.hops:
        if hop.satellite is not None:
            hops_at.setdefault((hop.satellite, hop.event), []).append(hop)
    order = np.flatnonzero(solution.chosen)
    order = order[np.lexsort((p.aos[order], p.los[order]))]
    touched = {s: set(np.flatnonzero(state.buffers[s] > _TOL).tolist())
               for s in range(len(p.satellites))}
    for q in order.tolist():
        s, g = int(p.sat[q]), int(p.sta[q])
        state.buffers[s, g] += solution.used[q]
        if p.reserve > 0 and p.key[q] >= p.reserve:
            state.ready[s, g] = True
        touched[s].add(g)
        for hop in hops_at.get((s, q), []):
            state.buffers[s, hop.src] -= hop.amount
            state.buffers[s, hop.dst] -= hop.amount
        levels.extend((q, s, h, float(state.buffers[s, h]))
                      for h in sorted(touched[s]))
    for hop in solution.hops:
        if hop.fibre is not None:
            state.fibre_used[hop.fibre] += hop.amount
        if hop.dst == p.demands[hop.demand].b:
            state.delivered[hop.demand] += hop.amount
        else:
            state.storage[hop.demand, hop.dst] += hop.amount
        if hop.src != p.demands[hop.demand].a:
            state.storage[hop.demand, hop.src] -= hop.amount
    state.buffers = np.maximum(state.buffers, 0.0)
    state.storage = np.maximum(state.storage, 0.0)
    return state, levels


def fill_kept_key(problem: Problem, solution: Solution) -> Solution:
    """Keep as much of each used pass's key as memory allows (in place; returns the solution).

    The objectives do not care how much unused key a satellite keeps, so the solver may keep
    less than a pass yields. This raises every ``used`` to ``min(key, headroom)``, where the
    headroom is the least free memory from that pass on (later passes first), which changes no
    relay and no constraint other than memory.
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
        change = solution.used[events] - np.array([spent.get(int(q), 0.0) for q in events])
        level = p.state.buffers[s].sum() + np.cumsum(change)
        for i in range(events.size - 1, -1, -1):
            q = events[i]
            extra = min(p.key[q] - solution.used[q], p.memory - level[i:].max())
            if extra > _TOL:
                solution.used[q] += extra
                level[i:] += extra
    return solution
