"""Constellations at scale: a Walker constellation over many stations for a year.

Case: 24 satellites (Walker-delta 6 planes x 4, phasing 1, 500 km, sun-synchronous) x 50
stations (``benchmarks.passes.synthetic_stations``, a global Fibonacci grid) x 365 days.
Targets (issue "Constellations at scale"), printed, never asserted:

1. qkdplan in-process >= 50x faster than a Skyfield ``find_events`` loop over the same
   satellite-station pairs. The loop is timed on a sample of pairs and scaled to all 1,200
   (its cost is the same for every pair to within a few per cent: one call per pair, 20 samples
   per orbit); the pass counts of the sampled pairs are compared. The ratio of CPU times is
   printed too: both sides run on one core (but for BLAS threads in the ephemeris set-up), so
   it stretches less than the wall clock's when other jobs load the machine.
2. Dask with 2 local workers >= 1.6x faster than in-process on this 2-core machine. Other jobs
   share the machine, so the load average is printed beside every time.
3. Peak memory per Dask worker < 2 GB (``ru_maxrss`` of each worker process).
4. Streaming to Parquet in 30-day chunks keeps peak memory bounded as the period grows:
   tracemalloc peak (Python and numpy allocations), peak RSS and pyarrow's pool (where pandas
   keeps ``str`` columns) for 30, 90 and 365 days, each case in a fresh process, against holding
   the whole table. The cost of shorter chunks is printed too.
5. Cost of a year linear in satellites, far below linear in stations: a scaling table, the
   exponent of the cost in stations (1 to 50) and the cost of a station added against the first.

Run:  python benchmarks/constellation.py [--quick] [--skip-skyfield] [--sample-pairs N]
      [--workers N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import numpy as np
from skyfield.api import EarthSatellite, load, wgs84

try:
    from benchmarks.passes import START, synthetic_stations
except ImportError:  # run as a script: benchmarks/ is on sys.path, the repository root is not
    from passes import START, synthetic_stations

from planner.elements.elementsets import Catalogue
from planner.elements.walker import walker_catalogue, walker_delta
from planner.geometry.passes import find_passes
from planner.run.executors import (
    find_passes_parallel,
    iter_pass_tables,
    open_executor,
    peak_rss_mb,
    write_passes_parquet,
)

PLANES, PER_PLANE, PHASING, ALTITUDE_KM = 6, 4, 1, 500.0


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} (1/5 min, {os.cpu_count()} cores)"


def constellation(satellites: int = PLANES * PER_PLANE) -> Catalogue:
    """The first ``satellites`` of the 24-satellite Walker constellation."""
    records = walker_delta(PLANES, PER_PLANE, PHASING, ALTITUDE_KM, "sso", START)
    return walker_catalogue(records[:satellites])


def subset(catalogue: Catalogue, count: int) -> Catalogue:
    keys = catalogue.satellites[:count]
    return Catalogue([s for k in keys for s in catalogue.sets(k)])


def identical(a, b) -> bool:
    """pandas.testing.assert_frame_equal passes (floats to its default rtol 1e-5)."""
    import pandas as pd

    try:
        pd.testing.assert_frame_equal(a, b)
    except AssertionError:
        return False
    return True


def timed(fn, *args, **kwargs):
    begin = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - begin, result


def best_of(repeat: int, fn, *args, **kwargs):
    """Shortest wall time of ``repeat`` runs [s] and the last result (load on this shared
    machine comes in bursts: the best run is the one least disturbed)."""
    runs = [timed(fn, *args, **kwargs) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[-1][1]


# --- 1. Skyfield find_events on a sample of pairs ------------------------------------------


def skyfield_sample(catalogue, stations, days, pairs: int):
    """Time Skyfield's find_events on ``pairs`` satellite-station pairs spread over the grid."""
    ts = load.timescale(builtin=True)
    t0, t1 = ts.from_datetime(START), ts.from_datetime(START + timedelta(days=days))
    keys = catalogue.satellites
    chosen = [(keys[(7 * k) % len(keys)], stations[(13 * k) % len(stations)])
              for k in range(pairs)]
    seconds, cpu_seconds, counts = [], [], []
    for key, station in chosen:
        s = catalogue.sets(key)[0]
        satellite = EarthSatellite(s.line1, s.line2, s.name, ts)
        place = wgs84.latlon(station.latitude_deg, station.longitude_deg, station.altitude_m)
        begin, begin_cpu = time.perf_counter(), process_cpu_s()
        times, events = satellite.find_events(place, t0, t1,
                                              altitude_degrees=station.min_elevation_deg)
        seconds.append(time.perf_counter() - begin)
        cpu_seconds.append(process_cpu_s() - begin_cpu)
        culminations = times[events == 1]
        peak = (satellite - place).at(culminations).altaz()[0].degrees if len(culminations) \
            else np.zeros(0)
        counts.append(int(np.sum(peak > station.min_elevation_deg + 0.01)))
    return chosen, np.array(seconds), np.array(cpu_seconds), counts


def our_counts(table, chosen, catalogue):
    out = []
    for key, station in chosen:
        rows = table[(table["satellite"] == catalogue.name(key))
                     & (table["station"] == station.name)]
        out.append(int(np.sum(rows["max_elevation_deg"] > station.min_elevation_deg + 0.01)))
    return out


# --- 4. memory against the period -----------------------------------------------------------


def memory_case(mode: str, days: int, satellites: int, stations: int) -> dict:
    """Run one case in this (fresh) process and report its peak memory.

    ``mode`` is ``"whole"`` (find_passes: the whole table in memory) or ``"stream"``
    (30-day chunks streamed to a Parquet dataset in a temporary directory). Returns seconds,
    the tracemalloc peak (Python and numpy allocations) [MiB], the process's peak resident
    memory [MiB] and pyarrow's pool peak [MiB] (pandas' ``str`` columns live there), and rows.
    """
    catalogue, grid = constellation(satellites), synthetic_stations(stations)
    end = START + timedelta(days=days)
    find_passes(subset(catalogue, 1), grid[:1], START, START + timedelta(days=1))  # warm up
    scratch = Path(tempfile.mkdtemp(prefix="qkdplan-bench-"))
    tracemalloc.start()
    begin = time.perf_counter()
    try:
        if mode == "whole":
            rows = len(find_passes(catalogue, grid, START, end))
        else:
            write_passes_parquet(iter_pass_tables(catalogue, grid, START, end, chunk_days=30.0),
                                 scratch / "passes")
            import pyarrow.parquet as pq

            rows = sum(pq.ParquetFile(p).metadata.num_rows
                       for p in (scratch / "passes").rglob("*.parquet"))
        seconds = time.perf_counter() - begin
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return {"seconds": seconds, "traced_mb": peak / 2**20, "rows": rows,
            "rss_mb": peak_rss_mb(), "arrow_mb": pyarrow_peak_mb()}


def pyarrow_peak_mb() -> float:
    try:
        import pyarrow
    except ImportError:
        return float("nan")
    return pyarrow.default_memory_pool().max_memory() / 2**20


def isolated(fn, *args):
    """``fn(*args)`` in a fresh spawned process, so that peaks do not mix."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def process_cpu_s() -> float:
    """User + system CPU time of this process [s]."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _probe(start_at: float) -> float:
    """A fixed numpy workload, started at wall-clock time ``start_at``: its duration [s]."""
    time.sleep(max(0.0, start_at - time.time()))
    begin = time.perf_counter()
    a = np.random.default_rng(0).random(200_000)
    for _ in range(150):
        a = np.sin(a) + np.sqrt(a * a + 1.0)
    return time.perf_counter() - begin


def parallel_capacity(workers: int) -> float:
    """How many cores ``workers`` processes get right now (``workers`` on an idle machine).

    The same workload runs alone, then in ``workers`` processes at once;
    capacity = workers x (time alone) / (mean time together).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_probe, [0.0] * workers))                          # start and warm up
        alone = pool.submit(_probe, 0.0).result()
        together = list(pool.map(_probe, [time.time() + 0.5] * workers))
    return workers * alone / float(np.mean(together))


def warm_up() -> None:
    """What the in-process run does before it is timed (imports, ephemeris), in a worker."""
    find_passes(subset(constellation(), 1), synthetic_stations(2), START,
                START + timedelta(days=1))


def dask_comparison(catalogue, stations, end, reference, workers: int, rounds: int
                    ) -> float:
    """(2) and (3): in-process and Dask runs interleaved, so that both see similar load.

    Returns the best in-process time [s] (infinite if Dask failed)."""
    try:
        begin = time.perf_counter()
        with open_executor(f"local:{workers}") as executor:
            start_s = time.perf_counter() - begin
            executor.client.run(warm_up)
            rows = []
            for _ in range(rounds):
                capacity = parallel_capacity(workers)
                cpu0 = process_cpu_s()
                inproc_s, _ = timed(find_passes, catalogue, stations, START, end)
                inproc_cpu = process_cpu_s() - cpu0
                load_in = load_average()
                worker_cpu0 = sum(executor.client.run(process_cpu_s).values())
                cpu0 = process_cpu_s()
                dask_s, dask_table = timed(find_passes_parallel, catalogue, stations, START, end,
                                           executor=executor)
                worker_cpu = sum(executor.client.run(process_cpu_s).values()) - worker_cpu0
                rows.append((inproc_s, inproc_cpu, load_in, dask_s, worker_cpu,
                             process_cpu_s() - cpu0, load_average(), capacity))
            memory = executor.peak_memory_mb()
    except Exception as error:  # report and go on
        print(f"\n(2/3) Dask run failed: {type(error).__name__}: {error}")
        return float("inf")
    print(f"\n(2) Dask LocalCluster, {workers} workers on 127.0.0.1 (cluster start "
          f"{start_s:.1f} s; workers warmed up as the in-process run is), interleaved with "
          f"in-process runs; result identical to find_passes: {identical(dask_table, reference)}")
    for k, (in_s, in_cpu, in_load, d_s, w_cpu, main_cpu, d_load, cap) in enumerate(rows, 1):
        print(f"    round {k}: {workers} processes got {cap:.2f} cores (probe) | in-process "
              f"{in_s:.2f} s ({in_cpu:.2f} s CPU; {in_load}) | Dask {d_s:.2f} s (workers "
              f"{w_cpu:.2f} s CPU, client {main_cpu:.2f} s; {d_load}) -> {in_s / d_s:.2f}x")
    speedup = min(r[0] for r in rows) / min(r[3] for r in rows)
    median = float(np.median([r[0] / r[3] for r in rows]))
    cpu_ratio = sum(r[4] for r in rows) / sum(r[1] for r in rows)
    print(f"    best Dask run against best in-process run: {speedup:.2f}x (median of rounds "
          f"{median:.2f}x)  target >= 1.6x: {'met' if speedup >= 1.6 else 'NOT met'}")
    print(f"    the Dask workers used {cpu_ratio:.2f}x the in-process CPU time: the speed-up is "
          "bounded by the cores other jobs leave free (the probe), not by the work")
    worst = max(memory.values())
    print(f"(3) peak memory per worker (VmHWM): "
          f"{', '.join(f'{v:.0f}' for v in memory.values())} MiB  target < 2048 MiB: "
          f"{'met' if worst < 2048 else 'NOT met'}")
    return min(r[0] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 days instead of 365")
    parser.add_argument("--skip-skyfield", action="store_true")
    parser.add_argument("--sample-pairs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="in-process/Dask rounds")
    args = parser.parse_args()
    days = 30 if args.quick else 365
    catalogue = constellation()
    stations = synthetic_stations(50)
    n_sat, n_sta = len(catalogue), len(stations)
    print(f"Walker-delta {PLANES * PER_PLANE}/{PLANES}/{PHASING} at {ALTITUDE_KM:g} km SSO "
          f"(inclination {catalogue.all_sets()[0].inclination_deg:.3f} deg) x {n_sta} "
          f"stations x {days} d; {load_average()}")
    find_passes(subset(catalogue, 1), stations[:2], START, START + timedelta(days=1))  # warm up

    end = START + timedelta(days=days)
    # 1 in-process, and Skyfield
    cpu0 = process_cpu_s()
    ours_s, table = timed(find_passes, catalogue, stations, START, end)
    ours_cpu = process_cpu_s() - cpu0
    print(f"\nin-process find_passes: {ours_s:.2f} s wall, {ours_cpu:.2f} s CPU, "
          f"{len(table)} passes; {load_average()}")
    if not args.skip_skyfield:
        chosen, seconds, cpu_seconds, counts = skyfield_sample(catalogue, stations, days,
                                                               args.sample_pairs)
        per_pair = seconds.mean()
        scaled = per_pair * n_sat * n_sta
        print(f"\n(1) Skyfield find_events: {per_pair:.3f} s per pair (mean of "
              f"{len(seconds)} sampled pairs, spread {seconds.min():.3f}-{seconds.max():.3f} s), "
              f"scaled to {n_sat * n_sta} pairs = {scaled:.0f} s; {load_average()}")
        ratio = scaled / ours_s
        print(f"    ratio {ratio:.0f}x  target >= 50x: {'met' if ratio >= 50 else 'NOT met'}")
        cpu_ratio = cpu_seconds.mean() * n_sat * n_sta / ours_cpu
        print(f"    CPU times: {cpu_seconds.mean():.3f} s per pair against {ours_cpu:.2f} s, "
              f"ratio {cpu_ratio:.0f}x (less stretched by other jobs' load than the wall clock's)")
        mine = our_counts(table, chosen, catalogue)
        print(f"    passes on the sampled pairs: Skyfield {sum(counts)}, qkdplan {sum(mine)}"
              f"{'' if mine == counts else ' (differ: a pass in progress at the start)'}")
    best_in_process = min(ours_s, dask_comparison(catalogue, stations, end, table,
                                                  args.workers, args.rounds))
    processes_s, _ = timed(find_passes_parallel, catalogue, stations, START, end,
                           executor=f"processes:{args.workers}")
    print(f"    for comparison, {args.workers} local processes (spawn, pool start included): "
          f"{processes_s:.2f} s ({best_in_process / processes_s:.2f}x the best in-process "
          f"run); {load_average()}")

    # chunk size
    six = subset(catalogue, 6)
    whole_s = best_of(3, find_passes, six, stations, START, end)[0]
    cells = []
    for chunk in (c for c in (30.0, 90.0, 180.0) if c < days):
        chunk_s = best_of(3, find_passes_parallel, six, stations, START, end,
                          chunk_days=chunk)[0]
        cells.append(f"{chunk:g}-day chunks {chunk_s / whole_s:.2f}x")
    print(f"\ncost of time chunks relative to whole-period tasks (6 satellites, in-process, best "
          f"of 3): {', '.join(cells) or 'period shorter than the chunks'}")

    # 4 memory against the period
    print(f"\n(4) peak memory as the period grows, {n_sat} satellites x {n_sta} stations, each "
          "case in a fresh process (tracemalloc = Python + numpy; RSS = whole process; arrow = "
          "pyarrow pool, where pandas keeps str columns)")
    print("    days | whole table in memory: traced / RSS / arrow MiB, rows | streamed to "
          "Parquet in 30-day chunks: traced / RSS / arrow MiB, rows, s")
    for period in (30, 90, 365) if not args.quick else (30,):
        whole = isolated(memory_case, "whole", period, n_sat, n_sta)
        stream = isolated(memory_case, "stream", period, n_sat, n_sta)
        print(f"    {period:4d} | {whole['traced_mb']:6.0f} / {whole['rss_mb']:4.0f} / "
              f"{whole['arrow_mb']:4.0f}  {whole['rows']:8d} | {stream['traced_mb']:6.0f} / "
              f"{stream['rss_mb']:4.0f} / {stream['arrow_mb']:4.0f}  {stream['rows']:8d} "
              f"{stream['seconds']:6.1f}")

    # 5 scaling
    print(f"\n(5) cost of {days} days in-process, best of 2 [s] (passes); {load_average()}")
    cells = []
    for n in (6, 12, 24):
        seconds, found = best_of(2, find_passes, subset(catalogue, n), stations, START, end)
        cells.append(f"{n:2d}: {seconds:6.2f} ({len(found)})")
    print("    satellites x 50 stations:  " + "   ".join(cells))
    costs = {}
    cells = []
    for n in (1, 10, 50, 200):
        seconds, found = best_of(2, find_passes, six, synthetic_stations(n), START, end)
        costs[n] = (seconds, len(found))
        cells.append(f"{n:3d}: {seconds:6.2f} ({len(found)})")
    print("    6 satellites x stations:   " + "   ".join(cells))
    (one_s, _), (fifty_s, _), (many_s, many_passes) = costs[1], costs[50], costs[200]
    ten_s, ten_passes = costs[10]
    exponent = np.log(fifty_s / one_s) / np.log(50)
    per_station = (many_s - ten_s) / 190
    per_pass_us = 1e6 * (many_s - ten_s) / (many_passes - ten_passes)
    print(f"    cost ~ stations^{exponent:.2f} from 1 to 50 stations (a find_events loop: "
          f"^1.00); each station beyond the first adds {per_station / one_s:.0%} of the first "
          f"one's cost ({per_pass_us:.1f} us per pass found): passes grow linearly with "
          "stations, the propagation is shared")
    print(f"    {load_average()}")


if __name__ == "__main__":
    sys.exit(main())
