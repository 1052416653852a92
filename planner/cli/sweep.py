"""``qkdplan sweep``: the key budget across design axes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.root import (
    OutputOption,
    TableFormat,
    _emit,
    _print_frame,
    app,
    stderr,
)
from planner.io.output import check_output_path, to_csv, to_json, write_atomic


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="Sweep YAML: base case and axes (see "
                                         "planner/run/sweep.py).")],
    dask: Annotated[str | None, typer.Option(
        "--dask", help="local:N (a LocalCluster on 127.0.0.1) or tcp://HOST:PORT.")] = None,
    processes: Annotated[int | None, typer.Option(
        "--processes", help="Run the cases on N local processes.")] = None,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Write the key budget against each axis as an HTML plot.")] = None,
) -> None:
    """Design sweep: the key budget as each axis (aperture, divergence, minimum elevation,
    station subset, number of satellites, ...) varies from the base case."""
    from planner.io.output import provenance
    from planner.run.sweep import (
        check_sweep_executor_option,
        load_sweep,
        run_sweep,
        sweep_figure_html,
    )

    for path, option in ((output, "--output"), (plot, "--plot")):
        if path is not None:
            check_output_path(path, option)
    spec = check_sweep_executor_option(dask, processes)
    plan = load_sweep(file)
    table = run_sweep(plan, spec)
    if plot is not None:
        write_atomic(plot, sweep_figure_html(table), "--plot")
        stderr.print(f"wrote {plot}")
    if output_format is TableFormat.table:
        view = table.assign(secure_Mbit=(table["secure_bits"] / 1e6).round(2),
                            expected_Mbit=(table["expected_secure_bits"] / 1e6).round(2))
        _print_frame(view.drop(columns=["secure_bits", "expected_secure_bits"]),
                     f"Sweep {file.name}")
        return
    record = provenance(sweep_file=str(file), axes=plan.axes, days=plan.days,
                        start=str(plan.start), payload=plan.payload)
    text = (to_csv(table, record) if output_format is TableFormat.csv
            else to_json({"sweep": table}, record))
    _emit(text, output)
