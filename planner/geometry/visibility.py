"""Why a satellite has no pass over a station: it does not rise, or it never sets.

A pass is a rise above the station's minimum elevation and a set below it. A satellite with no
pass over a station in the period is either never high enough (too far away, e.g. a
geostationary satellite on the other side of the Earth) or always above the threshold (a
geostationary satellite in view all the time, which never *rises*): the pass table alone cannot
say which, so :func:`visibility_notes` tells the user, one line per cause naming the stations
(twelve stations a short period misses make one line, not twelve).

The elevations are Skyfield's (SGP4 with the element set of the satellite nearest the middle of
the period, topocentric on the WGS84 ellipsoid), sampled every ``step_s``; the horizon mask is not
applied, so a note speaks of the station's minimum elevation only. With no pass the elevation
never crosses the threshold, so the samples tell which side it stays on. A note on a satellite
that does not rise quotes no highest elevation: samples minutes apart miss the short culmination
of a low orbit (a 0.1-day window once quoted a higher "highest" than the 0.3-day window holding
it). The lowest elevation of one always above is quoted: that happens only for orbits slow in
the sky (geostationary), which the samples follow.

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
    """One line per cause of a missing pass: "does not rise" or "always above", naming the
    satellites and stations.

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
        E.g. ``"GEO-1: is always above 10° at Beijing (lowest 43.7°): never rising or setting,
        so no pass is listed"`` or ``"JINAN-1 (REPRESENTATIVE): does not rise above 15° in this
        period at 12 stations: Jinan, Hefei, Nanshan, Wuhan, Beijing, Stellenbosch and 6
        more"``.
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
    found: dict[tuple[str, str], list[tuple[str, float]]] = {}
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
                found.setdefault(("above", name), []).append(
                    (f"{station.name} (lowest {altitude.min():.1f}°)", threshold))
            elif altitude.max() < threshold:
                found.setdefault(("below", name), []).append((station.name, threshold))
    # one line per cause: the stations of a satellite together, and satellites missing the
    # same stations for the same cause together
    lines: dict[tuple[str, str, str], list[str]] = {}
    for (kind, name), entries in found.items():
        thresholds = sorted({t for _, t in entries})
        above = (f"{thresholds[0]:g}°" if len(thresholds) == 1 else
                 f"their minimum elevation ({thresholds[0]:g}–{thresholds[-1]:g}°)")
        lines.setdefault((kind, above, _listed([e[0] for e in entries], "stations")),
                         []).append(name)
    notes = []
    for (kind, above, where), names in lines.items():
        who = names[0] if len(names) == 1 else _listed(names, "satellites", shown=3)
        verb = ("is", "does") if len(names) == 1 else ("are", "do")
        if kind == "above":
            notes.append(f"{who}: {verb[0]} always above {above} at {where}: never rising or "
                         "setting, so no pass is listed")
        else:
            notes.append(f"{who}: {verb[1]} not rise above {above} in this period at {where}")
    return notes


def _listed(names: Sequence[str], what: str, shown: int = 6) -> str:
    """``"Graz"``, ``"Graz and Beijing"``, or ``"12 stations: Jinan, Hefei, ... and 6 more"``."""
    if len(names) == 1:
        return names[0]
    if len(names) <= shown + 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{len(names)} {what}: {', '.join(names[:shown])} and {len(names) - shown} more"


def _pairs_with_passes(passes: pd.DataFrame) -> set[tuple[str, str]]:
    if passes.empty:
        return set()
    return set(zip(passes["satellite"].astype(str), passes["station"].astype(str), strict=True))
