"""The monthly weather band against cases worked by hand and the binomial distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from planner.relay.weather_band import BAND_COLUMNS, weather_band


def night_keys(nights: int, *, clear: float, bits: float = 1e5, start="2026-01-20",
               stations=("A",)) -> pd.DataFrame:
    """One night pass per station and night at 20:00 UTC, every pass worth ``bits``."""
    rows = []
    for day in range(nights):
        for station in stations:
            tca = pd.Timestamp(start, tz="UTC") + pd.Timedelta(days=day, hours=20)
            rows.append({"station": station, "tca_utc": tca, "secure_bits": bits,
                         "clear_sky_probability": clear, "expected_secure_bits": clear * bits})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("clear", [0.0, 1.0])
def test_certain_weather_gives_no_spread(clear):
    keys = night_keys(20, clear=clear)
    band, total = weather_band(keys, scenarios=50, seed=1, persistence=0.3)
    assert list(band.columns) == list(BAND_COLUMNS)
    # 12 nights in January (20th-31st), 8 in February
    assert list(band.index) == ["2026-01", "2026-02"]
    np.testing.assert_allclose(band["clear_sky"], [12e5, 8e5])
    np.testing.assert_allclose(band["expected"], [12e5 * clear, 8e5 * clear])
    for column in ("p10", "p50", "p90"):
        np.testing.assert_allclose(band[column], band["clear_sky"] * clear)
    assert total == {k: pytest.approx(20e5 * clear) for k in ("p10", "p50", "p90")}


def test_independent_nights_follow_the_binomial():
    """Without persistence, N nights clear with probability p give Binomial(N, p) clear nights."""
    keys = night_keys(100, clear=0.4, start="2026-03-01", stations=("A", "B"))
    band, total = weather_band(keys, scenarios=4000, seed=5, persistence=0.0)
    n = 200  # 100 nights x 2 stations, one pass each
    for q in (10, 50, 90):
        expected = binom.ppf(q / 100, n, 0.4) * 1e5
        assert total[f"p{q}"] == pytest.approx(expected, abs=2e5)
    assert band["expected"].sum() == pytest.approx(0.4 * n * 1e5)


def test_passes_without_key_are_left_out_and_empty_input_is_empty():
    keys = night_keys(5, clear=1.0)
    keys.loc[keys.index[:2], "secure_bits"] = 0.0
    band, total = weather_band(keys, scenarios=10, seed=0, persistence=0.0)
    assert band["clear_sky"].sum() == pytest.approx(3e5)
    assert total["p50"] == pytest.approx(3e5)
    empty, nothing = weather_band(keys.iloc[:0], scenarios=10, seed=0, persistence=0.0)
    assert empty.empty and nothing == {}
