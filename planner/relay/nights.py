"""Nights of a relay plan: a pass belongs to the night that starts on the UTC date of
``tca - cut``, where ``cut`` is an hour of the day (UTC) that falls in the daytime gap of every
station. :func:`auto_night_cut_hour` puts it in the middle of the largest gap in the passes'
times of day, which for China and South Africa lands in the (UTC) morning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def auto_night_cut_hour(times_utc: pd.Series | pd.DatetimeIndex) -> float:
    """UTC hour of day in the middle of the largest gap between the given times of day.

    Parameters
    ----------
    times_utc
        Pass times (tz-aware UTC).

    Returns
    -------
    float
        Hour in [0, 24); 12.0 if there are no times.
    """
    gap = largest_daily_gap(times_utc)
    return 12.0 if gap is None else float((gap[0] + gap[1] / 2) % 24.0)


def largest_daily_gap(times_utc) -> tuple[float, float] | None:
    """The largest gap between the given times of day: (UTC hour at which it starts, its
    length [h]); ``None`` without times."""
    times = pd.DatetimeIndex(pd.to_datetime(pd.Series(times_utc), utc=True))
    if times.size == 0:
        return None
    hours = np.sort((times.hour + times.minute / 60 + times.second / 3600).to_numpy(float))
    gaps = np.diff(np.r_[hours, hours[0] + 24.0])
    j = int(np.argmax(gaps))
    return float(hours[j]), float(gaps[j])


def night_dates(times_utc, cut_hour_utc: float) -> np.ndarray:
    """Night of each time: the UTC date of ``time - cut_hour`` (``datetime64[D]``)."""
    times = pd.to_datetime(pd.Series(times_utc), utc=True)
    shifted = times - pd.to_timedelta(cut_hour_utc, unit="h")
    return shifted.dt.tz_localize(None).to_numpy("datetime64[D]")
