"""The local-time rules every human-facing time follows (planner/zones.py), against
hand-computed cases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from planner.zones import (
    is_utc,
    local_cells,
    local_dates,
    local_span,
    local_time,
    span_cells,
    zone_label,
    zone_labels,
    zone_name,
    zone_title,
)


@pytest.mark.parametrize(("zone", "when", "label"), [
    ("Africa/Johannesburg", datetime(2026, 12, 4, 22, 0, tzinfo=UTC), "SAST"),
    ("Asia/Shanghai", datetime(2026, 12, 4, 16, 0, tzinfo=UTC), "CST"),
    ("Europe/Vienna", datetime(2026, 7, 1, 20, 0, tzinfo=UTC), "CEST"),
    ("Asia/Dubai", datetime(2026, 12, 4, 16, 0, tzinfo=UTC), "UTC+04"),  # tzdata: "+04"
    ("America/Sao_Paulo", datetime(2026, 12, 4, 16, 0, tzinfo=UTC), "UTC-03"),
])
def test_zone_label_is_the_abbreviation_or_a_utc_offset(zone, when, label):
    assert zone_label(when.astimezone(ZoneInfo(zone))) == label


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Universal", "Zulu"])
def test_utc_under_any_name(name):
    assert is_utc(ZoneInfo(name))


@pytest.mark.parametrize("name", ["Europe/London", "Africa/Abidjan", "Asia/Shanghai"])
def test_zones_at_or_near_zero_offset_that_are_not_utc(name):
    assert not is_utc(ZoneInfo(name))


def test_python_utc_and_no_zone():
    assert is_utc(UTC) and not is_utc(None)



# Europe/Vienna leaves summer time at 01:00 UTC on 2026-10-25 (03:00 CEST becomes 02:00 CET)
VIENNA = ZoneInfo("Europe/Vienna")
BEFORE = datetime(2026, 10, 24, 20, 30, tzinfo=UTC)   # 22:30 CEST
AFTER = datetime(2026, 10, 26, 21, 0, tzinfo=UTC)     # 22:00 CET


def test_times_across_the_end_of_summer_time_carry_each_their_own_abbreviation():
    cells, labels = local_cells([BEFORE, AFTER], VIENNA)
    assert labels == ["CEST", "CET"]
    assert cells == ["22:30:00 CEST", "22:00:00 CET"]
    assert zone_labels([AFTER, BEFORE], VIENNA) == ["CET", "CEST"]


def test_times_sharing_an_abbreviation_leave_it_to_the_title():
    cells, labels = local_cells([BEFORE, BEFORE.replace(hour=21)], VIENNA, "%H:%M")
    assert (cells, labels) == (["22:30", "23:30"], ["CEST"])


# ------------------------------------------------------------------ the formatting rules
# Hand-computed: London keeps BST (UTC+1) until 01:00 UTC on Sunday 2026-10-25, then GMT
# (UTC+0); Johannesburg is SAST (UTC+2) and Shanghai CST (UTC+8) all year.
LONDON = ZoneInfo("Europe/London")
SHANGHAI = ZoneInfo("Asia/Shanghai")
JOHANNESBURG = ZoneInfo("Africa/Johannesburg")


@pytest.mark.parametrize(("when", "zone", "shown"), [
    (datetime(2026, 11, 24, 21, 3, 5, tzinfo=UTC), SHANGHAI, "2026-11-25 05:03:05 CST"),
    (datetime(2026, 12, 5, 22, 11, tzinfo=UTC), JOHANNESBURG, "2026-12-06 00:11:00 SAST"),
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), LONDON, "2026-10-25 01:30:00 BST"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), LONDON, "2026-10-25 01:30:00 GMT"),
    (datetime(2026, 11, 24, 21, 3, 5, tzinfo=UTC), None, "2026-11-24 21:03:05 UTC"),
    (datetime(2026, 11, 24, 21, 3, 5), SHANGHAI, "2026-11-25 05:03:05 CST"),  # naive: UTC
])
def test_local_time_has_its_own_local_date_and_abbreviation(when, zone, shown):
    assert local_time(when, zone) == shown


def test_local_time_formats_and_leaves_out_the_zone_on_request():
    when = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    assert local_time(when, SHANGHAI, "%a %d %b %H:%M") == "Tue 01 Dec 23:30 CST"
    assert local_time(when, SHANGHAI, "%H:%M", with_zone=False) == "23:30"


def test_a_pass_across_the_london_change_marks_the_times_after_it():
    # AOS 01:57 BST; TCA and LOS after 01:00 UTC, on GMT
    times = [pd.Timestamp("2026-10-25T00:57:00Z"), pd.Timestamp("2026-10-25T01:00:30Z"),
             pd.Timestamp("2026-10-25T01:04:00Z")]
    assert span_cells(times, LONDON, marked=True) == [
        "01:57:00 BST", "01:00:30 GMT", "01:04:00 GMT"]
    assert local_span(times[0], times[-1], LONDON) == "Sun 25 Oct 01:57 BST–01:04 GMT"
    assert zone_labels(times, LONDON) == ["BST", "GMT"]


def test_in_a_marked_table_a_pass_on_one_side_of_the_change_names_its_zone_once():
    times = [datetime(2026, 10, 26, 19, 0, tzinfo=UTC), datetime(2026, 10, 26, 19, 3, tzinfo=UTC)]
    assert span_cells(times, LONDON, marked=True) == ["19:00:00 GMT", "19:03:00"]
    assert span_cells(times, LONDON) == ["19:00:00", "19:03:00"]


def test_a_pass_across_local_midnight_dates_its_later_times():
    # 22:58:10 UTC on Saturday 24 October is 23:58:10 BST; 23:01:02 UTC is 00:01:02 BST on the 25th
    times = [datetime(2026, 10, 24, 22, 58, 10, tzinfo=UTC),
             datetime(2026, 10, 24, 23, 1, 2, tzinfo=UTC),
             datetime(2026, 10, 24, 23, 4, 40, tzinfo=UTC)]
    assert span_cells(times, LONDON) == ["23:58:10", "00:01:02 +1d", "00:04:40 +1d"]
    assert local_span(times[0], times[-1], LONDON) == "Sat 24 Oct 23:58–00:04 +1d BST"
    # the same pass is on one date in UTC, and on the next in Shanghai (06:58 to 07:04 CST)
    assert span_cells(times, None) == ["22:58:10", "23:01:02", "23:04:40"]
    assert local_span(times[0], times[-1], SHANGHAI) == "Sun 25 Oct 06:58–07:04 CST"


def test_times_of_a_night_past_midnight_and_the_end_of_summer_time():
    # the night of Saturday 24 October in Vienna: 22:30 CEST, then 02:30 CET on the Sunday
    times = [datetime(2026, 10, 24, 20, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]
    night = [date(2026, 10, 24)] * 2
    cells, labels = local_cells(times, VIENNA, row_dates=night)
    assert (cells, labels) == (["22:30:00 CEST", "02:30:00 +1d CET"], ["CEST", "CET"])
    assert local_cells(times, None, "%H:%M", row_dates=night)[0] == ["20:30", "01:30 +1d"]


def test_a_utc_span_across_midnight_without_its_zone():
    span = local_span(datetime(2026, 12, 3, 23, 58, tzinfo=UTC),
                      datetime(2026, 12, 4, 0, 4, tzinfo=UTC), None, "%m-%d %H:%M",
                      with_zone=False)
    assert span == "12-03 23:58–00:04 +1d"


def test_the_dates_of_a_night_past_local_midnight():
    rises = [datetime(2026, 12, 1, 17, 10, tzinfo=UTC), datetime(2026, 12, 1, 15, 30, tzinfo=UTC)]
    assert local_dates(rises, SHANGHAI) == "Tue 01 Dec–Wed 02 Dec"   # 23:30 and 01:10 CST
    assert local_dates(rises, JOHANNESBURG) == "Tue 01 Dec"          # 17:30 and 19:10 SAST


@pytest.mark.parametrize(("labels", "name", "title"), [
    (["CST"], "Asia/Shanghai", "CST (Asia/Shanghai)"),
    (["UTC"], "UTC", "UTC"),
    (["BST", "GMT"], "Europe/London", "Europe/London (BST/GMT, as marked)"),
])
def test_zone_title(labels, name, title):
    assert zone_title(labels, name) == title


def test_zone_names():
    assert [zone_name(z) for z in (None, UTC, LONDON)] == ["UTC", "UTC", "Europe/London"]


def test_a_time_before_its_rows_date_says_so():
    """A night dated by the UTC date of TCA less a 0 h cut (2 December) seen from Los Angeles:
    03:00 UTC on the 2nd is 19:00 PST on the 1st, the day before the row's date."""
    times = [datetime(2026, 12, 2, 3, 0, tzinfo=UTC)]
    cells, _ = local_cells(times, ZoneInfo("America/Los_Angeles"), row_dates=[date(2026, 12, 2)])
    assert cells == ["19:00:00 -1d"]
