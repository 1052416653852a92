"""A satellite with no pass over a station gets a note: "does not rise" or "always above",
one line per cause naming the stations."""

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
    assert len(antipode) == 1 and "does not rise above 10° in this period at Antipode" in \
        antipode[0], notes
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
    assert "does not rise" not in err and "always above" not in err


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


def test_a_short_window_gives_one_line_for_every_station_it_misses(capsys):
    # the operator review: 12 lines, one per station, saying "never rises" of a 2-hour window
    code, _out, err = run(["passes", "--start", "2026-12-03T12:00Z", "--days", "0.1"], capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, err
    (line,) = warnings
    assert "does not rise above 15° in this period at 10 stations: Jinan, Hefei" in line
    assert line.endswith("and 4 more"), line
    assert "never" not in err


def test_schedule_gives_one_line_per_cause(capsys):
    code, _out, err = run(["schedule", "--start", "2026-12-03T12:00Z", "--days", "0.1",
                           "--scenarios", "5"], capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, err
    assert "does not rise above 15° in this period at 10 stations" in warnings[0]
    assert ("Beijing:Stellenbosch gets no key: no common visibility: no usable pass over "
            "Beijing or Stellenbosch") in warnings[1]


def test_no_highest_elevation_is_quoted_for_a_satellite_that_does_not_rise(timescale):
    # sampled every 10 min, the "highest" of a 0.1-day window was above that of the 0.3-day
    # window holding it (-1.2° vs -1.4°): a larger window cannot have a lower maximum, so the
    # sampled figure is not quoted; Skyfield confirms the satellite is below 15° throughout
    from datetime import timedelta

    from planner.geometry.visibility import visibility_notes
    from planner.run.pipeline import load_inputs, passes_for

    start = datetime(2026, 12, 3, 12, tzinfo=UTC)
    for days in (0.1, 0.3):
        inputs = load_inputs(None, None, ["Graz"], start, days)
        table = passes_for(inputs, night_only=False)
        notes = visibility_notes(inputs.catalogue, inputs.stations, start,
                                 start + timedelta(days=days), table)
        if table.empty:
            (note,) = notes
            assert note.endswith("does not rise above 15° in this period at Graz"), note
            assert "highest" not in note
            element_set = inputs.catalogue.sets(inputs.catalogue.satellites[0])[0]
            satellite = EarthSatellite(element_set.line1, element_set.line2, ts=timescale)
            graz = inputs.stations[0]
            place = wgs84.latlon(graz.latitude_deg, graz.longitude_deg, graz.altitude_m)
            t = timescale.utc(2026, 12, 3, 12, 0, range(0, int(days * 86400), 5))
            assert (satellite - place).at(t).altaz()[0].degrees.max() < 15.0
        else:
            assert not notes
