"""The command line's own cost: start-up, and a year of passes from the shell against Skyfield.

Measures, as a user would from the shell (a fresh process each run, the median of --repeat):

  (1) ``qkdplan --help``                                           target <= 0.3 s
  (2) ``qkdplan passes --days 1``                                  target <= 0.8 s
  (3) ``qkdplan passes --all --days 365`` over the 7 Jinan-1 stations (CSV to a file), against
      a Python script doing the same with Skyfield's ``find_events`` (each station's own
      minimum elevation, the events written as CSV), both run as processes, interleaved
                                                                   target >= 20x

beside it the floor of (3) for any Python process that finds the passes with numpy (the
interpreter and ``import numpy``, plus ``find_passes`` over the same year in this process),
and what the times are made of: a ladder of ``python -c "import ..."`` processes (the
interpreter, numpy, pandas, Skyfield, the command-line libraries, the planner: what the pass
command imports) and the modules (1) and (2) spend their import time in
(``python -X importtime``). Times depend on the machine's load (printed): run it on a quiet
machine, never in tests.

Python compiles the planner's own modules on every run when their bytecode cannot be cached
(an editable install with ``PYTHONDONTWRITEBYTECODE`` set); a regular ``pip install`` compiles
them once. The script says which case it measured; ``--compile`` compiles them first, as
``pip install`` does (``compileall``, into the usual ``__pycache__`` directories).

Run:  python benchmarks/cli_startup.py [--repeat N] [--skip-skyfield] [--compile]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path

import planner

try:
    from benchmarks.passes import START
except ImportError:  # run as a script: benchmarks/ is on sys.path, the repository root is not
    from passes import START

from planner.elements.elementsets import read_catalogue
from planner.io.resources import bundled_path
from planner.mission.stations import JINAN1_STATIONS, load_stations, select_stations

#: The Skyfield side of (3), run as ``python -c``: the same element set, stations and year, one
#: ``find_events`` call per station at its own minimum elevation, the events written as CSV.
SKYFIELD_SCRIPT = """
import csv, json, sys
from skyfield.api import EarthSatellite, load, wgs84
name, line1, line2, start, stations, path = json.loads(sys.argv[1])
ts = load.timescale(builtin=True)
satellite = EarthSatellite(line1, line2, name, ts)
t0 = ts.utc(*start)
t1 = ts.tt_jd(t0.tt + 365.0)
with open(path, "w", newline="") as file:
    out = csv.writer(file)
    out.writerow(["satellite", "station", "time_utc", "event"])
    for station, latitude, longitude, altitude, minimum in stations:
        place = wgs84.latlon(latitude, longitude, altitude)
        times, events = satellite.find_events(place, t0, t1, altitude_degrees=minimum)
        for when, event in zip(times.utc_iso(places=3), events):
            out.writerow([name, station, when, ("rise", "culminate", "set")[event]])
"""

#: What ``qkdplan passes`` imports, as a ladder: each step adds to the one before, so the
#: differences of the medians say what each group costs (the last step is all of it).
IMPORT_LADDER = {
    "the interpreter": "pass",
    "numpy": "import numpy",
    "pandas (with numpy; pyarrow too if installed)": "import pandas",
    "+ Skyfield, sgp4": "import pandas, skyfield.api, sgp4.api",
    "+ typer, rich, pydantic, PyYAML": ("import pandas, skyfield.api, sgp4.api, typer, "
                                        "rich.console, rich.table, pydantic, yaml"),
    "+ the planner's modules": ("import planner.cli.root, planner.cli.passes, "
                                "planner.run.pipeline, planner.io.jsonstream, pandas"),
}


def qkdplan() -> list[str]:
    """The installed console script, else ``python -m planner``."""
    script = shutil.which("qkdplan", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "planner"]


def wall_times(commands: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Wall times of each command, ``repeat`` rounds, the commands interleaved in each round
    (so that a change in the machine's load touches all of them alike)."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeat):
        for label, args in commands.items():
            begin = time.perf_counter()
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            times[label].append(time.perf_counter() - begin)
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


def bytecode_cached() -> bool:
    """Whether the planner's own modules load from cached bytecode (a fresh ``.pyc`` beside
    the CLI's root module)."""
    import importlib.util

    source = Path(planner.__file__).parent / "cli" / "root.py"
    cached = Path(importlib.util.cache_from_source(str(source)))
    return cached.is_file() and cached.stat().st_mtime >= source.stat().st_mtime


def median(times: list[float]) -> float:
    return statistics.median(times)


def report(label: str, times: list[float], target: float) -> None:
    verdict = "met" if median(times) <= target else "NOT met"
    print(f"{label}: median {median(times):.3f} s, best {min(times):.3f} s of {len(times)} "
          f"(target <= {target:g} s: {verdict})")


def year_commands(directory: Path) -> dict[str, list[str]]:
    """(3): our command line and the Skyfield script, on the same satellite, stations, year."""
    stations = select_stations(load_stations(), list(JINAN1_STATIONS))
    tle = bundled_path("tle_data/jinan1_representative.tle")
    catalogue = read_catalogue(tle)
    element_set = catalogue.sets(next(iter(catalogue.satellites)))[0]
    ours = [*qkdplan(), "passes", "--all", "--days", "365", "--start", f"{START:%Y-%m-%dT%H:%MZ}",
            "--tle", str(tle),
            "-f", "csv", "-o", str(directory / "qkdplan.csv"),
            *(a for s in stations for a in ("--station", s.name))]
    work = [element_set.name, element_set.line1, element_set.line2,
            [START.year, START.month, START.day, START.hour, START.minute],
            [[s.name, s.latitude_deg, s.longitude_deg, s.altitude_m, s.min_elevation_deg]
             for s in stations], str(directory / "skyfield.csv")]
    theirs = [sys.executable, "-c", SKYFIELD_SCRIPT, json.dumps(work)]
    return {"qkdplan": ours, "skyfield": theirs}


def finder_in_process_s(repeat: int = 3) -> float:
    """The best time of ``find_passes`` over the year of (3), in this process (imports paid)."""
    from datetime import timedelta

    from planner.geometry.passes import find_passes

    stations = select_stations(load_stations(), list(JINAN1_STATIONS))
    catalogue = read_catalogue(bundled_path("tle_data/jinan1_representative.tle"))
    find_passes(catalogue, stations[:1], START, START + timedelta(days=1))       # warm-up
    best = float("inf")
    for _ in range(repeat):
        begin = time.perf_counter()
        find_passes(catalogue, stations, START, START + timedelta(days=365))
        best = min(best, time.perf_counter() - begin)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-skyfield", action="store_true",
                        help="only the start-up timings")
    parser.add_argument("--compile", action="store_true",
                        help="compile the planner's bytecode first, as pip install does")
    args = parser.parse_args()
    if args.compile:
        compileall.compile_dir(Path(planner.__file__).parent, quiet=1)
    command = qkdplan()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {command[0]}; "
          f"planner bytecode {'cached' if bytecode_cached() else 'compiled on every run'}; "
          f"pyarrow {'installed (pandas imports it)' if find_spec('pyarrow') else 'absent'}")
    one_day = ["passes", "--days", "1", "--start", f"{START:%Y-%m-%dT%H:%MZ}"]
    ladder = {label: [sys.executable, "-c", code] for label, code in IMPORT_LADDER.items()}
    times = wall_times({**ladder, "help": [*command, "--help"], "day": [*command, *one_day]},
                       args.repeat)
    imports = median(times["+ the planner's modules"])
    print("what qkdplan passes imports (medians of python -c, each step adds to the one above):")
    for label in IMPORT_LADDER:
        print(f"    {label:34s} {median(times[label]):.3f} s")
    report("qkdplan --help", times["help"], 0.3)
    print(f"    imports: {heaviest_imports(['--help'])}")
    report("qkdplan passes --days 1", times["day"], 0.8)
    print(f"    imports: {heaviest_imports(one_day)}")
    if args.skip_skyfield:
        return
    with tempfile.TemporaryDirectory() as directory:
        year = wall_times(year_commands(Path(directory)), max(1, args.repeat // 2))
        rows = {name: sum(1 for _ in open(Path(directory) / f"{name}.csv")) - 1
                for name in ("qkdplan", "skyfield")}
    ours, theirs = median(year["qkdplan"]), median(year["skyfield"])
    ratio = theirs / ours
    print(f"a year of passes, 1 satellite x {len(JINAN1_STATIONS)} stations, both from the "
          f"shell (medians of "
          f"{len(year['qkdplan'])}): qkdplan passes {ours:.2f} s ({rows['qkdplan']} passes, "
          f"CSV), Skyfield find_events script {theirs:.2f} s ({rows['skyfield']} events, CSV): "
          f"{ratio:.1f}x (target >= 20x: {'met' if ratio >= 20 else 'NOT met'}); at 20x "
          f"qkdplan would have {theirs / 20:.2f} s, the pass command's imports alone take "
          f"{imports:.2f} s")
    floor = median(times["numpy"]) + finder_in_process_s()
    print(f"    the floor of any Python process that finds these passes with numpy: the "
          f"interpreter and numpy {median(times['numpy']):.3f} s + the pass finding in-process "
          f"{floor - median(times['numpy']):.3f} s = {floor:.2f} s, at most "
          f"{theirs / floor:.1f}x the Skyfield script")


if __name__ == "__main__":
    main()
