"""Ground tracks: where on Earth each satellite is overhead, and the geometry of one night.

:func:`ground_track` samples the sub-satellite point of every satellite of a catalogue with the
pass finder's propagator; :func:`itrs_to_geodetic` turns Earth-fixed positions into WGS84
latitude, longitude and height; :func:`passes_views` gathers the per-second tracks and the
ground track a set of passes needs to be drawn (the report's sky plot and map).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.errors import OptionError
from planner.geometry.frames import SatellitePropagator
from planner.geometry.tracks import pass_tracks
from planner.timebase import TimeBase, as_utc_datetime

if TYPE_CHECKING:  # pragma: no cover
    from planner.elements.elementsets import Catalogue

__all__ = ["GROUND_TRACK_STEP_S", "ground_track", "itrs_to_geodetic", "passes_views"]

GROUND_TRACK_STEP_S = 30.0
"""Default step of :func:`ground_track` [s] (a 500 km orbit moves ~230 km in 30 s)."""

WGS84_A_KM = 6378.137
"""WGS84 equatorial radius [km]."""
WGS84_F = 1 / 298.257223563
"""WGS84 flattening."""


def itrs_to_geodetic(r_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geodetic latitude, longitude [deg] and height [km] on WGS84 of Earth-fixed positions.

    Fixed-point iteration ``phi = atan2(z + e^2 N(phi) sin(phi), p)``, which contracts by a
    factor ~e^2 per step; six steps reach 1e-12 rad for any height above a few km.

    Parameters
    ----------
    r_km : (N, 3) array
        Earth-fixed (ITRS) positions [km].

    Returns
    -------
    latitude_deg, longitude_deg, height_km : numpy.ndarray
        Geodetic latitude [deg], longitude [deg] east in (-180, 180] and height above the
        ellipsoid [km].

    References
    ----------
    B. Hofmann-Wellenhof, H. Lichtenegger, E. Wasle, *GNSS*, Springer 2008, §10.2.1.
    """
    r = np.atleast_2d(np.asarray(r_km, dtype=float))
    x, y, z = r[:, 0], r[:, 1], r[:, 2]
    e2 = WGS84_F * (2 - WGS84_F)
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1 - e2))
    for _ in range(6):
        n = WGS84_A_KM / np.sqrt(1 - e2 * np.sin(lat) ** 2)
        lat = np.arctan2(z + e2 * n * np.sin(lat), p)
    height = (p * np.cos(lat) + z * np.sin(lat)
              - WGS84_A_KM * np.sqrt(1 - e2 * np.sin(lat) ** 2))
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), height


def ground_track(catalogue: Catalogue, start: str | datetime, end: str | datetime, *,
                 step_s: float = GROUND_TRACK_STEP_S,
                 satellites: Sequence[str] | None = None) -> pd.DataFrame:
    """Sub-satellite points of every satellite of a catalogue over ``[start, end]``.

    SGP4 with the element set nearest each time
    (:class:`planner.geometry.frames.SatellitePropagator`, the pass finder's propagator), then
    Earth-fixed to WGS84 geodetic coordinates (:func:`itrs_to_geodetic`; the same point as
    Skyfield's ``wgs84.subpoint_of``).

    Parameters
    ----------
    catalogue : planner.elements.elementsets.Catalogue
        The element sets.
    start, end : str or datetime
        The window (UTC).
    step_s : float
        Sample spacing [s].
    satellites : sequence of str, optional
        Satellite keys, names or catalogue numbers; all by default.

    Returns
    -------
    pandas.DataFrame
        ``satellite, norad, time_utc, latitude_deg, longitude_deg, altitude_km``; samples where
        SGP4 fails are left out.

    Raises
    ------
    OptionError
        If the window is empty (names ``end``) or the step is not positive (``step_s``).
    """
    t0, t1 = as_utc_datetime(start, option="start"), as_utc_datetime(end, option="end")
    span = (t1 - t0).total_seconds()
    if not step_s > 0:
        raise OptionError(f"{step_s} is not a positive step", field="step_s")
    if not span > 0:
        raise OptionError("the ground-track window is empty", field="end")
    offsets = np.arange(0.0, span + 1e-9, step_s)
    times = (np.datetime64(t0.replace(tzinfo=None), "ns")
             + (offsets * 1e9).astype("timedelta64[ns]"))
    timebase = TimeBase(t0, span)
    tau = timebase.tau_of(times)
    pieces = []
    for key in [catalogue.resolve(s) for s in satellites] if satellites else catalogue.satellites:
        sets = catalogue.sets(key)
        epoch_tau = np.array([timebase.tau_of(s.epoch) for s in sets])
        propagator = SatellitePropagator([s.satrec for s in sets], epoch_tau, timebase)
        r_itrs, _, error = propagator.state(tau)
        ok = error == 0
        lat, lon, height = itrs_to_geodetic(r_itrs[ok])
        pieces.append(pd.DataFrame({
            "satellite": catalogue.name(key), "norad": catalogue.norad(key),
            "time_utc": pd.to_datetime(times[ok], utc=True), "latitude_deg": lat,
            "longitude_deg": lon, "altitude_km": height}))
    return pd.concat(pieces, ignore_index=True)


def passes_views(passes: pd.DataFrame, catalogue: Catalogue, stations: Sequence[Any], *,
                 tracks: pd.DataFrame | None = None, margin_minutes: float = 20.0
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-second tracks and the ground track around a set of passes, ready to draw.

    Parameters
    ----------
    passes : pandas.DataFrame
        Pass or key table rows, non-empty (index: pass id).
    catalogue : planner.elements.elementsets.Catalogue
        The element sets the passes were found with.
    stations : sequence of Station
        The stations.
    tracks : pandas.DataFrame, optional
        Per-second tracks already computed for a table that holds ``passes``; computed for
        ``passes`` only (:func:`planner.geometry.tracks.pass_tracks`) when absent.
    margin_minutes : float
        The ground track runs from this long before the first AOS to as long after the last
        LOS [min].

    Returns
    -------
    (tracks, ground_track)
        The tracks of ``passes`` and the :func:`ground_track` of the window.
    """
    if tracks is None:
        chosen_tracks = pass_tracks(passes, catalogue, stations)
    else:
        chosen_tracks = tracks[tracks["pass_id"].isin(passes.index)]
    margin = pd.Timedelta(minutes=margin_minutes)
    track = ground_track(catalogue, passes["aos_utc"].min() - margin,
                         passes["los_utc"].max() + margin)
    return chosen_tracks, track
