"""The night sheet: tonight's passes and relays of a station, where to point, what each feeds."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from planner.mission.stations import load_stations
from planner.relay.nightsheet import (
    SHEET_COLUMNS,
    dawn_hour_utc,
    local_night,
    night_relays,
    station_night_sheet,
)
from planner.relay.schedule import plan_schedule
from tests.conftest import run, synthetic_key_table

T = pd.Timestamp


def test_local_night_takes_the_coming_night_in_daytime_and_the_current_one_at_night():
    dawn = 3.0  # the station's last night pass ends just before 03:00 UTC
    assert local_night("2026-12-02T02:00Z", "UTC", dawn) == (T("2026-12-01T03:00Z"),
                                                            T("2026-12-02T03:00Z"))
    assert local_night("2026-12-02T09:00Z", "UTC", dawn) == (T("2026-12-02T03:00Z"),
                                                            T("2026-12-03T03:00Z"))
    # without passes: local noon to local noon (Beijing is UTC+8: noon is 04:00 UTC)
    assert local_night("2026-12-02T05:00Z", "Asia/Shanghai") == (T("2026-12-02T04:00Z"),
                                                                 T("2026-12-03T04:00Z"))
    assert local_night("2026-12-02T03:00Z", "Asia/Shanghai") == (T("2026-12-01T04:00Z"),
                                                                 T("2026-12-02T04:00Z"))


def test_dawn_is_just_after_the_last_pass_before_the_daytime_gap():
    los = pd.Series(pd.to_datetime(["2026-12-01T14:00Z", "2026-12-01T15:30Z",
                                    "2026-12-01T21:00Z", "2026-12-02T14:10Z"]))
    assert dawn_hour_utc(los) == pytest.approx(21 + 1 / 60)
    assert dawn_hour_utc(los.iloc[:0]) is None


# A passes at minute 0 and B at minute 30 of each night (BASE 14:00 UTC); night 1 has a late
# A pass whose key is kept for night 2.
ROWS = [("S1", "A", 0, 0, 300, 200_000), ("S1", "B", 0, 30, 300, 300_000),
        ("S1", "A", 1, 0, 300, 400_000), ("S1", "B", 2, 30, 300, 200_000)]


@pytest.fixture
def planned():
    table = synthetic_key_table(ROWS, clear=0.8, first_id=10)
    table["aos_azimuth_deg"] = [10.0, 200.0, 350.0, 90.0]
    return table, plan_schedule(table, ["A:B"], known_stations=["A", "B"])


def test_sheet_points_from_the_mask_and_names_the_demand_fed(planned):
    table, plan = planned

    def mask(azimuth):  # a hill to the north: 30 deg between 300 and 60 deg, else 10 deg
        azimuth = np.asarray(azimuth)
        return np.where((azimuth >= 300) | (azimuth <= 60), 30.0, 10.0)

    sheet = station_night_sheet(plan, table, "a", pointing=mask)
    assert list(sheet.columns) == SHEET_COLUMNS
    assert list(sheet.index) == [10, 12]
    assert list(sheet["aos_elevation_deg"]) == [30.0, 30.0]
    # both A passes feed A:B (the second one's key waits on board for night 2's B pass)
    assert list(sheet["demands"]) == ["A:B", "A:B"]
    assert list(sheet["clear_sky_probability"]) == [0.8, 0.8]
    assert list(sheet["expected_secure_bits"]) == list(table.loc[[10, 12],
                                                                 "expected_secure_bits"])
    b_sheet = station_night_sheet(plan, table, "B", pointing=mask)
    assert list(b_sheet["aos_elevation_deg"]) == [10.0, 10.0]


def test_station_mask_gives_the_pointing_elevation(planned):
    table, plan = planned
    beijing = next(s for s in load_stations() if s.name == "Beijing")
    masked = beijing.model_copy(update={"horizon_mask": ((0.0, 25.0), (180.0, 5.0))})
    expect = masked.effective_min_elevation_deg(np.array([10.0, 350.0]))
    sheet = station_night_sheet(plan, table, "A", pointing=masked.effective_min_elevation_deg)
    assert np.allclose(sheet["aos_elevation_deg"], expect)
    assert (expect > beijing.min_elevation_deg).all()


def test_one_night_only(planned):
    table, plan = planned
    start, end = local_night(table.loc[12, "aos_utc"], "UTC",
                             dawn_hour_utc(table["los_utc"]))
    sheet = station_night_sheet(plan, table, "A", start=start, end=end)
    assert list(sheet.index) == [12]
    relays = night_relays(plan, "A", start, end)
    assert (pd.to_datetime(relays["time_utc"], utc=True) >= start).all()
    assert (pd.to_datetime(relays["time_utc"], utc=True) < end).all()
    assert len(night_relays(plan, "B", *local_night(table.loc[11, "los_utc"], "UTC",
                                                     dawn_hour_utc(table["los_utc"])))) == 1


def test_tonight_on_the_command_line_defaults_the_demand(capsys):
    # no --demand: the main job's Beijing:Stellenbosch; 14:00 Beijing time is in daytime, so
    # "tonight" is the coming night (the night of 2026-12-04: the default orbit's passes over
    # Beijing on the night of the 2nd, 22° and 21° high, are not chosen by the plan)
    code, out, err = run(["schedule", "--tonight", "--station", "Beijing", "--start",
                          "2026-12-04T06:00Z", "--days", "3", "-f", "csv"], capsys)
    assert code == 0, err
    sheet = pd.read_csv(io.StringIO(out))
    assert len(sheet) >= 1
    aos = pd.to_datetime(sheet["aos_utc"], utc=True)
    assert (aos >= T("2026-12-04T06:00Z")).all() and (aos < T("2026-12-05T06:00Z")).all()
    assert set(sheet["station"]) == {"Beijing"}
    assert {"aos_elevation_deg", "demands", "clear_sky_probability", "used_bits"} <= \
        set(sheet.columns)
    assert set(sheet["demands"].dropna()) <= {"Beijing:Stellenbosch"}
    code, out, err = run(["schedule", "--tonight", "--station", "Beijing", "--start",
                          "2026-12-04T06:00Z", "--days", "3"], capsys)
    assert code == 0, err
    assert "Tonight's plan" in out and "Stellenbosch" in out
