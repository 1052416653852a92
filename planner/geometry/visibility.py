"""Why a satellite has no pass over a station: it never rises, or it never sets.

A pass is a rise above the station's minimum elevation and a set below it. A satellite with no
pass over a station in the period is either never high enough (too far away, e.g. a
geostationary satellite on the other side of the Earth) or always above the threshold (a
geostationary satellite in view all the time, which never *rises*): the pass table alone cannot
say which, so :func:`visibility_notes` tells the user, one line per station.

The elevations are Skyfield's (SGP4 with the element set of the satellite nearest the middle of
the period, topocentric on the WGS84 ellipsoid), sampled every ``step_s``; the horizon mask is not
applied, so a note speaks of the station's minimum elevation only.

References
----------
.. [1] Rhodes, B., "Skyfield: High precision research-grade positions for planets and Earth
   satellites generator", Astrophysics Source Code Library ascl:1907.024 (2019).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from skyfield.api import EarthSatellite, wgs84

from planner.elements.catalogue import Catalogue
from planner.mission.stations import Station
from planner.timebase import timescale

__all__ = ["visibility_notes"]

#: Most samples taken per satellite and station [-] (a 10-day period at the default step).
_MAX_SAMPLES = 1441


def visibility_notes(catalogue: Catalogue, stations: Sequence[Station], start: datetime,
                     end: datetime, passes: pd.DataFrame, *,
                     min_elevation_deg: float | None = None, step_s: float = 600.0
                     ) -> list[str]:
    """One line per satellite and station with no pass: "never rises" or "always above".

    Parameters
    ----------
    catalogue
        The satellites of the run.
    stations
        The stations of the run.
    start, end
        The period (aware UTC).
    passes
        The run's pass table (all passes, day and night): columns ``satellite``/``norad`` and
        ``station`` as :func:`planner.geometry.passes.find_passes` writes them.
    min_elevation_deg
        Overrides every station's minimum elevation [deg], as in the pass search.
    step_s
        Sampling step [s]; widened so that at most 1441 samples are taken per pair.

    Returns
    -------
    list of str
        E.g. ``"GEO-1: always above 10° at Beijing (lowest 43.7°): no rise or set, so no pass"``.
    """
    span_s = (end - start).total_seconds()
    if span_s <= 0 or not stations:
        return []
    seen = _pairs_with_passes(passes)
    count = int(min(_MAX_SAMPLES, max(2, span_s // step_s + 1)))
    ts = timescale()
    offsets = np.linspace(0.0, span_s, count)
    times = ts.utc(start.year, start.month, start.day, start.hour, start.minute,
                   start.second + start.microsecond / 1e6 + offsets)
    middle = np.datetime64(start.replace(tzinfo=None) + (end - start) / 2, "ns")
    notes = []
    for key in catalogue.satellites:
        name = catalogue.name(key)
        missing = [s for s in stations if (name, s.name) not in seen]
        if not missing:
            continue
        index = int(catalogue.nearest(key, np.array([middle]))[0])
        element_set = catalogue.sets(key)[index]
        satellite = EarthSatellite.from_satrec(element_set.satrec, ts)
        for station in missing:
            threshold = (station.min_elevation_deg if min_elevation_deg is None
                         else min_elevation_deg)
            place = wgs84.latlon(station.latitude_deg, station.longitude_deg,
                                 elevation_m=station.altitude_m)
            altitude = (satellite - place).at(times).altaz()[0].degrees
            if not np.all(np.isfinite(altitude)):
                continue  # SGP4 failed somewhere: the pass search reports that itself
            if altitude.min() >= threshold:
                notes.append(f"{name}: always above {threshold:g}° at {station.name} (lowest "
                             f"{altitude.min():.1f}°): it never rises or sets, so no pass is "
                             "listed")
            elif altitude.max() < threshold:
                notes.append(f"{name}: never rises above {threshold:g}° at {station.name} "
                             f"(highest {altitude.max():.1f}°): no pass")
    return notes


def _pairs_with_passes(passes: pd.DataFrame) -> set[tuple[str, str]]:
    if passes.empty:
        return set()
    return set(zip(passes["satellite"].astype(str), passes["station"].astype(str), strict=True))
