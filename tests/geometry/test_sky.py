"""The Sun and Moon columns against Skyfield (DE421, full accuracy) and brute force.

* The interpolated Sun and Moon tracks against ``observe(...).apparent().altaz()``.
* The Moon's illuminated fraction against ``skyfield.almanac.fraction_illuminated``.
* Each pass's smallest Moon separation against a brute-force scan of Skyfield's satellite and
  Moon directions every 0.25 s over the pass, also where the Moon is far below the track and
  cos(separation) has both a maximum and a minimum inside the pass.
* The search for the closest approach against a dense scan of the same model, on passes
  where the separation is flat and far from a parabola (the Moon ~90 deg from the track).
* The Moon's Earth-fixed velocity against finite differences of its position, and the
  separation's derivatives (on which the search relies) against finite differences of the
  separation.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from skyfield import almanac
from skyfield.api import EarthSatellite, wgs84

from planner.elements.elementsets import read_catalogue
from planner.geometry.finder import LocalOrbit
from planner.geometry.frames import SatellitePropagator, station_frames
from planner.geometry.passes import _closest_approach, _cos_separation_rates, find_passes
from planner.geometry.sky import (
    MoonTrack,
    SunTrack,
    _ephemeris,
    angular_separation_deg,
    moon_illuminated_fraction,
    sun_and_moon,
)
from planner.io.resources import bundled_path
from planner.mission.stations import Station
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


def _brute_force_separation_deg(satellite, topos, aos, los, timescale):
    """The smallest angle between Skyfield's satellite and apparent Moon, every 0.25 s."""
    planets = _ephemeris()
    times = pd.date_range(aos, los, freq="250ms")
    t = skyfield_times(timescale, times)
    sight = (satellite - topos).at(t).position.km
    # Skyfield's satellite positions are GCRS-aligned, its apparent Moon too (to ~20 mas)
    moon = (planets["earth"] + topos).at(t).observe(planets["moon"]).apparent().position.km
    cos = np.einsum("ij,ij->j", sight / np.linalg.norm(sight, axis=0),
                    moon / np.linalg.norm(moon, axis=0))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


@pytest.mark.parametrize(("latitude", "longitude", "aos"), [
    (68.4348, 127.4767, "2027-01-28T12:05"), (-81.8904, -113.2686, "2026-11-29T09:12")])
def test_smallest_moon_separation_with_the_moon_far_below_the_track(latitude, longitude, aos,
                                                                     timescale):
    """Two Jinan-1 passes with the Moon 12-28 deg below the horizon and 80-90 deg from the
    track, where cos(separation) rises, falls and rises again within the pass: the closest
    approach is inside the pass, while the separation shrinks at one end or both (a search
    that trusts the slopes at rise and set alone answers with an end, up to 1.7 deg off)."""
    catalogue = read_catalogue(bundled_path("tle_data/jinan1_representative.tle"))
    station = Station(name="far", latitude_deg=latitude, longitude_deg=longitude, altitude_m=0.0,
                      timezone="UTC", clear_sky_probability=[0.5] * 12, source="test")
    start = pd.Timestamp(aos, tz="UTC")
    passes = find_passes(catalogue, [station], start - pd.Timedelta(minutes=5),
                         start + pd.Timedelta(minutes=5))
    assert len(passes) == 1
    row = passes.iloc[0]
    elements = catalogue.sets(catalogue.satellites[0])[0]
    satellite = EarthSatellite(elements.line1, elements.line2, elements.name, timescale)
    brute = _brute_force_separation_deg(satellite, _topos(station), row["aos_utc"],
                                        row["los_utc"], timescale)
    inner = brute.argmin()
    assert 0 < inner < brute.size - 1                                # closest inside the pass
    assert min(brute[0], brute[-1]) > brute.min() + 0.5              # the ends are far off
    assert row["moon_separation_deg"] == pytest.approx(brute.min(), abs=0.05)
    assert row["moon_elevation_deg"] < -10.0


def test_moon_earth_fixed_velocity_is_the_rate_of_its_position():
    start = datetime(2025, 6, 1, tzinfo=UTC)
    timebase = TimeBase(start, 30 * 86400.0)
    moon = MoonTrack(timebase, 0.0, 30 * 86400.0)
    tau = np.random.default_rng(5).uniform(0.0, 30 * 86400.0, 50)
    position, velocity = moon.earth_fixed_motion(tau)
    np.testing.assert_allclose(position, moon.position_km(tau), rtol=0, atol=1e-6)
    h = 1.0
    rate = (moon.position_km(tau + h) - moon.position_km(tau - h)) / (2 * h)
    # the Earth turns the Moon at ~28 km/s; the central difference is good to ~1e-5 km/s
    np.testing.assert_allclose(velocity, rate, rtol=0, atol=1e-4)
    assert np.linalg.norm(velocity, axis=1).min() > 20.0


def test_separation_derivatives_match_finite_differences(micius_catalogue):
    """The slope and curvature of cos(separation) along the modelled motion against central
    differences of its value, with the Moon's direction moving too, over three passes
    straight over a station (where the line of sight turns fastest)."""
    elements = micius_catalogue.sets(micius_catalogue.satellites[0])[0]
    timebase = TimeBase(elements.epoch, 86400.0)
    propagator = SatellitePropagator([elements.satrec], np.array([timebase.tau_of(elements.epoch)]),
                                     timebase)
    tau0 = np.array([1000.0, 5000.0, 9000.0])
    r, v, _ = propagator.state(tau0)
    below = r * (6371.0 / np.linalg.norm(r, axis=1))[:, None]   # stations under the satellite
    local = LocalOrbit(tau0, r, v, below, below / 6371.0)
    station = tuple(below[:, [k]] for k in range(3))
    moon_start = np.array([[0.3, -0.5, 0.8], [-0.9, 0.1, 0.2], [0.2, 0.9, -0.1]])
    moon_rate = np.array([[1e-5, 2e-5, -1e-5], [-3e-5, 0.0, 2e-5], [0.0, 1e-5, 1e-5]])

    def separation(tau, acceleration=False):
        moon = tuple(moon_start[:, [k]] + (tau - tau0[:, None]) * moon_rate[:, [k]]
                     for k in range(3))
        return _cos_separation_rates(local.motion(tau, acceleration=acceleration), station,
                                     moon, tuple(moon_rate[:, [k]] for k in range(3)))

    tau = tau0[:, None] + np.linspace(-200.0, 200.0, 9)
    value, slope, curvature = separation(tau, acceleration=True)
    h = 0.01
    ahead, behind = separation(tau + h)[0], separation(tau - h)[0]
    assert np.abs(slope).max() > 1e-2 and np.abs(curvature).max() > 1e-4
    np.testing.assert_allclose(slope, (ahead - behind) / (2 * h), rtol=1e-6,
                               atol=1e-6 * np.abs(slope).max())
    np.testing.assert_allclose(curvature, (ahead - 2 * value + behind) / h**2, rtol=1e-4,
                               atol=1e-4 * np.abs(curvature).max())


# two passes of a 500 km Walker satellite (WALKER-P2-S3 over G002 and WALKER-P3-S2 over G021 of
# benchmarks/constellation.py): the state at culmination (tau = 0), the station, rise and set,
# and the Moon's directions at rise and set, as find_passes hands them to the search
_FLAT_SEPARATIONS = [
    ([-429.0747164424941, -3024.013817199094, 6154.200389860014],
     [-1.4836266849591153, 6.80854170373089, 3.2351449581406713],
     [-243.71800783856776, -2777.056633427282, 5717.419256793918],
     [-0.038107731959149786, -0.43422039577856386, 0.9000002492526527],
     -179.14304764785263, 180.37776077624133,
     [0.9256659980461359, 0.03266526393273366, 0.3769289596110333],
     [0.9262626025203188, 0.009404749966907615, 0.3767613858270855]),
    ([-6740.4724158623985, 999.5170413264078, 939.3567187899147],
     [1.2465507203367399, 1.3155771513801746, 7.478322711238315],
     [-6259.334435153356, 842.1795846194814, 887.0146361928453],
     [-0.9813090849587954, 0.13203296390627728, 0.139999200781488],
     -177.81976315986196, 177.58312301307774,
     [0.22424185587231965, 0.9460954622669565, -0.2337070096355948],
     [0.24778647110321847, 0.9401341930940794, -0.23398624684702757]),
]


@pytest.mark.parametrize("case", _FLAT_SEPARATIONS)
def test_closest_moon_approach_matches_a_dense_scan_of_its_model(case):
    """Separations of 86-92 deg, so flat that Newton's first step from the interval's cubic
    overshoots the interval (the first pass), or with a maximum and a minimum of the
    separation inside one interval (the second): the search must still find the smallest
    separation the model takes, as 20,001 samples over the pass find it."""
    r, v, station, up, aos, los, moon_aos, moon_los = (np.atleast_2d(np.asarray(x, dtype=float))
                                                       for x in case)
    local = LocalOrbit(np.zeros(1), r, v, station, up)
    found = np.degrees(np.arccos(_closest_approach(local, station, aos[0], los[0], moon_aos,
                                                   moon_los)[0]))
    tau = np.linspace(aos[0, 0], los[0, 0], 20001)[None, :]
    rate = (moon_los - moon_aos) / (los - aos)
    moon = tuple(moon_aos[:, [k]] + (tau - aos) * rate[:, [k]] for k in range(3))
    cos = _cos_separation_rates(local.motion(tau), tuple(station[:, [k]] for k in range(3)),
                                moon, tuple(rate[:, [k]] for k in range(3)))[0]
    scanned = np.degrees(np.arccos(cos.max()))
    assert 80.0 < scanned < 95.0
    assert found == pytest.approx(scanned, abs=1e-6)
