"""``qkdplan plan`` (the main job) and ``qkdplan report``: passes, keys, relay plan, report."""

from __future__ import annotations

import time
from pathlib import Path

from planner.cli.lazy import lazy_module
from planner.cli.passes import local_times
from planner.cli.root import (
    AllowStaleOption,
    DaysOption,
    DemandOption,
    DemandsFileOption,
    EndOption,
    MinElevationOption,
    NightOption,
    NoradOption,
    PayloadNameOption,
    PayloadOption,
    ReportOutputOption,
    ScenariosOption,
    SeedOption,
    SolverOption,
    StartOption,
    StationOption,
    StationsOption,
    TleOption,
    TzOption,
    WarnAgeOption,
    _days_default,
    _element_files,
    _warn,
    app,
    print_table,
    stderr,
    stdout,
)
from planner.cli.schedule import _print_plan
from planner.cli.terminal import Column, is_utc, plural, resolve_zone, styled

pd = lazy_module("pandas")      # (start-up: see planner/cli/lazy.py)


def _elapsed(seconds: float) -> str:
    """A stage's time as people read it: ``0.4 s``, ``12 s``, ``2 min 05 s``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"


class _Steps:
    """Progress display of the main job's stages on standard error, each with its time.

    While the job runs, an interactive terminal shows its stages with a spinner (a transient
    Rich display; nothing is shown live on a dumb terminal, a pipe or a file). When it ends,
    each stage that finished is printed as one line with its time, names aligned. A stage an
    error or a signal cut short is left out, and nothing is printed when no stage finished: an
    error line that follows has only completed stages before it. (Rich's own final render
    added a blank line off an interactive terminal.)
    """

    def __init__(self) -> None:
        self.progress = None
        if stderr.is_interactive:
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                     TextColumn("{task.fields[time]}"), console=stderr,
                                     transient=True)
        self.current: tuple[str, float, object] | None = None
        self.finished: list[tuple[str, str]] = []

    def __enter__(self):
        if self.progress is not None:
            self.progress.__enter__()
        return self

    def __call__(self, name: str) -> None:
        self._finish()
        task = (None if self.progress is None
                else self.progress.add_task(name, total=None, time=""))
        self.current = (name, time.monotonic(), task)

    def _finish(self) -> None:
        if self.current is None:
            return
        name, began, task = self.current
        elapsed = _elapsed(time.monotonic() - began)
        if self.progress is not None:
            self.progress.update(task, total=1, completed=1, time=elapsed)
        self.finished.append((name, elapsed))
        self.current = None

    def __exit__(self, kind, *exc) -> None:
        if kind is None:
            self._finish()
        if self.progress is not None:
            self.progress.__exit__(kind, *exc)
        _print_stages(self.finished)


def _print_stages(stages: list[tuple[str, str]]) -> None:
    """Each finished stage on standard error: ``  NAME  TIME``, the names padded alike.

    Parameters
    ----------
    stages
        (name, time as :func:`_elapsed` gives it) of each stage, in order.
    """
    width = max((len(name) for name, _ in stages), default=0)
    for name, took in stages:
        stderr.print(f"  {name:<{width}} {took}", markup=False, highlight=False, emoji=False)


def _print_tonight(run, inputs, zone=None) -> None:
    """The night passes of the first 24 hours: local date, time and zone of each (or in
    ``zone``), with the UTC time beside it."""
    keys = run.keys.table
    night = keys[keys["night"] & (keys["aos_utc"] < pd.Timestamp(inputs.start)
                                  + pd.Timedelta(hours=24))]
    chosen = set() if run.plan is None else set(run.plan.passes.index)
    if night.empty:
        stdout.print("No night passes in the first 24 hours.")
        return
    columns = [
        Column("station"), Column("AOS local", nowrap=True), Column("AOS UTC"),
        Column("max el°", "right", 4), Column("AOS az°", "right", 3, drop=2),
        Column("clear-sky kbit", "right", 5, drop=1), Column("clear sky", "right", 5, drop=3),
        Column("expected kbit", "right", 6), Column("relay", "left", 5)]
    rows = []
    for index, row in zip(night.index, night.itertuples(index=False), strict=True):
        rows.append([
            row.station, local_times([row.aos_utc], [row.station], inputs.stations, zone)[0],
            f"{row.aos_utc:%Y-%m-%d %H:%M:%S}", f"{row.max_elevation_deg:.1f}",
            f"{row.aos_azimuth_deg:.0f}", f"{row.secure_bits / 1e3:.0f}",
            f"{row.clear_sky_probability:.2f}", f"{row.expected_secure_bits / 1e3:.0f}",
            "yes" if index in chosen else ""])
    if is_utc(zone):  # the local column would repeat the UTC one
        columns, rows = columns[:1] + columns[2:], [r[:1] + r[2:] for r in rows]
    print_table("Tonight's passes (first 24 hours of the period)", columns, rows)


def _report_job(options: dict, *, main_job: bool) -> None:
    """``plan`` and ``report``: one pipeline; the main job adds defaults and a summary."""
    from planner.report.page import check_night, check_report_path
    from planner.run.pipeline import (
        check_weather_options,
        default_demands,
        demands_for,
        load_inputs,
        run_plan,
    )

    o = options
    zone = resolve_zone(o["tz"])
    check_report_path(o["output"])
    check_weather_options(o["scenarios"], o["seed"])  # (run_plan checks too, inside progress)
    check_night(o["night"])                       # a date, before reading any input
    inputs = load_inputs(_element_files(o["tle"], o["norad"]), o["stations"], o["station"],
                         o["start"], _days_default(o["days"], o["end"]), o["end"],
                         allow_stale=o["allow_stale"], warn_age_days=o["warn_age_days"])
    check_night(o["night"], (inputs.start, inputs.end))   # one of the period's nights
    wanted = (default_demands(inputs, o["demand"], o["demands"]) if main_job
              else demands_for(inputs, o["demand"], o["demands"]))
    _warn(inputs.warnings)
    known = len(inputs.warnings)
    if main_job:
        names = ", ".join(inputs.catalogue.name(k) for k in inputs.catalogue.satellites)
        stdout.print(styled(("qkdplan plan", "bold"), f": {names}; "
                            f"{plural(len(inputs.stations), 'station')}; "
                            f"{inputs.start:%Y-%m-%d %H:%M} UTC + {plural(inputs.days, 'day')}; "
                            f"relay {', '.join(d.label for d in wanted) or 'none'}"),
                     soft_wrap=False)
    with _Steps() as step:
        run = run_plan(inputs, demands=wanted, output=o["output"], payload_file=o["payload"],
                       payload_name=o["payload_name"],
                       solver=None if o["solver"] is None else o["solver"].value,
                       scenarios=o["scenarios"], seed=o["seed"], night=o["night"], zone=zone,
                       min_elevation_deg=o["min_elevation"], step=step)
    _warn(inputs.warnings[known:])
    if main_job:
        keys = run.keys.table
        night_keys = keys[keys["night"]]
        stdout.print(f"{len(keys)} passes, {len(night_keys)} at night, "
                     f"{int((night_keys['secure_bits'] > 0).sum())} yielding key; expected "
                     f"{night_keys['expected_secure_bits'].sum() / 1e6:.2f} Mbit at night "
                     f"(weather as clear-sky probability)", soft_wrap=False)
        _print_tonight(run, inputs, zone)
        if run.plan is not None:
            _print_plan(run.plan, [], "Relay plan")
        stdout.print(styled(f"report: {run.report_files['html']}"))
    else:
        for kind, path in run.report_files.items():
            stdout.print(styled(f"{kind}: {path}"))


@app.command(short_help="The main job: tonight's passes, relay plan, report.")
def plan(
    tle: TleOption = None,
    norad: NoradOption = None,
    stations: StationsOption = None,
    station: StationOption = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
    min_elevation: MinElevationOption = None,
    demand: DemandOption = None,
    demands: DemandsFileOption = None,
    output: ReportOutputOption = Path("qkdplan-report.html"),
    solver: SolverOption = None,
    scenarios: ScenariosOption = 200,
    seed: SeedOption = 0,
    night: NightOption = None,
    payload: PayloadOption = None,
    payload_name: PayloadNameOption = None,
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
    tz: TzOption = "local",
) -> None:
    """The main job: tonight's passes with expected key, the relay plan (default
    Beijing:Stellenbosch), and the key-budget report."""
    _report_job(locals(), main_job=True)


@app.command(short_help="Key-budget report (HTML and tables).")
def report(
    tle: TleOption = None,
    norad: NoradOption = None,
    stations: StationsOption = None,
    station: StationOption = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
    min_elevation: MinElevationOption = None,
    demand: DemandOption = None,
    demands: DemandsFileOption = None,
    output: ReportOutputOption = Path("qkdplan-report.html"),
    solver: SolverOption = None,
    scenarios: ScenariosOption = 200,
    seed: SeedOption = 0,
    night: NightOption = None,
    payload: PayloadOption = None,
    payload_name: PayloadNameOption = None,
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
    tz: TzOption = "local",
) -> None:
    """Key-budget report (HTML + tables) for any selection and period; a relay plan only
    for the demands named."""
    _report_job(locals(), main_job=False)
