"""A satellite with no pass over a station gets a note: "never rises" or "always above"."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from skyfield.api import EarthSatellite, wgs84

from planner.elements.tle import format_tle
from tests.conftest import MICIUS_TLE, run

START = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture
def geostationary(tmp_path, timescale):
    """A geostationary element set and the longitude below it at START (Skyfield)."""
    lines = format_tle("GEO-TEST", 90001, "2026-001A", START, inclination_deg=0.02,
                       raan_deg=0.0, eccentricity=0.0001, arg_perigee_deg=0.0,
                       mean_anomaly_deg=0.0, mean_motion_rev_per_day=1.00273791)
    path = tmp_path / "geo.tle"
    path.write_text("\n".join(lines) + "\n")
    satellite = EarthSatellite(lines[1], lines[2], lines[0], timescale)
    longitude = wgs84.subpoint_of(satellite.at(timescale.from_datetime(START))).longitude.degrees
    return path, satellite, float(longitude)


def _station(name: str, latitude: float, longitude: float) -> str:
    return (f"  - name: {name}\n    latitude_deg: {latitude}\n    longitude_deg: {longitude}\n"
            "    altitude_m: 50\n    timezone: UTC\n    min_elevation_deg: 10\n"
            "    clear_sky_probability: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, "
            "0.5, 0.5]\n    source: test station\n")


def test_geostationary_notes_in_stderr_and_provenance(geostationary, tmp_path, timescale,
                                                     capsys):
    tle, satellite, longitude = geostationary
    far = (longitude + 180.0 + 180.0) % 360.0 - 180.0
    stations = tmp_path / "stations.yaml"
    stations.write_text("stations:\n" + _station("Below", 38.0, round(longitude, 3))
                        + _station("Antipode", 38.0, round(far, 3)))
    output = tmp_path / "passes.json"
    code, _out, err = run(["passes", "--tle", tle, "--stations", stations, "--start",
                           "2026-11-24", "--days", "1", "--all", "-f", "json", "-o", output],
                          capsys)
    assert code == 0, err
    document = json.loads(output.read_text())
    assert document["passes"] == []
    notes = document["provenance"]["warnings"]
    below = [n for n in notes if "Below" in n]
    antipode = [n for n in notes if "Antipode" in n]
    assert len(below) == 1 and "always above 10°" in below[0], notes
    assert len(antipode) == 1 and "never rises above 10°" in antipode[0], notes
    assert below[0] in err and antipode[0] in err
    # the lowest elevation quoted is Skyfield's at the station, within the drift of a day
    place = wgs84.latlon(38.0, round(longitude, 3), elevation_m=50)
    elevation = (satellite - place).at(timescale.from_datetime(START)).altaz()[0].degrees
    quoted = float(below[0].split("lowest ")[1].split("°")[0])
    assert quoted == pytest.approx(elevation, abs=0.5)
    assert 40.0 < elevation < 50.0  # a geostationary satellite seen from 38° latitude


def test_satellites_with_passes_get_no_note(tmp_path, capsys):
    tle = tmp_path / "micius.tle"
    tle.write_text(MICIUS_TLE)
    code, _out, err = run(["passes", "--tle", tle, "--start", "2021-04-27T12:00:00Z",
                           "--days", "1", "--all", "--allow-stale", "-f", "csv", "-o",
                           tmp_path / "p.csv"], capsys)
    assert code == 0, err
    assert "never rises" not in err and "always above" not in err


def test_a_decay_is_recorded_in_the_provenance_of_csv_and_json(tmp_path, capsys):
    epoch = datetime(2021, 4, 27, tzinfo=UTC)
    doomed = "\n".join(format_tle("DOOMED", 99990, "", epoch, 51.6, 10.0, 0.0005, 90.0, 0.0,
                                  16.30, bstar=0.05))
    tle = tmp_path / "two.tle"
    tle.write_text(MICIUS_TLE + doomed + "\n")
    for fmt in ("json", "csv"):
        output = tmp_path / f"passes.{fmt}"
        code, _out, err = run(["passes", "--tle", tle, "--start", "2021-04-27T00:00:00Z",
                               "--days", "10", "--allow-stale", "-f", fmt, "-o", output], capsys)
        assert code == 0, err
        text = output.read_text()
        if fmt == "json":
            text = " ".join(json.loads(text)["provenance"]["warnings"])
        elif "DOOMED" not in text:  # plain CSV: the provenance is in a NAME.meta.json sidecar
            text = " ".join(p.read_text() for p in tmp_path.glob("passes*.meta.json"))
        assert "DOOMED: SGP4 cannot propagate from 2021-" in text, text[:2000]
