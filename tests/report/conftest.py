"""Fixtures of the report tests: a real three-day run and report inputs built from it.

The run is the bundled (representative) Jinan-1 set over the seven Jinan-1 stations for three
days (pass finder, per-second tracks, the key model of ``planner.key.perpass``, a MILP relay
plan with weather scenarios); it is computed once per session.
"""

from __future__ import annotations

import json
import re

import pytest

from planner.geometry.tracks import pass_tracks
from planner.report import page as report
from planner.run import pipeline as jobs

START = "2026-11-24"
DAYS = 3
DEMANDS = ["Beijing:Stellenbosch", "Jinan:Stellenbosch:1:1e6"]
PLAN_SEED = 3
BAND_SEED = 11

_CACHE: dict = {}


def _run() -> dict:
    if _CACHE:
        return _CACHE
    from planner.key.perpass import pass_key_table
    from planner.mission.payloads import load_payloads, payload_for_satellite
    from planner.mission.stations import JINAN1_STATIONS
    from planner.relay.schedule import plan_schedule
    from planner.relay.weather import evaluate_plan

    inputs = jobs.load_inputs(start=START, days=DAYS, station_names=list(JINAN1_STATIONS))
    passes = jobs.passes_for(inputs, night_only=False)
    tracks = pass_tracks(passes, inputs.catalogue, inputs.stations)
    payload = payload_for_satellite(load_payloads(), passes["satellite"].iloc[0])
    keys = pass_key_table(passes, tracks, inputs.stations, payload)
    plan = plan_schedule(keys, DEMANDS)
    plan.weather, plan.weather_info = evaluate_plan(plan, keys, n_scenarios=40, seed=PLAN_SEED)
    night_tracks, track = report.night_views(keys, inputs.catalogue, inputs.stations,
                                             tracks=tracks)
    _CACHE.update(
        inputs=inputs, passes=passes, tracks=tracks, keys=keys, plan=plan,
        night=report.choose_night(keys), night_tracks=night_tracks, ground_track=track,
        provenance=jobs.run_provenance(inputs, payload=payload.name, seed=PLAN_SEED),
        days=DAYS, plan_seed=PLAN_SEED, band_seed=BAND_SEED)
    return _CACHE


def _build_inputs(**overrides) -> report.ReportInputs:
    run = _run()
    fields = {"passes": run["passes"], "stations": run["inputs"].stations, "keys": run["keys"],
              "tracks": run["night_tracks"], "plan": run["plan"],
              "ground_track": run["ground_track"], "provenance": run["provenance"],
              "title": "Jinan-1 key budget <test>", "weather_scenarios": 200,
              "weather_seed": BAND_SEED}
    fields.update(overrides)
    return report.ReportInputs(**fields)


@pytest.fixture(scope="session")
def run() -> dict:
    """The three-day run: ``inputs, passes, tracks, keys, plan, night, night_tracks,
    ground_track, provenance`` and its settings ``days, plan_seed, band_seed``."""
    return _run()


@pytest.fixture(scope="session")
def build_inputs(run):
    """``build_inputs(**overrides)``: report inputs of the run (cached: it takes seconds)."""
    return _build_inputs


@pytest.fixture(scope="session")
def page(build_inputs) -> str:
    return report.build_report(build_inputs())


@pytest.fixture(scope="session")
def figure_specs():
    """``figure_specs(page)``: data and layout of every figure of a page."""
    return _figure_specs


def _figure_specs(page: str) -> dict[str, tuple[list, dict]]:
    """Data and layout of every figure, parsed back from the ``Plotly.newPlot`` calls."""
    decoder = json.JSONDecoder()
    out = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        data, end = decoder.raw_decode(page, match.end())
        layout, _ = decoder.raw_decode(page, page.index("{", end))
        out[match.group(1)] = (data, layout)
    return out
