"""The default satellite: a Jinan-1-class orbit generated for any planning window.

Checked against Skyfield (independent SGP4 and time scale): the ascending node falls at
22:30 local mean solar time and the orbit is ~500 km high, sun-synchronous; the main job runs
on a date years after every real element set has expired.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


# --------------------------------------------------------------------------------------------
# One satellite: periods that overlap agree on its passes, whatever their starts


def _default_passes(start: datetime, days: float, station_names=("Graz", "Stellenbosch")):
    from planner.run.pipeline import load_inputs, passes_for

    inputs = load_inputs(None, None, list(station_names), start, days)
    table = passes_for(inputs, night_only=False)
    return {(row.station, row.aos_utc.round("ms")): row for row in table.itertuples()}


def _common(first, second, lo, hi):
    """The passes of both tables whose AOS falls in [lo, hi) (the overlap of the periods)."""
    keys = lambda t: sorted(k for k in t if lo <= k[1] < hi)  # noqa: E731
    return keys(first), keys(second)


_DAY = datetime(2026, 12, 3, tzinfo=UTC)


@settings(max_examples=8, deadline=None)
@given(st.floats(0.0, 86399.999), st.floats(0.0, 86399.999))
def test_overlapping_periods_on_one_day_give_the_same_passes_to_the_millisecond(a_s, b_s):
    a = _DAY + timedelta(seconds=a_s)
    b = _DAY + timedelta(seconds=b_s)
    first, second = _default_passes(a, 1.5), _default_passes(b, 1.5)
    lo, hi = pd.Timestamp(max(a, b)), pd.Timestamp(min(a, b) + timedelta(days=1.5))
    mine, theirs = _common(first, second, lo, hi)
    assert mine and mine == theirs  # same stations, same AOS to the millisecond
    for key in mine:
        for column in ("tca_utc", "los_utc"):
            assert getattr(first[key], column).round("ms") == getattr(second[key], column).round(
                "ms")
        assert first[key].max_elevation_deg == pytest.approx(second[key].max_elevation_deg,
                                                             abs=1e-6)


def test_the_graz_pass_of_the_operator_review_is_one_pass():
    # the review saw 20:40:29, 20:04:28 and 20:44:20 for starts at 00:00, 12:00 and 19:00
    aos = set()
    for hour in (0, 12, 19):
        table = _default_passes(_DAY + timedelta(hours=hour), 1.0, ["Graz"])
        aos |= {k[1] for k in table if k[1].date() == _DAY.date() and k[1].hour >= 20}
    assert len(aos) == 1


def test_sets_of_consecutive_days_are_one_orbit_in_skyfield(timescale):
    # the set of one day, propagated through the next by Skyfield's SGP4, stays within 0.3 km
    # across and 10 ms along track of the next day's own set: one satellite, not a new one a day
    day = datetime(2027, 3, 14, tzinfo=UTC)
    one = EarthSatellite(*default_orbit.jinan1_class_tle(day)[1:], ts=timescale)
    two = EarthSatellite(*default_orbit.jinan1_class_tle(day + timedelta(days=1))[1:],
                         ts=timescale)
    t = timescale.utc(2027, 3, 15, 0, np.arange(0.0, 3 * 1440.0, 7.0))
    p1, p2 = one.at(t), two.at(t)
    difference = p1.position.km - p2.position.km
    speed = np.linalg.norm(p2.velocity.km_per_s, axis=0)
    along_s = np.abs(np.sum(difference * p2.velocity.km_per_s, axis=0)) / speed**2
    assert np.linalg.norm(difference, axis=0).max() < 0.3
    assert along_s.max() < 0.010


@settings(max_examples=30, deadline=None)
@given(st.floats(-3 * 365 * 86400.0, 6 * 365 * 86400.0))
def test_anchor_epoch_is_midnight_utc_of_the_start_day(offset_s):
    start = default_orbit.REFERENCE_EPOCH + timedelta(seconds=offset_s)
    epoch = default_orbit.anchor_epoch(start)
    assert epoch == datetime(start.year, start.month, start.day, tzinfo=UTC)


def test_next_and_passes_through_the_cli_agree(tmp_path, capsys):
    # `next` a moment after 12:00 and `passes` from 00:00 the same day: the same AOS
    code, out, err = run(["next", "--station", "Graz", "--station", "Stellenbosch", "--start",
                          "2026-12-03T12:34:56.789Z", "--count", "2", "--all", "-f", "json"],
                         capsys)
    assert code == 0, err
    upcoming = json.loads(out)["next_passes"]
    code, out, err = run(["passes", "--station", "Graz", "--station", "Stellenbosch", "--start",
                          "2026-12-03T00:00Z", "--days", "3", "--all", "-f", "json"], capsys)
    assert code == 0, err
    every = {(p["station"], p["aos_utc"]) for p in json.loads(out)["passes"]}
    assert len(upcoming) == 4
    assert {(p["station"], p["aos_utc"]) for p in upcoming} <= every
