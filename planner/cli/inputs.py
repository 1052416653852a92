"""``qkdplan stations`` and ``qkdplan tle check``: look at the inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.root import (
    CsvCommentsOption,
    OutputOption,
    StationsOption,
    TableFormat,
    WarnAgeOption,
    _emit,
    _print_frame,
    _warn,
    app,
    check_output,
    print_table,
    stdout,
    tle_app,
)
from planner.cli.terminal import Column, plural, shown_paths, styled


def _write_table(table, name: str, record: dict, output_format: TableFormat,
                 output: Path | None, csv_comments: bool) -> None:
    from planner.io.output import to_csv, to_json

    text = (to_csv(table, record, comments=csv_comments) if output_format is TableFormat.csv
            else to_json({name: table}, record))
    _emit(text, output, record)


@app.command("stations")
def stations_command(
    stations: StationsOption = None,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
    csv_comments: CsvCommentsOption = False,
) -> None:
    """List the ground stations."""
    from planner.io.output import provenance
    from planner.io.resources import bundled_path, recorded_path
    from planner.mission.stations import load_stations, stations_table

    check_output(output, output_format is TableFormat.table)
    path = stations or bundled_path("ground_stations.yaml")
    table = stations_table(load_stations(path))
    if output_format is TableFormat.table:
        headers = {"name": "name", "latitude_deg": "lat°", "longitude_deg": "lon°",
                   "altitude_m": "alt m", "timezone": "time zone", "min_elevation_deg": "min el°",
                   "night_sun_elevation_deg": "night sun el°", "telescopes": "tel.",
                   "aperture_m": "aperture m"}
        _print_frame(table[list(headers)].rename(columns=headers),
                     f"Ground stations ({path.name}; --format csv or json for every field)")
        return
    _write_table(table, "stations", provenance(station_file=recorded_path(path)),
                 output_format, output, csv_comments)


@tle_app.command("check", short_help="Validate element-set files; flag stale sets.")
def tle_check(
    files: Annotated[list[Path], typer.Argument(metavar="FILE",
                                                help="Element-set files to validate.")],
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
    warn_age_days: WarnAgeOption = 14.0,
    csv_comments: CsvCommentsOption = False,
) -> None:
    """Validate element-set files and summarise each satellite; flag stale sets."""
    from datetime import UTC, datetime

    import pandas as pd

    from planner.elements.elementsets import read_catalogue, summarise
    from planner.io.output import provenance
    from planner.io.resources import recorded_path

    check_output(output, output_format is TableFormat.table)
    catalogue = read_catalogue(files)
    table = summarise(catalogue, datetime.now(UTC))
    table["stale"] = table["age_days"].abs() > warn_age_days
    stale = table[table["stale"]]
    if output_format is TableFormat.table:
        columns = [Column("name"), Column("NORAD", "right"), Column("COSPAR", drop=3),
                   Column("epoch UTC", width=10), Column("age d", "right"),
                   Column("alt km", "right", drop=4), Column("incl°", "right", drop=2),
                   Column("period min", "right", drop=1), Column("file")]
        rows = [[name, "" if pd.isna(norad) else str(norad), cospar or "",
                 f"{epoch:%Y-%m-%d %H:%M}", f"{age:.1f} STALE" if old else f"{age:.1f}",
                 f"{perigee:.0f}–{apogee:.0f}", f"{incl:.2f}", f"{period:.2f}",
                 shown_paths(str(file))]
                for name, norad, cospar, epoch, age, old, perigee, apogee, incl, period, file
                in table[["name", "norad", "intl_designator", "epoch_utc", "age_days", "stale",
                          "perigee_km", "apogee_km", "inclination_deg", "period_min",
                          "source"]].itertuples(index=False)]
        verdict = ("all element sets parse and are fresh" if stale.empty else
                   f"all element sets parse; {len(stale)} STALE (more than {warn_age_days:g} "
                   "days from now: fetch fresh elements)")
        print_table(f"{plural(len(table), 'satellite')}: {verdict}", columns, rows)
    else:
        record = provenance(files=[recorded_path(f) for f in files],
                            stale_after_days=warn_age_days)
        _write_table(table, "satellites", record, output_format, output, csv_comments)
    _warn(f"{name} ({norad}): element set is {age:.0f} days from now (STALE; limit "
          f"{warn_age_days:g} days)" for name, norad, age in
          zip(stale["name"], stale["norad"], stale["age_days"], strict=True))


@app.command("config", short_help="Show the configuration file and its settings.")
def config_command(ctx: typer.Context) -> None:
    """Show which configuration file the commands read, and its settings."""
    from planner.cli.configfile import CONFIG_META
    from planner.io.config import CONFIG_ENV, default_config_path, load_config

    settings, path = ctx.meta.get(CONFIG_META) or load_config(None)
    if path is None:
        stdout.print(styled(f"no configuration file (looked for --config, ${CONFIG_ENV}, then "
                            f"{default_config_path()})"))
        return
    stdout.print(styled(f"configuration file: {path}"))
    for key, value in settings.model_dump(exclude_none=True).items():
        shown = ([v if isinstance(v, int | float) else str(v) for v in value]
                 if isinstance(value, list) else value if isinstance(value, int | float)
                 else str(value))
        stdout.print(styled(f"  {key} = {shown}"))
