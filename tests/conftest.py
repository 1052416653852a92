"""Shared fixtures: the real Micius element set, the bundled stations, Skyfield references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skyfield.api import EarthSatellite, load

from planner.cli.root import main as cli_main

MICIUS_TLE = """MICIUS (QUESS)
1 41731U 16051A   21117.42314584  .00000696  00000-0  30260-4 0  9998
2 41731  97.3499  30.8507 0012844 347.0485 124.2616 15.25507799261429
"""
"""The real, checksum-valid Micius set of docs/reference.md (epoch 2021-04-27)."""


@pytest.fixture(scope="session")
def timescale():
    return load.timescale(builtin=True)


@pytest.fixture(scope="session")
def micius_catalogue():
    from planner.elements.elementsets import Catalogue, parse_tle_text

    return Catalogue(parse_tle_text(MICIUS_TLE, source="micius.tle"))


@pytest.fixture(scope="session")
def micius_skyfield(timescale):
    lines = MICIUS_TLE.splitlines()
    return EarthSatellite(lines[1], lines[2], lines[0], timescale)


@pytest.fixture(scope="session")
def stations():
    from planner.mission.stations import load_stations

    return load_stations()


@pytest.fixture(scope="session")
def jinan1_stations(stations):
    from planner.mission.stations import JINAN1_STATIONS, select_stations

    return select_stations(stations, list(JINAN1_STATIONS))


def skyfield_times(timescale, times) -> object:
    """Skyfield Time of pandas UTC timestamps, to the nanosecond."""
    t = pd.Series(pd.to_datetime(times, utc=True)).dt
    seconds = (t.second.to_numpy() + t.microsecond.to_numpy() / 1e6
               + t.nanosecond.to_numpy() / 1e9)
    return timescale.utc(t.year.to_numpy(), t.month.to_numpy(), t.day.to_numpy(),
                         t.hour.to_numpy(), t.minute.to_numpy(), seconds)


def as_array(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


SCHEDULE_BASE = pd.Timestamp("2025-03-01T14:00:00Z")
"""22:00 in China: the synthetic night passes of the scheduler tests start around here."""


def synthetic_key_table(rows, *, clear: float = 1.0, bits_are_expected: bool = True,
                        first_id: int = 0) -> pd.DataFrame:
    """A key table from ``(satellite, station, night, minute, duration_s, bits)`` tuples.

    ``bits`` is the expected key (clear-sky key = bits / clear) or, with
    ``bits_are_expected=False``, the clear-sky key (expected = bits * clear).
    """
    records = []
    for satellite, station, night, minute, duration, bits in rows:
        aos = SCHEDULE_BASE + pd.Timedelta(days=night, minutes=minute)
        los = aos + pd.Timedelta(seconds=duration)
        secure, expected = ((bits / clear, float(bits)) if bits_are_expected
                            else (float(bits), float(bits) * clear))
        records.append({
            "satellite": satellite, "norad": 0, "station": station, "aos_utc": aos,
            "tca_utc": aos + (los - aos) / 2, "los_utc": los, "duration_s": float(duration),
            "max_elevation_deg": 60.0, "aos_azimuth_deg": 200.0, "night": True,
            "secure_bits": secure, "expected_secure_bits": expected,
            "clear_sky_probability": clear})
    index = pd.Index(range(first_id, first_id + len(records)), name="pass_id")
    return pd.DataFrame(records, index=index)


def plan_ok(table, demands, **kwargs):
    """A relay plan of ``table`` for ``demands``, checked by the independent plan checker."""
    from planner.relay.check import assert_plan_valid
    from planner.relay.schedule import plan_schedule

    plan = plan_schedule(table, demands, **kwargs)
    assert_plan_valid(plan, table)
    return plan


def delivered(plan, label) -> float:
    """Bits a plan delivers to the demand ``label`` (``A:B``)."""
    return float(plan.delivered.loc[label, "delivered_bits"])


def run(args, capsys):
    """Run the CLI in-process; return (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        cli_main([str(a) for a in args])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def assert_one_line_error(code, out, err, *needles):
    """Assert a bad-input exit: status 2 and one stderr line containing every needle."""
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle.lower() in lines[0].lower(), (needle, lines[0])
    return lines[0]
