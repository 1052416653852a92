"""Report rendering against the planning behind it: 1 satellite x 7 stations x 365 days.

The brief's targets: the HTML stays under 10 MB, and rendering (ground track, figures, HTML,
the CSV/JSON tables, all written) costs less than the planning it shows. Planning is the
pipeline the report summarises, measured in the same process:

  passes      every pass, day and night (``planner.run.pipeline.passes_for``)
  tracks      per-second tracks of every pass (``planner.geometry.tracks.pass_tracks``)
  keys        the key table (``planner.key.perpass.pass_key_table``)
  plan        the relay plan with weather scenarios (``planner.relay.schedule.plan_schedule``)

Two ratios are printed: against the whole planning run, and against passes + tracks + keys
only (the report is also drawn without a relay plan). Rendering is the best of ``--repeat``
runs; the machine may be shared, so compare ratios, not seconds.

Run:  python benchmarks/report.py [--days 365] [--solver rolling] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from planner.geometry.tracks import pass_tracks
from planner.key.perpass import pass_key_table
from planner.mission.payloads import load_payloads, payload_for_satellite
from planner.mission.stations import JINAN1_STATIONS
from planner.relay.schedule import plan_schedule
from planner.relay.weather import evaluate_plan
from planner.report import page as report
from planner.run import pipeline as jobs

START = "2026-11-24"
DEMANDS = ["Beijing:Stellenbosch", "Jinan:Stellenbosch:1:2e8"]


def timed(function, *args, **kwargs):
    """``function(*args, **kwargs)`` and its wall time [s]."""
    t0 = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - t0


def plan_year(days: float, solver: str, time_limit_s: float) -> tuple[dict, dict]:
    """Run the planning pipeline; its outputs and the time of each stage [s]."""
    inputs = jobs.load_inputs(start=START, days=days, station_names=list(JINAN1_STATIONS),
                              allow_stale=True)
    passes, t_passes = timed(jobs.passes_for, inputs, night_only=False)
    tracks, t_tracks = timed(pass_tracks, passes, inputs.catalogue, inputs.stations)
    payload = payload_for_satellite(load_payloads(), passes["satellite"].iloc[0])
    keys, t_keys = timed(pass_key_table, passes, tracks, {s.name: s for s in inputs.stations},
                         payload)
    plan, t_plan = timed(plan_schedule, keys, DEMANDS, solver=solver, time_limit_s=time_limit_s)
    plan.weather, plan.weather_info = evaluate_plan(plan, keys, n_scenarios=200, seed=1)
    outputs = {"inputs": inputs, "passes": passes, "tracks": tracks, "keys": keys,
               "plan": plan, "payload": payload.name}
    return outputs, {"passes": t_passes, "tracks": t_tracks, "keys": t_keys, "plan": t_plan}


def render(outputs: dict, directory: Path, *, with_plan: bool = True) -> tuple[dict, float]:
    """Everything the report stage does, from the planning outputs to files on disk."""
    t0 = time.perf_counter()
    inputs, keys = outputs["inputs"], outputs["keys"]
    tracks, track = report.night_views(keys, inputs.catalogue, inputs.stations,
                                       tracks=outputs["tracks"])
    report_inputs = report.ReportInputs(
        passes=outputs["passes"], stations=inputs.stations, keys=keys, tracks=tracks,
        plan=outputs["plan"] if with_plan else None, ground_track=track,
        provenance=jobs.run_provenance(inputs, payload=outputs["payload"], seed=1),
        title="Jinan-1 key budget, one year (benchmark)")
    paths = report.write_report(directory / "report.html", report_inputs)
    return paths, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--solver", default="rolling", choices=["rolling", "greedy", "milp"])
    parser.add_argument("--time-limit", type=float, default=10.0,
                        help="solver time limit per window [s]")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="copy the report files to this directory")
    args = parser.parse_args()

    outputs, stages = plan_year(args.days, args.solver, args.time_limit)
    planning = sum(stages.values())
    without_plan = planning - stages["plan"]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        best = min(render(outputs, directory)[1] for _ in range(args.repeat))
        best_no_plan = min(render(outputs, directory, with_plan=False)[1]
                           for _ in range(args.repeat))
        paths, _ = render(outputs, directory)
        sizes = {name: path.stat().st_size for name, path in paths.items()}
        html = paths["html"].read_text()
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for path in paths.values():
                shutil.copy(path, args.keep / path.name)

    from plotly.offline import get_plotlyjs

    plotly_bytes = len(get_plotlyjs().encode())
    passes = outputs["passes"]
    print(f"1 satellite x {len(outputs['inputs'].stations)} stations x {args.days:g} days: "
          f"{len(passes):,} passes ({int(passes['night'].sum()):,} at night), "
          f"{len(outputs['tracks']):,} track samples; relay solver {args.solver}")
    print("\nplanning stage        time [s]")
    for name, seconds in stages.items():
        print(f"  {name:<18}{seconds:10.2f}")
    print(f"  {'total':<18}{planning:10.2f}")
    print(f"\nrendering (best of {args.repeat}) time [s]   ratio planning / rendering")
    print(f"  with relay plan   {best:10.2f}   {planning / best:6.1f}x  (target > 1)")
    print(f"  without plan      {best_no_plan:10.2f}   {without_plan / best_no_plan:6.1f}x  "
          "(against passes + tracks + keys)")
    print("\nfiles [MB]")
    for name, size in sizes.items():
        print(f"  {paths[name].name:<26}{size / 1e6:8.2f}")
    data = len(html.encode()) - plotly_bytes
    print(f"  of the page: plotly.js {plotly_bytes / 1e6:.2f} MB, report {data / 1e6:.2f} MB "
          f"(target: page < 10 MB: {'yes' if sizes['html'] < 10e6 else 'NO'})")


if __name__ == "__main__":
    main()
