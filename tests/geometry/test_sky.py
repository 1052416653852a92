"""The Sun and Moon columns against Skyfield (DE421, full accuracy) and brute force.

* The interpolated Sun and Moon tracks against ``observe(...).apparent().altaz()``.
* The Moon's illuminated fraction against ``skyfield.almanac.fraction_illuminated``.
* Each pass's smallest Moon separation against a brute-force scan of Skyfield's satellite and
  Moon directions every 0.25 s over the pass.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from skyfield import almanac
from skyfield.api import wgs84

from planner.geometry.frames import station_frames
from planner.geometry.passes import find_passes
from planner.geometry.sky import (
    MoonTrack,
    SunTrack,
    _ephemeris,
    angular_separation_deg,
    moon_illuminated_fraction,
    sun_and_moon,
)
from planner.timebase import TimeBase
from tests.conftest import skyfield_times

START, END = "2021-05-20T00:00:00Z", "2021-05-30T00:00:00Z"   # waxing to full Moon (May 26)


def _topos(station):
    return wgs84.latlon(station.latitude_deg, station.longitude_deg, station.altitude_m)


@pytest.fixture(scope="module")
def moonlit_passes(micius_catalogue, jinan1_stations):
    return find_passes(micius_catalogue, jinan1_stations[:3], START, END)


@pytest.mark.parametrize("track", [SunTrack, MoonTrack])
def test_interpolated_body_matches_skyfield_altaz(track, jinan1_stations, timescale):
    station = jinan1_stations[0]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    timebase = TimeBase(start, 40 * 86400.0)
    rng = np.random.default_rng(3)
    tau = np.sort(rng.uniform(0.0, 40 * 86400.0, 400))
    body = track(timebase, 0.0, 40 * 86400.0)
    frames = station_frames([station.latitude_deg], [station.longitude_deg],
                            [station.altitude_m])
    ours = body.elevation_deg(tau, frames.position_km[[0] * tau.size],
                              frames.up[[0] * tau.size])
    planets = _ephemeris()
    name = "sun" if track is SunTrack else "moon"
    t = timebase.skyfield_time(tau)
    theirs = ((planets["earth"] + _topos(station)).at(t).observe(planets[name]).apparent()
              .altaz()[0].degrees)
    np.testing.assert_allclose(ours, theirs, atol=2e-4)


def test_sun_and_moon_from_one_frame_are_the_tracks_of_each(jinan1_stations):
    """One precession-nutation frame for both bodies: the Sun's track exactly, the Moon's
    within 1e-7 deg over a year (its frame spline runs through a few more nodes)."""
    timebase = TimeBase(datetime(2026, 11, 20, tzinfo=UTC), 370 * 86400.0)
    start, end = -3600.0, 366 * 86400.0
    sun, moon = sun_and_moon(timebase, start, end)
    tau = np.linspace(0.0, 365 * 86400.0, 20001)
    np.testing.assert_array_equal(sun.position_km(tau), SunTrack(timebase, start, end)
                                  .position_km(tau))
    position = station_frames([jinan1_stations[0].latitude_deg],
                              [jinan1_stations[0].longitude_deg],
                              [jinan1_stations[0].altitude_m]).position_km[0]
    angle = angular_separation_deg(moon.direction(tau, position),
                                   MoonTrack(timebase, start, end).direction(tau, position))
    assert angle.max() < 1e-7


def test_moon_illumination_matches_skyfield_almanac(timescale):
    start = datetime(2024, 3, 1, tzinfo=UTC)
    timebase = TimeBase(start, 60 * 86400.0)
    tau = np.linspace(0.0, 60 * 86400.0, 241)
    sun, moon = SunTrack(timebase, 0.0, tau[-1]), MoonTrack(timebase, 0.0, tau[-1])
    ours = moon_illuminated_fraction(sun, moon, tau)
    theirs = almanac.fraction_illuminated(_ephemeris(), "moon", timebase.skyfield_time(tau))
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    assert ours.min() < 0.01 and ours.max() > 0.99        # two months hold new and full Moons


def test_moon_columns_match_skyfield(moonlit_passes, jinan1_stations, timescale):
    planets = _ephemeris()
    for station in jinan1_stations[:3]:
        passes = moonlit_passes[moonlit_passes["station"] == station.name]
        observer = planets["earth"] + _topos(station)
        t = skyfield_times(timescale, passes["tca_utc"])
        altitude = observer.at(t).observe(planets["moon"]).apparent().altaz()[0].degrees
        np.testing.assert_allclose(passes["moon_elevation_deg"], altitude, atol=1e-3)
        np.testing.assert_allclose(passes["moon_illumination"],
                                   almanac.fraction_illuminated(planets, "moon", t), atol=1e-4)
    assert moonlit_passes["moon_illumination"].max() > 0.99


def test_smallest_moon_separation_matches_brute_force(moonlit_passes, micius_skyfield,
                                                      jinan1_stations, timescale):
    planets = _ephemeris()
    by_name = {s.name: s for s in jinan1_stations}
    # the passes with the Moon up, nearest first, and a few others
    ordered = moonlit_passes.sort_values("moon_separation_deg")
    chosen = pd.concat([ordered.head(6), ordered.iloc[::15]])
    for _, row in chosen.iterrows():
        topos = _topos(by_name[row["station"]])
        times = pd.date_range(row["aos_utc"], row["los_utc"], freq="250ms")
        t = skyfield_times(timescale, times)
        satellite = (micius_skyfield - topos).at(t).position.km
        moon = (planets["earth"] + topos).at(t).observe(planets["moon"]).apparent()
        # Skyfield's satellite positions are GCRS-aligned, its apparent Moon too (to ~20 mas)
        moon = moon.position.km
        cos = np.einsum("ij,ij->j", satellite / np.linalg.norm(satellite, axis=0),
                        moon / np.linalg.norm(moon, axis=0))
        brute = np.degrees(np.arccos(np.clip(cos.max(), -1.0, 1.0)))
        assert row["moon_separation_deg"] == pytest.approx(brute, abs=0.05)
        assert row["moon_separation_deg"] <= brute + 0.05
