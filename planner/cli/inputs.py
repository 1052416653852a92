"""``qkdplan stations`` and ``qkdplan tle check``: look at the inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.root import (
    OutputOption,
    StationsOption,
    TableFormat,
    _emit,
    _print_frame,
    app,
    tle_app,
)
from planner.io.output import check_output_path, to_csv, to_json


@app.command("stations")
def stations_command(
    stations: StationsOption = None,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
) -> None:
    """List the ground stations."""
    from planner.io.output import provenance
    from planner.io.resources import bundled_path
    from planner.mission.stations import load_stations, stations_table

    if output is not None:
        check_output_path(output)
    path = stations or bundled_path("ground_stations.yaml")
    table = stations_table(load_stations(path))
    if output_format is TableFormat.table:
        shown = ["name", "latitude_deg", "longitude_deg", "altitude_m", "timezone",
                 "min_elevation_deg", "night_sun_elevation_deg", "telescopes", "aperture_m"]
        _print_frame(table[shown], f"Ground stations ({path.name}; --format csv or json for "
                     "every field)")
        return
    record = provenance(station_file=str(path))
    text = to_csv(table, record) if output_format is TableFormat.csv else to_json(
        {"stations": table}, record)
    _emit(text, output)


@tle_app.command("check")
def tle_check(
    files: Annotated[list[Path], typer.Argument(help="Element-set files to validate.")],
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
) -> None:
    """Validate element-set files and summarise each satellite."""
    from datetime import UTC, datetime

    from planner.elements.elementsets import read_catalogue, summarise
    from planner.io.output import provenance

    if output is not None:
        check_output_path(output)
    catalogue = read_catalogue(files)
    table = summarise(catalogue, datetime.now(UTC))
    if output_format is TableFormat.table:
        _print_frame(table, f"{len(table)} satellite(s), all element sets valid")
        return
    record = provenance(files=[str(f) for f in files])
    text = to_csv(table, record) if output_format is TableFormat.csv else to_json(
        {"satellites": table}, record)
    _emit(text, output)
