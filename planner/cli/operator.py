"""``qkdplan next`` and ``qkdplan track``: the questions an operator asks before a pass.

``next``: when is the next pass over my station(s), how long from now, how high, and is it dark
at the station and the satellite sunlit. ``track``: the pointing table of one pass (time,
azimuth, elevation, range, range rate, sunlit) every N seconds, for the telescope mount.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated

import typer

from planner.cli.lazy import lazy_module
from planner.cli.root import (
    AllowStaleOption,
    CsvCommentsOption,
    MinElevationOption,
    NoradOption,
    OutputOption,
    StartOption,
    StationOption,
    StationsOption,
    TableFormat,
    TleOption,
    TzOption,
    WarnAgeOption,
    _element_files,
    _emit,
    _warn,
    app,
    check_output,
    print_table,
    stdout,
)
from planner.cli.terminal import Column, plural, resolve_zone, styled
from planner.errors import OptionError
from planner.zones import DATE_TIME, is_utc, local_cells, local_time

pd = lazy_module("pandas")      # (start-up: see planner/cli/lazy.py)

HorizonOption = Annotated[float, typer.Option(
    "--days", help="How far ahead to look [days].")]
AllOption = Annotated[bool, typer.Option(
    "--all", help="Include daylight and twilight passes (default: night passes only).")]


def countdown(seconds: float) -> str:
    """Time until an event as people say it: ``in 2 h 05 min``, ``in 40 s``, ``under way``."""
    if seconds <= 0:
        return "under way"
    if seconds < 60:
        return f"in {seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"in {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"in {hours} h {minutes:02d} min"
    return f"in {hours / 24:.1f} days"


def sunlit_at(passes, catalogue, column: str):
    """Whether each pass's satellite is sunlit at the time in ``column`` (bool array)."""
    import numpy as np

    from planner.geometry.illumination import satellite_sunlit

    out = np.zeros(len(passes), dtype=bool)
    for key in catalogue.satellites:
        sets = catalogue.sets(key)
        rows = np.flatnonzero((passes["satellite"] == catalogue.name(key)).to_numpy()
                              & (passes["norad"].astype("Int64") == catalogue.norad(key))
                              .fillna(catalogue.norad(key) is None).to_numpy())
        if rows.size:
            times = passes[column].iloc[rows].to_numpy(dtype="datetime64[ns]")
            out[rows] = satellite_sunlit(sets, times)
    return out


#: How far before --start ``next`` and ``track`` look for a pass that is already under way
#: (:func:`passes_from_start`; longer than any low-Earth-orbit pass, which lasts at most
#: ~20 min above the horizon).
UNDER_WAY_LOOKBACK = timedelta(hours=2)


def passes_from_start(inputs, **options):
    """The passes still to come at ``inputs.start``: those rising after it, and one already
    under way then (it rose before it, so the search starts :data:`UNDER_WAY_LOOKBACK`
    earlier). ``options`` go to :func:`planner.run.pipeline.passes_for`."""
    from planner.run.pipeline import passes_for

    table = passes_for(replace(inputs, start=inputs.start - UNDER_WAY_LOOKBACK), **options)
    return table[table["los_utc"] > pd.Timestamp(inputs.start)].reset_index(drop=True)


def _inputs(tle, norad, stations, station, start, days, allow_stale, warn_age_days):
    from planner.run.pipeline import load_inputs

    inputs = load_inputs(_element_files(tle, norad), stations, station, start, days, None,
                         allow_stale=allow_stale, warn_age_days=warn_age_days)
    _warn(inputs.warnings)
    return inputs


@app.command("next", short_help="The next pass over each station, with countdown.")
def next_command(
    tle: TleOption = None,
    norad: NoradOption = None,
    stations: StationsOption = None,
    station: StationOption = None,
    start: StartOption = "now",
    days: HorizonOption = 3.0,
    min_elevation: MinElevationOption = None,
    count: Annotated[int, typer.Option(
        "--count", help="Passes to show per station.")] = 1,
    all_passes: AllOption = False,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
    tz: TzOption = "local",
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
    csv_comments: CsvCommentsOption = False,
) -> None:
    """The next pass over each station: countdown from --start (default now), local and UTC
    times, elevation, pointing at AOS, darkness at the station, satellite sunlit."""
    from planner.io.output import to_csv, to_json
    from planner.run.pipeline import run_provenance

    zone = resolve_zone(tz)
    if count < 1:
        raise OptionError(f"expected at least 1, found {count}", field="--count")
    check_output(output, output_format is TableFormat.table)
    inputs = _inputs(tle, norad, stations, station, start, days, allow_stale, warn_age_days)
    known = len(inputs.warnings)
    table = passes_from_start(inputs, min_elevation_deg=min_elevation,
                              night_only=not all_passes)
    _warn(inputs.warnings[known:])
    table = table.groupby("station", sort=False).head(count).reset_index(drop=True)
    table["sunlit_at_tca"] = sunlit_at(table, inputs.catalogue, "tca_utc")
    now = pd.Timestamp(inputs.start)
    table["seconds_to_aos"] = (table["aos_utc"] - now).dt.total_seconds()
    if output_format is not TableFormat.table:
        record = run_provenance(inputs, options={"count": count, "night_only": not all_passes,
                                                 "min_elevation_deg": min_elevation})
        text = (to_csv(table, record, comments=csv_comments) if output_format is TableFormat.csv
                else to_json({"next_passes": table}, record))
        _emit(text, output, record)
        return
    _print_next(table, inputs, zone, now, count, all_passes)


def _print_next(table, inputs, zone, now, count: int, all_passes: bool) -> None:
    """The next passes as a table: local acquisition date, time and zone on one line (left
    out with ``--tz utc``), the UTC acquisition with its own date; stations without a pass
    named below it."""
    missing = [s.name for s in inputs.stations if s.name not in set(table["station"])]
    by_name = {s.name: s for s in inputs.stations}
    local = not is_utc(zone)
    rows = [[
        row.station, countdown(row.seconds_to_aos),
        local_time(row.aos_utc, zone or by_name[row.station].tz),
        local_time(row.aos_utc, None, with_zone=False),
        f"{row.duration_s:.0f}", f"{row.max_elevation_deg:.1f}", f"{row.aos_azimuth_deg:.0f}",
        "dark" if row.night else "day", "yes" if row.sunlit_at_tca else "no",
        row.satellite] for row in table.sort_values("aos_utc").itertuples(index=False)]
    kind = "pass" if all_passes else "night pass"
    one = len(inputs.catalogue) == 1
    of = f"of {inputs.catalogue.name(inputs.catalogue.satellites[0])} " if one else ""
    within = f"from {now:%Y-%m-%d %H:%M} UTC (within {plural(inputs.days, 'day')})"
    if not rows:
        stdout.print(styled(f"No {kind} {of}{within}."), soft_wrap=False)
        return
    columns = [Column("station"), Column("starts", drop=4),
               Column("AOS local", nowrap=True), Column("AOS UTC", nowrap=not local),
               Column("dur s", "right", 3, drop=3), Column("max el°", "right", 4),
               Column("AOS az°", "right", 3), Column("sky", drop=2), Column("lit", drop=1),
               Column("satellite")]
    shown = [k for k in range(len(columns)) if (local or k != 2) and (not one or k != 9)]
    print_table(f"Next {kind}{'es' if count > 1 else ''} {of}{within}; sky: dark or day at "
                "the station; lit: satellite sunlit at culmination",
                [columns[k] for k in shown], [[r[k] for k in shown] for r in rows])
    for name in missing:
        stdout.print(styled(f"{name}: no {kind} within {plural(inputs.days, 'day')}."))


@app.command("track", short_help="Pointing table (az, el, range) of one pass.")
def track_command(
    tle: TleOption = None,
    norad: NoradOption = None,
    stations: StationsOption = None,
    station: Annotated[list[str] | None, typer.Option(
        "--station", metavar="NAME",
        help="The station to point from (case-insensitive).")] = None,
    start: StartOption = "now",
    days: HorizonOption = 3.0,
    min_elevation: MinElevationOption = None,
    pass_number: Annotated[int, typer.Option(
        "--pass", help="Which pass from --start: 1 for the next one.")] = 1,
    step_s: Annotated[float, typer.Option(
        "--step", help="Time between pointing samples [s].")] = 1.0,
    all_passes: AllOption = False,
    refraction: Annotated[bool, typer.Option(
        "--refraction", help="Apparent (refracted) elevations, as a telescope sees them.")
    ] = False,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    output: OutputOption = None,
    tz: TzOption = "local",
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
    csv_comments: CsvCommentsOption = False,
) -> None:
    """Pointing table of one pass over one station: time, azimuth, elevation, range, range
    rate and whether the satellite is sunlit, every --step seconds from AOS to LOS."""
    from planner.geometry.tracks import pass_tracks
    from planner.io.output import to_csv, to_json
    from planner.run.pipeline import run_provenance

    zone = resolve_zone(tz)
    if pass_number < 1:
        raise OptionError(f"expected 1 or more, found {pass_number}", field="--pass")
    if not station or len(station) != 1:
        raise OptionError("name one station to point from", field="--station")
    check_output(output, output_format is TableFormat.table)
    inputs = _inputs(tle, norad, stations, station, start, days, allow_stale, warn_age_days)
    if len(inputs.catalogue) != 1:
        raise OptionError(f"the element files hold {len(inputs.catalogue)} satellites; track "
                          "one (give --norad N, or one satellite's --tle)", field="--tle")
    known = len(inputs.warnings)
    passes = passes_from_start(inputs, min_elevation_deg=min_elevation,
                               night_only=not all_passes, refraction=refraction)
    _warn(inputs.warnings[known:])
    (site,) = inputs.stations
    if len(passes) < pass_number:
        noun = "pass" if all_passes else "night pass"
        raise OptionError(f"only {plural(len(passes), noun, noun + 'es')} over {site.name} "
                          f"within {plural(inputs.days, 'day')} (more with --days"
                          f"{'' if all_passes else ' or --all'})", field="--pass")
    chosen = passes.iloc[[pass_number - 1]]
    row = chosen.iloc[0]
    track = pass_tracks(chosen, inputs.catalogue, inputs.stations, step_s=step_s,
                        refraction=refraction, through_los=True).drop(columns=["pass_id"])
    track = track.assign(satellite=row["satellite"], norad=row["norad"], station=site.name)
    track.insert(track.columns.get_loc("range_rate_km_s") + 1, "sunlit",
                 sunlit_at(track, inputs.catalogue, "time_utc"))
    if output_format is not TableFormat.table:
        record = run_provenance(inputs, options={
            "pass": {"satellite": row["satellite"], "station": site.name,
                     "aos_utc": f"{row['aos_utc']:%Y-%m-%dT%H:%M:%S.%fZ}"},
            "step_s": step_s, "refraction": refraction, "min_elevation_deg": min_elevation})
        text = (to_csv(track, record, comments=csv_comments) if output_format is TableFormat.csv
                else to_json({"track": track}, record))
        _emit(text, output, record)
        return
    _print_track(track, row, site, zone, inputs.start, pass_number, step_s, refraction)


def _print_track(track, row, site, zone, start, pass_number: int, step_s: float,
                 refraction: bool) -> None:
    """The pointing table: local date and time (left out when the zone is UTC: ``--tz utc``,
    or a station kept in UTC) and UTC time of each sample; the title gives AOS in both, each
    with its date."""
    tz = zone or site.tz
    local = not is_utc(tz)
    # local times carry their zone abbreviation if the pass crosses a change of summer time
    local_times = local_cells(track["time_utc"], tz, DATE_TIME)[0]
    utc_format = "%H:%M:%S" if local else DATE_TIME
    rows = [[shown, local_time(t, None, utc_format, with_zone=False), f"{az:.2f}", f"{el:.2f}",
             f"{rng:.1f}", f"{rate:+.3f}", "yes" if lit else "no"]
            for shown, (t, az, el, rng, rate, lit) in zip(local_times, track[[
                "time_utc", "azimuth_deg", "elevation_deg", "range_km", "range_rate_km_s",
                "sunlit"]].itertuples(index=False), strict=True)]
    columns = [Column("local time", nowrap=True), Column("UTC", nowrap=True, drop=4),
               Column("az°", "right", 6), Column("el°", "right", 5),
               Column("range km", "right", 6, drop=3),
               Column("range rate km/s", "right", 6, drop=1), Column("sunlit", drop=2)]
    if not local:
        columns, rows = columns[1:], [r[1:] for r in rows]
        columns[0] = columns[0]._replace(drop=None)
    aos = row["aos_utc"]
    when = (f"{local_time(aos, tz)} = {local_time(aos, None)}" if local else
            local_time(aos, None))
    print_table(f"{row['satellite']} over {site.name}: pass {pass_number} from "
                f"{start:%Y-%m-%d %H:%M} UTC, AOS {when} "
                f"({countdown((aos - start).total_seconds())} from --start), max "
                f"{row['max_elevation_deg']:.1f}°; every {step_s:g} s to LOS"
                f"{', apparent elevations' if refraction else ''}", columns, rows)
