"""Compose the stages for the CLI and notebooks: load and check inputs, find passes.

Nothing here computes physics; it validates what a user asked for (files, stations, the
period) and calls the stages in order, collecting warnings and provenance on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from planner.elements import default_orbit
from planner.elements import elementsets as element_sets
from planner.errors import OptionError
from planner.geometry.passes import find_passes
from planner.geometry.visibility import visibility_notes
from planner.io.resources import bundled_path, recorded_path
from planner.mission.stations import (
    Station,
    load_stations,
    select_stations,
    stations_as_searched,
)
from planner.timebase import as_utc_datetime, check_period

MAX_PERIOD_DAYS = 3660.0
"""Longest period one run may cover [days] (ten years)."""


@dataclass
class Inputs:
    """Everything a planning run starts from, validated."""

    catalogue: element_sets.Catalogue
    stations: list[Station]
    start: datetime
    end: datetime
    element_files: list[str]
    station_file: str
    warnings: list[str] = field(default_factory=list)

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400.0


def resolve_period(start: str | datetime = "now", days: float | None = 7.0,
                   end: str | datetime | None = None) -> tuple[datetime, datetime]:
    """The UTC period [start, end) from ``start`` and ``days`` or ``end`` (``end`` wins).

    Raises
    ------
    OptionError
        For an unreadable date, a non-positive or too long period, or ``end`` not after
        ``start``; the error's field is the parameter at fault.
    """
    start_dt = as_utc_datetime(start, option="start")
    if end is not None:
        end_dt = as_utc_datetime(end, option="end")
        if end_dt <= start_dt:
            raise OptionError(f"{end_dt:%Y-%m-%dT%H:%M:%SZ} is not after the start "
                              f"{start_dt:%Y-%m-%dT%H:%M:%SZ}", field="end")
    else:
        if days is None or not days > 0:
            raise OptionError(f"{days} is not a positive number of days", field="days")
        if days > MAX_PERIOD_DAYS:
            raise OptionError(f"{days} days is longer than the {MAX_PERIOD_DAYS:.0f}-day limit",
                              field="days")
        end_dt = start_dt + timedelta(days=float(days))
    check_period(start_dt, end_dt, option="end" if end is not None else "days")
    if (end_dt - start_dt).total_seconds() > MAX_PERIOD_DAYS * 86400:
        raise OptionError(f"the period is longer than the {MAX_PERIOD_DAYS:.0f}-day limit",
                          field="end")
    return start_dt, end_dt


def cached_element_file(norad: int, cache_dir: str | Path | None = None) -> Path:
    """The element-set file ``qkdplan tle fetch --catnr NORAD`` cached.

    Parameters
    ----------
    norad
        Catalogue number.
    cache_dir
        The fetch cache (default: ``$QKDPLAN_CACHE_DIR``, else the user cache directory).

    Raises
    ------
    OptionError
        If the number is not a catalogue number or nothing was fetched for it (field
        ``norad``); the message says how to fetch it.
    """
    from planner.elements.fetch import make_query, resolve_cache_dir

    query = make_query(catnr=norad)
    path = resolve_cache_dir(cache_dir) / f"{query.cache_stem}.json"
    if not path.is_file():
        raise OptionError(f"no element sets of {norad} in the fetch cache ({path.parent}); "
                          f"fetch them with: qkdplan tle fetch --catnr {norad}", field="norad")
    return path


def load_inputs(tle: Sequence[str | Path] | None = None, stations_file: str | Path | None = None,
                station_names: Sequence[str] | None = None, start: str | datetime = "now",
                days: float | None = 7.0, end: str | datetime | None = None, *,
                allow_stale: bool = False, warn_age_days: float = 14.0,
                max_age_days: float = 365.0) -> Inputs:
    """Read and validate element sets, stations and the period.

    Parameters
    ----------
    tle
        Element-set files (TLE or OMM); by default the generated Jinan-1-class orbit, its set
        at 00:00 UTC of the start's day, one satellite for every period
        (:mod:`planner.elements.default_orbit`).
    stations_file
        Ground-station YAML; the bundled ``ground_stations.yaml`` by default.
    station_names
        Stations to use (case-insensitive); all by default.
    start, days, end
        The period (see :func:`resolve_period`).
    allow_stale, warn_age_days, max_age_days
        Element-set age policy: warn past ``warn_age_days``, refuse past ``max_age_days``
        unless ``allow_stale``.
    """
    start_dt, end_dt = resolve_period(start, days, end)
    station_path = Path(stations_file) if stations_file else bundled_path("ground_stations.yaml")
    stations = select_stations(load_stations(station_path), list(station_names or []))
    if tle:
        paths = [Path(p) for p in tle]
        catalogue = element_sets.read_catalogue(paths)
        element_files = [str(p) for p in paths]
        warnings = element_sets.check_ages(catalogue, start_dt, end_dt, warn_days=warn_age_days,
                                           max_days=max_age_days, allow_stale=allow_stale)
    else:
        # no tracking data exists for the re-entered Jinan-1: fly its orbit class, one generated
        # satellite whose set has its epoch at 00:00 UTC of the start's day, so that periods
        # that overlap agree on its passes (not tracking data, so no age check applies)
        catalogue = default_orbit.default_catalogue(start_dt)
        element_files = [default_orbit.generated_source(default_orbit.anchor_epoch(start_dt))]
        warnings = []
    return Inputs(catalogue=catalogue, stations=stations, start=start_dt, end=end_dt,
                  element_files=element_files, station_file=str(station_path),
                  warnings=list(warnings))


def passes_for(inputs: Inputs, *, min_elevation_deg: float | None = None,
               night_only: bool = True, refraction: bool = False) -> pd.DataFrame:
    """The pass table of a run (night passes only unless ``night_only`` is False).

    Parameters
    ----------
    inputs
        From :func:`load_inputs`; warnings of the search (no pass at a station, a decayed
        orbit) are added to its ``warnings``.
    min_elevation_deg
        Overrides every station's minimum elevation [deg] (``--min-elevation``): AOS and LOS
        are where the satellite crosses it, so a pass never above it is not found, and the
        key of a pass (sampled from AOS to LOS) is that of its part above it.
    night_only
        Keep only the passes in darkness at the station.
    refraction
        Thresholds and elevations apparent (refracted) rather than geometric.

    Raises
    ------
    OptionError
        If ``min_elevation_deg`` is not in [0, 90).
    """
    if min_elevation_deg is not None and not 0 <= min_elevation_deg < 90:
        raise OptionError(f"{min_elevation_deg} is outside [0, 90)", field="min_elevation_deg")
    table = find_passes(inputs.catalogue, inputs.stations, inputs.start, inputs.end,
                        min_elevation_deg=min_elevation_deg, refraction=refraction,
                        warnings=inputs.warnings)
    inputs.warnings.extend(visibility_notes(inputs.catalogue, inputs.stations, inputs.start,
                                            inputs.end, table, min_elevation_deg=min_elevation_deg))
    if night_only:
        table = table[table["night"]].reset_index(drop=True)
    return table


def element_provenance(catalogue: element_sets.Catalogue) -> list[dict]:
    """Epoch and source of every element set used (bundled files as ``bundled:NAME``)."""
    out = []
    names: dict[str, str] = {}  # each file's recorded name, looked up once
    for key in catalogue.satellites:
        for s in catalogue.sets(key):
            if s.source not in names:
                names[s.source] = recorded_path(s.source)
            source = names[s.source]
            out.append({"satellite": s.name, "norad": s.norad,
                        "epoch_utc": s.epoch.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "source": replace(s, source=source).where()})
    return out


def run_provenance(inputs: Inputs, **extra) -> dict:
    """Provenance of a run: inputs, period and options."""
    from planner.io.output import provenance

    return provenance(
        period_utc=f"{inputs.start:%Y-%m-%dT%H:%M:%SZ}/{inputs.end:%Y-%m-%dT%H:%M:%SZ}",
        element_sets=element_provenance(inputs.catalogue),
        station_file=recorded_path(inputs.station_file),
        stations=[s.name for s in inputs.stations],
        warnings=list(inputs.warnings) or None,  # stale elements, decay, no pass at a station
        **extra,
    )


@dataclass
class KeyRun:
    """A key table and how it was made."""

    table: pd.DataFrame
    payloads: dict
    models: list[dict]
    optimisation: dict | None = None


def keys_for(inputs: Inputs, passes: pd.DataFrame, *, payload_file: str | Path | None = None,
             payload_name: str | None = None, pool: int = 1, fluctuation: str = "chernoff",
             ec_leakage: str = "fixed", optimise: bool = False) -> KeyRun:
    """Secure key of every pass (link budget + finite-key decoy BB84 at 1 s resolution).

    Each satellite's payload is found by its name patterns in the payload file unless
    ``payload_name`` picks one for all. ``optimise`` searches the decoy settings on the pass
    of median maximum elevation (a design study: one setting for the whole mission) and
    reports the gain.
    """
    from planner.geometry.tracks import track_arrays
    from planner.key.perpass import pass_key_table, pass_key_table_by_satellite
    from planner.mission.payloads import get_payload, load_payloads, payload_for_satellite

    payloads = load_payloads(payload_file)
    stations = {s.name: s for s in inputs.stations}
    options = {"pool": pool, "fluctuation": fluctuation, "ec_leakage": ec_leakage}
    if payload_name is not None:
        chosen = {payload_name: get_payload(payloads, payload_name)}
    else:
        chosen = {}
        for satellite in passes["satellite"].unique():
            payload = payload_for_satellite(payloads, str(satellite))
            chosen[payload.name] = payload
    optimisation = None
    if optimise:
        from planner.key.optimise import optimise_for_pass  # scipy.optimize: 0.3 s to import

        if len(chosen) != 1:
            raise OptionError("tunes one payload at a time; choose it with `payload_name`",
                              field="optimise")
        (name, payload), = chosen.items()
        usable = passes[passes["max_elevation_deg"] >= payload.min_key_elevation_deg]
        if usable.empty:
            raise OptionError("no pass reaches the payload's minimum key elevation to optimise "
                              "on", field="optimise")
        order = usable["max_elevation_deg"].sort_values(kind="stable")
        reference = order.index[len(order) // 2]
        samples = track_arrays(passes.loc[[reference]], inputs.catalogue, inputs.stations)
        tuned, result = optimise_for_pass(
            samples["range_km"], samples["elevation_deg"], payload,
            stations[passes.loc[reference, "station"]], fluctuation=fluctuation,
            ec_leakage=ec_leakage)
        before = pass_key_table(passes, inputs.catalogue, inputs.stations, payload, **options)
        chosen = {name: tuned}
        settings = result.settings
        optimisation = {
            "payload": name,
            "reference_pass": {"station": str(passes.loc[reference, "station"]),
                               "aos_utc": str(passes.loc[reference, "aos_utc"]),
                               "max_elevation_deg": float(passes.loc[reference,
                                                                     "max_elevation_deg"])},
            "intensities": list(settings.intensities),
            "probabilities": list(settings.probabilities),
            "basis_bias": settings.basis_bias,
            "secure_bits_before": float(before["secure_bits"].sum()),
        }
    if payload_name is not None or optimise:
        (payload,) = chosen.values()
        table = pass_key_table(passes, inputs.catalogue, inputs.stations, payload, **options)
        models = [table.attrs.get("key_model", {})]
    else:
        table = pass_key_table_by_satellite(passes, inputs.catalogue, inputs.stations, chosen,
                                            **options)
        models = table.attrs.get("key_models", [])
    if optimisation is not None:
        optimisation["secure_bits_after"] = float(table["secure_bits"].sum())
    return KeyRun(table=table, payloads=chosen, models=models, optimisation=optimisation)


DEFAULT_DEMANDS = ("Beijing:Stellenbosch",)
"""The relay the Jinan-1 mission demonstrated (docs/reference.md §1): the main job's default."""


def demands_for(inputs: Inputs, demands: Sequence[str] | None = None,
                demands_file: str | Path | None = None) -> list:
    """Validated demands from ``A:B[:weight[:target_bits]]`` strings and/or a YAML file.

    Station names are read against the whole station file, so the names in a demand are
    those of the file, and must then be among the run's selected stations (the relay plans
    with those only): a bad demand fails here, before any work.

    Parameters
    ----------
    inputs
        From :func:`load_inputs` (its station file).
    demands
        Demand strings (:func:`planner.relay.demands.parse_demand`).
    demands_file
        A YAML file of demands (:func:`planner.relay.demands.load_demands`).

    Raises
    ------
    ScheduleInputError
        For a bad demand string (field ``demands``, the message starts with the text), or a
        bad file (its file, line and field), a pair given twice, or a station not selected.
    """
    from planner.mission.stations import load_stations
    from planner.relay.demands import check_demands, load_demands, parse_demand

    known = [s.name for s in load_stations(inputs.station_file)]
    wanted = []
    for text in demands or []:
        wanted.append(replace(parse_demand(text, known), source=f"demands {text!r}"))
    _check_selected(inputs, wanted)
    if demands_file is not None:
        from_file = load_demands(demands_file, known)
        _check_selected(inputs, from_file, demands_file)
        wanted += from_file
    return check_demands(wanted) if wanted else []


def _check_selected(inputs: Inputs, demands: Sequence, path: str | Path | None = None) -> None:
    """Every station of ``demands`` (from the file ``path``, if any) is one of the run's
    selected stations."""
    from planner.errors import ScheduleInputError

    selected = [s.name for s in inputs.stations]
    for demand in demands:
        outside = [n for n in (demand.station_a, demand.station_b) if n not in selected]
        if outside:
            raise ScheduleInputError(
                f"station {outside[0]!r} is not among the stations of this run "
                f"({', '.join(selected)}); add it with `station_names`",
                path=None if path is None else str(path), field=demand.field_name)


def default_demands(inputs: Inputs, demands: Sequence[str] | None = None,
                    demands_file: str | Path | None = None) -> list:
    """:func:`demands_for` the demands named, or else the main job's default relay
    (:data:`DEFAULT_DEMANDS`) among those whose stations are all in the run."""
    if demands or demands_file:
        return demands_for(inputs, demands, demands_file)
    names = {s.name for s in inputs.stations}
    return demands_for(inputs, [d for d in DEFAULT_DEMANDS if set(d.split(":")) <= names])


def schedule_for(inputs: Inputs, keys: pd.DataFrame, demands: Sequence, *,
                 memory_bits: float | None = None, gap_s: float | None = None,
                 reserve_bits: float = 0.0, objective: str = "total", solver: str = "milp",
                 fibre: Sequence[str] = (), unavailable: Sequence[str] = (),
                 scenarios: int | None = None, seed: int | None = 0,
                 time_limit_s: float = 60.0, state=None):
    """A trusted-relay plan over the run's period for the given demands.

    Station telescope counts come from the station file; ``unavailable`` items are
    ``STATION:YYYY-MM-DD`` nights a station cannot observe. With ``scenarios`` the plan is
    evaluated under that many weather scenarios (seed ``seed``).
    """
    from planner.relay import schedule
    from planner.relay.fibre import resolve_station
    from planner.relay.weather import evaluate_plan

    telescopes = {s.name: s.telescopes for s in inputs.stations}
    known = list(telescopes)
    off = []
    for item in unavailable:
        name, _, day = item.rpartition(":")
        if not name or not day:
            raise OptionError(f"{item!r} is not STATION:YYYY-MM-DD", field="unavailable")
        off.append((resolve_station(name, known, "unavailable"), day))
    check_weather_options(scenarios, seed)  # before the work
    plan = schedule.plan_schedule(
        keys, demands, known_stations=known, telescopes=telescopes,
        memory_bits=schedule.DEFAULT_MEMORY_BITS if memory_bits is None else memory_bits,
        gap_s=schedule.DEFAULT_GAP_S if gap_s is None else gap_s, reserve_bits=reserve_bits,
        objective=objective, solver=solver, fibre_links=list(fibre), unavailable=off,
        time_limit_s=time_limit_s, start=inputs.start, end=inputs.end, state=state)
    if scenarios is not None:
        plan.weather, plan.weather_info = evaluate_plan(plan, keys, n_scenarios=scenarios,
                                                        seed=seed)
    plan.provenance.update(run_provenance(inputs))
    return plan


def check_weather_options(scenarios: int | None, seed: int | None) -> None:
    """Check the weather replay's options before any work (``scenarios=None``: no replay).

    Raises
    ------
    ScheduleInputError
        Naming ``n_scenarios`` (``scenarios`` is not a whole number >= 1) or ``seed``
        (negative or not whole).
    """
    from planner.relay.weather import DEFAULT_PERSISTENCE, check_scenarios, resolve_seed

    if scenarios is not None:
        check_scenarios(scenarios, DEFAULT_PERSISTENCE)
    resolve_seed(seed)


@dataclass
class PlanRun:
    """What the main job produced."""

    passes: pd.DataFrame
    keys: KeyRun
    plan: object | None
    report_files: dict
    solver: str


def auto_solver(inputs: Inputs) -> str:
    """Exact MILP over a month or less; night-by-night rolling horizon beyond."""
    return "milp" if inputs.days <= 31 else "rolling"


def run_plan(inputs: Inputs, *, demands: Sequence = (), output: str | Path,
             payload_file: str | Path | None = None, payload_name: str | None = None,
             solver: str | None = None, scenarios: int = 200, seed: int = 0,
             night: str | None = None, title: str | None = None, zone=None,
             min_elevation_deg: float | None = None, step=lambda name: None) -> PlanRun:
    """The main job: passes, key per pass, relay plan, key-budget report.

    Parameters
    ----------
    inputs
        From :func:`load_inputs`.
    demands
        Validated demands (:func:`demands_for`); none skips the relay plan.
    output
        Path of the HTML report; its tables are written beside it.
    solver
        ``milp``, ``greedy`` or ``rolling``; by default :func:`auto_solver`.
    scenarios, seed
        Weather scenarios for the plan's P10/P50/P90 and the report's monthly band.
    night
        Date (YYYY-MM-DD) of the night the sky plot shows, ``"best"`` or ``"tonight"``
        (default); checked before any work (:func:`planner.report.night.check_night`).
    zone
        Time zone (``tzinfo``) of the report's local times (``--tz``); each station's own by
        default.
    min_elevation_deg
        Overrides every station's minimum elevation [deg] (:func:`passes_for`): passes that
        stay below it are not found, and the key of each pass is that of its part above it.
        The report shows the stations with it
        (:func:`planner.mission.stations.stations_as_searched`) and records it in the
        provenance's ``options``.
    step
        Called with the name of each stage as it starts (for progress display).
    """
    from planner.report import page as report

    report.check_report_path(output)
    check_weather_options(scenarios, seed)
    report.check_night(night, (inputs.start, inputs.end))
    step("finding passes")
    passes = passes_for(inputs, min_elevation_deg=min_elevation_deg, night_only=False)
    step("computing the key of each pass")
    keys = keys_for(inputs, passes, payload_file=payload_file, payload_name=payload_name)
    plan = None
    solver = solver or auto_solver(inputs)
    if demands:
        step(f"planning trusted relays ({solver})")
        night_keys = keys.table[keys.table["night"]]
        plan = schedule_for(inputs, night_keys, demands, solver=solver, scenarios=scenarios,
                            seed=seed)
    step("writing the report")
    night_tracks, ground = report.night_views(keys.table, inputs.catalogue, inputs.stations,
                                              night=night)
    names = ", ".join(inputs.catalogue.name(k) for k in inputs.catalogue.satellites)
    files = report.write_report(output, report.ReportInputs(
        passes=passes, stations=stations_as_searched(inputs.stations, min_elevation_deg),
        keys=keys.table, tracks=night_tracks, plan=plan, ground_track=ground,
        title=title or f"{names}: key budget",
        provenance=run_provenance(inputs, key_models=keys.models, seed=seed,
                                  solver=solver if demands else None,
                                  options={"min_elevation_deg": min_elevation_deg}),
        period=(inputs.start, inputs.end), weather_scenarios=scenarios, weather_seed=seed,
        zone=zone))
    return PlanRun(passes=passes, keys=keys, plan=plan, report_files=files, solver=solver)
