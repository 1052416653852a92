"""Relay planning at constellation scale: greedy, rolling MILP and full MILP, side by side.

A Walker-delta constellation (default 24 satellites, 500 km sun-synchronous) over the twelve
bundled stations for a week, three relay demands. Prints each solver's wall time, status, proven
gap (the full MILP's bound is the exact reference where it closes) and the fraction of the MILP's
objective that greedy and the rolling horizon reach; every plan is verified by the independent
checker.

Run:  python benchmarks/relay_scale.py [--planes P --per-plane S --nights N --time-limit S]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from planner.elements.walker import walker_catalogue, walker_delta
from planner.geometry.passes import find_passes
from planner.key.perpass import pass_key_table
from planner.mission.payloads import load_payloads
from planner.mission.stations import load_stations
from planner.relay.check import check_plan
from planner.relay.schedule import plan_schedule

DEMANDS = ["Beijing:Stellenbosch", "Jinan:Graz", "Hefei:Nanshan"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=6)
    parser.add_argument("--per-plane", type=int, default=4)
    parser.add_argument("--nights", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()
    epoch = datetime(2026, 11, 20, tzinfo=UTC)
    start = datetime(2026, 11, 24, tzinfo=UTC)
    end = start + timedelta(days=args.nights)
    records = walker_delta(args.planes, args.per_plane, 1, 500.0, "sso", epoch)
    catalogue = walker_catalogue(records, "tle")
    stations = load_stations()
    payload = load_payloads()["jinan-1"]

    begin = time.perf_counter()
    passes = find_passes(catalogue, stations, start, end)
    night = passes[passes["night"]].reset_index(drop=True)
    keys = pass_key_table(night, catalogue, stations, payload)
    print(f"{len(records)} satellites x {len(stations)} stations x {args.nights} nights: "
          f"{len(night)} night passes, keys in {time.perf_counter() - begin:.1f} s")

    telescopes = {s.name: s.telescopes for s in stations}
    plans = {}
    for solver in ("greedy", "rolling", "milp"):
        plan = plan_schedule(keys, DEMANDS, telescopes=telescopes, solver=solver,
                             time_limit_s=args.time_limit, start=start, end=end)
        problems = check_plan(plan, keys)
        plans[solver] = plan
        gap = "n/a" if plan.gap is None else f"{100 * plan.gap:.3f}%"
        delivered = plan.delivered["delivered_bits"].sum() / 1e6
        print(f"  {solver:8s} {plan.wall_time_s:7.1f} s  status {plan.status:11s} gap {gap:>8s}"
              f"  delivered {delivered:8.2f} Mbit  checker: "
              f"{'ok' if not problems else problems[:2]}")
    best = plans["milp"].objective_value or 0.0
    if best > 0:
        for solver in ("greedy", "rolling"):
            value = plans[solver].objective_value or 0.0
            print(f"  {solver} reaches {100 * value / best:.1f}% of the MILP objective")


if __name__ == "__main__":
    main()
