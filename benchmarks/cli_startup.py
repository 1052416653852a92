"""The command line's own cost: start-up, and a year of passes from the shell against Skyfield.

Measures, as a user would from the shell (a fresh process each run, the median of --repeat):

  (1) ``qkdplan --help``                                           target <= 0.3 s
  (2) ``qkdplan passes --days 1``                                  target <= 0.8 s
  (3) ``qkdplan passes --all --days 365`` over the 7 Jinan-1 stations (CSV to a file), against
      Skyfield's ``find_events`` on the same work in this process   target >= 20x

and which modules (1) and (2) spend their import time in (``python -X importtime``). Skyfield's
side does not pay for a process start; ours does: that is the comparison a user sees. Times
depend on the machine's load: run it on a quiet machine, never in tests.

Run:  python benchmarks/cli_startup.py [--repeat N] [--skip-skyfield]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

try:
    from benchmarks.passes import START, skyfield_passes
except ImportError:  # run as a script: benchmarks/ is on sys.path, the repository root is not
    from passes import START, skyfield_passes

from planner.elements.elementsets import read_catalogue
from planner.io.resources import bundled_path
from planner.mission.stations import JINAN1_STATIONS, load_stations, select_stations


def qkdplan() -> list[str]:
    """The installed console script, else ``python -m planner``."""
    script = shutil.which("qkdplan", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "planner"]


def wall_times(args: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - begin)
    return times


def heaviest_imports(args: list[str], count: int = 6) -> str:
    """The top-level imports that cost most in one run (``-X importtime``, cumulative)."""
    command = [sys.executable, "-X", "importtime", "-m", "planner", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith(" ") and not name.startswith("  "):       # top level only
            if cumulative.strip().isdigit():
                rows.append((int(cumulative), name.strip()))
    rows.sort(reverse=True)
    return ", ".join(f"{name} {us / 1e6:.2f} s" for us, name in rows[:count])


def report(label: str, times: list[float], target: float) -> None:
    median = statistics.median(times)
    verdict = "met" if median <= target else "NOT met"
    print(f"{label}: median {median:.3f} s, best {min(times):.3f} s of {len(times)} "
          f"(target <= {target:g} s: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-skyfield", action="store_true",
                        help="only the start-up timings")
    args = parser.parse_args()
    command = qkdplan()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {command[0]}")
    report("qkdplan --help", wall_times([*command, "--help"], args.repeat), 0.3)
    print(f"    imports: {heaviest_imports(['--help'])}")
    one_day = ["passes", "--days", "1", "--start", f"{START:%Y-%m-%dT%H:%MZ}"]
    report("qkdplan passes --days 1", wall_times([*command, *one_day], args.repeat), 0.8)
    print(f"    imports: {heaviest_imports(one_day)}")
    if args.skip_skyfield:
        return
    stations = select_stations(load_stations(), list(JINAN1_STATIONS))
    with tempfile.TemporaryDirectory() as directory:
        year = [*command, "passes", "--all", "--days", "365", "--start",
                f"{START:%Y-%m-%dT%H:%MZ}", "-f", "csv", "-o", str(Path(directory) / "p.csv"),
                *(a for s in stations for a in ("--station", s.name))]
        ours = min(wall_times(year, max(1, args.repeat // 2)))
    catalogue = read_catalogue(bundled_path("tle_data/jinan1_representative.tle"))
    theirs, count = skyfield_passes(catalogue, stations, START, START + timedelta(days=365))
    ratio = theirs / ours
    print(f"a year of passes, 1 satellite x {len(stations)} stations: qkdplan CLI {ours:.2f} s "
          f"(whole process, CSV written), Skyfield find_events {theirs:.1f} s ({count} passes): "
          f"{ratio:.1f}x (target >= 20x: {'met' if ratio >= 20 else 'NOT met'})")


if __name__ == "__main__":
    main()
