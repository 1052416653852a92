"""A uniform time axis for vectorised propagation, with UTC, UT1 and TAI kept apart.

Inside the pass finder every instant is a float: seconds of TAI since the start of the period
(``tau``). TAI is uniform, so root finders and grids behave; the conversions below turn ``tau``
into what each model needs:

* SGP4 takes UTC Julian dates, split into a whole and a fraction (element-set epochs are UTC,
  AIAA 2006-6753; Skyfield feeds SGP4 the same way).
* The TEME -> Earth-fixed rotation takes UT1 (Greenwich mean sidereal time 1982). Ignoring
  UT1 - UTC would move rise and set times by tens of milliseconds.
* Output times are UTC ``datetime64[ns]``.

Leap seconds and UT1 - UTC come from Skyfield's built-in tables (offline). TAI - UT1 is smooth,
so it is sampled from Skyfield every six hours and interpolated linearly, as Skyfield itself
interpolates its daily Earth-orientation table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np
from skyfield.api import load

from planner.errors import OptionError

SECONDS_PER_DAY = 86400.0
TT_MINUS_TAI_S = 32.184
_TABLE_STEP_S = 6 * 3600.0

#: First and last instants the planner computes for [UTC]. The bundled JPL DE421 ephemeris (the
#: Sun and Moon, for darkness) covers 1899-07-29 to 2053-10-09; the time base's conversion tables
#: reach a day beyond the period, so a margin is kept at both ends. (Python's ``datetime`` itself
#: ends at 9999-12-31, where adding a day or a time zone used to overflow.)
FIRST_SUPPORTED_UTC = datetime(1900, 1, 1, tzinfo=UTC)
LAST_SUPPORTED_UTC = datetime(2053, 10, 1, tzinfo=UTC)


def utc_timestamp(value):
    """``value`` as a tz-aware UTC :class:`pandas.Timestamp` (a naive time is taken as UTC).

    Raises what :class:`pandas.Timestamp` raises for unreadable values (``ValueError``,
    ``TypeError``); callers turn that into their input error.
    """
    import pandas as pd  # pandas is not needed to import the time base (start-up)

    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


@lru_cache(maxsize=1)
def timescale():
    """Skyfield's time scale from its built-in (offline) leap-second and UT1 tables."""
    return load.timescale(builtin=True)


def as_utc_datetime(value: datetime | str | np.datetime64, *, option: str = "time") -> datetime:
    """Convert an ISO 8601 string, ``datetime`` or ``datetime64`` to an aware UTC ``datetime``.

    Naive values are taken as UTC. ``"now"`` is the current time.

    Raises
    ------
    OptionError
        If a string cannot be read as a date or time, or the time lies outside
        [:data:`FIRST_SUPPORTED_UTC`, :data:`LAST_SUPPORTED_UTC`]; the message names ``option``.
    """
    try:
        moment = _as_utc(value, option)
    except OverflowError:  # e.g. 0001-01-01T00:00+14:00 is before the first datetime in UTC
        moment = None
    if moment is None or not FIRST_SUPPORTED_UTC <= moment <= LAST_SUPPORTED_UTC:
        shown = value if isinstance(value, str) else str(value)
        raise OptionError(
            f"{shown[:40]!r} is outside the dates the planner supports "
            f"({FIRST_SUPPORTED_UTC:%Y-%m-%d} to {LAST_SUPPORTED_UTC:%Y-%m-%d} UTC, the span of "
            "its Sun and Moon ephemeris)", field=option)
    return moment


def check_period(start: datetime, end: datetime, *, option: str = "end") -> None:
    """Refuse a period that reaches beyond :data:`LAST_SUPPORTED_UTC` (or before the first).

    Raises
    ------
    OptionError
        Naming ``option`` (the parameter that set the end of the period).
    """
    if start < FIRST_SUPPORTED_UTC or end > LAST_SUPPORTED_UTC:
        raise OptionError(
            f"the period {start:%Y-%m-%d} to {end:%Y-%m-%d} reaches outside the dates the "
            f"planner supports ({FIRST_SUPPORTED_UTC:%Y-%m-%d} to {LAST_SUPPORTED_UTC:%Y-%m-%d} "
            "UTC, the span of its Sun and Moon ephemeris)", field=option)


def _as_utc(value: datetime | str | np.datetime64, option: str) -> datetime:
    if isinstance(value, np.datetime64):
        ns = int(value.astype("datetime64[ns]").astype(np.int64))
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "now":
            return datetime.now(UTC)
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise OptionError(
                f"{value!r} is not an ISO 8601 date or time (e.g. 2026-11-24 or "
                "2026-11-24T18:00:00Z) or 'now'", field=option) from None
    if isinstance(value, date) and not isinstance(value, datetime):   # e.g. a YAML date
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise OptionError(f"{value!r} is not a date or time", field=option)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class TimeBase:
    """Seconds of TAI since ``start`` (``tau``), and their conversions.

    Parameters
    ----------
    start
        The origin, an aware UTC ``datetime`` (``tau = 0``).
    span_s
        How far the conversion tables must reach past ``start`` [s]; times up to a day beyond
        either end are still covered.
    """

    start: datetime
    span_s: float
    _jd_whole: float = field(init=False, repr=False)
    _tai_fraction0_s: float = field(init=False, repr=False)
    _leap0_s: float = field(init=False, repr=False)
    _table_tau: np.ndarray = field(init=False, repr=False)
    _tai_minus_ut1: np.ndarray = field(init=False, repr=False)
    _tai_minus_utc: np.ndarray = field(init=False, repr=False)
    _start_ns: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ts = timescale()
        start = as_utc_datetime(self.start)
        t0 = ts.from_datetime(start)
        jd_whole = float(np.floor(t0.whole))
        tai_fraction0_s = ((t0.whole - jd_whole) + t0.tai_fraction) * SECONDS_PER_DAY
        table_tau = np.arange(-SECONDS_PER_DAY - _TABLE_STEP_S,
                              self.span_s + SECONDS_PER_DAY + 2 * _TABLE_STEP_S, _TABLE_STEP_S)
        t = ts.tai_jd(jd_whole, (tai_fraction0_s + table_tau) / SECONDS_PER_DAY)
        tai_minus_ut1 = np.asarray(t.delta_t) - TT_MINUS_TAI_S
        tai_minus_utc = np.round(np.asarray(t.delta_t) + np.asarray(t.dut1) - TT_MINUS_TAI_S)
        set_ = object.__setattr__
        set_(self, "start", start)
        set_(self, "_jd_whole", jd_whole)
        set_(self, "_tai_fraction0_s", tai_fraction0_s)
        set_(self, "_table_tau", table_tau)
        set_(self, "_tai_minus_ut1", tai_minus_ut1)
        set_(self, "_tai_minus_utc", tai_minus_utc)
        set_(self, "_leap0_s", float(np.interp(0.0, table_tau, tai_minus_utc)))
        set_(self, "_start_ns", int(np.datetime64(start.replace(tzinfo=None), "ns")
                                    .astype(np.int64)))

    def tai_minus_utc(self, tau: np.ndarray) -> np.ndarray:
        """TAI - UTC [s] (the leap-second count) at ``tau``.

        A leap second inside the tables' six-hour step takes effect at the table sample after it;
        none has been announced since 2017.
        """
        idx = np.searchsorted(self._table_tau, np.asarray(tau, dtype=float), side="right") - 1
        idx = np.clip(idx, 0, self._table_tau.size - 1)
        return self._tai_minus_utc[idx]

    def utc_jd(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """UTC Julian date split as SGP4 wants it: (whole, fraction) [d]."""
        tau = np.asarray(tau, dtype=float)
        fraction = (self._tai_fraction0_s + tau - self.tai_minus_utc(tau)) / SECONDS_PER_DAY
        return np.full_like(fraction, self._jd_whole), fraction

    def ut1_jd(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """UT1 Julian date as (whole, fraction) [d], for the Earth's rotation angle."""
        tau = np.asarray(tau, dtype=float)
        tai_minus_ut1 = np.interp(tau, self._table_tau, self._tai_minus_ut1)
        fraction = (self._tai_fraction0_s + tau - tai_minus_ut1) / SECONDS_PER_DAY
        return np.full_like(fraction, self._jd_whole), fraction

    def tau_of(self, when: datetime | np.ndarray) -> np.ndarray | float:
        """``tau`` [s] of UTC datetimes (a ``datetime`` or an array of ``datetime64``)."""
        if isinstance(when, datetime):
            ns = np.datetime64(as_utc_datetime(when).replace(tzinfo=None), "ns").astype(np.int64)
            return float(self._utc_ns_to_tau(np.array([ns]))[0])
        ns = np.asarray(when).astype("datetime64[ns]").astype(np.int64)
        return self._utc_ns_to_tau(ns)

    def _utc_ns_to_tau(self, ns: np.ndarray) -> np.ndarray:
        utc_s = (ns - self._start_ns).astype(float) / 1e9
        # TAI - UTC is piecewise constant; evaluating it at the UTC-based guess is exact except
        # within a second of a leap second.
        return utc_s + self.tai_minus_utc(utc_s) - self._leap0_s

    def datetime64(self, tau: np.ndarray) -> np.ndarray:
        """UTC ``datetime64[ns]`` of ``tau`` (leap seconds removed, as ``datetime64`` has none)."""
        tau = np.asarray(tau, dtype=float)
        utc_s = tau - (self.tai_minus_utc(tau) - self._leap0_s)
        return (self._start_ns + np.round(utc_s * 1e9).astype(np.int64)).astype("datetime64[ns]")

    def skyfield_time(self, tau: np.ndarray):
        """Skyfield ``Time`` of ``tau`` (for the sun, and for checking against Skyfield)."""
        tau = np.asarray(tau, dtype=float)
        return timescale().tai_jd(self._jd_whole, (self._tai_fraction0_s + tau) / SECONDS_PER_DAY)
