"""Monthly key under sampled weather: the P10/P50/P90 band of a season's key budget.

The expected key (clear-sky key × clear-sky probability) says what an average season gives; the
band says how far one real season can fall from it. Clear and cloudy station-nights are drawn
with :func:`planner.relay.weather.sample_clear_sky` (night-to-night persistence, one draw per
station-night); a clear night yields each pass's clear-sky key, a cloudy one nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.relay.weather import auto_night_cut_hour, night_dates, sample_clear_sky

__all__ = ["BAND_COLUMNS", "month_labels", "weather_band"]

BAND_COLUMNS = ("p10", "p50", "p90", "clear_sky", "expected")
"""Columns of the band table [bit]."""


def month_labels(times_utc) -> np.ndarray:
    """``YYYY-MM`` (UTC) of each time."""
    return pd.to_datetime(pd.Series(times_utc), utc=True).dt.strftime("%Y-%m").to_numpy()


def weather_band(keys_night: pd.DataFrame, *, scenarios: int, seed: int,
                 persistence: float) -> tuple[pd.DataFrame, dict[str, float]]:
    """P10/P50/P90 of the all-station key per month over sampled weather.

    Parameters
    ----------
    keys_night : pandas.DataFrame
        Night rows of the key table: ``station, tca_utc, secure_bits, clear_sky_probability,
        expected_secure_bits``.
    scenarios : int
        Weather scenarios to draw.
    seed : int
        Seed of the weather draws.
    persistence : float
        Night-to-night persistence of clear or cloudy weather (see
        :func:`planner.relay.weather.sample_clear_sky`).

    Returns
    -------
    band : pandas.DataFrame
        Index month label (of TCA, UTC); :data:`BAND_COLUMNS` [bit].
    total : dict
        ``p10, p50, p90`` of the whole period [bit]; empty when no pass yields key.
    """
    rows = keys_night[keys_night["secure_bits"] > 0]
    if rows.empty:
        return pd.DataFrame(columns=list(BAND_COLUMNS)), {}
    nights = night_dates(rows["tca_utc"], auto_night_cut_hour(rows["tca_utc"]))
    clear = sample_clear_sky(rows["station"].to_numpy(str), nights,
                             rows["clear_sky_probability"].to_numpy(float),
                             n_scenarios=scenarios, seed=seed, persistence=persistence)
    bits = rows["secure_bits"].to_numpy(float)
    labels, code = np.unique(month_labels(rows["tca_utc"]), return_inverse=True)
    per_month = np.zeros((scenarios, labels.size))
    for k in range(labels.size):
        per_month[:, k] = clear[:, code == k].astype(float) @ bits[code == k]
    band = pd.DataFrame({
        "p10": np.percentile(per_month, 10, axis=0),
        "p50": np.percentile(per_month, 50, axis=0),
        "p90": np.percentile(per_month, 90, axis=0),
        "clear_sky": np.bincount(code, weights=bits, minlength=labels.size),
        "expected": np.bincount(code, weights=rows["expected_secure_bits"].to_numpy(float),
                                minlength=labels.size),
    }, index=pd.Index(labels, name="month"))
    total = per_month.sum(axis=1)
    return band, {"p10": float(np.percentile(total, 10)),
                  "p50": float(np.percentile(total, 50)),
                  "p90": float(np.percentile(total, 90))}
