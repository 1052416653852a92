"""Ground tracks against Skyfield's full-accuracy geometry; the geodetic conversion inverts
Skyfield's; the views of a set of passes cover them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skyfield.api import EarthSatellite, wgs84

from planner.errors import OptionError
from planner.geometry.groundtrack import ground_track, itrs_to_geodetic, passes_views
from planner.geometry.passes import find_passes
from tests.conftest import skyfield_times


def test_ground_track_matches_skyfield(micius_catalogue, timescale):
    track = ground_track(micius_catalogue, "2021-05-01T12:00:00Z", "2021-05-01T14:00:00Z",
                         step_s=60.0)
    assert len(track) == 121
    element_set = micius_catalogue.sets(micius_catalogue.satellites[0])[0]
    satellite = EarthSatellite.from_satrec(element_set.satrec, timescale)
    position = satellite.at(skyfield_times(timescale, track["time_utc"]))
    latitude, longitude = wgs84.latlon_of(position)
    np.testing.assert_allclose(track["latitude_deg"], latitude.degrees, atol=1e-6)
    dlon = (track["longitude_deg"] - longitude.degrees + 180.0) % 360.0 - 180.0
    assert np.abs(dlon).max() < 1e-6
    np.testing.assert_allclose(track["altitude_km"], wgs84.height_of(position).km, atol=1e-3)


def test_geodetic_conversion_inverts_skyfield():
    rng = np.random.default_rng(7)
    lat = rng.uniform(-89.99, 89.99, 300)
    lon = rng.uniform(-180, 180, 300)
    height = rng.uniform(-0.4, 40_000, 300)
    xyz = np.array([wgs84.latlon(a, b, c * 1000).itrs_xyz.km
                    for a, b, c in zip(lat, lon, height, strict=True)])
    got_lat, got_lon, got_height = itrs_to_geodetic(xyz)
    np.testing.assert_allclose(got_lat, lat, atol=1e-9)
    np.testing.assert_allclose(got_lon, lon, atol=1e-9)
    np.testing.assert_allclose(got_height, height, atol=1e-6)


@pytest.mark.parametrize(("start", "end", "step", "name"), [
    ("2021-05-01T12:00Z", "2021-05-01T12:00Z", 30.0, "end"),
    ("2021-05-01T12:00Z", "2021-05-01T13:00Z", 0.0, "step_s"),
    ("2021-05-01T12:00Z", "2021-05-01T13:00Z", float("nan"), "step_s"),
])
def test_bad_window_or_step_names_the_parameter(micius_catalogue, start, end, step, name):
    with pytest.raises(OptionError) as error:
        ground_track(micius_catalogue, start, end, step_s=step)
    assert error.value.field == name


def test_passes_views_cover_the_passes(micius_catalogue, jinan1_stations):
    passes = find_passes(micius_catalogue, jinan1_stations, "2021-05-01", "2021-05-03")
    chosen = passes.iloc[:3]
    tracks, track = passes_views(chosen, micius_catalogue, jinan1_stations, margin_minutes=10)
    assert set(tracks["pass_id"]) == set(chosen.index)
    for pass_id, group in tracks.groupby("pass_id"):
        assert group["elevation_deg"].max() == pytest.approx(
            chosen.loc[pass_id, "max_elevation_deg"], abs=0.05)
    margin = pd.Timedelta(minutes=10)
    start = track["time_utc"].min() - (chosen["aos_utc"].min() - margin)
    assert abs(start) < pd.Timedelta(milliseconds=1)
    assert track["time_utc"].max() >= chosen["los_utc"].max() + margin - pd.Timedelta(seconds=30)
    given, _ = passes_views(chosen.iloc[:1], micius_catalogue, jinan1_stations, tracks=tracks)
    assert set(given["pass_id"]) == {chosen.index[0]}
