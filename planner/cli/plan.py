"""``qkdplan plan`` (the main job) and ``qkdplan report``: passes, keys, relay plan, report."""

from __future__ import annotations

from pathlib import Path

from planner.cli.lazy import lazy_module
from planner.cli.root import (
    AllowStaleOption,
    DaysOption,
    DemandOption,
    DemandsFileOption,
    EndOption,
    NightOption,
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
    WarnAgeOption,
    _days_default,
    _print_frame,
    _warn,
    app,
    stderr,
    stdout,
)
from planner.cli.schedule import _print_plan

pd = lazy_module("pandas")      # (start-up: see planner/cli/lazy.py)


class _Steps:
    """Progress display of the main job's stages on standard error."""

    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                 TimeElapsedColumn(), console=stderr)
        self.current = None

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __call__(self, name: str) -> None:
        self._finish()
        self.current = self.progress.add_task(name, total=None)

    def _finish(self) -> None:
        if self.current is not None:
            self.progress.update(self.current, total=1, completed=1)

    def __exit__(self, *exc) -> None:
        self._finish()
        self.progress.__exit__(*exc)


def _default_demands(inputs, texts, demands_file):
    """The Beijing-Stellenbosch relay when none is named and both stations are selected."""
    from planner.run.pipeline import DEFAULT_DEMANDS, demands_for

    if texts or demands_file:
        return demands_for(inputs, texts, demands_file)
    names = {s.name for s in inputs.stations}
    usable = [d for d in DEFAULT_DEMANDS if set(d.split(":")) <= names]
    return demands_for(inputs, usable)


def _print_tonight(run, inputs) -> None:
    keys = run.keys.table
    night = keys[keys["night"] & (keys["aos_utc"] < pd.Timestamp(inputs.start)
                                  + pd.Timedelta(hours=24))]
    chosen = set() if run.plan is None else set(run.plan.passes.index)
    by_name = {s.name: s for s in inputs.stations}
    if night.empty:
        stdout.print("No night passes in the first 24 hours.")
        return
    view = pd.DataFrame({
        "station": night["station"],
        "AOS local": [f"{t.tz_convert(by_name[s].tz):%Y-%m-%d %H:%M}" for s, t in
                      zip(night["station"], night["aos_utc"], strict=True)],
        "AOS UTC": night["aos_utc"].dt.strftime("%H:%M:%S"),
        "max el°": night["max_elevation_deg"].round(1),
        "point az°": night["aos_azimuth_deg"].round(0),
        "secure kbit": (night["secure_bits"] / 1e3).round(0),
        "clear sky": night["clear_sky_probability"].round(2),
        "expected kbit": (night["expected_secure_bits"] / 1e3).round(0),
        "in relay plan": ["yes" if i in chosen else "" for i in night.index],
    })
    _print_frame(view, "Tonight's passes (first 24 hours of the period)")


def _report_job(options: dict, *, main_job: bool) -> None:
    """``plan`` and ``report``: one pipeline; the main job adds defaults and a summary."""
    from planner.report.page import check_report_path
    from planner.run.pipeline import demands_for, load_inputs, run_plan

    o = options
    check_report_path(o["output"])
    inputs = load_inputs(o["tle"], o["stations"], o["station"], o["start"],
                         _days_default(o["days"], o["end"]), o["end"],
                         allow_stale=o["allow_stale"], warn_age_days=o["warn_age_days"])
    wanted = (_default_demands(inputs, o["demand"], o["demands"]) if main_job
              else demands_for(inputs, o["demand"], o["demands"]))
    _warn(inputs.warnings)
    known = len(inputs.warnings)
    if main_job:
        names = ", ".join(inputs.catalogue.name(k) for k in inputs.catalogue.satellites)
        stdout.print(f"[bold]qkdplan plan[/bold]: {names}; {len(inputs.stations)} stations; "
                     f"{inputs.start:%Y-%m-%d %H:%M} UTC + {inputs.days:g} days; relay "
                     f"{', '.join(d.label for d in wanted) or 'none'}", highlight=False)
    with _Steps() as step:
        run = run_plan(inputs, demands=wanted, output=o["output"], payload_file=o["payload"],
                       payload_name=o["payload_name"],
                       solver=None if o["solver"] is None else o["solver"].value,
                       scenarios=o["scenarios"], seed=o["seed"], night=o["night"], step=step)
    _warn(inputs.warnings[known:])
    if main_job:
        keys = run.keys.table
        night_keys = keys[keys["night"]]
        stdout.print(f"{len(keys)} passes, {len(night_keys)} at night, "
                     f"{int((night_keys['secure_bits'] > 0).sum())} yielding key; expected "
                     f"{night_keys['expected_secure_bits'].sum() / 1e6:.2f} Mbit at night "
                     f"(weather as clear-sky probability)", highlight=False)
        _print_tonight(run, inputs)
        if run.plan is not None:
            _print_plan(run.plan, [], "Relay plan")
        stdout.print(f"report: {run.report_files['html']}", highlight=False)
    else:
        for kind, path in run.report_files.items():
            stdout.print(f"{kind}: {path}", highlight=False)


@app.command()
def plan(
    tle: TleOption = None,
    stations: StationsOption = None,
    station: StationOption = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
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
) -> None:
    """The main job: tonight's passes with expected key, the relay plan (default
    Beijing:Stellenbosch), and the key-budget report."""
    _report_job(locals(), main_job=True)


@app.command()
def report(
    tle: TleOption = None,
    stations: StationsOption = None,
    station: StationOption = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
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
) -> None:
    """Key-budget report (HTML + tables) for any selection and period; a relay plan only
    for the demands named."""
    _report_job(locals(), main_job=False)
