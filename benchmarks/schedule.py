"""Benchmark of the trusted-relay scheduler on a synthetic but realistic key table.

Seven stations (six in China, Stellenbosch), two satellites, about four night passes per station
per night (each satellite crosses China twice a night, passing several nearby stations within
minutes of one another, and South Africa twice), keys uniform in 0.1-1 Mbit, a few passes
flagged as daylight. Three demands: Beijing-Stellenbosch (weight 2), Jinan-Hefei and
Shanghai-Nanshan.

Prints, for a 30-night period: the exact MILP's wall time, status and gap (target: proven optimum,
gap <= 0.1 %) for the ``total`` and ``fair`` objectives, the greedy baseline's fraction of the
optimum (target >= 90 %), the ``earliest`` completion for fixed targets; and the wall time of a
365-night rolling-horizon plan (one window per night).

Run from the repository root::

    python benchmarks/schedule.py [--nights 30] [--year-nights 365] [--memory-bits 1e9]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from planner.relay.check import check_plan
from planner.relay.schedule import plan_schedule

CHINA = {  # station: minutes after the orbit's first China pass (north-to-south track)
    "Nanshan": 0.0, "Beijing": 1.5, "Jinan": 2.5, "Hefei": 4.0, "Shanghai": 4.5, "Wuhan": 5.0,
}
DEMANDS = ["Beijing:Stellenbosch:2", "Jinan:Hefei", "Shanghai:Nanshan"]


def synthetic_key_table(nights: int, seed: int = 1) -> pd.DataFrame:
    """About four passes per station per night for two satellites (see the module docstring)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01T13:30:00Z")  # 21:30 in China
    rows = []
    for night in range(nights):
        for sat_i, sat in enumerate(("JINAN-1", "SAT-2")):
            for orbit in range(2):
                china = start + pd.Timedelta(days=night, minutes=40 * sat_i + 95 * orbit
                                             + rng.uniform(-5, 5))
                for station, offset in CHINA.items():
                    rows.append(_pass(rng, sat, station, china + pd.Timedelta(minutes=offset)))
                africa = china + pd.Timedelta(hours=5, minutes=rng.uniform(0, 20))
                rows.append(_pass(rng, sat, "Stellenbosch", africa))
    table = pd.DataFrame(rows)
    table.index = pd.Index(np.arange(len(table)), name="pass_id")
    return table


def _pass(rng, sat: str, station: str, aos: pd.Timestamp) -> dict:
    duration = rng.uniform(180, 440)
    los = aos + pd.Timedelta(seconds=duration)
    key = rng.uniform(0.1e6, 1.0e6)
    clear = rng.uniform(0.3, 0.8)
    return {"satellite": sat, "norad": 0, "station": station, "aos_utc": aos,
            "tca_utc": aos + (los - aos) / 2, "los_utc": los, "duration_s": duration,
            "max_elevation_deg": rng.uniform(15, 90), "aos_azimuth_deg": rng.uniform(0, 360),
            "night": bool(rng.random() > 0.05), "secure_bits": key,
            "expected_secure_bits": key * clear, "clear_sky_probability": clear}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--year-nights", type=int, default=365)
    parser.add_argument("--memory-bits", type=float, default=1e9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--fair-time-limit", type=float, default=60.0,
                        help="max-min fairness has a partition structure: hard to prove")
    args = parser.parse_args()

    table = synthetic_key_table(args.nights, args.seed)
    per = len(table) / args.nights / 7
    print(f"{args.nights}-night table: {len(table)} passes ({per:.1f} per station per night), "
          f"{int(table['night'].sum())} at night; memory {args.memory_bits:g} bits")
    for objective in ("total", "fair"):
        limit = args.time_limit if objective == "total" else args.fair_time_limit
        common = {"memory_bits": args.memory_bits, "time_limit_s": limit}
        t0 = time.perf_counter()
        milp = plan_schedule(table, DEMANDS, objective=objective, **common)
        wall = time.perf_counter() - t0
        t0 = time.perf_counter()
        greedy = plan_schedule(table, DEMANDS, objective=objective, solver="greedy", **common)
        g_wall = time.perf_counter() - t0
        size = milp.parameters["solver_stats"]
        gap = "n/a" if milp.gap is None else f"{100 * milp.gap:.3f} %"
        print(f"[{objective}] MILP: {milp.status}, gap {gap}, solver {milp.wall_time_s:.2f} s, "
              f"end to end {wall:.2f} s ({size.get('binaries')} binaries, "
              f"{size.get('columns')} columns, {size.get('rows')} rows)")
        frac = greedy.objective_value / milp.objective_value if milp.objective_value else np.nan
        print(f"[{objective}] greedy: {100 * frac:.1f} % of the MILP objective in {g_wall:.2f} s")
        got = milp.delivered["delivered_bits"].items()
        print(f"[{objective}] delivered (MILP) [Mbit]: "
              + ", ".join(f"{k} {v / 1e6:.2f}" for k, v in got))
        for name, plan in (("MILP", milp), ("greedy", greedy)):
            errors = check_plan(plan, table)
            print(f"[{objective}] {name} plan check: {'ok' if not errors else errors[:3]}")

    targets = ["Beijing:Stellenbosch:2:8e6", "Jinan:Hefei:1:3e6", "Shanghai:Nanshan:1:3e6"]
    t0 = time.perf_counter()
    early = plan_schedule(table, targets, objective="earliest", memory_bits=args.memory_bits,
                          time_limit_s=args.fair_time_limit)
    stats = early.parameters["solver_stats"]
    print(f"[earliest] targets 8/3/3 Mbit met after {early.objective_value / 86400:.2f} days "
          f"({early.status}; not before {stats['completion_lower_bound_s'] / 86400:.2f} days), "
          f"{stats['feasibility_solves']} solves in {time.perf_counter() - t0:.1f} s; plan check: "
          f"{'ok' if not check_plan(early, table) else 'FAILED'}")

    year = synthetic_key_table(args.year_nights, args.seed + 1)
    t0 = time.perf_counter()
    rolling = plan_schedule(year, DEMANDS, solver="rolling", memory_bits=args.memory_bits,
                            time_limit_s=args.time_limit)
    wall = time.perf_counter() - t0
    print(f"{args.year_nights}-night rolling plan ({len(year)} passes, "
          f"{rolling.parameters['solver_stats']['windows']} windows): {wall:.1f} s end to end, "
          f"status {rolling.status}, largest window gap "
          f"{'n/a' if rolling.gap is None else f'{100 * rolling.gap:.3f} %'}")
    t0 = time.perf_counter()
    errors = check_plan(rolling, year)
    print(f"rolling plan check: {'ok' if not errors else errors[:3]} "
          f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
