"""Whether the satellite is sunlit, against Skyfield's ``is_sunlit`` and hand-made cases."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from skyfield.api import EarthSatellite, Loader

from planner.geometry.illumination import EARTH_RADIUS_KM, satellite_sunlit, sunlit
from tests.conftest import MICIUS_TLE, skyfield_times


def _ephemeris():
    from skyfield_data import get_skyfield_data_path

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Loader(get_skyfield_data_path(), verbose=False)("de421.bsp")


def test_hand_made_cases():
    sun = np.array([[1.5e8, 0.0, 0.0]] * 4)
    satellites = np.array([
        [-7000.0, 0.0, 0.0],                         # straight behind the Earth: shadow
        [7000.0, 0.0, 0.0],                          # between Earth and sun: lit
        [-7000.0, EARTH_RADIUS_KM + 1.0, 0.0],       # behind, but just past the limb: lit
        [-7000.0, EARTH_RADIUS_KM - 1.0, 0.0],       # behind, just inside the limb: shadow
    ])
    assert sunlit(satellites, sun).tolist() == [False, True, True, False]


def test_micius_matches_skyfield_is_sunlit_for_two_days(micius_catalogue, timescale):
    lines = MICIUS_TLE.splitlines()
    satellite = EarthSatellite(lines[1], lines[2], lines[0], timescale)
    times = pd.date_range("2021-04-27T12:00Z", periods=2 * 8640, freq="10s")
    mine = satellite_sunlit(micius_catalogue.sets(micius_catalogue.satellites[0]),
                            times.to_numpy(dtype="datetime64[ns]"))
    reference = satellite.at(skyfield_times(timescale, times)).is_sunlit(_ephemeris())
    assert 0.3 < reference.mean() < 0.9                      # both states occur
    disagree = np.flatnonzero(mine != reference)
    # the planner's apparent sun and Skyfield's geometric one differ by ~20": at most the
    # sample at each shadow edge may differ
    edges = np.flatnonzero(np.diff(reference.astype(int)) != 0)
    assert all(np.min(np.abs(edges - k)) <= 1 for k in disagree)
    assert disagree.size <= 2
