"""Zone labels and the UTC test shared by the terminal and the report."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from planner.zones import is_utc, local_cells, zone_label, zone_labels


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
