"""Pass finding: qkdplan against Skyfield's ``find_events``, same work, same process.

Cases (issue "Foundation"):
  (a) 1 satellite x 7 stations x 365 days       target: ours >= 25x faster
  (b) 1 satellite x 100 stations x 365 days     target: >= 50x faster, peak memory < 1 GB
  (c) 10 satellites x 100 stations x 30 days    (reported)

Skyfield is called once per satellite and station, as its API requires. Both find passes above
each station's 15 deg minimum; the pass sets are compared (passes peaking within 0.01 deg of the
threshold are too close to call and are left out of the comparison). Times are the best of
``--repeat`` runs of ours and one run of Skyfield's (it is the slow side). Our peak memory is
measured with tracemalloc, which sees numpy's allocations. Beside the wall-clock ratio (the
target's) the ratio of CPU times is printed, with the load average: on a machine shared with
other jobs the wall clock of either side stretches with the load, their CPU times far less.
Both run on one core but for numpy's BLAS, which may give the ephemeris set-up a second
thread: for the small case (a) on an idle machine our CPU time can exceed our wall time.

Run:  python benchmarks/passes.py [--quick] [--repeat N] [--cases a,b,c]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from skyfield.api import EarthSatellite, load, wgs84

from planner.elements.elementsets import Catalogue, format_tle, parse_tle_text, read_catalogue
from planner.geometry.passes import find_passes
from planner.io.resources import bundled_path
from planner.mission.stations import JINAN1_STATIONS, Station, load_stations, select_stations

START = datetime(2026, 11, 20, tzinfo=UTC)
EDGE = pd.Timedelta(minutes=20)


def synthetic_stations(count: int) -> list[Station]:
    """A global grid of stations (Fibonacci lattice: even coverage, deterministic)."""
    golden = (1 + 5**0.5) / 2
    out = []
    for i in range(count):
        latitude = np.degrees(np.arcsin(1 - 2 * (i + 0.5) / count))
        longitude = ((i / golden) % 1.0) * 360.0 - 180.0
        out.append(Station(name=f"G{i:03d}", latitude_deg=round(float(latitude), 4),
                           longitude_deg=round(float(longitude), 4), altitude_m=0.0,
                           timezone="UTC", clear_sky_probability=[0.5] * 12,
                           source="synthetic global grid"))
    return out


def synthetic_constellation(count: int) -> Catalogue:
    """``count`` 500 km sun-synchronous satellites in planes spread in right ascension."""
    text = []
    for k in range(count):
        lines = format_tle(f"SAT-{k:02d}", 90000 + k, "", START, 97.4, (k * 360.0 / count) % 360,
                           0.001, 90.0, (k * 137.5) % 360, 15.22, bstar=1e-4)
        text.append("\n".join(lines))
    return Catalogue(parse_tle_text("\n".join(text) + "\n"))


def skyfield_passes(catalogue: Catalogue, stations, start, end) -> tuple[float, int]:
    ts = load.timescale(builtin=True)
    t0, t1 = ts.from_datetime(start), ts.from_datetime(end)
    satellites = []
    for key in catalogue.satellites:
        s = catalogue.sets(key)[0]
        satellites.append(EarthSatellite(s.line1, s.line2, s.name, ts))
    topos = [wgs84.latlon(s.latitude_deg, s.longitude_deg, s.altitude_m) for s in stations]
    count = 0
    begin, begin_cpu = time.perf_counter(), time.process_time()
    for satellite in satellites:
        for station, place in zip(stations, topos, strict=True):
            times, events = satellite.find_events(place, t0, t1,
                                                  altitude_degrees=station.min_elevation_deg)
            culminations = times[events == 1]
            when = pd.to_datetime(culminations.utc_datetime())
            culminations = culminations[(when >= pd.Timestamp(start) + EDGE)
                                        & (when < pd.Timestamp(end) - EDGE)]
            if len(culminations):
                peak = (satellite - place).at(culminations).altaz()[0].degrees
                count += int(np.sum(peak > station.min_elevation_deg + 0.01))
    return time.perf_counter() - begin, time.process_time() - begin_cpu, count


def our_passes(catalogue, stations, start, end, repeat: int):
    best = best_cpu = np.inf
    for _ in range(repeat):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        table = find_passes(catalogue, stations, start, end)
        best = min(best, time.perf_counter() - begin)
        best_cpu = min(best_cpu, time.process_time() - begin_cpu)
    tracemalloc.start()
    find_passes(catalogue, stations, start, end)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    threshold = np.array([s.min_elevation_deg for s in stations])
    by_name = {s.name: i for i, s in enumerate(stations)}
    limit = threshold[table["station"].map(by_name).to_numpy()] + 0.01
    # compare culminations away from the period's ends: a pass belongs to our period by its
    # AOS, find_events reports any culmination inside it, so passes straddling an end differ
    inside = ((table["tca_utc"] >= pd.Timestamp(start) + EDGE)
              & (table["tca_utc"] < pd.Timestamp(end) - EDGE)).to_numpy()
    count = int(np.sum((table["max_elevation_deg"].to_numpy() > limit) & inside))
    return best, best_cpu, count, peak / 2**20


def run_case(label, catalogue, stations, days, repeat, target=None):
    start, end = START, START + timedelta(days=days)
    ours_s, ours_cpu, ours_n, peak_mb = our_passes(catalogue, stations, start, end, repeat)
    load = os.getloadavg()[0]
    theirs_s, theirs_cpu, theirs_n = skyfield_passes(catalogue, stations, start, end)
    ratio = theirs_s / ours_s
    verdict = "" if target is None else (f"  target >= {target}x: "
                                         f"{'met' if ratio >= target else 'NOT met'}")
    print(f"({label}) {len(catalogue.satellites)} sat x {len(stations)} stations x {days} d: "
          f"skyfield find_events {theirs_s:.2f} s ({theirs_n} passes), "
          f"qkdplan {ours_s:.3f} s ({ours_n} passes), ratio {ratio:.1f}x, "
          f"our peak memory {peak_mb:.0f} MB{verdict}")
    print(f"    CPU: find_events {theirs_cpu:.2f} s, qkdplan {ours_cpu:.3f} s, ratio "
          f"{theirs_cpu / ours_cpu:.1f}x; load {load:.2f} then {os.getloadavg()[0]:.2f} "
          f"(1 min, {os.cpu_count()} cores)")
    if ours_n != theirs_n:
        print(f"    pass sets differ in size: {ours_n} vs {theirs_n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 days instead of 365")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="a,b,c")
    args = parser.parse_args()
    days = 30 if args.quick else 365
    jinan1 = read_catalogue(bundled_path("tle_data/jinan1_representative.tle"))
    seven = select_stations(load_stations(), list(JINAN1_STATIONS))
    find_passes(jinan1, seven[:1], START, START + timedelta(days=1))   # warm up imports/caches
    cases = set(args.cases.split(","))
    if "a" in cases:
        run_case("a", jinan1, seven, days, args.repeat, target=25)
    if "b" in cases:
        run_case("b", jinan1, synthetic_stations(100), days, args.repeat, target=50)
    if "c" in cases:
        run_case("c", synthetic_constellation(10), synthetic_stations(100), 30, args.repeat)


if __name__ == "__main__":
    main()
