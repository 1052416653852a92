"""``qkdplan schedule``: the trusted-relay plan and the station night sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.flags import flags_named
from planner.cli.lazy import lazy_module
from planner.cli.root import (
    AllowStaleOption,
    DaysOption,
    DemandOption,
    DemandsFileOption,
    EndOption,
    Format,
    MinElevationOption,
    NoradOption,
    Objective,
    OutputOption,
    PayloadNameOption,
    PayloadOption,
    SeedOption,
    Solver,
    StartOption,
    StationsOption,
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
    stdout,
)
from planner.cli.terminal import is_utc, resolve_zone, styled
from planner.errors import OptionError
from planner.io.output import to_csv, to_ics, to_json
from planner.zones import local_cells, span_cells, zone_name, zone_title

pd = lazy_module("pandas")      # (start-up: see planner/cli/lazy.py)

#: The relay library's parameter names (the field of its errors) and this command's flags,
#: beside the run parameters every command maps (planner.cli.flags.RUN_FLAGS).
SCHEDULE_FLAGS = {
    "memory_bits": "--memory-bits", "gap_s": "--gap-s", "reserve_bits": "--reserve-bits",
    "time_limit_s": "--time-limit", "objective": "--objective", "station": "--station",
    "state": "--state",
}


def _plan_keys(inputs, payload, payload_name, min_elevation=None):
    """Night passes (above ``min_elevation`` [deg], if given, at every station) and their key
    table, the scheduler's input."""
    from planner.run.pipeline import keys_for, passes_for

    night = passes_for(inputs, min_elevation_deg=min_elevation, night_only=True)
    return keys_for(inputs, night, payload_file=payload, payload_name=payload_name)


def _station_sheets(plan, keys: pd.DataFrame, stations, names, tonight_of=None
                    ) -> tuple[list[tuple[object, pd.DataFrame]], dict[str, dict]]:
    """Each selected station's night sheet; with ``tonight_of`` (a time) only the station's
    night containing it, or in daytime the coming night (docs/data-contracts.md).

    Returns
    -------
    sheets : list of (station, pandas.DataFrame)
        The selected stations and their sheets.
    windows : dict
        Station name -> ``{"start", "end"}`` of its night (empty without ``tonight_of``).
    """
    from planner.relay.nightsheet import station_night_sheet

    chosen = [s for s in stations if not names or s.name.casefold() in
              {n.casefold() for n in names}]
    windows = ({} if tonight_of is None else
               {station.name: _night_window(keys, station, tonight_of) for station in chosen})
    sheets = [(station, station_night_sheet(plan, keys, station.name,
                                            pointing=station.effective_min_elevation_deg,
                                            **windows.get(station.name, {})))
              for station in chosen]
    return sheets, windows


def _night_window(keys: pd.DataFrame, station, when) -> dict:
    """``{"start", "end"}`` of ``station``'s local night containing ``when`` (or the next)."""
    from planner.relay.nightsheet import dawn_hour_utc, local_night

    night = keys[(keys["station"] == station.name) & keys["night"].astype(bool)]
    bounds = local_night(when, station.tz, dawn_hour_utc(night["los_utc"]))
    return dict(zip(("start", "end"), bounds, strict=True))


def _tonight_relays(plan, windows: dict[str, dict]) -> pd.DataFrame:
    """The relays of the selected stations in each one's night (``windows`` by station)."""
    from planner.relay.nightsheet import night_relays

    parts = [night_relays(plan, name, **window) for name, window in windows.items()]
    if not parts:
        return plan.relays.iloc[0:0]
    frame = pd.concat(parts)
    return frame[~frame.index.duplicated()].sort_values("time_utc")


def _print_plan(plan, sheets, title: str, relays=None, zone=None, tonight: bool = False
                ) -> None:
    """The plan on the terminal: key per demand, relay operations, each station's sheet.

    With ``tonight`` the key per demand is tonight's (the plan's nights of tonight's chosen
    passes and relays, ``delivered_by_night``) beside the period's total, and only tonight's
    relays (``relays``) are listed.
    """
    gap = "n/a" if plan.gap is None else f"{100 * plan.gap:.3f}%"
    stdout.print(f"[bold]{title}[/bold]: objective {plan.objective}, solver {plan.solver} "
                 f"({plan.status}, gap {gap}, {plan.wall_time_s:.1f} s)", highlight=False,
                 soft_wrap=False)
    relays = plan.relays if relays is None else relays
    nights = _tonight_nights(sheets, relays) if tonight else None
    _print_delivered(plan, nights)
    if not relays.empty:
        _print_frame(pd.DataFrame({
            "time UTC": pd.to_datetime(relays["time_utc"], utc=True).dt.strftime(
                "%Y-%m-%d %H:%M:%S"),
            "demand": relays["demand"], "via": relays["via"],
            "from": relays["from_station"], "to": relays["to_station"],
            "kbit": (relays["bits"] / 1e3).round(1)}),
            "Relay operations tonight" if tonight else "Relay operations",
            {"via": {"drop": 1}})
    for station, sheet in sheets:
        _print_sheet(station, sheet, zone, tonight)


def _kbit(values) -> list[str]:
    return ["—" if pd.isna(v) else f"{v / 1e3:.1f}" for v in values]


def _tonight_nights(sheets, relays) -> list:
    """The plan's nights (``night_date``) of tonight's chosen passes and relays, in order."""
    dates = [d for _, sheet in sheets for d in sheet["night_date"]]
    dates += list(relays["night_date"]) if "night_date" in relays else []
    return sorted({pd.Timestamp(d) for d in dates if not pd.isna(d)})


def _print_delivered(plan, nights=None) -> None:
    """Key per demand over the period; with ``nights`` (tonight's, from
    :func:`_tonight_nights`) first the key delivered on those nights."""
    delivered = plan.delivered.reset_index()
    view = pd.DataFrame({"demand": delivered["demand"]})
    title = "Relay key per demand (planned on expected key)"
    period = "delivered kbit"
    if nights is not None:
        by_night = plan.delivered_by_night.copy()
        by_night.index = pd.to_datetime(by_night.index)
        tonight = by_night[by_night.index.isin(nights)].sum().reindex(delivered["demand"])
        view["tonight kbit"] = _kbit(tonight.fillna(0.0).to_numpy())
        start, end = (pd.Timestamp(plan.parameters[k]) for k in ("start_utc", "end_utc"))
        shown = (f"the plan's night of {', '.join(f'{n:%Y-%m-%d}' for n in nights)}" if nights
                 else "no pass chosen")
        title += (f"; tonight: {shown}; period: {start:%Y-%m-%d %H:%M} "
                  f"to {end:%Y-%m-%d %H:%M} UTC")
        period = "period kbit"
    view[period] = _kbit(delivered["delivered_bits"])
    view["target kbit"] = _kbit(delivered["target_bits"])
    view["unmet kbit"] = _kbit(delivered["unmet_bits"])
    view["complete UTC"] = ["" if pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")
                            for t in delivered["completion_utc"]]
    if plan.weather is not None:
        weather = plan.weather.reindex(delivered["demand"]).reset_index(drop=True)
        for column in ("p10_bits", "p50_bits", "p90_bits"):
            if column in weather:
                view[f"{column[:3].upper()} weather kbit"] = _kbit(weather[column])
    _print_frame(view, title, {c: {"justify": "right"} for c in view.columns if "kbit" in c})


def _print_sheet(station, sheet, zone, tonight: bool) -> None:
    """One station's chosen passes: local AOS time (left out when the zone is UTC), UTC AOS
    and LOS, each dated by its night (``+1d`` past midnight), where to point, what the key
    feeds, clear sky, expected and kept key. A single night or satellite is named in the title
    instead of a column of repeats."""
    if sheet.empty:
        stdout.print(styled(f"{station.name}: no passes chosen"
                            f"{' tonight' if tonight else ''}."))
        return
    tz = zone or station.tz
    local = not is_utc(tz)
    satellites = list(dict.fromkeys(sheet["satellite"]))
    # a night runs past midnight: a time on the next day says +1d after the night's date
    night_of = [pd.Timestamp(d).date() for d in sheet["night_date"]]
    aos_local, labels = local_cells(sheet["aos_utc"], tz, row_dates=night_of)
    view = pd.DataFrame({
        "night": [f"{d:%Y-%m-%d}" for d in night_of],
        "AOS local": aos_local,
        "AOS UTC": local_cells(sheet["aos_utc"], None, row_dates=night_of)[0],
        "LOS UTC": local_cells(sheet["los_utc"], None, row_dates=night_of)[0],
        "point az°": sheet["aos_azimuth_deg"].round(1),
        "point el°": sheet["aos_elevation_deg"].round(1),
        "max el°": sheet["max_elevation_deg"].round(1),
        "satellite": sheet["satellite"],
        "feeds": [d or "(kept)" for d in sheet["demands"]],
        "clear sky": sheet["clear_sky_probability"].round(2),
        "exp. kbit": (sheet["expected_secure_bits"] / 1e3).round(1),
        "kept kbit": (sheet["used_bits"] / 1e3).round(1),
    })
    about = []
    if len(set(night_of)) == 1:
        view = view.drop(columns="night")
        about.append(f"night of {night_of[0]:%Y-%m-%d}")
    if len(satellites) == 1:
        view = view.drop(columns="satellite")
        about.append(satellites[0])
    if not local:
        view = view.drop(columns="AOS local")
    times = f"AOS local in {zone_title(labels, zone_name(tz))}" if local else "times UTC"
    _print_frame(view, f"{station.name}{' tonight' if tonight else ''}: passes to take"
                 f"{' (' + ', '.join(about) + ')' if about else ''}; {times}; exp.: expected "
                 "key; point at acquisition", {
                     "AOS local": {"nowrap": True}, "max el°": {"drop": 1},
                     "LOS UTC": {"drop": 2, "nowrap": True}, "clear sky": {"drop": 3},
                     "AOS UTC": {"drop": 4, "nowrap": True}})


def plan_events(sheets) -> list[dict]:
    """Calendar events of the chosen passes, one per pass and station."""
    events = []
    for station, sheet in sheets:
        for pass_id, row in sheet.iterrows():
            aos, los = span_cells([row.aos_utc, row.los_utc], None)
            events.append({
                "uid_key": f"plan|{station.name}|{pass_id}|{row.aos_utc.isoformat()}",
                "start": row.aos_utc, "end": row.los_utc,
                "summary": f"QKD {row.satellite} at {station.name}: "
                           f"{row.expected_secure_bits / 1e3:.0f} kbit expected",
                "description": (f"Point at azimuth {row.aos_azimuth_deg:.1f}°, elevation "
                                f"{row.aos_elevation_deg:.1f}° at {aos} UTC; "
                                f"culminates at {row.max_elevation_deg:.1f}°; "
                                f"sets {los} UTC"),
                "location": station.name})
    return events


@app.command(short_help="Trusted-relay plan: passes, relays, delivered key.")
def schedule(
    tle: TleOption = None,
    norad: NoradOption = None,
    stations: StationsOption = None,
    station: Annotated[list[str] | None, typer.Option(
        "--station", metavar="NAME",
        help="Print (or write) the night sheet of this station; repeatable. "
        "Planning always uses every station of the station file.")] = None,
    start: StartOption = "now",
    days: DaysOption = None,
    end: EndOption = None,
    min_elevation: MinElevationOption = None,
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
        "--fibre", metavar="A:B:RATE",
        help="Ground fibre QKD link A:B:RATEbps or A:B:LENGTHkm; repeatable.")
    ] = None,
    unavailable: Annotated[list[str] | None, typer.Option(
        "--unavailable", metavar="STATION:DATE",
        help="STATION:YYYY-MM-DD night a station cannot observe; "
        "repeatable.")] = None,
    scenarios: Annotated[int | None, typer.Option(
        "--scenarios", help="Evaluate the plan over N sampled weather scenarios.")] = None,
    seed: SeedOption = 0,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", help="Solver time limit [s].")] = 60.0,
    state: Annotated[Path | None, typer.Option(
        "--state", metavar="FILE",
        help="Measured state of the campaign (YAML or JSON; docs/relay-state.md): "
        "key on board, ground storage, delivered key, passes flown. Re-plans the rest of the "
        "period from its time.")] = None,
    tonight: Annotated[bool, typer.Option(
        "--tonight", help="Only the night containing --start (default now) in each --station's "
        "local time: its passes and relays.")] = False,
    payload: PayloadOption = None,
    payload_name: PayloadNameOption = None,
    output_format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    output: OutputOption = None,
    allow_stale: AllowStaleOption = False,
    warn_age_days: WarnAgeOption = 14.0,
    tz: TzOption = "local",
) -> None:
    """Trusted-relay plan: which passes to use and when the satellite relays stored key."""
    # the relay stages load pandas and HiGHS: imported here, not at CLI start-up
    from planner.mission.stations import stations_as_searched
    from planner.relay.inputs import check_options
    from planner.relay.plan import plan_to_json
    from planner.run.pipeline import (
        check_weather_options,
        default_demands,
        load_inputs,
        run_provenance,
        schedule_for,
    )

    zone = resolve_zone(tz)
    check_output(output, output_format is Format.table, ("csv", "json", "ics"))
    with flags_named(SCHEDULE_FLAGS):  # bad options fail before the work
        check_options(memory_bits=1.0 if memory_bits is None else memory_bits,
                      gap_s=0.0 if gap_s is None else gap_s, reserve_bits=reserve_bits,
                      time_limit_s=time_limit)
        check_weather_options(scenarios, seed)
    measured = None
    if state is not None:  # a malformed state file fails before the work
        from planner.relay.state import load_state

        measured = load_state(state)
    inputs = load_inputs(_element_files(tle, norad), stations, None, start,
                         _days_default(days, end), end, allow_stale=allow_stale,
                         warn_age_days=warn_age_days)
    if station:
        from planner.mission.stations import select_stations

        select_stations(inputs.stations, station)   # unknown names fail before the work
    wanted = default_demands(inputs, demand, demands)  # as the main job
    if not wanted:
        raise OptionError("name at least one station pair, e.g. --demand "
                          "Beijing:Stellenbosch", field="--demand")
    if measured is not None:  # its names and amounts fail before the work too
        from planner.relay.resume import check_state
        from planner.relay.schedule import DEFAULT_MEMORY_BITS

        check_state(measured, {inputs.catalogue.name(k) for k in inputs.catalogue},
                    [s.name for s in inputs.stations], wanted,
                    DEFAULT_MEMORY_BITS if memory_bits is None else memory_bits)
    _warn(inputs.warnings)
    known = len(inputs.warnings)
    run = _plan_keys(inputs, payload, payload_name, min_elevation)
    with flags_named(SCHEDULE_FLAGS):
        plan = schedule_for(inputs, run.table, wanted, memory_bits=memory_bits, gap_s=gap_s,
                            reserve_bits=reserve_bits, objective=objective.value,
                            solver=solver.value, fibre=fibre or [],
                            unavailable=unavailable or [], scenarios=scenarios, seed=seed,
                            time_limit_s=time_limit, state=measured)
    _warn(inputs.warnings[known:])
    _warn(plan.notes)
    # pointing at acquisition: the minimum elevation the passes were found with
    sheets, windows = _station_sheets(plan, run.table,
                                      stations_as_searched(inputs.stations, min_elevation),
                                      station, pd.Timestamp(inputs.start) if tonight else None)
    if output_format is Format.table:
        if tonight:
            _print_plan(plan, sheets, "Tonight's plan", _tonight_relays(plan, windows), zone,
                        tonight=True)
        else:
            _print_plan(plan, sheets, "Relay plan", zone=zone)
        return
    provenance = run_provenance(inputs, key_models=run.models, seed=seed,
                                options={"min_elevation_deg": min_elevation})
    if output_format is Format.json:
        document = plan_to_json(plan)
        document["provenance"] = {**document.get("provenance", {}), **provenance}
        text = to_json({k: v for k, v in document.items() if k != "provenance"},
                       document["provenance"])
    elif output_format is Format.csv:
        frames = [sheet.assign(station=st.name) for st, sheet in sheets]
        chosen = [frame for frame in frames if len(frame)]
        # no pass chosen: the header alone, with the sheet's columns
        rows = pd.concat(chosen) if chosen else frames[0].iloc[:0] if frames else pd.DataFrame()
        text = to_csv(rows.reset_index(), provenance)
    else:
        text = to_ics(plan_events(sheets), calendar_name="qkdplan relay plan",
                      stamp=inputs.start)
    _emit(text, output)
