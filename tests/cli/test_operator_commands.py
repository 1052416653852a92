"""``qkdplan next`` and ``qkdplan track``, checked against the pass table and Skyfield."""

from __future__ import annotations

import io
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from skyfield.api import EarthSatellite, Loader, wgs84

from planner.cli.operator import countdown
from tests.conftest import MICIUS_TLE, assert_one_line_error, run, skyfield_times

START = "2021-04-27T12:00:00Z"
FETCHED = Path(__file__).parents[1] / "data" / "fetch" / "gp_catnr_41731.json"


@pytest.fixture
def micius_file(tmp_path):
    path = tmp_path / "micius.tle"
    path.write_text(MICIUS_TLE)
    return path


@pytest.fixture(scope="module")
def skyfield_micius(timescale):
    lines = MICIUS_TLE.splitlines()
    return EarthSatellite(lines[1], lines[2], lines[0], timescale)


def _ephemeris():
    from skyfield_data import get_skyfield_data_path

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Loader(get_skyfield_data_path(), verbose=False)("de421.bsp")


def test_countdown_reads_as_people_say_it():
    assert countdown(-5) == "under way"
    assert countdown(42) == "in 42 s"
    assert countdown(600) == "in 10 min"
    assert countdown(2 * 3600 + 5 * 60 + 10) == "in 2 h 05 min"
    assert countdown(3 * 86400) == "in 3.0 days"


def test_next_is_the_earliest_pass_of_each_station(micius_file, timescale, skyfield_micius,
                                                   capsys):
    common = ["--tle", micius_file, "--start", START, "--days", "2", "-f", "csv", "--all"]
    code, out, err = run(["passes", *common], capsys)
    assert code == 0, err
    passes = pd.read_csv(io.StringIO(out), parse_dates=["aos_utc", "tca_utc"])
    code, out, err = run(["next", *common, "--count", "2"], capsys)
    assert code == 0, err
    nxt = pd.read_csv(io.StringIO(out), parse_dates=["aos_utc", "tca_utc"])
    expected = passes.sort_values("aos_utc").groupby("station").head(2)
    assert sorted(zip(nxt["station"], nxt["aos_utc"], strict=True)) == sorted(
        zip(expected["station"], expected["aos_utc"], strict=True))
    start = pd.Timestamp(START)
    np.testing.assert_allclose(nxt["seconds_to_aos"],
                               (nxt["aos_utc"] - start).dt.total_seconds(), atol=1e-3)
    lit = skyfield_micius.at(skyfield_times(timescale, nxt["tca_utc"])).is_sunlit(_ephemeris())
    assert nxt["sunlit_at_tca"].tolist() == lit.tolist()
    code, out, err = run(["next", "--tle", micius_file, "--start", START, "--days", "2"],
                         capsys)
    assert code == 0, err
    assert "Next night pass of MICIUS (QUESS)" in " ".join(out.split())
    assert "in " in out


def test_next_during_a_pass_shows_that_pass_under_way(micius_file, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    common = ["--tle", micius_file, "--days", "2", "-f", "csv", "--all"]
    code, out, err = run(["passes", *common, "--start", START], capsys)
    assert code == 0, err
    first = pd.read_csv(io.StringIO(out), parse_dates=["aos_utc", "los_utc"]).iloc[0]
    during = first.aos_utc + (first.los_utc - first.aos_utc) / 2
    code, out, err = run(["next", *common, "--station", first.station,
                          "--start", f"{during:%Y-%m-%dT%H:%M:%SZ}"], capsys)
    assert code == 0, err
    nxt = pd.read_csv(io.StringIO(out), parse_dates=["aos_utc", "los_utc"]).iloc[0]
    assert abs((nxt.aos_utc - first.aos_utc).total_seconds()) < 0.01
    assert abs((nxt.los_utc - first.los_utc).total_seconds()) < 0.01
    assert nxt.seconds_to_aos < 0
    code, out, err = run(["next", *common[:-3], "--all", "--station", first.station,
                          "--start", f"{during:%Y-%m-%dT%H:%M:%SZ}"], capsys)
    assert code == 0, err
    assert "under way" in out
    # track's first pass from that moment is the same pass, from its AOS to its LOS
    code, out, err = run(["track", *common[:4], "--all", "--station", first.station, "--start",
                          f"{during:%Y-%m-%dT%H:%M:%SZ}", "--step", "10", "-f", "csv"], capsys)
    assert code == 0, err
    track = pd.read_csv(io.StringIO(out), parse_dates=["time_utc"])
    assert abs((track["time_utc"].iloc[0] - first.aos_utc).total_seconds()) < 0.01
    assert abs((track["time_utc"].iloc[-1] - first.los_utc).total_seconds()) < 0.01


def test_track_matches_skyfield_topocentric_geometry(micius_file, timescale, skyfield_micius,
                                                     stations, capsys):
    args = ["track", "--tle", micius_file, "--start", START, "--days", "2", "--station",
            "Graz", "--all", "--pass", "2", "--step", "5", "-f", "csv"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    track = pd.read_csv(io.StringIO(out), parse_dates=["time_utc"])
    assert list(track.columns) == ["time_utc", "t_s", "azimuth_deg", "elevation_deg", "range_km",
                                   "range_rate_km_s", "sunlit", "satellite", "norad", "station"]
    assert set(track["satellite"]) == {"MICIUS (QUESS)"} and set(track["norad"]) == {41731}
    assert set(track["station"]) == {"Graz"}
    code, out, _ = run(["passes", "--tle", micius_file, "--start", START, "--days", "2",
                        "--station", "Graz", "--all", "-f", "csv"], capsys)
    second = pd.read_csv(io.StringIO(out), parse_dates=["aos_utc", "los_utc"]).iloc[1]
    assert track["time_utc"].iloc[0] == second["aos_utc"]
    steps = track["time_utc"].diff().dropna()
    assert (steps.iloc[:-1] == pd.Timedelta(seconds=5)).all()
    assert pd.Timedelta(0) < steps.iloc[-1] <= pd.Timedelta(seconds=5)
    # AOS to LOS inclusive: the last row is the set itself, back at the rise elevation
    assert track["time_utc"].iloc[-1] == second["los_utc"]
    assert track["t_s"].iloc[-1] == pytest.approx(second["duration_s"], abs=1e-3)
    assert track["elevation_deg"].iloc[-1] == pytest.approx(track["elevation_deg"].iloc[0],
                                                            abs=1e-3)
    graz = next(s for s in stations if s.name == "Graz")
    topos = wgs84.latlon(graz.latitude_deg, graz.longitude_deg, graz.altitude_m)
    t = skyfield_times(timescale, track["time_utc"])
    topocentric = (skyfield_micius - topos).at(t)
    el, az, distance, _, _, range_rate = topocentric.frame_latlon_and_rates(topos)
    np.testing.assert_allclose(track["elevation_deg"], el.degrees, atol=2e-3)
    np.testing.assert_allclose(track["azimuth_deg"], az.degrees, atol=5e-3)
    np.testing.assert_allclose(track["range_km"], distance.km, atol=0.05)
    np.testing.assert_allclose(track["range_rate_km_s"], range_rate.km_per_s, atol=1e-3)
    lit = skyfield_micius.at(t).is_sunlit(_ephemeris())
    assert (track["sunlit"].to_numpy() == lit).mean() > 0.97


def test_track_table_fits_80_columns(monkeypatch, micius_file, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run(["track", "--tle", micius_file, "--start", START, "--station", "Graz",
                          "--all", "--step", "20"], capsys)
    assert code == 0, err
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    assert "CEST" in out and "sunlit" in out


@pytest.mark.parametrize(("args", "flag"), [
    (["track"], "--station"),
    (["track", "--station", "Graz", "--step", "0"], "--step"),
    (["track", "--station", "Graz", "--step", "0.05"], "--step"),
    (["track", "--station", "Graz", "--step", "601"], "--step"),
    (["track", "--station", "Graz", "--pass", "400"], "--pass"),
    (["next", "--count", "0"], "--count"),
])
def test_operator_command_errors_name_the_flag(args, flag, micius_file, capsys):
    code, out, err = run([*args, "--tle", micius_file, "--start", START, "--days", "1"],
                         capsys)
    assert_one_line_error(code, out, err, flag)


def test_norad_reads_the_fetch_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QKDPLAN_CACHE_DIR", str(tmp_path))
    code, out, err = run(["next", "--norad", "41731", "--start", START], capsys)
    assert_one_line_error(code, out, err, "41731", "tle fetch --catnr 41731")
    shutil.copy(FETCHED, tmp_path / "catnr-41731.json")
    code, out, err = run(["next", "--norad", "41731", "--start", START, "-f", "csv"], capsys)
    assert code == 0, err
    assert set(pd.read_csv(io.StringIO(out))["norad"]) == {41731}
