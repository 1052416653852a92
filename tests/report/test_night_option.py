"""``--night``: the up-front check (:func:`check_night`) never refuses a night the passes can
have, and refuses what is not a date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import OptionError
from planner.relay.nights import night_dates
from planner.report.night import check_night, choose_night

STARTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)
                      ).map(lambda t: t.replace(tzinfo=UTC))


@given(start=STARTS, days=st.floats(0.01, 40), where=st.floats(0, 1),
       after_aos_min=st.floats(0, 15), cut_hour=st.floats(0, 24, exclude_max=True))
@settings(max_examples=300, deadline=None)
def test_every_night_a_pass_of_the_period_can_fall_in_is_accepted(
        start, days, where, after_aos_min, cut_hour):
    # a pass belongs to the period in which its AOS falls; its night is the UTC date of its
    # TCA (up to a quarter of an hour after AOS) less the night cut hour
    end = start + timedelta(days=days)
    aos = start + (end - start) * where
    if aos >= end:
        aos = end - timedelta(microseconds=1)
    tca = aos + timedelta(minutes=after_aos_min)
    (night,) = night_dates(pd.Series([pd.Timestamp(tca)]), cut_hour)
    assert check_night(str(night), (start, end)) == night


def test_the_night_before_the_first_and_after_the_last_is_refused():
    start, end = datetime(2026, 11, 24, 12, tzinfo=UTC), datetime(2026, 11, 27, tzinfo=UTC)
    assert check_night("2026-11-23", (start, end)) == np.datetime64("2026-11-23")
    assert check_night("2026-11-27", (start, end)) == np.datetime64("2026-11-27")
    for outside in ("2026-11-22", "2026-11-28"):
        with pytest.raises(OptionError, match="nights starting 2026-11-23 to 2026-11-27"):
            check_night(outside, (start, end))


@pytest.mark.parametrize("night", [None, "tonight", "best"])
def test_the_default_and_best_are_chosen_after_the_passes(night):
    assert check_night(night, (datetime(2026, 11, 24, tzinfo=UTC),
                               datetime(2026, 11, 25, tzinfo=UTC))) is None


def test_a_malformed_night_is_refused_even_when_there_are_no_night_passes():
    # choose_night returned the empty table before reading the date
    table = pd.DataFrame({"night": [False], "tca_utc": [pd.Timestamp("2026-11-24", tz="UTC")]})
    with pytest.raises(OptionError) as err:
        choose_night(table, "2026-13-45")
    assert err.value.field == "night"
