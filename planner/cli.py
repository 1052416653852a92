"""The ``qkdplan`` command line: parse, call the stages, print or write. Nothing else.

Exit status: 0 on success, 2 on bad input or usage (one line naming the file, line and field),
1 on an internal error (a bug: set ``QKDPLAN_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from planner import __version__
from planner.errors import OptionError, PlannerInputError
from planner.output import check_output_path, to_csv, to_ics, to_json, write_atomic

app = typer.Typer(
    name="qkdplan",
    help="Plan satellite-to-ground quantum key distribution: passes, key volume, trusted relay.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
tle_app = typer.Typer(help="Element sets: check files, fetch fresh ones from CelesTrak.",
                      no_args_is_help=True)
app.add_typer(tle_app, name="tle")

# tables are wider than 80 columns: give them room when the output is not a terminal
stdout = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)
stderr = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    ics = "ics"


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


TleOption = Annotated[list[Path] | None, typer.Option(
    "--tle", help="Element-set file (TLE, 3LE, OMM JSON/CSV/XML/KVN); repeatable. "
    "Default: the bundled representative Jinan-1 set.")]
StationsOption = Annotated[Path | None, typer.Option(
    "--stations", help="Ground-station YAML. Default: the bundled ground_stations.yaml.")]
StationOption = Annotated[list[str] | None, typer.Option(
    "--station", help="Use only this station (case-insensitive); repeatable.")]
StartOption = Annotated[str, typer.Option(
    "--start", help="Start of the period: ISO 8601 UTC (e.g. 2026-11-24T12:00Z) or 'now'.")]
DaysOption = Annotated[float | None, typer.Option(
    "--days", help="Length of the period [days] (default 7).")]
EndOption = Annotated[str | None, typer.Option(
    "--end", help="End of the period, ISO 8601 UTC (instead of --days).")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write to this file (atomically) instead of standard output.")]
AllowStaleOption = Annotated[bool, typer.Option(
    "--allow-stale", help="Use element sets more than 365 days from the period anyway.")]
WarnAgeOption = Annotated[float, typer.Option(
    "--warn-age-days", help="Warn when an element set is older than this [days].")]


DemandOption = Annotated[list[str] | None, typer.Option(
    "--demand", help="Station pair needing key: A:B[:weight[:target_bits]]; repeatable.")]
DemandsFileOption = Annotated[Path | None, typer.Option(
    "--demands", help="YAML file of demands (station_a, station_b, weight, target_bits).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the weather scenarios.")]


class Objective(StrEnum):
    total = "total"
    fair = "fair"
    earliest = "earliest"


class Solver(StrEnum):
    milp = "milp"
    greedy = "greedy"
    rolling = "rolling"


ReportOutputOption = Annotated[Path, typer.Option(
    "--output", "-o", help="The HTML report (its tables are written beside it).")]
SolverOption = Annotated[Solver | None, typer.Option(
    "--solver", help="Relay solver; default milp up to 31 days, rolling beyond.")]
ScenariosOption = Annotated[int, typer.Option(
    "--scenarios", help="Weather scenarios for the P10/P50/P90 of delivered key.")]
NightOption = Annotated[str | None, typer.Option(
    "--night", help="Night (YYYY-MM-DD) of the report's sky plot; default the best one.")]
PayloadOption = Annotated[Path | None, typer.Option(
    "--payload", help="Payload YAML. Default: the bundled payloads.yaml.")]
PayloadNameOption = Annotated[str | None, typer.Option(
    "--payload-name", help="Use this payload for every satellite (default: by name).")]


def _version(value: bool) -> None:
    if value:
        stdout.print(f"qkdplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version.")] = False):
    """Plan satellite-to-ground QKD missions."""


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(output, text)
        stderr.print(f"wrote {output}")


def _warn(messages) -> None:
    for message in messages:
        stderr.print(f"[yellow]warning:[/yellow] {message}", highlight=False)


def _days_default(days: float | None, end: str | None) -> float | None:
    if days is not None and end is not None:
        raise OptionError("give --days or --end, not both", field="--days")
    return 7.0 if days is None and end is None else days


def _local(ts: pd.Timestamp, tz) -> str:
    return ts.tz_convert(tz).strftime("%H:%M:%S")


def _age_cell(age_days: float, stale_days: float) -> str:
    """Element-set age, flagged when past the warning limit."""
    return f"{age_days:.1f} STALE" if age_days > stale_days else f"{age_days:.1f}"


def _print_pass_tables(passes: pd.DataFrame, stations, title: str,
                       stale_days: float = 14.0) -> None:
    by_name = {s.name: s for s in stations}
    if passes.empty:
        stdout.print(f"{title}: no passes in the period.")
        return
    for (station_name, satellite), group in passes.groupby(["station", "satellite"],
                                                           sort=False):
        station = by_name[station_name]
        tz = station.tz
        table = Table(title=f"{title}: {satellite} over {station_name} "
                      f"(local time {station.timezone})", title_justify="left",
                      header_style="bold")
        for column, justify in (("date UTC", "left"), ("AOS–TCA–LOS UTC", "left"),
                                ("AOS–LOS local", "left"), ("dur s", "right"),
                                ("max el°", "right"), ("az° AOS→TCA→LOS", "right"),
                                ("range km", "right"), ("sun el°", "right"),
                                ("night", "center"), ("age d", "right")):
            table.add_column(column, justify=justify)
        for row in group.itertuples(index=False):
            table.add_row(
                row.aos_utc.strftime("%Y-%m-%d"),
                f"{row.aos_utc:%H:%M:%S} {row.tca_utc:%H:%M:%S} {row.los_utc:%H:%M:%S}",
                f"{_local(row.aos_utc, tz)}–{_local(row.los_utc, tz)}",
                f"{row.duration_s:.0f}", f"{row.max_elevation_deg:.1f}",
                f"{row.aos_azimuth_deg:.0f}→{row.tca_azimuth_deg:.0f}→{row.los_azimuth_deg:.0f}",
                f"{row.min_range_km:.0f}", f"{row.sun_elevation_deg:.1f}",
                "yes" if row.night else "no", _age_cell(row.element_age_days, stale_days))
        stdout.print(table)


def pass_events(passes: pd.DataFrame, stale_days: float = 14.0) -> list[dict]:
    """Calendar events of a pass table (one per pass); stale element sets are flagged."""
    events = []
    for row in passes.itertuples(index=False):
        stale = (f"STALE ELEMENTS ({row.element_age_days:.0f} d old): times may be off by "
                 "seconds or more; " if row.element_age_days > stale_days else "")
        events.append({
            "uid_key": f"{row.satellite}|{row.station}|{row.aos_utc.isoformat()}",
            "start": row.aos_utc, "end": row.los_utc,
            "summary": f"{row.satellite} over {row.station}, max {row.max_elevation_deg:.0f}°",
            "description": (
                f"{stale}AOS {row.aos_utc:%H:%M:%S} UTC az {row.aos_azimuth_deg:.0f}°; "
                f"TCA {row.tca_utc:%H:%M:%S} UTC el {row.max_elevation_deg:.1f}° "
                f"az {row.tca_azimuth_deg:.0f}°; LOS {row.los_utc:%H:%M:%S} UTC "
                f"az {row.los_azimuth_deg:.0f}°; min range {row.min_range_km:.0f} km; "
                f"sun {row.sun_elevation_deg:.1f}°; element set {row.element_age_days:.1f} d old"),
            "location": str(row.station),
        })
    return events


@app.command()
def passes(
    tle: TleOption = None,
    stations: StationsOption = None,
    station: StationOption = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
    min_elevation: Annotated[float | None, typer.Option(
        "--min-elevation", help="Minimum elevation for every station [deg] (overrides each "
        "station's own).")] = None,
    all_passes: Annotated[bool, typer.Option(
        "--all", help="Include daylight and twilight passes (default: night passes only).")
    ] = False,
    refraction: Annotated[bool, typer.Option(
        "--refraction", help="Use apparent (refracted) elevations.")] = False,
    output_format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    output: OutputOption = None,
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
) -> None:
    """Predict passes: rise, culmination, set, azimuths, range, darkness, element age."""
    from planner.jobs import load_inputs, passes_for, run_provenance

    if output is not None:
        check_output_path(output)
    inputs = load_inputs(tle, stations, station, start, _days_default(days, end), end,
                         allow_stale=allow_stale, warn_age_days=warn_age_days)
    _warn(inputs.warnings)
    known = len(inputs.warnings)
    table = passes_for(inputs, min_elevation_deg=min_elevation, night_only=not all_passes,
                       refraction=refraction)
    _warn(inputs.warnings[known:])
    options = {"night_only": not all_passes, "refraction": refraction,
               "min_elevation_deg": min_elevation}
    if output_format is Format.table:
        title = "Night passes" if not all_passes else "Passes"
        if output is not None:
            raise OptionError("--format table prints to the terminal; use csv, json or ics "
                              "with --output", field="--format")
        _print_pass_tables(table, inputs.stations, title, stale_days=warn_age_days)
        return
    provenance = run_provenance(inputs, options=options)
    if output_format is Format.csv:
        text = to_csv(table, provenance)
    elif output_format is Format.json:
        text = to_json({"passes": table}, provenance)
    else:
        text = to_ics(pass_events(table, warn_age_days), calendar_name="qkdplan passes",
                      stamp=inputs.start)
    _emit(text, output)


def _key_view(table: pd.DataFrame) -> pd.DataFrame:
    """The key table as people read it: kbit, percent, rounded."""
    view = pd.DataFrame({
        "station": table["station"],
        "AOS UTC": table["aos_utc"].dt.strftime("%Y-%m-%d %H:%M:%S"),
        "max el°": table["max_elevation_deg"].round(1),
        "loss dB": [f"{a:.1f}–{b:.1f}" if pd.notna(a) else "—"
                    for a, b in zip(table["min_loss_db"], table["max_loss_db"], strict=True)],
        "detections": table["detections"].round(0).astype("Int64"),
        "QBER %": (100 * table["qber"]).round(2),
        "secure kbit": (table["secure_bits"] / 1e3).round(1),
        "asymptotic kbit": (table["secure_bits_asymptotic"] / 1e3).round(1),
        "clear sky": table["clear_sky_probability"].round(2),
        "expected kbit": (table["expected_secure_bits"] / 1e3).round(1),
    })
    return view


@app.command()
def keys(
    tle: TleOption = None,
    stations: StationsOption = None,
    station: StationOption = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
    payload: PayloadOption = None,
    payload_name: PayloadNameOption = None,
    pool: Annotated[int, typer.Option(
        "--pool", help="Pool N consecutive passes of a station into one finite-key block.")
    ] = 1,
    optimise: Annotated[bool, typer.Option(
        "--optimise", help="Design study: search the decoy settings on the median pass.")
    ] = False,
    fluctuation: Annotated[str, typer.Option(
        "--fluctuation", help="Finite-size bound: chernoff (Yin 2020) or hoeffding.")
    ] = "chernoff",
    ec_leakage: Annotated[str, typer.Option(
        "--ec-leakage", help="Error-correction leakage: fixed (f_EC n h(Q)) or finite "
        "(Tomamichel 2017).")] = "fixed",
    loss_csv: Annotated[Path | None, typer.Option(
        "--loss-csv", help="Key of one measured pass: CSV with time_s, loss_db "
        "[, elevation_deg].")] = None,
    all_passes: Annotated[bool, typer.Option("--all", help="Include daylight passes.")
                          ] = False,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
) -> None:
    """Secure key per pass: link loss, detections, QBER, finite-key and asymptotic key."""
    from planner.jobs import keys_for, load_inputs, passes_for, run_provenance

    if output is not None:
        check_output_path(output)
    if loss_csv is not None:
        _loss_curve_key(loss_csv, payload, payload_name, stations, station, fluctuation,
                        ec_leakage, output_format, output)
        return
    inputs = load_inputs(tle, stations, station, start, _days_default(days, end), end,
                         allow_stale=allow_stale, warn_age_days=warn_age_days)
    _warn(inputs.warnings)
    known = len(inputs.warnings)
    passes_table = passes_for(inputs, night_only=not all_passes)
    run = keys_for(inputs, passes_table, payload_file=payload, payload_name=payload_name,
                   pool=pool, fluctuation=fluctuation, ec_leakage=ec_leakage,
                   optimise=optimise)
    _warn(inputs.warnings[known:])
    table = run.table
    if run.optimisation is not None:
        o = run.optimisation
        stderr.print(
            f"optimised {o['payload']} on the {o['reference_pass']['station']} pass of "
            f"{o['reference_pass']['aos_utc']} (max {o['reference_pass']['max_elevation_deg']:.1f}"
            f"°): intensities {', '.join(f'{x:.3f}' for x in o['intensities'])}, "
            f"probabilities {', '.join(f'{x:.3f}' for x in o['probabilities'])}, basis bias "
            f"{o['basis_bias']:.3f}; total key {o['secure_bits_before'] / 1e6:.2f} → "
            f"{o['secure_bits_after'] / 1e6:.2f} Mbit", highlight=False)
    if output_format is TableFormat.table:
        if output is not None:
            raise OptionError("--format table prints to the terminal; use csv or json with "
                              "--output", field="--format")
        _print_frame(_key_view(table), f"Secure key per pass ({len(table)} passes; total "
                     f"{table['secure_bits'].sum() / 1e6:.2f} Mbit finite-key, expected "
                     f"{table['expected_secure_bits'].sum() / 1e6:.2f} Mbit with weather)")
        return
    provenance = run_provenance(inputs, key_models=run.models,
                                options={"pool": pool, "fluctuation": fluctuation,
                                         "ec_leakage": ec_leakage,
                                         "night_only": not all_passes},
                                optimisation=run.optimisation)
    columns = [c for c in table.columns if not c.startswith("_")]
    text = (to_csv(table[columns], provenance) if output_format is TableFormat.csv
            else to_json({"keys": table[columns]}, provenance))
    _emit(text, output)


def _loss_curve_key(loss_csv, payload_file, payload_name, stations_file, station_names,
                    fluctuation, ec_leakage, output_format, output) -> None:
    from planner.keys import key_from_loss_curve, read_loss_csv
    from planner.output import provenance
    from planner.payloads import get_payload, load_payloads
    from planner.stations import load_stations, select_stations

    time_s, loss_db, elevation_deg = read_loss_csv(loss_csv)
    payloads = load_payloads(payload_file)
    if payload_name is None and len(payloads) != 1:
        raise OptionError(f"name the payload of this pass (one of {', '.join(payloads)})",
                          field="--payload-name")
    chosen = get_payload(payloads, payload_name or next(iter(payloads)))
    receiver = None
    if station_names:
        if len(station_names) != 1:
            raise OptionError("a loss curve belongs to one station", field="--station")
        receiver = select_stations(load_stations(stations_file), station_names)[0]
    result = key_from_loss_curve(time_s, loss_db, chosen, receiver, elevation_deg,
                                 fluctuation=fluctuation, ec_leakage=ec_leakage)
    frame = pd.DataFrame([result])
    if output_format is TableFormat.table:
        _print_frame(frame, f"Key of the pass in {loss_csv.name} ({chosen.name})")
        return
    record = provenance(loss_csv=str(loss_csv), payload=chosen.name,
                        station=None if receiver is None else receiver.name,
                        options={"fluctuation": fluctuation, "ec_leakage": ec_leakage})
    text = (to_csv(frame, record) if output_format is TableFormat.csv
            else to_json({"key": frame}, record))
    _emit(text, output)


def _plan_keys(inputs, payload, payload_name):
    """Night passes and their key table, the scheduler's input."""
    from planner.jobs import keys_for, passes_for

    night = passes_for(inputs, night_only=True)
    return keys_for(inputs, night, payload_file=payload, payload_name=payload_name)


def _station_sheets(plan, keys: pd.DataFrame, stations, names, first_night_only: bool
                    ) -> list[tuple[object, pd.DataFrame]]:
    from planner.schedule import station_night_sheet

    chosen = [s for s in stations if not names or s.name.casefold() in
              {n.casefold() for n in names}]
    sheets = []
    for station in chosen:
        sheet = station_night_sheet(plan, keys, station.name)
        if first_night_only and not sheet.empty:
            sheet = sheet[sheet["night_date"] == sheet["night_date"].iloc[0]]
        sheets.append((station, sheet))
    return sheets


def _print_plan(plan, sheets, title: str) -> None:
    gap = "n/a" if plan.gap is None else f"{100 * plan.gap:.3f}%"
    stdout.print(f"[bold]{title}[/bold]: objective {plan.objective}, solver {plan.method} "
                 f"({plan.status}, gap {gap}, {plan.wall_time_s:.1f} s)", highlight=False)
    delivered = plan.delivered.reset_index()
    def kbit(values) -> list[str]:
        return ["—" if pd.isna(v) else f"{v / 1e3:.1f}" for v in values]

    view = pd.DataFrame({
        "demand": delivered["demand"],
        "delivered kbit": kbit(delivered["delivered_bits"]),
        "target kbit": kbit(delivered["target_bits"]),
        "unmet kbit": kbit(delivered["unmet_bits"]),
        "complete (UTC)": ["" if pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")
                           for t in delivered["completion_utc"]],
    })
    if plan.weather is not None:
        weather = plan.weather.reindex(delivered["demand"]).reset_index(drop=True)
        for column in ("p10_bits", "p50_bits", "p90_bits"):
            if column in weather:
                view[f"{column[:3].upper()} weather kbit"] = kbit(weather[column])
    _print_frame(view, "Relay key per demand (planned on expected key)")
    if not plan.relays.empty:
        relays = plan.relays
        _print_frame(pd.DataFrame({
            "time UTC": pd.to_datetime(relays["time_utc"], utc=True).dt.strftime(
                "%Y-%m-%d %H:%M:%S"),
            "demand": relays["demand"], "via": relays["via"],
            "from": relays["from_station"], "to": relays["to_station"],
            "kbit": (relays["bits"] / 1e3).round(1)}), "Relay operations")
    for station, sheet in sheets:
        if sheet.empty:
            stdout.print(f"{station.name}: no passes chosen.")
            continue
        tz = station.tz
        _print_frame(pd.DataFrame({
            "night": sheet["night_date"].astype(str),
            "AOS local": [t.tz_convert(tz).strftime("%H:%M:%S") for t in sheet["aos_utc"]],
            "AOS UTC": sheet["aos_utc"].dt.strftime("%H:%M:%S"),
            "LOS UTC": sheet["los_utc"].dt.strftime("%H:%M:%S"),
            "point az°": sheet["aos_azimuth_deg"].round(1),
            "point el°": station.min_elevation_deg,
            "max el°": sheet["max_elevation_deg"].round(1),
            "satellite": sheet["satellite"],
            "expected kbit": (sheet["expected_secure_bits"] / 1e3).round(1),
        }), f"{station.name}: passes to take (local time {station.timezone}; point at "
            "acquisition)")


def plan_events(sheets) -> list[dict]:
    """Calendar events of the chosen passes, one per pass and station."""
    events = []
    for station, sheet in sheets:
        for pass_id, row in sheet.iterrows():
            events.append({
                "uid_key": f"plan|{station.name}|{pass_id}|{row.aos_utc.isoformat()}",
                "start": row.aos_utc, "end": row.los_utc,
                "summary": f"QKD {row.satellite} at {station.name}: "
                           f"{row.expected_secure_bits / 1e3:.0f} kbit expected",
                "description": (f"Point at azimuth {row.aos_azimuth_deg:.1f}°, elevation "
                                f"{station.min_elevation_deg:.1f}° at {row.aos_utc:%H:%M:%S} "
                                f"UTC; culminates at {row.max_elevation_deg:.1f}°; "
                                f"sets {row.los_utc:%H:%M:%S} UTC"),
                "location": station.name})
    return events


@app.command()
def schedule(
    tle: TleOption = None,
    stations: StationsOption = None,
    station: Annotated[list[str] | None, typer.Option(
        "--station", help="Print (or write) the night sheet of this station; repeatable. "
        "Planning always uses every station of the station file.")] = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
    demand: DemandOption = None,
    demands: DemandsFileOption = None,
    objective: Annotated[Objective, typer.Option("--objective")] = Objective.total,
    solver: Annotated[Solver, typer.Option("--solver")] = Solver.milp,
    memory_bits: Annotated[float | None, typer.Option(
        "--memory-bits", help="On-board key memory per satellite [bit] (default 1e9).")] = None,
    gap_s: Annotated[float | None, typer.Option(
        "--gap-s", help="Re-pointing gap between passes of one satellite [s] (default 120).")
    ] = None,
    reserve_bits: Annotated[float, typer.Option(
        "--reserve-bits", help="Key each link keeps for authentication [bit].")] = 0.0,
    fibre: Annotated[list[str] | None, typer.Option(
        "--fibre", help="Ground fibre QKD link A:B:RATEbps or A:B:LENGTHkm; repeatable.")
    ] = None,
    unavailable: Annotated[list[str] | None, typer.Option(
        "--unavailable", help="STATION:YYYY-MM-DD night a station cannot observe; "
        "repeatable.")] = None,
    scenarios: Annotated[int | None, typer.Option(
        "--scenarios", help="Evaluate the plan over N sampled weather scenarios.")] = None,
    seed: SeedOption = 0,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", help="Solver time limit [s].")] = 60.0,
    tonight: Annotated[bool, typer.Option(
        "--tonight", help="Only the first night's sheet of each --station.")] = False,
    payload: PayloadOption = None,
    payload_name: PayloadNameOption = None,
    output_format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    output: OutputOption = None,
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
) -> None:
    """Trusted-relay plan: which passes to use and when the satellite relays stored key."""
    from planner.jobs import demands_for, load_inputs, run_provenance, schedule_for
    from planner.schedule import plan_to_json

    if output is not None:
        check_output_path(output)
    inputs = load_inputs(tle, stations, None, start, _days_default(days, end), end,
                         allow_stale=allow_stale, warn_age_days=warn_age_days)
    if station:
        from planner.stations import select_stations

        select_stations(inputs.stations, station)   # unknown names fail before the work
    wanted = demands_for(inputs, demand, demands)
    if not wanted:
        raise OptionError("name at least one station pair, e.g. --demand "
                          "Beijing:Stellenbosch", field="--demand")
    _warn(inputs.warnings)
    known = len(inputs.warnings)
    run = _plan_keys(inputs, payload, payload_name)
    plan = schedule_for(inputs, run.table, wanted, memory_bits=memory_bits, gap_s=gap_s,
                        reserve_bits=reserve_bits, objective=objective.value,
                        method=solver.value, fibre=fibre or [], unavailable=unavailable or [],
                        scenarios=scenarios, seed=seed, time_limit_s=time_limit)
    _warn(inputs.warnings[known:])
    _warn(plan.notes)
    sheets = _station_sheets(plan, run.table, inputs.stations, station, tonight)
    if output_format is Format.table:
        if output is not None:
            raise OptionError("--format table prints to the terminal; use csv, json or ics "
                              "with --output", field="--format")
        _print_plan(plan, sheets, "Tonight's plan" if tonight else "Relay plan")
        return
    provenance = run_provenance(inputs, key_models=run.models, seed=seed)
    if output_format is Format.json:
        document = plan_to_json(plan)
        document["provenance"] = {**document.get("provenance", {}), **provenance}
        text = to_json({k: v for k, v in document.items() if k != "provenance"},
                       document["provenance"])
    elif output_format is Format.csv:
        rows = pd.concat([sheet.assign(station=st.name) for st, sheet in sheets if len(sheet)]
                         or [pd.DataFrame()])
        text = to_csv(rows.reset_index(), provenance)
    else:
        text = to_ics(plan_events(sheets), calendar_name="qkdplan relay plan",
                      stamp=inputs.start)
    _emit(text, output)


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
    from planner.jobs import DEFAULT_DEMANDS, demands_for

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
    from planner.jobs import demands_for, load_inputs, run_plan
    from planner.report import check_report_path

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


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="Sweep YAML: base case and axes (see "
                                         "planner/sweep.py).")],
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
    from planner.output import provenance
    from planner.sweep import (
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


@app.command("stations")
def stations_command(
    stations: StationsOption = None,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
) -> None:
    """List the ground stations."""
    from planner.output import provenance
    from planner.resources import bundled_path
    from planner.stations import load_stations, stations_table

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

    from planner.elements import read_catalogue, summarise
    from planner.output import provenance

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


def _register_subcommands() -> None:
    from planner.cli_constellation import constellation_app
    from planner.cli_fetch import fetch_command

    tle_app.command("fetch")(fetch_command)
    app.add_typer(constellation_app, name="constellation")


_register_subcommands()


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in frame.columns:
        table.add_column(str(column), justify="right" if pd.api.types.is_numeric_dtype(
            frame[column]) else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    stdout.print(table)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.4g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None or value is pd.NA else str(value)


def _command_line_error(error: Exception) -> bool:
    """Whether ``error`` is the command-line parser's own (bad option, missing argument...).

    Typer's parser errors carry ``format_message`` and an integer ``exit_code``; matching on
    that, rather than on a class, works whichever Click Typer is built on.
    """
    return callable(getattr(error, "format_message", None)) and isinstance(
        getattr(error, "exit_code", None), int)


def _terminated(signum: int, _frame) -> None:
    """SIGTERM handler: unwind like an exit, so clean-ups run (no half-written file)."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``qkdplan`` console script."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> None:
    try:
        code = app(args=argv, prog_name="qkdplan", standalone_mode=False)
    except PlannerInputError as error:
        stderr.print(f"qkdplan: error: {error.one_line()}", highlight=False, markup=False)
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        stderr.print("qkdplan: interrupted", highlight=False)
        sys.exit(130)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as error:
        if _command_line_error(error):
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "qkdplan"
            message = " ".join(error.format_message().split())
            if message:  # (no message: the help was printed because no command was given)
                stderr.print(f"{command}: error: {message} (see {command} --help)",
                             highlight=False, markup=False)
            sys.exit(2 if error.exit_code in (0, 1, 2) else error.exit_code)
        if os.environ.get("QKDPLAN_DEBUG"):
            traceback.print_exc()
        stderr.print(f"qkdplan: internal error: {type(error).__name__}: {error} "
                     "(set QKDPLAN_DEBUG=1 for the traceback; please report it)",
                     highlight=False, markup=False)
        sys.exit(1)
    if code == 130:  # the parser turned Ctrl-C into exit status 130
        stderr.print("qkdplan: interrupted", highlight=False)
    sys.exit(code if isinstance(code, int) else 0)
