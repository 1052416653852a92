"""The default satellite: a Jinan-1-class orbit generated for any planning window.

Checked against Skyfield (independent SGP4 and time scale): the ascending node falls at
22:30 local mean solar time and the orbit is ~500 km high, sun-synchronous; the main job runs
on a date years after every real element set has expired.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from skyfield.api import EarthSatellite, load, wgs84

from planner.elements import default_orbit
from planner.io.resources import bundled_path
from tests.conftest import run


def test_bundled_representative_set_is_the_same_derivation():
    text = "\n".join(default_orbit.jinan1_class_tle(datetime(2026, 11, 20, tzinfo=UTC))) + "\n"
    assert text == bundled_path("tle_data/jinan1_representative.tle").read_text()


@pytest.mark.parametrize("epoch", [datetime(2030, 6, 1, 3, 17, tzinfo=UTC),
                                   datetime(2031, 12, 21, tzinfo=UTC)])
def test_generated_node_time_and_altitude_with_skyfield(epoch):
    name, line1, line2 = default_orbit.jinan1_class_tle(epoch)
    ts = load.timescale(builtin=True)
    satellite = EarthSatellite(line1, line2, name, ts)
    assert abs(satellite.epoch.utc_datetime() - epoch) < timedelta(milliseconds=1)
    # one orbit sampled every second from the epoch
    seconds = np.arange(0.0, 95 * 60.0)
    t = ts.utc(epoch.year, epoch.month, epoch.day, epoch.hour, epoch.minute,
               epoch.second + seconds)
    position = satellite.at(t)
    latitude = wgs84.latlon_of(position)[0].degrees
    height = wgs84.height_of(position).km
    assert 480.0 < height.mean() < 520.0
    # ascending node: latitude crosses zero going north; its local mean solar time
    k = np.flatnonzero((latitude[:-1] < 0) & (latitude[1:] >= 0))[0]
    node = t[k]
    longitude = wgs84.latlon_of(position[k])[1].degrees
    lmst_h = (node.ut1 - 0.5) % 1.0 * 24.0 + longitude / 15.0
    assert (lmst_h - 22.5 + 12.0) % 24.0 - 12.0 == pytest.approx(0.0, abs=2.0 / 60.0)
    # sun-synchronous: the node drifts ~0.9856 deg/day eastward, like the mean sun
    inclination = np.degrees(satellite.model.inclo)
    assert inclination == pytest.approx(97.40, abs=0.02)


def test_main_job_on_a_date_in_2030(tmp_path, capsys):
    report = tmp_path / "plan.html"
    code, out, err = run(["plan", "--start", "2030-06-01", "--days", "2", "--scenarios", "20",
                          "-o", report], capsys)
    assert code == 0, err
    summary = json.loads((tmp_path / "plan_summary.json").read_text())
    assert "generated Jinan-1-class orbit (epoch 2030-06-01" in json.dumps(summary)
    assert "Tonight's passes" in out
