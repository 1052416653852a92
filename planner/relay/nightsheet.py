"""The night sheet: what one station's crew flies, night by night or tonight.

:func:`station_night_sheet` lists a station's chosen passes with what the crew needs at each:
where to point at acquisition (the AOS azimuth and the elevation the station can first see there,
from its horizon mask), the demands the pass's key feeds, the clear-sky probability, and the key
expected and kept. :func:`local_night` is the station's night that contains a given time (a
time in daytime belongs to the coming night; the day is split just after the station's last
night pass, :func:`dawn_hour_utc`), and :func:`night_relays` the relays of a station in it.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from planner.relay.fibre import resolve_station
from planner.relay.nights import largest_daily_gap
from planner.relay.plan import Plan
from planner.timebase import utc_timestamp

#: Columns of a night sheet (index ``pass_id``).
SHEET_COLUMNS = ["night_date", "satellite", "aos_utc", "tca_utc", "los_utc", "aos_azimuth_deg",
                 "aos_elevation_deg", "max_elevation_deg", "demands", "clear_sky_probability",
                 "expected_secure_bits", "used_bits"]


def dawn_hour_utc(los_utc) -> float | None:
    """UTC hour of day at which a station's observing night ends: just after the last LOS
    before the largest daily gap in its night passes' times of day (``None``: no passes)."""
    gap = largest_daily_gap(los_utc)
    return None if gap is None else float((gap[0] + 1 / 60) % 24.0)


def local_night(when, timezone: str | ZoneInfo, dawn_utc: float | None = None
                ) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The station's night that contains ``when`` (or, in daytime, the coming night), in UTC.

    With ``dawn_utc`` (:func:`dawn_hour_utc` of the station's night passes) a night runs from
    that hour of day to the same hour the next day, so the daytime gap before a night belongs to
    it: at 09:00 local "tonight" is the coming night, at 02:00 the night under way. Without it,
    local noon to local noon in ``timezone``.
    """
    stamp = utc_timestamp(when)
    if dawn_utc is not None:
        start = stamp.normalize() + pd.Timedelta(hours=dawn_utc)
        if start > stamp:
            start -= pd.Timedelta(days=1)
        return start, start + pd.Timedelta(days=1)
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    local = stamp.tz_convert(zone)
    day = local.normalize() - pd.Timedelta(days=1 if local.hour < 12 else 0)
    start = (day.tz_localize(None) + pd.Timedelta(hours=12)).tz_localize(zone)
    end = (day.tz_localize(None) + pd.Timedelta(days=1, hours=12)).tz_localize(zone)
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def _fed_demands(plan: Plan, pass_id: int, satellite: str, station: str, los) -> list[str]:
    """Demands whose relays draw on the key of this pass: relays of its satellite using its
    station, from this pass until the satellite's next pass over the same station."""
    later = plan.passes[(plan.passes["satellite"] == satellite)
                        & (plan.passes["station"] == station)
                        & (plan.passes["los_utc"] > los)]
    until = later["los_utc"].min() if len(later) else None
    relays = plan.relays[(plan.relays["pass_id"] >= 0) & (plan.relays["satellite"] == satellite)
                         & ((plan.relays["from_station"] == station)
                            | (plan.relays["to_station"] == station))
                         & (plan.relays["time_utc"] >= los)]
    if until is not None:
        relays = relays[relays["time_utc"] < until]
    return sorted(set(relays["demand"]))


def station_night_sheet(plan: Plan, key_table: pd.DataFrame, station: str, *,
                        pointing: Callable[[np.ndarray], np.ndarray] | None = None,
                        start=None, end=None) -> pd.DataFrame:
    """Chosen passes of one station, in time order, for the night crew.

    Parameters
    ----------
    plan, key_table
        The plan and the key table it was made from.
    station
        Station name (matched as everywhere: case, close spellings).
    pointing
        Elevation [deg] at which the station first sees a satellite at an azimuth [deg]
        (e.g. :meth:`planner.mission.stations.Station.effective_min_elevation_deg`, the minimum
        elevation and the horizon mask); ``None``: left as NaN.
    start, end
        Only passes with AOS in ``[start, end)`` (e.g. :func:`local_night`).

    Returns
    -------
    pandas.DataFrame
        Index ``pass_id``; :data:`SHEET_COLUMNS`: ``aos_elevation_deg`` is where to point at
        acquisition, ``demands`` the demands the pass's key feeds (``"A:B"``, comma-separated;
        empty when its key is kept for later), ``used_bits`` the key kept.
    """
    known = sorted(set(key_table["station"].astype(str)) | set(plan.parameters["telescopes"]))
    name = resolve_station(station, known, f"station {station!r}")
    chosen = plan.passes[plan.passes["station"] == name]
    if start is not None:
        chosen = chosen[chosen["aos_utc"] >= pd.Timestamp(start)]
    if end is not None:
        chosen = chosen[chosen["aos_utc"] < pd.Timestamp(end)]
    rows = key_table.loc[chosen.index]
    azimuth = rows["aos_azimuth_deg"].to_numpy(float) if "aos_azimuth_deg" in rows \
        else np.full(len(rows), np.nan)
    elevation = (np.asarray(pointing(azimuth), float) if pointing is not None and len(rows)
                 else np.full(len(rows), np.nan))
    sheet = pd.DataFrame({
        "night_date": chosen["night_date"], "satellite": rows["satellite"],
        "aos_utc": rows["aos_utc"], "tca_utc": rows["tca_utc"], "los_utc": rows["los_utc"],
        "aos_azimuth_deg": azimuth, "aos_elevation_deg": elevation,
        "max_elevation_deg": rows.get("max_elevation_deg"),
        "demands": [", ".join(_fed_demands(plan, pid, r.satellite, name, r.los_utc))
                    for pid, r in chosen.iterrows()],
        "clear_sky_probability": rows.get("clear_sky_probability"),
        "expected_secure_bits": rows["expected_secure_bits"], "used_bits": chosen["used_bits"],
    }, index=chosen.index)
    sheet = sheet.reindex(columns=SHEET_COLUMNS)
    sheet.index.name = "pass_id"
    return sheet.sort_values("aos_utc")


def night_relays(plan: Plan, station: str, start, end) -> pd.DataFrame:
    """The plan's relays in ``[start, end)`` that involve ``station`` (either end)."""
    relays = plan.relays
    when = pd.to_datetime(relays["time_utc"], utc=True)
    mine = (relays["from_station"] == station) | (relays["to_station"] == station)
    return relays[mine & (when >= pd.Timestamp(start)) & (when < pd.Timestamp(end))]
