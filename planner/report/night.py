"""Which night the report draws in detail (sky plot, map highlight), and its geometry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.errors import OptionError
from planner.geometry.groundtrack import passes_views
from planner.relay.weather import auto_night_cut_hour, night_dates
from planner.timebase import as_utc_datetime

if TYPE_CHECKING:  # pragma: no cover
    from planner.elements.elementsets import Catalogue


def check_night(night: str | datetime | None,
                period: tuple[datetime, datetime] | None = None) -> np.datetime64 | None:
    """The night ``--night`` names, checked before any work: its date, or ``None`` for the
    default (``None`` or ``"tonight"``) and ``"best"``.

    Whether the night has night passes is known only after the passes are found; that is
    :func:`choose_night`'s check.

    Parameters
    ----------
    night : str or datetime, optional
        As :func:`choose_night` takes it: ``YYYY-MM-DD`` (an ISO 8601 date or time, whose UTC
        date counts), ``"best"`` or ``"tonight"``.
    period : (datetime, datetime), optional
        The planning period [start, end) (aware UTC); with it, a date that cannot hold a night
        of the period is refused. A pass's night is the UTC date of its TCA less the night cut
        hour (0 to 24 h), so the period's nights run from the day before its start to the date
        of its end (an hour later: a pass that rises before the end may culminate after it).

    Raises
    ------
    OptionError
        Naming ``night``: not a date, or a date outside the period's nights.
    """
    if night is None or night in ("tonight", "best"):
        return None
    chosen = np.datetime64(as_utc_datetime(night, option="night").date(), "D")
    if period is not None:
        start, end = period
        first = np.datetime64((start - timedelta(days=1)).date(), "D")
        last = np.datetime64((end + timedelta(hours=1)).date(), "D")
        if not first <= chosen <= last:
            raise OptionError(
                f"{chosen} is not a night of the planning period {start:%Y-%m-%d %H:%M} to "
                f"{end:%Y-%m-%d %H:%M} UTC (nights starting {first} to {last})", field="night")
    return chosen


def choose_night(table: pd.DataFrame, night: str | datetime | None = None) -> pd.DataFrame:
    """The night passes of one night, for the sky plot.

    Nights are cut as in the scheduler (:func:`planner.relay.weather.night_dates` with the cut hour
    in the largest daytime gap), so a night that spans China and South Africa is one night.

    Parameters
    ----------
    table : pandas.DataFrame
        Pass or key table (needs ``night`` and ``tca_utc``).
    night : str or datetime, optional
        The night's date (``YYYY-MM-DD``, the UTC date on which it starts); ``"best"`` for the
        night with the most expected key (key table) or the most night passes (pass table),
        the earliest such night on a tie. Default (or ``"tonight"``): the first night of the
        table with night passes, tonight for a period that starts today.

    Returns
    -------
    pandas.DataFrame
        The rows of that night (same index), empty if there are no night passes.

    Raises
    ------
    OptionError
        If ``night`` is not a date or has no night passes (names ``night``).
    """
    wanted = check_night(night)
    nights = table[table["night"].astype(bool)]
    if nights.empty:
        return nights
    dates = night_dates(nights["tca_utc"], auto_night_cut_hour(nights["tca_utc"]))
    if night is None or night == "tonight":
        chosen = dates.min()
    elif night == "best":
        score = (nights["expected_secure_bits"].to_numpy(float)
                 if "expected_secure_bits" in nights else np.ones(len(nights)))
        totals = pd.Series(score).groupby(dates).sum()
        chosen = totals.index[int(np.argmax(totals.to_numpy()))]
    else:
        chosen = wanted
        if not (dates == chosen).any():
            raise OptionError(f"no night passes in the night of {chosen} (nights with passes: "
                              f"{dates.min()} to {dates.max()})", field="night")
    return nights[dates == np.datetime64(chosen, "D")]


def night_views(table: pd.DataFrame, catalogue: Catalogue, stations: Sequence[Any], *,
                tracks: pd.DataFrame | None = None, night: str | datetime | None = None,
                margin_minutes: float = 20.0
                ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Tracks and ground track of one night, ready for :class:`planner.report.page.ReportInputs`.

    The night is :func:`choose_night`'s; its geometry comes from
    :func:`planner.geometry.groundtrack.passes_views`.

    Parameters
    ----------
    table : pandas.DataFrame
        Pass or key table (its index is the pass id).
    catalogue : planner.elements.elementsets.Catalogue
        The element sets the passes were found with.
    stations : sequence of Station
        The stations.
    tracks : pandas.DataFrame, optional
        Per-second tracks already computed for ``table`` (e.g. for the key table); computed
        for the chosen night's passes only when absent.
    night : str or datetime, optional
        See :func:`choose_night` (default: the first night with night passes).
    margin_minutes : float
        The ground track runs from this long before the night's first AOS to as long after its
        last LOS [min].

    Returns
    -------
    (tracks, ground_track)
        Both ``None`` when there are no night passes.
    """
    chosen = choose_night(table, night)
    if chosen.empty:
        return None, None
    return passes_views(chosen, catalogue, stations, tracks=tracks,
                        margin_minutes=margin_minutes)
