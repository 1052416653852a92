"""Weather scenarios for relay plans: correlated clear/cloudy nights and plan replay.

Plans are made on the *expected* key of each pass (clear-sky key x clear-sky probability). To see
the spread a real season brings, :func:`sample_clear_sky` draws clear/cloudy outcomes and
:func:`evaluate_plan` replays a plan under each of them.

Weather model [A]
-----------------
One draw per *station-night*, shared by every pass of that station in that night (cloud rarely
clears and closes within minutes). Each station's nights form a two-state Markov chain whose
stationary probability of "clear" is the passes' ``clear_sky_probability`` and whose lag-one
correlation is the *persistence* ``rho``:

``P(clear_t | clear_{t-1}) = pi_t + rho (1 - pi_t)`` and
``P(clear_t | cloudy_{t-1}) = pi_t (1 - rho)``.

Nights ``k`` apart are correlated by ``rho ** k``. ``rho = 0`` gives independent nights; the
default 0.5 is an assumption standing in for station climatology (day-to-day cloud-cover
autocorrelation is typically 0.3-0.6). Stations are independent of one another, which overstates
the gain of station diversity for nearby sites (docs/reference.md §4).

Nights are those of :mod:`planner.relay.nights`. Plans are flown on the relay
:class:`~planner.relay.ledger.Ledger`, all scenarios at once.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from planner.errors import ScheduleInputError
from planner.relay.ledger import TOL_BITS, Ledger
from planner.relay.nights import auto_night_cut_hour, night_dates
from planner.relay.plan import Plan
from planner.relay.shortfall import weather_notes

#: Lag-one correlation of clear/cloudy nights at one station [A].
DEFAULT_PERSISTENCE = 0.5


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------


def resolve_seed(seed: int | None) -> int:
    """The seed to use: ``seed`` itself, or a fresh one from the OS when ``None``."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScheduleInputError(f"{seed!r}: must be a non-negative integer", field="seed")
    return int(seed)


def check_scenarios(n_scenarios: int, persistence: float) -> None:
    """Validate the number of scenarios and the persistence.

    Raises
    ------
    ScheduleInputError
        If ``n_scenarios < 1`` or ``persistence`` is outside [0, 1].
    """
    if isinstance(n_scenarios, bool) or not isinstance(n_scenarios, (int, np.integer)) \
            or n_scenarios < 1:
        raise ScheduleInputError(f"{n_scenarios!r}: must be a whole number of at least 1",
                                 field="n_scenarios")
    if not (isinstance(persistence, (int, float)) and 0.0 <= persistence <= 1.0):
        raise ScheduleInputError(f"{persistence!r}: must lie between 0 and 1",
                                 field="persistence")


def sample_clear_sky(
    stations: np.ndarray,
    nights: np.ndarray,
    probability: np.ndarray,
    *,
    n_scenarios: int,
    seed: int,
    persistence: float = DEFAULT_PERSISTENCE,
) -> np.ndarray:
    """Draw clear (True) / cloudy (False) for every pass in every scenario.

    Parameters
    ----------
    stations
        Station of each pass, shape (P,).
    nights
        Night of each pass (``datetime64[D]``, see :func:`night_dates`), shape (P,).
    probability
        Clear-sky probability of each pass, shape (P,); a station-night uses the mean of its
        passes' values.
    n_scenarios
        Number of scenarios N (>= 1).
    seed
        Seed of the ``numpy.random.Generator``.
    persistence
        Lag-one correlation ``rho`` of consecutive nights at one station, in [0, 1].

    Returns
    -------
    numpy.ndarray
        Boolean array of shape (N, P); passes of one station-night share their value.
    """
    check_scenarios(n_scenarios, persistence)
    frame = pd.DataFrame({"station": np.asarray(stations, str),
                          "night": np.asarray(nights, "datetime64[D]"),
                          "p": np.clip(np.asarray(probability, float), 0.0, 1.0)})
    groups = frame.groupby(["station", "night"], sort=True)["p"].mean()
    group_of_pass = groups.index.get_indexer(pd.MultiIndex.from_frame(frame[["station",
                                                                             "night"]]))
    rng = np.random.default_rng(seed)
    uniform = rng.random((n_scenarios, groups.size))
    clear = np.zeros((n_scenarios, groups.size), bool)
    stations_of_group = groups.index.get_level_values(0).to_numpy()
    nights_of_group = groups.index.get_level_values(1).to_numpy("datetime64[D]")
    p = groups.to_numpy(float)
    for station in np.unique(stations_of_group):
        idx = np.flatnonzero(stations_of_group == station)  # already in night order
        clear[:, idx[0]] = uniform[:, idx[0]] < p[idx[0]]
        for prev, cur in itertools.pairwise(idx):
            gap = int((nights_of_group[cur] - nights_of_group[prev]).astype(int))
            rho = persistence ** max(gap, 1)
            stay = np.where(clear[:, prev], p[cur] + rho * (1 - p[cur]), p[cur] * (1 - rho))
            clear[:, cur] = uniform[:, cur] < stay
    return clear[:, group_of_pass]


# --------------------------------------------------------------------------------------------
# Replaying a plan under weather
# --------------------------------------------------------------------------------------------


__all__ = ["DEFAULT_PERSISTENCE", "auto_night_cut_hour", "check_scenarios", "evaluate_plan",
           "night_dates", "resolve_seed", "sample_clear_sky"]


def evaluate_plan(plan: Plan, key_table: pd.DataFrame, *, n_scenarios: int,
                  seed: int | None = None, persistence: float = DEFAULT_PERSISTENCE,
                  ) -> tuple[pd.DataFrame, dict]:
    """Delivered key per demand over sampled weather: P10 / P50 / P90.

    The plan's passes are flown as scheduled; a pass on a cloudy night yields nothing and a pass
    on a clear night yields its clear-sky key (``secure_bits``). Relays follow the plan, catching
    up later on any hop that fell short (never getting ahead of the plan on it); key beyond the
    planned buffer levels is relayed on the spot for the pass's own demands (direct relays, up to
    the targets; key relayed into a demand's sink through a ground station counts towards its
    target only while the hops the plan still makes can complete that chain). Memory and
    reserves apply as in planning; fibre links are unaffected by cloud. A demand whose target
    the plan meets but some scenarios miss gets a note in ``plan.notes``.

    Parameters
    ----------
    plan
        A plan from :func:`planner.relay.schedule.plan_schedule`.
    key_table
        The key table the plan was made from.
    n_scenarios
        Number of weather scenarios (>= 1).
    seed
        Seed (``None``: a fresh one, recorded in the returned info).
    persistence
        Night-to-night persistence of cloud, see the module docstring.

    Returns
    -------
    summary : pandas.DataFrame
        One row per demand: ``planned_bits, mean_bits, p10_bits, p50_bits, p90_bits`` and
        ``p_target_met`` (NaN without a target).
    info : dict
        ``seed, scenarios, persistence, clear_fraction`` (share of clear station-nights drawn).
    """
    check_scenarios(n_scenarios, persistence)
    missing = [c for c in ("secure_bits", "clear_sky_probability") if c not in key_table]
    if missing:
        raise ScheduleInputError(f"weather scenarios need column(s) {', '.join(missing)}",
                                 field="key table")
    seed = resolve_seed(seed)
    passes = plan.passes
    rows = key_table.loc[passes.index]
    clear = sample_clear_sky(passes["station"].to_numpy(), passes["night_date"].to_numpy(),
                             rows["clear_sky_probability"].to_numpy(float),
                             n_scenarios=n_scenarios, seed=seed, persistence=persistence)
    realized = clear * rows["secure_bits"].to_numpy(float)[None, :]
    before = _already_delivered(plan)
    delivered = _Replay(plan, realized, before).run()
    summary = _summarise(plan, delivered, before)
    plan.notes.extend(n for n in weather_notes(plan, summary) if n not in plan.notes)
    info = {"seed": seed, "scenarios": int(n_scenarios), "persistence": float(persistence),
            "clear_fraction": float(clear.mean()) if clear.size else math.nan}
    return summary, info


def _already_delivered(plan: Plan) -> dict[str, float]:
    """Key each demand had before the plan [bit] (from a measured state; else 0)."""
    return {label: float(bits)
            for label, bits in plan.delivered["already_delivered_bits"].items()}


def _summarise(plan: Plan, delivered: dict[str, np.ndarray],
               before: dict[str, float]) -> pd.DataFrame:
    """P10/P50/P90 of ``delivered`` per demand; ``before`` counts towards its target."""
    records = []
    for demand in plan.demands:
        got = delivered[demand.label]
        target = demand.target_bits
        if target is not None:  # key a measured state already holds counts towards it
            target -= before[demand.label]
        records.append({
            "demand": demand.label,
            "planned_bits": float(plan.delivered.loc[demand.label, "delivered_bits"]),
            "mean_bits": float(got.mean()),
            "p10_bits": float(np.percentile(got, 10)),
            "p50_bits": float(np.percentile(got, 50)),
            "p90_bits": float(np.percentile(got, 90)),
            "p_target_met": (math.nan if target is None
                             else float(np.mean(got >= target - TOL_BITS))),
        })
    return pd.DataFrame.from_records(records).set_index("demand")


class _Replay:
    """A plan flown under weather on a :class:`Ledger` of ``N`` scenarios (see
    :func:`evaluate_plan`)."""

    def __init__(self, plan: Plan, realized: np.ndarray, before: dict[str, float]) -> None:
        self.plan = plan
        self.realized = realized
        self.before = before
        par = plan.parameters
        self.start = pd.Timestamp(par["start_utc"])
        initial = par.get("initial_state") or {}
        self._index_names(initial.get("buffers_bits") or {})
        self.fibre = {f["label"]: (i, float(f["rate_bps"]))
                      for i, f in enumerate(par["fibre_links"])}
        self.ledger = Ledger.empty(realized.shape[0], len(self.sat), len(self.sta),
                                   len(self.dem), len(self.fibre),
                                   memory=float(par["memory_bits"]),
                                   reserve=float(par["reserve_bits"]))
        self._carry(initial)
        self.planned_cum: dict[tuple, float] = {}
        self.done_cum: dict[tuple, np.ndarray] = {}
        self._index_edges()
        self.levels: dict = {}
        for row in plan.buffers.itertuples(index=False):
            self.levels.setdefault((row.satellite, row.time_utc), {})[row.station] = row.bits

    def _index_names(self, carried: dict) -> None:
        """Ledger indices of satellites, stations and demands (``carried``: buffers on board)."""
        passes, relays = self.plan.passes, self.plan.relays
        self.sat = {s: i for i, s in
                    enumerate(sorted(set(passes["satellite"]) | set(carried)))}
        names = set(passes["station"]) | set(relays["from_station"]) | set(relays["to_station"])
        for per in carried.values():
            names |= set(per)
        for d in self.plan.demands:
            names |= {d.station_a, d.station_b}
        self.sta = {g: i for i, g in enumerate(sorted(names))}
        self.dem = {d.label: i for i, d in enumerate(self.plan.demands)}
        self.demands = list(self.plan.demands)

    def _carry(self, initial: dict) -> None:
        """Buffers and ground storage of a measured state (``initial_state``) at the start."""
        for sat, per in (initial.get("buffers_bits") or {}).items():
            for station, bits in per.items():
                if sat in self.sat and station in self.sta:
                    self.ledger.buffers[:, self.sat[sat], self.sta[station]] = float(bits)
        for label, per in (initial.get("storage_bits") or {}).items():
            for station, bits in per.items():
                if station in self.sta:
                    self.ledger.storage[:, self.dem[label], self.sta[station]] = float(bits)

    def _index_edges(self) -> None:
        """Each edge's planned total and hop count, and the edges into each intermediate."""
        self.planned_total: dict[tuple, float] = {}
        self.hops_left: dict[tuple, int] = {}
        self.edges_into: dict[tuple[int, int], list[tuple]] = {}
        for op in self.plan.relays.itertuples():
            edge = (op.demand, op.via, op.from_station, op.to_station)
            if edge not in self.hops_left:
                d = self.dem[op.demand]
                if op.to_station != self.demands[d].station_b:
                    self.edges_into.setdefault((d, self.sta[op.to_station]), []).append(edge)
            self.planned_total[edge] = self.planned_total.get(edge, 0.0) + float(op.bits)
            self.hops_left[edge] = self.hops_left.get(edge, 0) + 1

    def run(self) -> dict[str, np.ndarray]:
        """Replay every event in time order; return delivered bits per demand (N,)."""
        relays = self.plan.relays
        sat_ops = {pid: grp for pid, grp in relays[relays["pass_id"] >= 0].groupby("pass_id")}
        fibre_rows = list(relays[relays["pass_id"] < 0].itertuples())
        events = [(row.los_utc, 0, j, pid) for j, (pid, row) in
                  enumerate(self.plan.passes.iterrows())]
        events += [(row.time_utc, 1, j, -1) for j, row in enumerate(fibre_rows)]
        for time_utc, kind, j, pid in sorted(events, key=lambda e: (e[0], e[1], e[2])):
            if kind == 0:
                self._pass_event(j, sat_ops.get(pid))
            else:
                self._hop(fibre_rows[j], time_utc)
        # order-free chains: key an intermediate passed on beyond what reached it (its
        # storage below zero) never completed a chain; that much of its delivery is lost
        unbacked = np.maximum(-self.ledger.storage, 0.0).sum(axis=2)
        got = np.maximum(self.ledger.delivered - unbacked, 0.0)
        return {label: got[:, d] for label, d in self.dem.items()}

    def _pass_event(self, j: int, ops: pd.DataFrame | None) -> None:
        row = self.plan.passes.iloc[j]
        s, g = self.sat[row["satellite"]], self.sta[row["station"]]
        self.ledger.deposit(s, g, self.realized[:, j])  # deposit (memory checked), then relay
        if ops is not None:
            for op in ops.itertuples():
                self._hop(op, row["los_utc"])
        self._extras(row["satellite"], row["station"], row["los_utc"])

    def _remaining(self, d: int) -> np.ndarray:
        """Key demand ``d`` still needs (N,): key relayed into its sink counts unless lost."""
        target = self.demands[d].target_bits
        if target is None:
            return np.full(self.realized.shape[0], np.inf)
        before = self.before[self.demands[d].label]
        got = self.ledger.delivered[:, d] - self._lost(d)
        return np.maximum(target - before - got, 0.0)

    def _lost(self, d: int) -> np.ndarray:
        """Key relayed into demand ``d``'s sink that no chain can complete any more (N,).

        An intermediate that passed on more than reached it (its storage below zero, order-free
        chains) is backed by the hops into it that the plan still makes, up to what each of
        their edges has left to catch up; the rest of its deficit is lost. At the end of the
        plan no hop is left and this is the deficit :meth:`run` subtracts.
        """
        lost = np.zeros(self.realized.shape[0])
        for g in np.flatnonzero((self.ledger.storage[:, d, :] < 0.0).any(axis=0)):
            backing = sum((np.maximum(self.planned_total[e] - self.done_cum.get(e, 0.0), 0.0)
                           for e in self.edges_into.get((d, int(g)), ())
                           if self.hops_left[e] > 0), np.zeros(self.realized.shape[0]))
            lost += np.maximum(-self.ledger.storage[:, d, g] - backing, 0.0)
        return lost

    def _hop(self, op, time_utc: pd.Timestamp) -> None:
        """A planned hop, catching up on what earlier hops of its edge fell short of."""
        ledger, d = self.ledger, self.dem[op.demand]
        demand = self.demands[d]
        src, dst = self.sta[op.from_station], self.sta[op.to_station]
        edge = (op.demand, op.via, op.from_station, op.to_station)
        self.planned_cum[edge] = self.planned_cum.get(edge, 0.0) + float(op.bits)
        done = self.done_cum.setdefault(edge, np.zeros(self.realized.shape[0]))
        amount = np.maximum(self.planned_cum[edge] - done, 0.0)
        from_source = op.from_station == demand.station_a
        to_sink = op.to_station == demand.station_b
        if to_sink:
            amount = np.minimum(amount, self._remaining(d))
        if op.via in self.fibre:
            f, rate = self.fibre[op.via]
            elapsed = (time_utc - self.start).total_seconds()
            produced = max(rate * elapsed - ledger.reserve, 0.0)
            amount = np.minimum(amount, ledger.fibre_left(f, produced))
            ledger.draw_fibre(f, amount)
        else:
            s = self.sat[op.via]
            amount = np.minimum(amount, np.minimum(ledger.available(s, src),
                                                   ledger.available(s, dst)))
            ledger.relay(s, src, dst, amount)
        done += amount
        self.hops_left[edge] -= 1
        ledger.move(d, src, dst, amount, from_source=from_source, to_sink=to_sink)

    def _extras(self, sat: str, station: str, time_utc: pd.Timestamp) -> None:
        """Relay key beyond the planned buffer levels for the pass's own demands."""
        ledger = self.ledger
        planned = self.levels.get((sat, time_utc), {})
        s, g = self.sat[sat], self.sta[station]
        for demand in sorted(self.demands, key=lambda d: -d.weight):
            if station not in (demand.station_a, demand.station_b):
                continue
            other = demand.station_b if station == demand.station_a else demand.station_a
            h, d = self.sta[other], self.dem[demand.label]
            surplus = np.minimum(ledger.buffers[:, s, g] - planned.get(station, 0.0),
                                 ledger.buffers[:, s, h] - planned.get(other, 0.0))
            amount = np.minimum(surplus, np.minimum(ledger.available(s, g),
                                                    ledger.available(s, h)))
            amount = np.clip(np.minimum(amount, self._remaining(d)), 0.0, None)
            amount[amount < ledger.tol] = 0.0
            ledger.relay(s, g, h, amount)
            ledger.move(d, g, h, amount, from_source=True, to_sink=True)
