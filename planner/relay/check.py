"""Independent checker of relay plans.

:func:`check_plan` re-derives everything a plan claims from its tables and the key table alone —
it shares no code with the solvers' constraint building (:mod:`planner.relay.model`) — and
lists every rule the plan breaks:

* every chosen pass is a night pass of the key table, on a night its station is available, and
  keeps no more key than the pass yields;
* the passes of one satellite never overlap and keep the re-pointing gap; no station serves more
  satellites at once than it has telescopes;
* replaying deposits (at LOS) and relays in time order, every satellite's buffers fit its
  memory right after each deposit, before that pass's relays (deposit, then relay), and stay at
  or above zero; every relay happens during a chosen pass of its satellite over one of its two
  stations, after both stations received key, and leaves the buffers it uses at or above the
  reserve (key built up over several passes counts towards it); the reported buffer levels
  match the replay;
* fibre hops never draw more than the link has produced (rate x elapsed time - reserve);
* a demand's key leaves only its first station or an intermediate station, which by the end
  has received at least what it passed on (trusted-node XORs commute, so the segments of a
  chain may come in any order); the delivered (and unmet) key equals the sum of the hops
  reaching its second station, and no night counts key before it has reached that station.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from planner.relay.plan import Plan


def check_plan(plan: Plan, key_table: pd.DataFrame, *, tol_bits: float = 1.0) -> list[str]:
    """Every violation found in ``plan`` (an empty list for a valid plan).

    Parameters
    ----------
    plan
        The plan to check.
    key_table
        The key table it was made from.
    tol_bits
        Absolute tolerance [bit] (solvers work to about 0.1 bit).
    """
    checker = _Checker(plan, key_table, tol_bits)
    checker.run()
    return checker.errors


def assert_plan_valid(plan: Plan, key_table: pd.DataFrame, *, tol_bits: float = 1.0) -> None:
    """Raise ``AssertionError`` listing the violations if the plan breaks any rule."""
    errors = check_plan(plan, key_table, tol_bits=tol_bits)
    if errors:
        shown = "\n  ".join(errors[:20])
        raise AssertionError(f"{len(errors)} plan violation(s):\n  {shown}")


class _Checker:
    def __init__(self, plan: Plan, key_table: pd.DataFrame, tol: float) -> None:
        self.plan = plan
        self.kt = key_table
        self.tol = tol
        self.errors: list[str] = []
        par = plan.parameters
        self.memory = float(par["memory_bits"])
        self.gap = float(par["gap_s"])
        self.reserve = float(par["reserve_bits"])
        self.telescopes = dict(par["telescopes"])
        self.cut = float(par["night_cut_hour_utc"])
        self.start = pd.Timestamp(par["start_utc"])
        self.unavailable = {(s, str(d)) for s, d in par["unavailable"]}
        self.fibre = {f["label"]: f for f in par["fibre_links"]}
        self.demands = {d.label: d for d in plan.demands}

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def run(self) -> None:
        if not self._passes_exist():
            return
        self._pass_rules()
        self._satellite_overlap()
        self._station_capacity()
        self._relay_rows()
        self._buffers()
        self._fibre()
        self._flows()

    # ---- passes -------------------------------------------------------------------------------

    def _passes_exist(self) -> bool:
        missing = [p for p in self.plan.passes.index if p not in self.kt.index]
        for pid in missing:
            self.fail(f"pass {pid} is not in the key table")
        if not self.plan.passes.index.is_unique:
            self.fail("a pass is chosen twice")
        return not missing

    def _pass_rules(self) -> None:
        chosen = self.plan.passes
        rows = self.kt.loc[chosen.index]
        for pid, row in rows.iterrows():
            used = float(chosen.at[pid, "used_bits"])
            if not bool(row["night"]):
                self.fail(f"pass {pid} is not a night pass")
            if used < -self.tol or used > float(row["expected_secure_bits"]) + self.tol:
                self.fail(f"pass {pid} keeps {used} bits of {row['expected_secure_bits']}")
            for col in ("satellite", "station", "los_utc"):
                if chosen.at[pid, col] != row[col]:
                    self.fail(f"pass {pid}: {col} differs from the key table")
            night = (pd.Timestamp(row["tca_utc"]) - pd.Timedelta(hours=self.cut)).date()
            if (str(row["station"]), str(night)) in self.unavailable:
                self.fail(f"pass {pid}: {row['station']} is unavailable on the night of {night}")

    def _satellite_overlap(self) -> None:
        # sorted by AOS, intervals [aos - gap, los) overlap somewhere iff two neighbours do
        rows = self.kt.loc[self.plan.passes.index]
        for sat, grp in rows.groupby("satellite"):
            grp = grp.sort_values("aos_utc")
            # as DatetimeIndex: a tz-aware column's to_numpy() is an array of Timestamp
            # objects, whose differences numpy before 2.4 cannot divide by a timedelta64
            aos = pd.DatetimeIndex(grp["aos_utc"])
            los = pd.DatetimeIndex(grp["los_utc"])
            free = np.asarray((aos[1:] - los[:-1]).total_seconds())
            for i in np.flatnonzero(free < self.gap - 1e-6):
                self.fail(f"satellite {sat}: passes {grp.index[i]} and {grp.index[i + 1]} "
                          f"overlap or leave less than the {self.gap:g} s gap")

    def _station_capacity(self) -> None:
        rows = self.kt.loc[self.plan.passes.index]
        for station, grp in rows.groupby("station"):
            cap = int(self.telescopes.get(station, 1))
            points = sorted([(t, 1) for t in grp["aos_utc"]] + [(t, -1) for t in grp["los_utc"]],
                            key=lambda e: (e[0], e[1]))
            busy = 0
            for _, step in points:
                busy += step
                if busy > cap:
                    self.fail(f"station {station}: {busy} passes at once, {cap} telescope(s)")
                    break

    # ---- relays and buffers --------------------------------------------------------------------

    def _relay_rows(self) -> None:
        for r in self.plan.relays.itertuples():
            if r.demand not in self.demands:
                self.fail(f"relay for unknown demand {r.demand}")
                continue
            if not r.bits >= -self.tol:
                self.fail(f"relay of {r.bits} bits for {r.demand}")
            d = self.demands[r.demand]
            if r.to_station == d.station_a or r.from_station == d.station_b:
                self.fail(f"relay for {r.demand} runs backwards ({r.from_station} -> "
                          f"{r.to_station})")
            if r.from_station == r.to_station:
                self.fail(f"relay for {r.demand} goes from {r.from_station} to itself")

    def _buffers(self) -> None:
        passes = self.plan.passes
        relays = self.plan.relays
        sat_relays = relays[relays["pass_id"] >= 0]
        by_pass = dict(iter(sat_relays.groupby("pass_id")))
        unknown = set(sat_relays["pass_id"]) - set(passes.index)
        for pid in sorted(unknown):
            self.fail(f"relay during pass {pid}, which is not a chosen pass")
        reported = self._reported_levels()
        for sat, grp in passes.groupby("satellite"):
            self._replay_satellite(sat, grp.sort_values("los_utc"), by_pass, reported)

    def _reported_levels(self) -> dict:
        levels = {}
        for r in self.plan.buffers.itertuples():
            levels[(r.satellite, pd.Timestamp(r.time_utc), r.station)] = float(r.bits)
        return levels

    def _replay_satellite(self, sat, events: pd.DataFrame, by_pass: dict, reported: dict) -> None:
        buf: dict[str, float] = defaultdict(float)
        initial = self.plan.parameters.get("initial_state") or {}
        for g, bits in ((initial.get("buffers_bits") or {}).get(sat) or {}).items():
            buf[g] += float(bits)  # key on board when the plan starts (a measured state)
        received: set[str] = {g for g, level in buf.items() if level > self.tol}
        for pid, ev in events.iterrows():
            station, when = ev["station"], pd.Timestamp(ev["los_utc"])
            buf[station] += float(ev["used_bits"])
            if float(ev["used_bits"]) > self.tol:
                received.add(station)
            stored = sum(buf.values())  # deposit, then relay: the deposit must fit first
            if stored > self.memory + self.tol:
                self.fail(f"satellite {sat} at pass {pid}: {stored:.1f} bits stored before "
                          f"relaying, memory {self.memory:g}")
            touched = set()
            ops = by_pass.get(pid)
            for r in ([] if ops is None else ops.itertuples()):
                self._one_relay(sat, station, when, pid, r, received)
                buf[r.from_station] -= float(r.bits)
                buf[r.to_station] -= float(r.bits)
                touched |= {r.from_station, r.to_station}
            self._after_event(sat, pid, buf, touched)
            for g, level in buf.items():
                key = (sat, when, g)
                if key in reported and abs(reported[key] - level) > self.tol:
                    self.fail(f"satellite {sat} after pass {pid}: reported buffer {g} = "
                              f"{reported[key]:.1f} bits, replay gives {level:.1f}")

    def _one_relay(self, sat, station, when, pid, r, received: set) -> None:
        if r.via != sat or r.satellite != sat:
            self.fail(f"relay during pass {pid} of {sat} is labelled {r.via}/{r.satellite}")
        if station not in (r.from_station, r.to_station):
            self.fail(f"relay {r.from_station}->{r.to_station} during a pass over {station}")
        if pd.Timestamp(r.time_utc) != when:
            self.fail(f"relay during pass {pid} is timed {r.time_utc}, not at its LOS {when}")
        for g in (r.from_station, r.to_station):
            if g not in received:
                self.fail(f"relay during pass {pid} uses {sat}'s key with {g} before any "
                          "arrived")

    def _after_event(self, sat, pid, buf: dict, touched: set) -> None:
        for g, level in buf.items():
            if level < -self.tol:
                self.fail(f"satellite {sat} after pass {pid}: buffer {g} is {level:.1f} bits")
            if g in touched and level < self.reserve - self.tol:
                self.fail(f"satellite {sat} after pass {pid}: relays drew buffer {g} to "
                          f"{level:.1f} bits, below the reserve {self.reserve:g}")

    # ---- fibre and flows ----------------------------------------------------------------------

    def _fibre(self) -> None:
        relays = self.plan.relays
        fib = relays[relays["pass_id"] < 0].sort_values("time_utc")
        used: dict[str, float] = defaultdict(float)
        for r in fib.itertuples():
            link = self.fibre.get(r.via)
            if link is None:
                self.fail(f"fibre relay over unknown link {r.via}")
                continue
            if {r.from_station, r.to_station} != {link["station_a"], link["station_b"]}:
                self.fail(f"fibre relay {r.from_station}->{r.to_station} over {r.via}")
            used[r.via] += float(r.bits)
            elapsed = (pd.Timestamp(r.time_utc) - self.start).total_seconds()
            produced = max(link["rate_bps"] * elapsed - self.reserve, 0.0)
            if used[r.via] > produced + self.tol:
                self.fail(f"fibre {r.via}: {used[r.via]:.1f} bits used by {r.time_utc}, only "
                          f"{produced:.1f} produced")

    def _flows(self) -> None:
        relays = self.plan.relays
        carried = self.plan.parameters.get("initial_state", {}).get("storage_bits", {})
        for label, d in self.demands.items():
            mine = relays[relays["demand"] == label]
            # trusted-node XORs commute: segments may come in any order, but by the end every
            # intermediate has received at least what it passed on
            held: dict[str, float] = defaultdict(float)
            for g, bits in carried.get(label, {}).items():
                held[g] += float(bits)
            for r in mine.itertuples():
                if r.from_station != d.station_a:
                    held[r.from_station] -= float(r.bits)
                if r.to_station != d.station_b:
                    held[r.to_station] += float(r.bits)
            for g, level in held.items():
                if level < -self.tol:
                    self.fail(f"{label}: {g} passes on {-level:.1f} bits more than it ever "
                              "received")
            into = float(mine.loc[mine["to_station"] == d.station_b, "bits"].sum())
            self._delivered(label, d, into)
            self._not_before_arrival(label, d, mine)

    def _not_before_arrival(self, label: str, d, mine: pd.DataFrame) -> None:
        """Key cannot count as delivered on a night before it reaches ``station_b``."""
        by_night = self.plan.delivered_by_night
        if label not in by_night.columns or by_night.empty:
            return
        into = mine[mine["to_station"] == d.station_b]
        arrived = (into.groupby(pd.to_datetime(into["night_date"]))["bits"].sum()
                   if len(into) else pd.Series(dtype=float))
        counted = by_night[label].copy()
        counted.index = pd.to_datetime(counted.index)
        nights = counted.index.union(arrived.index).sort_values()
        got = counted.reindex(nights, fill_value=0.0).cumsum()
        came = arrived.reindex(nights, fill_value=0.0).cumsum()
        for night in nights[(got > came + self.tol).to_numpy()]:
            self.fail(f"{label}: {got[night]:.1f} bits counted as delivered by the night of "
                      f"{night.date()}, only {came[night]:.1f} reached {d.station_b}")

    def _delivered(self, label: str, d, into: float) -> None:
        table = self.plan.delivered
        if label not in table.index:
            self.fail(f"{label}: missing from the delivered table")
            return
        claimed = float(table.at[label, "delivered_bits"])
        if abs(claimed - into) > self.tol:
            self.fail(f"{label}: delivered {claimed:.1f} bits claimed, relays sum to {into:.1f}")
        if d.target_bits is not None:
            before = float((self.plan.parameters.get("initial_state") or {})
                           .get("delivered_bits", {}).get(label, 0.0))
            unmet = float(table.at[label, "unmet_bits"])
            expect = max(d.target_bits - before - into, 0.0)
            if abs(unmet - expect) > self.tol:
                self.fail(f"{label}: unmet {unmet:.1f} bits, expected {expect:.1f}")
        by_night = self.plan.delivered_by_night
        if label in by_night.columns and abs(float(by_night[label].sum()) - into) > self.tol:
            self.fail(f"{label}: per-night deliveries do not add up to the total")
