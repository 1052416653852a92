"""``qkdplan constellation ...``: Walker-delta element sets, and pass searches at scale.

The group registers itself on ``qkdplan`` as this module loads (``cli.root.register_commands``).

The functions raise :class:`planner.errors.OptionError` for bad input, which ``planner.cli.main``
turns into one line on standard error and exit status 2. Like the rest of the CLI they only
parse, call the stages and write.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from planner.cli.flags import executor_flags, flags_named
from planner.cli.root import (
    CsvCommentsOption,
    NoradOption,
    _element_files,
    _emit,
    _warn,
    app,
    stderr,
)
from planner.cli.terminal import styled
from planner.errors import OptionError

constellation_app = typer.Typer(
    help="Constellations: generate Walker-delta element sets; find passes of many satellites "
    "in parallel (processes or Dask) with Parquet output.", no_args_is_help=True,
    rich_markup_mode=None)
app.add_typer(constellation_app, name="constellation",
              short_help="Walker-delta element sets; passes at scale.")


class WalkerFormat(StrEnum):
    tle = "tle"
    omm_json = "omm-json"


class PassFormat(StrEnum):
    csv = "csv"
    json = "json"
    parquet = "parquet"


OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", metavar="FILE",
    help="Write to this file (atomically) instead of standard output.")]
DaskOption = Annotated[str | None, typer.Option(
    "--dask", help="Run on Dask: local:N starts N single-threaded worker processes on "
    "127.0.0.1; tcp://HOST:PORT uses a running scheduler. Needs qkdplan[dask].")]
ProcessesOption = Annotated[int | None, typer.Option(
    "--processes", help="Run on N local worker processes.")]
ChunkDaysOption = Annotated[float | None, typer.Option(
    "--chunk-days", help="Split each satellite's period into chunks of this many days (>= 1). "
    "Default: whole period for csv/json (identical to qkdplan passes), 90 days for parquet.")]


#: Parameters of :func:`planner.run.parquet.write_passes_parquet` and the flags of
#: ``constellation passes`` that set them (the others are in :data:`~planner.cli.flags.RUN_FLAGS`).
PARQUET_FLAGS = {"directory": "--output", "partition_cols": "--partition-by"}

#: Parameters of :func:`planner.elements.walker.walker_delta` and the flags that set them.
WALKER_FLAGS = {name: "--" + name.replace("_", "-") for name in (
    "planes", "per_plane", "phasing", "altitude_km", "inclination_deg", "epoch", "raan0_deg",
    "eccentricity", "bstar", "name_prefix", "norad_base")}


@constellation_app.command("walker", short_help="Write the element sets of a Walker-delta "
                           "constellation.")
def walker_command(
    planes: Annotated[int, typer.Option("--planes", help="Number of orbital planes P.")],
    per_plane: Annotated[int, typer.Option("--per-plane", help="Satellites per plane S.")],
    altitude_km: Annotated[float, typer.Option(
        "--altitude-km", help="Mean altitude [km]: orbit-mean SGP4 geocentric distance minus "
        "6378.135 km (150-40000).")],
    inclination_deg: Annotated[str, typer.Option(
        "--inclination-deg", help="Inclination [deg], 0-180, or 'sso' (sun-synchronous).")],
    epoch: Annotated[str, typer.Option("--epoch", help="Epoch, ISO 8601 UTC.")],
    phasing: Annotated[int, typer.Option(
        "--phasing", help="Walker phasing F in [0, P-1]: planes offset by F*360/(P*S) deg.")] = 0,
    raan0_deg: Annotated[float, typer.Option(
        "--raan0-deg", help="Right ascension of the node of the first plane [deg].")] = 0.0,
    eccentricity: Annotated[float, typer.Option("--eccentricity", help="Mean eccentricity.")
                            ] = 0.0,
    bstar: Annotated[float, typer.Option("--bstar", help="SGP4 drag term [1/earth radii].")
                     ] = 0.0,
    name_prefix: Annotated[str, typer.Option(
        "--name-prefix", help="Names are PREFIX-P<plane>-S<slot>.")] = "WALKER",
    norad_base: Annotated[int, typer.Option(
        "--norad-base", help="Placeholder catalogue number of the first satellite.")] = 90001,
    output_format: Annotated[WalkerFormat, typer.Option("--format", "-f")] = WalkerFormat.tle,
    output: OutputOption = None,
) -> None:
    """Write the element sets of a Walker-delta constellation i: T/P/F (TLE or OMM JSON)."""
    from planner.elements.walker import walker_delta, walker_omm_json, walker_tle_text
    from planner.io.output import check_output_path, provenance

    if output is not None:
        check_output_path(output)
    with flags_named(WALKER_FLAGS):
        records = walker_delta(planes, per_plane, phasing, altitude_km, inclination_deg, epoch,
                               raan0_deg=raan0_deg, eccentricity=eccentricity, bstar=bstar,
                               name_prefix=name_prefix, norad_base=norad_base)
    first = records[0]
    record = provenance(
        constellation=(f"Walker-delta {first.inclination_deg:.4f}: "
                       f"{len(records)}/{planes}/{phasing}"),
        altitude_km=f"{altitude_km:g} (orbit-mean SGP4 radius minus 6378.135 km)",
        inclination=inclination_deg, epoch_utc=f"{first.epoch:%Y-%m-%dT%H:%M:%S.%fZ}",
        mean_motion_rev_per_day=f"{first.mean_motion_rev_per_day:.8f}",
        catalogue_numbers=f"{first.norad}-{records[-1].norad} (placeholders)")
    if output_format is WalkerFormat.tle:
        with flags_named(WALKER_FLAGS):
            text = walker_tle_text(records, record)
    else:
        text = walker_omm_json(records, record)
    _emit(text, output)


@constellation_app.command("passes", short_help="Passes of many satellites, in parallel.")
def passes_command(
    tle: Annotated[list[Path] | None, typer.Option(
        "--tle", metavar="FILE", help="Element-set file (TLE or OMM); repeatable.")] = None,
    norad: NoradOption = None,
    stations: Annotated[Path | None, typer.Option("--stations", metavar="FILE",
                                                  help="Ground-station YAML.")
                        ] = None,
    station: Annotated[list[str] | None, typer.Option(
        "--station", metavar="NAME", help="Use only this station; repeatable.")] = None,
    start: Annotated[str, typer.Option("--start", help="Start, ISO 8601 UTC or 'now'.")] = "now",
    days: Annotated[float | None, typer.Option("--days", help="Length [days] (default 7).")
                    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="End, ISO 8601 UTC.")] = None,
    min_elevation: Annotated[float | None, typer.Option(
        "--min-elevation", help="Minimum elevation for every station [deg].")] = None,
    all_passes: Annotated[bool, typer.Option(
        "--all", help="Include daylight and twilight passes.")] = False,
    refraction: Annotated[bool, typer.Option("--refraction")] = False,
    dask: DaskOption = None,
    processes: ProcessesOption = None,
    chunk_days: ChunkDaysOption = None,
    partition_by: Annotated[list[str] | None, typer.Option(
        "--partition-by", metavar="COLUMN", help="Parquet partition column (satellite, "
        "station, month); repeatable. Default: satellite.")] = None,
    output_format: Annotated[PassFormat, typer.Option("--format", "-f")] = PassFormat.csv,
    output: OutputOption = None,
    allow_stale: Annotated[bool, typer.Option("--allow-stale")] = False,
    csv_comments: CsvCommentsOption = False,
    always_parallel: Annotated[bool, typer.Option(
        "--always-parallel", help="Use --processes/--dask even when the work looks too small "
        "to gain from them (by default it then runs in-process).")] = False,
) -> None:
    """Passes of many satellites over many stations, in parallel; CSV, JSON or Parquet."""
    from planner.io.jsonstream import json_chunks
    from planner.io.output import check_output_path, to_csv
    from planner.run.executors import (
        ExecutorSpec,
        executor_spec,
        find_passes_parallel,
        iter_pass_tables,
        open_executor,
        worth_parallel,
    )
    from planner.run.parquet import check_dataset_directory, write_passes_parquet
    from planner.run.pipeline import load_inputs, run_provenance
    from planner.run.tasks import DEFAULT_CHUNK_DAYS

    if days is not None and end is not None:
        raise OptionError("give --days or --end, not both", field="--days")
    if min_elevation is not None and not 0 <= min_elevation < 90:
        raise OptionError(f"{min_elevation} is outside [0, 90)", field="--min-elevation")
    parquet = output_format is PassFormat.parquet
    if parquet:
        if output is None:
            raise OptionError("--format parquet writes a directory: give --output DIR",
                              field="--output")
        with flags_named(PARQUET_FLAGS):
            check_dataset_directory(output)
    elif output is not None:
        check_output_path(output)
    spec = executor_spec(dask=dask, processes=processes)
    inputs = load_inputs(_element_files(tle, norad), stations, station, start,
                         7.0 if days is None and end is None else days, end,
                         allow_stale=allow_stale)
    chunks = (chunk_days if chunk_days is not None else DEFAULT_CHUNK_DAYS if parquet
              else None)
    tasks = len(inputs.catalogue) * (1 if chunks is None else max(1, int(-(-inputs.days //
                                                                           chunks))))
    gains, why = worth_parallel(spec, len(inputs.catalogue), len(inputs.stations), inputs.days,
                                tasks)
    if not gains and not always_parallel:
        stderr.print(styled(f"running in-process: {why}; --always-parallel to insist"))
        spec = ExecutorSpec()
    options = {"night_only": not all_passes, "refraction": refraction,
               "min_elevation_deg": min_elevation, "executor": spec.describe(),
               "chunk_days": chunk_days if chunk_days is not None or not parquet
               else DEFAULT_CHUNK_DAYS}
    record = run_provenance(inputs, options=options)
    common = {"min_elevation_deg": min_elevation, "refraction": refraction,
              "warnings": inputs.warnings}
    with flags_named(executor_flags(spec.kind)):
        executor = open_executor(spec)
    with executor:
        if parquet:
            pieces = iter_pass_tables(inputs.catalogue, inputs.stations, inputs.start,
                                      inputs.end, executor=executor,
                                      chunk_days=options["chunk_days"], **common)
            if not all_passes:
                pieces = ((i, t[t["night"]]) for i, t in pieces)
            with flags_named(PARQUET_FLAGS):
                write_passes_parquet(pieces, output, partition_by or ["satellite"], record)
            stderr.print(styled("wrote ", str(output)))
        else:
            table = find_passes_parallel(inputs.catalogue, inputs.stations, inputs.start,
                                         inputs.end, executor=executor, chunk_days=chunk_days,
                                         **common)
            if not all_passes:
                table = table[table["night"]].reset_index(drop=True)
            text = (to_csv(table, record, comments=csv_comments)
                    if output_format is PassFormat.csv
                    else json_chunks({"passes": table}, record))  # streamed, as passes does
            _emit(text, output, record)
    _warn(inputs.warnings)
