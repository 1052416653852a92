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

Nights
------
A pass belongs to the night that starts on the UTC date of ``tca - cut``, where ``cut`` is an hour
of the day (UTC) that falls in the daytime gap of every station. :func:`auto_night_cut_hour`
puts it in the middle of the largest gap in the passes' times of day, which for China and
South Africa lands in the (UTC) morning.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.errors import ScheduleInputError

if TYPE_CHECKING:  # pragma: no cover
    from planner.relay.schedule import Plan

#: Lag-one correlation of clear/cloudy nights at one station [A].
DEFAULT_PERSISTENCE = 0.5
_TOL_BITS = 1e-3


# --------------------------------------------------------------------------------------------
# Nights
# --------------------------------------------------------------------------------------------


def auto_night_cut_hour(times_utc: pd.Series | pd.DatetimeIndex) -> float:
    """UTC hour of day in the middle of the largest gap between the given times of day.

    Parameters
    ----------
    times_utc
        Pass times (tz-aware UTC).

    Returns
    -------
    float
        Hour in [0, 24); 12.0 if there are no times.
    """
    times = pd.DatetimeIndex(pd.to_datetime(pd.Series(times_utc), utc=True))
    if times.size == 0:
        return 12.0
    hours = np.sort((times.hour + times.minute / 60 + times.second / 3600).to_numpy(float))
    gaps = np.diff(np.r_[hours, hours[0] + 24.0])
    j = int(np.argmax(gaps))
    return float((hours[j] + gaps[j] / 2) % 24.0)


def night_dates(times_utc, cut_hour_utc: float) -> np.ndarray:
    """Night of each time: the UTC date of ``time - cut_hour`` (``datetime64[D]``)."""
    times = pd.to_datetime(pd.Series(times_utc), utc=True)
    shifted = times - pd.to_timedelta(cut_hour_utc, unit="h")
    return shifted.dt.tz_localize(None).to_numpy("datetime64[D]")


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------


def resolve_seed(seed: int | None) -> int:
    """The seed to use: ``seed`` itself, or a fresh one from the OS when ``None``."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScheduleInputError(f"{seed!r}: must be a non-negative integer", field="--seed")
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
                                 field="--scenarios")
    if not (isinstance(persistence, (int, float)) and 0.0 <= persistence <= 1.0):
        raise ScheduleInputError(f"{persistence!r}: must lie between 0 and 1",
                                 field="--persistence")


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


def evaluate_plan(plan: Plan, key_table: pd.DataFrame, *, n_scenarios: int,
                  seed: int | None = None, persistence: float = DEFAULT_PERSISTENCE,
                  ) -> tuple[pd.DataFrame, dict]:
    """Delivered key per demand over sampled weather: P10 / P50 / P90.

    The plan's passes are flown as scheduled; a pass on a cloudy night yields nothing and a pass
    on a clear night yields its clear-sky key (``secure_bits``). Relays follow the plan, catching
    up later on any hop that fell short (never getting ahead of the plan on it); key beyond the
    planned buffer levels is relayed on the spot for the pass's own demands (direct relays, up to
    the targets). Memory and reserves apply as in planning; fibre links are unaffected by cloud.

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
    delivered = _Replay(plan, realized).run()
    summary = _summarise(plan, delivered)
    info = {"seed": seed, "scenarios": int(n_scenarios), "persistence": float(persistence),
            "clear_fraction": float(clear.mean()) if clear.size else math.nan}
    return summary, info


def _summarise(plan: Plan, delivered: dict[str, np.ndarray]) -> pd.DataFrame:
    records = []
    for demand in plan.demands:
        got = delivered[demand.label]
        target = demand.target_bits
        records.append({
            "demand": demand.label,
            "planned_bits": float(plan.delivered.loc[demand.label, "delivered_bits"]),
            "mean_bits": float(got.mean()),
            "p10_bits": float(np.percentile(got, 10)),
            "p50_bits": float(np.percentile(got, 50)),
            "p90_bits": float(np.percentile(got, 90)),
            "p_target_met": (math.nan if target is None
                             else float(np.mean(got >= target - _TOL_BITS))),
        })
    return pd.DataFrame.from_records(records).set_index("demand")


class _Replay:
    """Plan replay, vectorised over scenarios (see :func:`evaluate_plan`)."""

    def __init__(self, plan: Plan, realized: np.ndarray) -> None:
        self.plan = plan
        self.n = realized.shape[0]
        self.realized = realized
        par = plan.parameters
        self.memory = float(par["memory_bits"])
        self.reserve = float(par["reserve_bits"])
        self.start = pd.Timestamp(par["start_utc"])
        self.fibre_rate = {f["label"]: float(f["rate_bps"]) for f in par["fibre_links"]}
        self.demands = {d.label: d for d in plan.demands}
        self.buf: dict[tuple[str, str], np.ndarray] = {}
        self.store: dict[tuple[str, str], np.ndarray] = {}
        self.fibre_used = {label: np.zeros(self.n) for label in self.fibre_rate}
        self.delivered = {label: np.zeros(self.n) for label in self.demands}
        self.planned_cum: dict[tuple, float] = {}
        self.done_cum: dict[tuple, np.ndarray] = {}
        self.levels = self._planned_levels()

    def _planned_levels(self) -> dict[tuple[str, pd.Timestamp], dict[str, float]]:
        levels: dict = {}
        for row in self.plan.buffers.itertuples(index=False):
            levels.setdefault((row.satellite, row.time_utc), {})[row.station] = row.bits
        return levels

    def _zeros(self, store: dict, key) -> np.ndarray:
        if key not in store:
            store[key] = np.zeros(self.n)
        return store[key]

    def run(self) -> dict[str, np.ndarray]:
        """Replay every event in time order; return delivered bits per demand (N,)."""
        relays = self.plan.relays
        sat_ops = {pid: grp for pid, grp in relays[relays["pass_id"] >= 0].groupby("pass_id")}
        fibre_ops = relays[relays["pass_id"] < 0]
        events = [(row.los_utc, 0, j, pid) for j, (pid, row) in
                  enumerate(self.plan.passes.iterrows())]
        events += [(row.time_utc, 1, j, -1) for j, row in enumerate(fibre_ops.itertuples())]
        fibre_rows = list(fibre_ops.itertuples())
        for time_utc, kind, j, pid in sorted(events, key=lambda e: (e[0], e[1], e[2])):
            if kind == 0:
                self._pass_event(j, pid, sat_ops.get(pid))
            else:
                self._hop(fibre_rows[j], time_utc)
        return self.delivered

    def _pass_event(self, j: int, pid: int, ops: pd.DataFrame | None) -> None:
        row = self.plan.passes.iloc[j]
        sat, station = row["satellite"], row["station"]
        self._zeros(self.buf, (sat, station))[:] += self.realized[:, j]
        if ops is not None:
            for op in ops.itertuples():
                self._hop(op, row["los_utc"])
        self._extras(sat, station, row["los_utc"])
        links = [k for k in self.buf if k[0] == sat]
        total = sum(self.buf[k] for k in links)
        excess = np.maximum(total - self.memory, 0.0)
        own = self.buf[(sat, station)]
        own[:] = np.maximum(own - excess, 0.0)

    def _available(self, sat: str, station: str) -> np.ndarray:
        return np.maximum(self._zeros(self.buf, (sat, station)) - self.reserve, 0.0)

    def _remaining(self, label: str) -> np.ndarray:
        target = self.demands[label].target_bits
        if target is None:
            return np.full(self.n, np.inf)
        return np.maximum(target - self.delivered[label], 0.0)

    def _hop(self, op, time_utc: pd.Timestamp) -> None:
        demand = self.demands[op.demand]
        edge = (op.demand, op.via, op.from_station, op.to_station)
        self.planned_cum[edge] = self.planned_cum.get(edge, 0.0) + float(op.bits)
        done = self._zeros(self.done_cum, edge)
        amount = np.maximum(self.planned_cum[edge] - done, 0.0)
        if op.from_station != demand.station_a:
            amount = np.minimum(amount, self._zeros(self.store, (op.demand, op.from_station)))
        if op.to_station == demand.station_b:
            amount = np.minimum(amount, self._remaining(op.demand))
        if op.via in self.fibre_rate:
            elapsed = (time_utc - self.start).total_seconds()
            cap = max(self.fibre_rate[op.via] * elapsed - self.reserve, 0.0)
            amount = np.minimum(amount, np.maximum(cap - self.fibre_used[op.via], 0.0))
            self.fibre_used[op.via] += amount
        else:
            amount = np.minimum(amount, np.minimum(self._available(op.via, op.from_station),
                                                   self._available(op.via, op.to_station)))
            self.buf[(op.via, op.from_station)] -= amount
            self.buf[(op.via, op.to_station)] -= amount
        done += amount
        self._move(op.demand, op.from_station, op.to_station, amount)

    def _move(self, label: str, src: str, dst: str, amount: np.ndarray) -> None:
        demand = self.demands[label]
        if src != demand.station_a:
            self.store[(label, src)] -= amount
        if dst == demand.station_b:
            self.delivered[label] += amount
        else:
            self._zeros(self.store, (label, dst))[:] += amount

    def _extras(self, sat: str, station: str, time_utc: pd.Timestamp) -> None:
        """Relay key beyond the planned buffer levels for the pass's own demands."""
        planned = self.levels.get((sat, time_utc), {})
        order = sorted(self.demands.values(), key=lambda d: -d.weight)
        for demand in order:
            if station not in (demand.station_a, demand.station_b):
                continue
            other = demand.station_b if station == demand.station_a else demand.station_a
            if (sat, other) not in self.buf:
                continue
            surplus = np.minimum(self.buf[(sat, station)] - planned.get(station, 0.0),
                                 self.buf[(sat, other)] - planned.get(other, 0.0))
            amount = np.minimum(surplus, np.minimum(self._available(sat, station),
                                                    self._available(sat, other)))
            amount = np.clip(np.minimum(amount, self._remaining(demand.label)), 0.0, None)
            amount[amount < _TOL_BITS] = 0.0
            self.buf[(sat, station)] -= amount
            self.buf[(sat, other)] -= amount
            self.delivered[demand.label] += amount
