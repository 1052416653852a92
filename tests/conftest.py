"""Shared fixtures: the real Micius element set, the bundled stations, Skyfield references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skyfield.api import EarthSatellite, load

MICIUS_TLE = """MICIUS (QUESS)
1 41731U 16051A   21117.42314584  .00000696  00000-0  30260-4 0  9998
2 41731  97.3499  30.8507 0012844 347.0485 124.2616 15.25507799261429
"""
"""The real, checksum-valid Micius set of REFERENCE.md (epoch 2021-04-27)."""


@pytest.fixture(scope="session")
def timescale():
    return load.timescale(builtin=True)


@pytest.fixture(scope="session")
def micius_catalogue():
    from planner.elements import Catalogue, parse_tle_text

    return Catalogue(parse_tle_text(MICIUS_TLE, source="micius.tle"))


@pytest.fixture(scope="session")
def micius_skyfield(timescale):
    lines = MICIUS_TLE.splitlines()
    return EarthSatellite(lines[1], lines[2], lines[0], timescale)


@pytest.fixture(scope="session")
def stations():
    from planner.stations import load_stations

    return load_stations()


@pytest.fixture(scope="session")
def jinan1_stations(stations):
    from planner.stations import JINAN1_STATIONS, select_stations

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
