"""``qkdplan sweep``: the key budget across design axes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.flags import executor_flags, flags_named
from planner.cli.root import (
    CsvCommentsOption,
    OutputOption,
    TableFormat,
    _emit,
    _print_frame,
    app,
    check_output,
    stderr,
)
from planner.cli.terminal import plural, styled
from planner.errors import OptionError

CASE_COST_FACTOR = 2.8
"""A sweep case's cost against finding its passes alone [A]: the key of every pass adds about
1.7-2.9 times the pass finding (benchmarks/keys.py), so a case costs ~2.8 pass searches."""


def _in_process_if_small(spec, plan):
    """In-process, with a note, when local workers would not pay for their start-up
    (:func:`planner.run.executors.worth_parallel`; each case weighs as one satellite over
    the base stations for ``CASE_COST_FACTOR`` times the period)."""
    from planner.run.executors import ExecutorSpec, worth_parallel

    cases = sum(len(values) for values in plan.axes.values())
    stations = len(plan.stations) if plan.stations else 12
    gains, why = worth_parallel(spec, cases, stations, plan.days * CASE_COST_FACTOR, cases)
    if gains:
        return spec
    stderr.print(styled(f"running in-process: {why}; --always-parallel to insist"))
    return ExecutorSpec()


def _sweep_view(table):
    """The sweep table as people read it: headers in words, key in kbit or Mbit with one
    format per column (the CSV keeps bits)."""
    view = table.drop(columns=["secure_bits", "expected_secure_bits",
                               "weakest_station_expected_bits_per_night"])
    view = view.rename(columns=lambda c: c.replace("_", " "))
    return view.assign(**{
        "secure Mbit": (table["secure_bits"] / 1e6).round(2),
        "exp. Mbit": (table["expected_secure_bits"] / 1e6).round(2),
        "weakest station exp. kbit/night":
            (table["weakest_station_expected_bits_per_night"] / 1e3).round(1)})


@app.command(short_help="Design sweep of the key budget over payload axes.")
def sweep(
    file: Annotated[Path | None, typer.Argument(
        metavar="FILE",
        help="Sweep YAML: base case and axes (qkdplan sweep --example prints one).")] = None,
    example: Annotated[bool, typer.Option(
        "--example", help="Print a starting sweep file and exit.")] = False,
    dask: Annotated[str | None, typer.Option(
        "--dask", help="local:N (a LocalCluster on 127.0.0.1) or tcp://HOST:PORT.")] = None,
    processes: Annotated[int | None, typer.Option(
        "--processes", help="Run the cases on N local processes.")] = None,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", metavar="FILE",
        help="Write the key budget against each axis as an HTML plot.")] = None,
    csv_comments: CsvCommentsOption = False,
    always_parallel: Annotated[bool, typer.Option(
        "--always-parallel", help="Use --processes/--dask even when the sweep looks too small "
        "to gain from them (by default it then runs in-process).")] = False,
) -> None:
    """Design sweep: the key budget as each axis (aperture, divergence, minimum elevation,
    station subset, number of satellites) varies from the base case."""
    from planner.io.output import check_output_path, provenance, to_csv, to_json, write_atomic
    from planner.run.executors import executor_spec, open_executor
    from planner.run.sweep import (
        EXAMPLE_SWEEP_YAML,
        load_sweep,
        run_sweep,
        sweep_figure_html,
    )

    if example:
        _emit(EXAMPLE_SWEEP_YAML, output)
        return
    if file is None:
        raise OptionError("give a sweep file (qkdplan sweep --example > sweep.yaml writes one "
                          "to start from)", field="FILE")
    for path, option in ((output, "--output"), (plot, "--plot")):
        if path is not None:
            check_output_path(path, option)
    check_output(output, output_format is TableFormat.table)
    spec = executor_spec(dask, processes)
    plan = load_sweep(file)
    if not always_parallel:
        spec = _in_process_if_small(spec, plan)
    with flags_named(executor_flags(spec.kind)):
        executor = open_executor(spec)
    with executor:
        table = run_sweep(plan, executor)
    if plot is not None:
        write_atomic(plot, sweep_figure_html(table), "--plot")
        stderr.print(styled("wrote ", str(plot)))
    if output_format is TableFormat.table:
        _print_frame(_sweep_view(table), f"Sweep {file}: key per case over "
                     f"{plural(plan.days, 'day')}; exp.: expected with weather")
        return
    record = provenance(sweep_file=str(file), axes=plan.axes, days=plan.days,
                        start=str(plan.start), payload=plan.payload)
    text = (to_csv(table, record, comments=csv_comments) if output_format is TableFormat.csv
            else to_json({"sweep": table}, record))
    _emit(text, output, record)
