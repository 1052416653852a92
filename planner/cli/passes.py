"""``qkdplan passes`` and ``qkdplan keys``: the pass table and the key of each pass."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.configfile import from_config, given
from planner.cli.lazy import lazy_module
from planner.cli.root import (
    AllowStaleOption,
    CsvCommentsOption,
    DaysOption,
    EndOption,
    Format,
    MinElevationOption,
    NoradOption,
    OutputOption,
    PayloadNameOption,
    PayloadOption,
    StartOption,
    StationOption,
    StationsOption,
    TableFormat,
    TleOption,
    TzOption,
    WarnAgeOption,
    _days_default,
    _element_files,
    _emit,
    _print_frame,
    _warn,
    app,
    check_output,
    one_of,
    print_table,
    stderr,
    stdout,
)
from planner.cli.terminal import Column, plural, resolve_zone, styled
from planner.errors import OptionError
from planner.zones import (
    is_utc,
    local_time,
    span_cells,
    zone_labels,
    zone_name,
    zone_title,
)

pd = lazy_module("pandas")      # (start-up: see planner/cli/lazy.py)


def _age_cell(age_days: float, stale_days: float) -> str:
    """Element-set age, flagged when past the warning limit."""
    return f"{age_days:.1f} STALE" if age_days > stale_days else f"{age_days:.1f}"


def _moon_cell(illumination: float, elevation_deg: float, separation_deg: float) -> str:
    """The Moon as an operator plans around it: ``illuminated % / separation°`` from the line
    of sight (closest over the pass), ``-`` when it is below the horizon."""
    if illumination != illumination:  # NaN: no Moon geometry for this row
        return "?"
    if elevation_deg <= 0:
        return "-"
    return f"{100 * illumination:.0f}/{separation_deg:.0f}°"


def _print_pass_tables(passes, stations, title: str, stale_days: float = 14.0,
                       zone=None) -> None:
    """One table per station and satellite, times in ``zone`` (default: the station's own)
    with their local date; 79 columns wide."""
    by_name = {s.name: s for s in stations}
    if passes.empty:
        stdout.print(styled(f"{title}: no passes in the period."))
        return
    # on a narrow terminal the culmination and set azimuths go first, then the sun (night
    # passes are dark by definition), the culmination time and the Moon
    columns = [Column("date", "left", 10), Column("AOS", "left", 8),
               Column("TCA", "left", 8, drop=4), Column("LOS", "left", 8),
               Column("dur s", "right", 3), Column("max el°", "right", 4),
               Column("AOS az°", "right", 3), Column("TCA az°", "right", 3, drop=1),
               Column("LOS az°", "right", 3, drop=2), Column("Moon", "right", 6, drop=5),
               Column("sun el°", "right", 3, drop=3), Column("age d", "right", 10)]
    for (station_name, satellite), group in passes.groupby(["station", "satellite"],
                                                           sort=False):
        station = by_name[station_name]
        tz = zone or station.tz
        labels = zone_labels((t for c in ("aos_utc", "tca_utc", "los_utc") for t in group[c]),
                             tz)
        rows = []
        for row in group.itertuples(index=False):
            times = (row.aos_utc, row.tca_utc, row.los_utc)
            rows.append([
                local_time(row.aos_utc, tz, "%Y-%m-%d", with_zone=False),
                *span_cells(times, tz, marked=len(labels) > 1),
                f"{row.duration_s:.0f}", f"{row.max_elevation_deg:.1f}",
                f"{row.aos_azimuth_deg:.0f}", f"{row.tca_azimuth_deg:.0f}",
                f"{row.los_azimuth_deg:.0f}",
                _moon_cell(row.moon_illumination, row.moon_elevation_deg,
                           row.moon_separation_deg),
                f"{row.sun_elevation_deg:.0f}", _age_cell(row.element_age_days, stale_days)])
        # a time and its abbreviation or +1d on one line: other columns wrap or go
        shown = [c._replace(nowrap=True) if k in (1, 2, 3) and any(" " in r[k] for r in rows)
                 else c for k, c in enumerate(columns)]
        print_table(f"{title}: {satellite} over {station_name}, times "
                    f"{zone_title(labels, zone_name(tz))}; night when "
                    "the sun is below "
                    f"{station.night_sun_elevation_deg:g}°; Moon: % lit / closest angle to the "
                    "line of sight, - below the horizon", shown, rows)


def pass_events(passes: pd.DataFrame, stale_days: float = 14.0) -> list[dict]:
    """Calendar events of a pass table (one per pass); stale element sets are flagged. The
    description's UTC times are dated by the AOS (``+1d`` past midnight UTC)."""
    events = []
    for row in passes.itertuples(index=False):
        stale = (f"STALE ELEMENTS ({row.element_age_days:.0f} d old): times may be off by "
                 "seconds or more; " if row.element_age_days > stale_days else "")
        aos, tca, los = span_cells([row.aos_utc, row.tca_utc, row.los_utc], None)
        events.append({
            "uid_key": f"{row.satellite}|{row.station}|{row.aos_utc.isoformat()}",
            "start": row.aos_utc, "end": row.los_utc,
            "summary": f"{row.satellite} over {row.station}, max {row.max_elevation_deg:.0f}°",
            "description": (
                f"{stale}AOS {aos} UTC az {row.aos_azimuth_deg:.0f}°; "
                f"TCA {tca} UTC el {row.max_elevation_deg:.1f}° "
                f"az {row.tca_azimuth_deg:.0f}°; LOS {los} UTC "
                f"az {row.los_azimuth_deg:.0f}°; min range {row.min_range_km:.0f} km; "
                f"sun {row.sun_elevation_deg:.1f}°; element set {row.element_age_days:.1f} d old"),
            "location": str(row.station),
        })
    return events


@app.command(short_help="Predict passes: rise, culmination, set, darkness.")
def passes(
    tle: TleOption = None,
    norad: NoradOption = None,
    stations: StationsOption = None,
    station: StationOption = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
    min_elevation: MinElevationOption = None,
    all_passes: Annotated[bool, typer.Option(
        "--all", help="Include daylight and twilight passes (default: night passes only).")
    ] = False,
    refraction: Annotated[bool, typer.Option(
        "--refraction", help="Use apparent (refracted) elevations.")] = False,
    output_format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    output: OutputOption = None,
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
    tz: TzOption = "local",
    csv_comments: CsvCommentsOption = False,
) -> None:
    """Predict passes: rise, culmination, set, azimuths, range, darkness, element age."""
    from planner.io.jsonstream import json_chunks
    from planner.io.output import to_csv, to_ics
    from planner.run.pipeline import load_inputs, passes_for, run_provenance

    zone = resolve_zone(tz)
    check_output(output, output_format is Format.table, ("csv", "json", "ics"))
    inputs = load_inputs(_element_files(tle, norad), stations, station, start,
                         _days_default(days, end), end, allow_stale=allow_stale,
                         warn_age_days=warn_age_days)
    _warn(inputs.warnings)
    known = len(inputs.warnings)
    table = passes_for(inputs, min_elevation_deg=min_elevation, night_only=not all_passes,
                       refraction=refraction)
    _warn(inputs.warnings[known:])
    options = {"night_only": not all_passes, "refraction": refraction,
               "min_elevation_deg": min_elevation}
    if output_format is Format.table:
        title = "Night passes" if not all_passes else "Passes"
        _print_pass_tables(table, inputs.stations, title, stale_days=warn_age_days,
                           zone=zone)
        return
    provenance = run_provenance(inputs, options=options)
    if output_format is Format.csv:
        text = to_csv(table, provenance, comments=csv_comments)
    elif output_format is Format.json:
        text = json_chunks({"passes": table}, provenance)  # streamed: 417k passes took 2 GB
    else:
        text = to_ics(pass_events(table, warn_age_days), calendar_name="qkdplan passes",
                      stamp=inputs.start)
    _emit(text, output, provenance)


def local_times(times, station_names, stations, zone=None) -> list[str]:
    """Each UTC time as local date, time and zone: ``zone``, else its station's own."""
    by_name = {s.name: s for s in stations}
    return [local_time(t, zone or by_name[name].tz) for t, name in
            zip(times, station_names, strict=True)]


#: The key table's columns left out on a narrow terminal, first to last.
KEY_VIEW_DROPS = {name: {"drop": rank} for rank, name in enumerate(
    ["asym. kbit", "det. M", "loss dB", "QBER %", "clear sky"], start=1)}


def _key_view(table, stations, zone=None):
    """The key table as people read it: local AOS, kbit, percent, rounded (``key`` is the
    finite-key secure key, ``asym.`` the asymptotic one, ``exp.`` the key weighted by the
    clear-sky probability, ``det. M`` the detections in millions)."""
    view = pd.DataFrame({
        "station": table["station"],
        "AOS": local_times(table["aos_utc"], table["station"], stations, zone),
        "max el°": table["max_elevation_deg"].round(1),
        "sky": [("night" if night else f"sun {sun:.0f}°") + " · Moon " + _moon_cell(*moon)
                for night, sun, *moon in zip(
                    table["night"], table["sun_elevation_deg"], table["moon_illumination"],
                    table["moon_elevation_deg"], table["moon_separation_deg"], strict=True)],
        "loss dB": [f"{a:.1f}–{b:.1f}" if pd.notna(a) else "—"
                    for a, b in zip(table["min_loss_db"], table["max_loss_db"], strict=True)],
        "det. M": (table["detections"] / 1e6).round(2),
        "QBER %": (100 * table["qber"]).round(2),
        "key kbit": (table["secure_bits"] / 1e3).round(1),
        "asym. kbit": (table["secure_bits_asymptotic"] / 1e3).round(1),
        "clear sky": table["clear_sky_probability"].round(2),
        "exp. kbit": (table["expected_secure_bits"] / 1e3).round(1),
    })
    return view


def optimisation_summary(o: dict, stations, zone=None) -> str:
    """One line on ``--optimise``: the reference pass (local and UTC time; UTC once when the
    zone is UTC), the settings found and the mission total before and after."""
    reference = o["reference_pass"]
    aos = pd.Timestamp(reference["aos_utc"])
    shown_in = zone or next(s.tz for s in stations if s.name == reference["station"])
    when = local_time(aos, shown_in)
    also_utc = "" if is_utc(shown_in) else f"{local_time(aos, None, '%H:%M')}, "
    return (f"optimised {o['payload']} on the {reference['station']} pass of {when} "
            f"({also_utc}max {reference['max_elevation_deg']:.1f}°): intensities "
            f"{', '.join(f'{x:.3f}' for x in o['intensities'])}, probabilities "
            f"{', '.join(f'{x:.3f}' for x in o['probabilities'])}, basis bias "
            f"{o['basis_bias']:.3f}; total key {o['secure_bits_before'] / 1e6:.2f} → "
            f"{o['secure_bits_after'] / 1e6:.2f} Mbit")


def pooling_summary(table, models: list[dict]) -> str:
    """One line on ``--pool N``: blocks, and the key pooled against one pass per block."""
    records = [m["pooling"] for m in models if m.get("pooling")]
    if not records and table.attrs.get("pooling"):
        records = [table.attrs["pooling"]]
    if not records:
        return "pooling: no station had passes to pool"
    pooled = sum(r["secure_bits_pooled"] for r in records)
    single = sum(r["secure_bits_single_pass"] for r in records)
    blocks = sum(r["blocks"] for r in records)
    gain = (f"{100 * (pooled / single - 1):+.0f}%" if single > 0 else
            "from none" if pooled > 0 else "none")
    return (f"pooling {records[0]['pool']} passes per block ({blocks} blocks): "
            f"{pooled / 1e6:.3f} Mbit finite-key against {single / 1e6:.3f} Mbit with one pass "
            f"per block, a gain of {gain}")


#: ``keys`` options that choose or model passes of the element sets: they mean nothing for
#: the one measured pass of ``--loss-csv``, which refuses them when given on the command line
#: (a configuration file's value is a default for every command: it is warned about as left unused).
NOT_FOR_LOSS_CURVE = ("tle", "norad", "start", "days", "end", "all_passes", "pool", "optimise",
                      "allow_stale", "warn_age_days", "tz")


def check_loss_curve_options(ctx: typer.Context) -> None:
    """Before any work: ``--loss-csv`` with an option that means nothing for one measured
    pass (:data:`NOT_FOR_LOSS_CURVE`) is refused, naming the options; the same settings from
    the configuration file are warned about once, as left unused."""
    flags = {p.name: p.opts[0] for p in ctx.command.params}
    typed = [flags[name] for name in NOT_FOR_LOSS_CURVE if given(ctx, name)]
    if typed:
        one = len(typed) == 1
        raise OptionError(f"{one_of(typed, 'and')} {'does' if one else 'do'} not apply to one "
                          f"measured pass (--loss-csv); leave {'it' if one else 'them'} out")
    configured = [name for name in NOT_FOR_LOSS_CURVE if from_config(ctx, name)]
    if configured:
        _warn([f"the configuration's {', '.join(configured)} "
               f"{'does' if len(configured) == 1 else 'do'} not apply to one measured pass "
               "(--loss-csv): left unused"])
    check_stations_file_used(ctx)


def check_stations_file_used(ctx: typer.Context) -> None:
    """With ``--loss-csv``, the stations file serves only to find the one ``--station`` of the
    pass (its sky background): without a station it would be read for nothing, so a
    ``--stations`` given is refused and a configuration file's ``stations`` is warned about as
    left unused (it was ignored in silence: the key came without any station's sky)."""
    if ctx.params.get("stations") is None or ctx.params.get("station"):
        return
    if given(ctx, "stations"):
        raise OptionError("with --loss-csv the stations file only serves to find the station "
                          "of the pass; name it with --station NAME, or leave --stations out",
                          field="--stations")
    _warn(["the configuration's stations serves --loss-csv only to find the station of the "
           "pass, and no --station is named: left unused (the key has no station's sky "
           "background)"])


@app.command(short_help="Secure key per pass (link loss, QBER, finite key).")
def keys(
    ctx: typer.Context,
    tle: TleOption = None,
    norad: NoradOption = None,
    stations: StationsOption = None,
    station: StationOption = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
    min_elevation: Annotated[float | None, typer.Option(
        "--min-elevation", help="Minimum elevation for every station [deg] (overrides each "
        "station's own); with --loss-csv, samples of the curve's elevation_deg below it are "
        "left out.")] = None,
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
        "--loss-csv", metavar="FILE", help="Key of one measured pass: CSV with time_s, loss_db "
        "[, elevation_deg]. Uses --station (one; with --stations to find it, which is refused "
        "without it), --payload, --payload-name, "
        "--min-elevation (needs elevation_deg), --fluctuation and --ec-leakage; the options "
        "that choose passes (--tle, --norad, --start, --days, --end, --all, --pool, "
        "--optimise, --allow-stale, --warn-age-days, --tz) are refused with it.")] = None,
    all_passes: Annotated[bool, typer.Option("--all", help="Include daylight passes.")
                          ] = False,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
    tz: TzOption = "local",
    csv_comments: CsvCommentsOption = False,
) -> None:
    """Secure key per pass: link loss, detections, QBER, finite-key and asymptotic key."""
    from planner.io.output import to_csv, to_json
    from planner.key.blocks import check_key_options
    from planner.run.pipeline import keys_for, load_inputs, passes_for, run_provenance

    if loss_csv is not None:  # before any work
        check_loss_curve_options(ctx)
    zone = resolve_zone(tz)
    check_output(output, output_format is TableFormat.table)
    check_key_options(pool, fluctuation, ec_leakage)  # before any work
    if loss_csv is not None:
        _loss_curve_key(loss_csv, payload, payload_name, stations, station, fluctuation,
                        ec_leakage, output_format, output, csv_comments, min_elevation,
                        min_elevation_given=given(ctx, "min_elevation"))
        return
    inputs = load_inputs(_element_files(tle, norad), stations, station, start,
                         _days_default(days, end), end, allow_stale=allow_stale,
                         warn_age_days=warn_age_days)
    _warn(inputs.warnings)
    known = len(inputs.warnings)
    passes_table = passes_for(inputs, min_elevation_deg=min_elevation, night_only=not all_passes)
    run = keys_for(inputs, passes_table, payload_file=payload, payload_name=payload_name,
                   pool=pool, fluctuation=fluctuation, ec_leakage=ec_leakage,
                   optimise=optimise)
    _warn(inputs.warnings[known:])
    table = run.table
    if run.optimisation is not None:
        stderr.print(styled(optimisation_summary(run.optimisation, inputs.stations, zone)))
    if pool > 1:
        stderr.print(styled(pooling_summary(table, run.models)))
    if output_format is TableFormat.table:
        total = table["secure_bits"].sum() / 1e6
        expected = table["expected_secure_bits"].sum() / 1e6
        _print_frame(_key_view(table, inputs.stations, zone),
                     f"Secure key per pass ({plural(len(table), 'pass', 'passes')}; total "
                     f"{total:.2f} Mbit finite-key, expected {expected:.2f} Mbit with weather)",
                     KEY_VIEW_DROPS)
        return
    provenance = run_provenance(inputs, key_models=run.models,
                                options={"pool": pool, "fluctuation": fluctuation,
                                         "ec_leakage": ec_leakage,
                                         "night_only": not all_passes,
                                         "min_elevation_deg": min_elevation},
                                optimisation=run.optimisation)
    columns = [c for c in table.columns if not c.startswith("_")]
    text = (to_csv(table[columns], provenance, comments=csv_comments)
            if output_format is TableFormat.csv
            else to_json({"keys": table[columns]}, provenance))
    _emit(text, output, provenance)


def _loss_curve_key(loss_csv, payload_file, payload_name, stations_file, station_names,
                    fluctuation, ec_leakage, output_format, output, csv_comments,
                    min_elevation=None, *, min_elevation_given=False) -> None:
    from planner.io.output import provenance, to_csv, to_json
    from planner.key.losscurve import key_from_loss_curve, read_loss_csv
    from planner.mission.payloads import get_payload, load_payloads
    from planner.mission.stations import load_stations, select_stations

    time_s, loss_db, elevation_deg = read_loss_csv(loss_csv)
    if min_elevation is not None and elevation_deg is None:
        if min_elevation_given:
            raise OptionError(f"{loss_csv} has no elevation_deg column to cut the curve at "
                              f"{min_elevation:g}°", field="--min-elevation")
        _warn([f"{loss_csv} has no elevation_deg column: the configuration's min_elevation "
               f"({min_elevation:g}°) is not used"])
        min_elevation = None
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
                                 fluctuation=fluctuation, ec_leakage=ec_leakage,
                                 min_elevation_deg=min_elevation)
    frame = pd.DataFrame([result])
    if output_format is TableFormat.table:
        _print_frame(frame, f"Key of the pass in {loss_csv.name} ({chosen.name})")
        return
    record = provenance(loss_csv=str(loss_csv), payload=chosen.name,
                        station=None if receiver is None else receiver.name,
                        options={"fluctuation": fluctuation, "ec_leakage": ec_leakage,
                                 "min_elevation_deg": min_elevation})
    text = (to_csv(frame, record, comments=csv_comments) if output_format is TableFormat.csv
            else to_json({"key": frame}, record))
    _emit(text, output, record)
