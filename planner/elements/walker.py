"""Walker-delta constellations as SGP4 element sets (TLE and OMM).

A Walker-delta constellation ``i: T/P/F`` (Walker 1984) has ``T = P * S`` satellites in ``P``
circular orbital planes of equal inclination ``i``, their ascending nodes spaced ``360/P`` deg
apart, ``S`` satellites evenly spaced (``360/S`` deg) in each plane, and a phase offset between
adjacent planes of ``F * 360 / T`` deg (``0 <= F <= P - 1``). Satellite ``s`` of plane ``p``
(both counted from 0) has

* right ascension of the ascending node ``RAAN = RAAN0 + p * 360 / P``,
* argument of latitude at epoch ``u = s * 360 / S + p * F * 360 / T``, written as argument of
  perigee 0 and mean anomaly ``u`` (for circular orbits only their sum matters).

From altitude to mean motion, consistently with SGP4
-----------------------------------------------------
An element set's mean motion is a Kozai mean motion, and SGP4 turns it into the osculating orbit
through its own (Brouwer-like) theory, so Kepler's law on the requested altitude misses the orbit
SGP4 flies by up to ~1.6 km. Here the *mean altitude* ``H`` is defined as the time average,
over one orbit from the epoch, of SGP4's geocentric distance minus the WGS72 equatorial radius
(6378.135 km) -- the convention of :attr:`planner.elements.elementsets.ElementSet.perigee_km` and
``qkdplan tle check``. (The mean height above the WGS84 ellipsoid is larger by about
``R f sin^2(i) / 2``, ~10 km for polar orbits.) The mean motion is found in two steps:

1. **Analytic.** SGP4's short-period update of the radius is
   ``r_k = r (1 - 3/4 J2 beta (3 cos^2 i - 1) / p^2) + 1/4 J2 sin^2 i cos 2u / p``
   (radii in Earth radii, ``p = a (1 - e^2)``, ``beta = sqrt(1 - e^2)``; Hoots & Roehrich 1980,
   eq. for ``rk``), and the time average of ``r`` over an orbit is ``a (1 + e^2 / 2)``. So the
   Brouwer mean semi-major axis is
   ``a = (R + H) / [(1 + e^2/2) (1 - 3/4 J2 beta (3 cos^2 i - 1) / p^2)]`` (solved by fixed
   point), the Brouwer mean motion ``n'' = k_e / a^(3/2)``, and the Kozai mean motion the
   inverse of SGP4's "un-Kozai" step (``n'' = n_0 / (1 + delta_0)``,
   ``delta_0 = 3/4 J2 (3 cos^2 i - 1) / (a_0^2 beta^3)``, with Hoots & Roehrich's second-order
   ``a_0``), solved by fixed-point iteration.
2. **Refinement on SGP4 itself.** SGP4 is initialised with that mean motion, propagated over one
   orbit (720 samples) and the mean altitude measured; the semi-major axis is shifted by the
   difference and the step repeated until it agrees to 1 m (the analytic step is already good
   to a few centimetres in LEO and ~5 cm at geostationary height, so one SGP4 check usually
   suffices).

The tests verify the result independently: the written TLE/OMM is parsed back with
:mod:`planner.elements.elementsets` and propagated with Skyfield; the mean altitude over one orbit
matches
``H`` to within 50 m (in practice a few metres) from 160 km to 20,200 km.

Sun-synchronous inclination
---------------------------
The J2 secular drift of the node is ``dOmega/dt = -3/2 n'' J2 (R/p)^2 cos i`` (Vallado,
*Fundamentals of Astrodynamics and Applications*, 4th ed., eq. 9-41); a sun-synchronous orbit
drifts as fast as the mean sun moves, ``360 deg / 365.2422 d`` (one tropical year), so
``cos i = -(2 / 3) (dOmega_sun/dt) / (n'' J2 (R/p)^2)``, with SGP4's mean elements ``n''`` and
``p`` from above and the WGS72 constants SGP4 uses (``R = 6378.135 km``,
``mu = 398600.8 km^3/s^2``, ``J2 = 0.001082616``). SGP4's own secular node rate also has ``J2^2``
and ``J4`` terms: at 500 km they slow it by 0.32% (the tests bound it by 0.5%), so under SGP4
the node falls behind the mean sun by about 1.2 deg (4.7 minutes of local time) per year.

References
----------
Walker, J. G., "Satellite constellations", J. Brit. Interplanet. Soc. 37, 559-572 (1984).
Hoots, F. R. and Roehrich, R. L., "Spacetrack Report No. 3" (1980); Vallado, D. A. et al.,
"Revisiting Spacetrack Report #3", AIAA 2006-6753.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sgp4.api import WGS72, Satrec
from sgp4.earth_gravity import wgs72

from planner.elements.catalogue import Catalogue
from planner.elements.omm import parse_omm_json
from planner.elements.tle import format_tle, parse_tle_text
from planner.errors import OptionError
from planner.timebase import as_utc_datetime

__all__ = [
    "DEFAULT_NORAD_BASE",
    "MAX_ALTITUDE_KM",
    "MIN_ALTITUDE_KM",
    "TROPICAL_YEAR_DAYS",
    "WalkerElements",
    "kozai_mean_motion_for_altitude",
    "sgp4_mean_altitude_km",
    "sun_synchronous_inclination_deg",
    "walker_catalogue",
    "walker_delta",
    "walker_omm_json",
    "walker_tle_text",
]

EARTH_RADIUS_KM = wgs72.radiusearthkm
"""WGS72 equatorial radius [km]: SGP4's unit of length and the altitude reference here."""

MU_KM3_S2 = wgs72.mu
"""WGS72 gravitational parameter [km^3/s^2], as SGP4 uses it."""

J2 = wgs72.j2
"""WGS72 second zonal harmonic [-], as SGP4 uses it."""

TROPICAL_YEAR_DAYS = 365.2422
"""Length of the tropical year [d]: the mean sun moves 360 deg in it (0.98565 deg/day)."""

MIN_ALTITUDE_KM = 150.0
"""Lowest accepted mean altitude [km] (below it an orbit decays within days)."""

MAX_ALTITUDE_KM = 40_000.0
"""Highest accepted mean altitude [km] (a little above geostationary)."""

DEFAULT_NORAD_BASE = 90_001
"""First placeholder catalogue number given to generated satellites (never a real object's)."""

MAX_TLE_NORAD = 339_999
"""Largest catalogue number a TLE can hold (Alpha-5); OMM holds any."""

MAX_SATELLITES = 100_000
"""Largest constellation generated in one call."""

_SECONDS_PER_DAY = 86_400.0
_MINUTES_PER_DAY = 1440.0
_SGP4_EPOCH0 = datetime(1949, 12, 31, tzinfo=UTC)
_ORBIT_SAMPLES = 720
_ALTITUDE_TOLERANCE_KM = 1e-3
_MAX_REFINEMENTS = 8


@dataclass(frozen=True)
class WalkerElements:
    """Mean elements of one generated satellite (SGP4/TLE conventions).

    Attributes
    ----------
    name : str
        Satellite name, ``<prefix>-P<plane>-S<slot>`` (1-based in the name).
    norad : int
        Placeholder catalogue number.
    plane, slot : int
        0-based plane and in-plane slot.
    epoch : datetime
        Epoch, aware UTC.
    inclination_deg, raan_deg, arg_perigee_deg, mean_anomaly_deg : float
        Angles [deg].
    eccentricity : float
        Mean eccentricity [-].
    mean_motion_rev_per_day : float
        Kozai mean motion, as written in TLEs and OMM [rev/day].
    bstar : float
        SGP4 drag term [1/earth radii].
    """

    name: str
    norad: int
    plane: int
    slot: int
    epoch: datetime
    inclination_deg: float
    raan_deg: float
    eccentricity: float
    arg_perigee_deg: float
    mean_anomaly_deg: float
    mean_motion_rev_per_day: float
    bstar: float = 0.0

    def tle_lines(self) -> tuple[str, str, str]:
        """The three TLE lines (name, line 1, line 2), via
        :func:`planner.elements.elementsets.format_tle`.

        Raises
        ------
        OptionError
            If the catalogue number does not fit a TLE (above 339999): use OMM.
        """
        if self.norad > MAX_TLE_NORAD:
            raise OptionError(f"catalogue number {self.norad} of {self.name} does not fit a TLE "
                              f"(at most {MAX_TLE_NORAD}); write OMM JSON instead or lower "
                              "the catalogue base", field="norad_base")
        return format_tle(self.name, self.norad, "", self.epoch, self.inclination_deg,
                          self.raan_deg, self.eccentricity, self.arg_perigee_deg,
                          self.mean_anomaly_deg, self.mean_motion_rev_per_day, bstar=self.bstar)

    def omm(self) -> dict:
        """The element set as an OMM record with CelesTrak's JSON field names."""
        return {
            "OBJECT_NAME": self.name,
            "OBJECT_ID": "",
            "EPOCH": self.epoch.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "MEAN_MOTION": self.mean_motion_rev_per_day,
            "ECCENTRICITY": self.eccentricity,
            "INCLINATION": self.inclination_deg,
            "RA_OF_ASC_NODE": self.raan_deg,
            "ARG_OF_PERICENTER": self.arg_perigee_deg,
            "MEAN_ANOMALY": self.mean_anomaly_deg,
            "EPHEMERIS_TYPE": 0,
            "CLASSIFICATION_TYPE": "U",
            "NORAD_CAT_ID": self.norad,
            "ELEMENT_SET_NO": 999,
            "REV_AT_EPOCH": 0,
            "BSTAR": self.bstar,
            "MEAN_MOTION_DOT": 0.0,
            "MEAN_MOTION_DDOT": 0.0,
        }


# ------------------------------------------------------------------------------------------
# Orbit mechanics consistent with SGP4
# ------------------------------------------------------------------------------------------


def sun_synchronous_inclination_deg(semi_major_axis_km: float, eccentricity: float = 0.0,
                                    mean_motion_rad_s: float | None = None) -> float:
    """Inclination whose J2 nodal drift follows the mean sun [deg].

    ``cos i = -(2/3) (dOmega_sun/dt) / (n J2 (R/p)^2)``, ``p = a (1 - e^2)``,
    ``dOmega_sun/dt = 2 pi / 365.2422 d`` (WGS72 ``R``, ``mu``, ``J2``).

    Parameters
    ----------
    semi_major_axis_km : float
        Mean (Brouwer) semi-major axis [km].
    eccentricity : float
        Mean eccentricity [-].
    mean_motion_rad_s : float, optional
        Mean (Brouwer) mean motion [rad/s]; by default Kepler's ``sqrt(mu / a^3)``.

    Returns
    -------
    float
        Retrograde inclination [deg], above 90.

    Raises
    ------
    OptionError
        If no inclination makes the orbit sun-synchronous (too high, above ~6000 km).

    References
    ----------
    Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed. (2013), eq. 9-41.
    """
    n = (math.sqrt(MU_KM3_S2 / semi_major_axis_km**3) if mean_motion_rad_s is None
         else mean_motion_rad_s)
    p = semi_major_axis_km * (1.0 - eccentricity**2)
    sun_rate = 2.0 * math.pi / (TROPICAL_YEAR_DAYS * _SECONDS_PER_DAY)
    cos_i = -sun_rate / (1.5 * n * J2 * (EARTH_RADIUS_KM / p) ** 2)
    if cos_i < -1.0:
        altitude = semi_major_axis_km - EARTH_RADIUS_KM
        raise OptionError(f"no sun-synchronous orbit exists at {altitude:.0f} km (J2 cannot "
                          "turn the node fast enough above about 5,900 km); give an "
                          "inclination in degrees", field="inclination_deg")
    return math.degrees(math.acos(cos_i))


def _unkozai(no_kozai: float, inclination_rad: float, eccentricity: float) -> float:
    """SGP4's Brouwer mean motion from a Kozai one [rad/min] (Hoots & Roehrich 1980, initl)."""
    cosio2 = math.cos(inclination_rad) ** 2
    omeosq = 1.0 - eccentricity**2
    ak = (wgs72.xke / no_kozai) ** (2.0 / 3.0)
    d1 = 0.75 * J2 * (3.0 * cosio2 - 1.0) / (math.sqrt(omeosq) * omeosq)
    delta = d1 / ak**2
    adel = ak * (1.0 - delta**2 - delta * (1.0 / 3.0 + 134.0 * delta**2 / 81.0))
    delta = d1 / adel**2
    return no_kozai / (1.0 + delta)


def _kozai_of_brouwer(no_brouwer: float, inclination_rad: float, eccentricity: float) -> float:
    """Inverse of :func:`_unkozai` by fixed-point iteration [rad/min]."""
    no_kozai = no_brouwer
    for _ in range(50):
        step = no_brouwer / _unkozai(no_kozai, inclination_rad, eccentricity)
        no_kozai *= step
        if abs(step - 1.0) < 1e-15:
            break
    return no_kozai


def _analytic_semi_major_axis_km(altitude_km: float, inclination_rad: float,
                                 eccentricity: float) -> float:
    """Brouwer mean semi-major axis whose SGP4 orbit-mean radius is ``R + H`` [km]."""
    beta = math.sqrt(1.0 - eccentricity**2)
    con41 = 3.0 * math.cos(inclination_rad) ** 2 - 1.0
    target = (EARTH_RADIUS_KM + altitude_km) / (1.0 + eccentricity**2 / 2.0)
    a = target
    for _ in range(20):
        p = a * (1.0 - eccentricity**2) / EARTH_RADIUS_KM          # [earth radii]
        a = target / (1.0 - 0.75 * J2 * beta * con41 / p**2)
    return a


def _satrec(no_kozai: float, inclination_rad: float, eccentricity: float, epoch: datetime,
            bstar: float = 0.0) -> Satrec:
    """An SGP4 model from elements (node, perigee and anomaly at 0) [rad/min, rad]."""
    satrec = Satrec()
    days = (epoch - _SGP4_EPOCH0).total_seconds() / _SECONDS_PER_DAY
    satrec.sgp4init(WGS72, "i", 0, days, bstar, 0.0, 0.0, eccentricity, 0.0, inclination_rad,
                    0.0, no_kozai, 0.0)
    return satrec


def sgp4_mean_altitude_km(satrec: Satrec, samples: int = _ORBIT_SAMPLES) -> float:
    """Time-mean of SGP4's geocentric distance minus 6378.135 km over one orbit from epoch [km].

    Parameters
    ----------
    satrec : sgp4.api.Satrec
        An initialised SGP4 model.
    samples : int
        Equally spaced samples over one anomalistic period ``2 pi / n''``.
    """
    period_min = 2.0 * math.pi / _unkozai(satrec.no_kozai, satrec.inclo, satrec.ecco)
    minutes = np.arange(samples) * (period_min / samples)
    fraction = satrec.jdsatepochF + minutes / _MINUTES_PER_DAY
    error, r, _ = satrec.sgp4_array(np.full(samples, satrec.jdsatepoch), fraction)
    if np.any(error):
        raise OptionError("SGP4 cannot propagate this orbit (it decays within one revolution); "
                          "raise the altitude", field="altitude_km")
    return float(np.mean(np.linalg.norm(r, axis=1)) - EARTH_RADIUS_KM)


def kozai_mean_motion_for_altitude(altitude_km: float, inclination_deg: float,
                                   eccentricity: float = 0.0, epoch: datetime | None = None,
                                   bstar: float = 0.0) -> float:
    """Kozai mean motion whose SGP4 orbit has the requested mean altitude [rev/day].

    See the module docstring: an analytic first step from SGP4's short-period radius term and
    its Kozai/Brouwer conversion (already good to a few centimetres in LEO), then a refinement
    on SGP4 itself until the orbit-mean altitude agrees to 1 m.

    Parameters
    ----------
    altitude_km : float
        Mean altitude: the time average over one orbit of the geocentric distance minus the WGS72
        equatorial radius 6378.135 km [km].
    inclination_deg : float
        Mean inclination [deg].
    eccentricity : float
        Mean eccentricity [-].
    epoch : datetime, optional
        Epoch (matters only for deep-space orbits, through the sun and moon); 2000-01-01 UTC
        by default.
    bstar : float
        SGP4 drag term [1/earth radii].

    Returns
    -------
    float
        Kozai mean motion, the value TLEs and OMM carry [rev/day].
    """
    inclination = math.radians(inclination_deg)
    epoch = epoch or datetime(2000, 1, 1, tzinfo=UTC)
    a = _analytic_semi_major_axis_km(altitude_km, inclination, eccentricity)
    no_kozai = math.nan
    for _ in range(_MAX_REFINEMENTS):
        no_brouwer = wgs72.xke / (a / EARTH_RADIUS_KM) ** 1.5            # [rad/min]
        no_kozai = _kozai_of_brouwer(no_brouwer, inclination, eccentricity)
        measured = sgp4_mean_altitude_km(_satrec(no_kozai, inclination, eccentricity, epoch,
                                                 bstar))
        if abs(measured - altitude_km) < _ALTITUDE_TOLERANCE_KM:
            break
        a += altitude_km - measured
    return no_kozai * _MINUTES_PER_DAY / (2.0 * math.pi)


def _sun_synchronous_elements(altitude_km: float, eccentricity: float, epoch: datetime,
                              bstar: float) -> tuple[float, float]:
    """Sun-synchronous inclination [deg] and Kozai mean motion [rev/day], solved together.

    The mean motion for an altitude depends (slightly) on the inclination and the inclination on
    the mean motion; alternating the two converges in a few rounds.
    """
    a = EARTH_RADIUS_KM + altitude_km
    inclination = sun_synchronous_inclination_deg(a, eccentricity)
    mean_motion = math.nan
    for _ in range(10):
        mean_motion = kozai_mean_motion_for_altitude(altitude_km, inclination, eccentricity,
                                                     epoch, bstar)
        no_brouwer = _unkozai(mean_motion * 2.0 * math.pi / _MINUTES_PER_DAY,
                              math.radians(inclination), eccentricity)       # [rad/min]
        a_brouwer = EARTH_RADIUS_KM * (wgs72.xke / no_brouwer) ** (2.0 / 3.0)
        updated = sun_synchronous_inclination_deg(a_brouwer, eccentricity, no_brouwer / 60.0)
        converged = abs(updated - inclination) < 1e-9
        inclination = updated
        if converged:
            break
    return inclination, mean_motion


# ------------------------------------------------------------------------------------------
# The generator
# ------------------------------------------------------------------------------------------


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise OptionError(f"expected a positive whole number, found {value!r}", field=name)
    return int(value)


def _check_number(value, name: str, low: float, high: float, *, high_open: bool = False
                  ) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"expected a number, found {value!r}", field=name) from None
    inside = low <= number < high if high_open else low <= number <= high
    if not (math.isfinite(number) and inside):
        bracket = ")" if high_open else "]"
        raise OptionError(f"{value!r} is outside [{low:g}, {high:g}{bracket}", field=name)
    return number


def _inclination(value, altitude_km: float, eccentricity: float, epoch: datetime,
                 bstar: float) -> tuple[float, float]:
    """(inclination [deg], Kozai mean motion [rev/day]) for ``value`` = degrees or "sso"."""
    if isinstance(value, str) and value.strip().lower() == "sso":
        return _sun_synchronous_elements(altitude_km, eccentricity, epoch, bstar)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise OptionError(f"expected degrees or 'sso', found {value!r}",
                              field="inclination_deg") from None
    inclination = _check_number(value, "inclination_deg", 0.0, 180.0)
    return inclination, kozai_mean_motion_for_altitude(altitude_km, inclination, eccentricity,
                                                       epoch, bstar)


def walker_delta(planes: int, per_plane: int, phasing: int = 0, altitude_km: float = 500.0,
                 inclination_deg: float | str = "sso", epoch: datetime | str = "2026-11-20", *,
                 raan0_deg: float = 0.0, eccentricity: float = 0.0, bstar: float = 0.0,
                 name_prefix: str = "WALKER", norad_base: int = DEFAULT_NORAD_BASE
                 ) -> list[WalkerElements]:
    """Element sets of a Walker-delta constellation ``i: T/P/F`` with ``T = planes * per_plane``.

    Parameters
    ----------
    planes : int
        Number of orbital planes ``P`` (>= 1).
    per_plane : int
        Satellites per plane ``S`` (>= 1).
    phasing : int
        Walker phasing factor ``F`` in ``[0, P - 1]``: adjacent planes are offset in argument of
        latitude by ``F * 360 / (P * S)`` [deg].
    altitude_km : float
        Mean altitude, 150-40000 km (orbit-mean geocentric distance minus 6378.135 km, as
        SGP4 propagates the written elements; see the module docstring) [km].
    inclination_deg : float or "sso"
        Inclination [deg] in [0, 180], or ``"sso"`` for the sun-synchronous inclination at that
        altitude (J2 nodal drift = 360 deg per tropical year).
    epoch : datetime or ISO 8601 str
        Epoch of every element set (UTC; naive means UTC).
    raan0_deg : float
        Right ascension of the ascending node of plane 0 [deg].
    eccentricity : float
        Mean eccentricity in [0, 1); the perigee must stay above 100 km.
    bstar : float
        SGP4 drag term [1/earth radii] (0: no drag).
    name_prefix : str
        Names are ``<prefix>-P<plane>-S<slot>``, 1-based, zero-padded.
    norad_base : int
        Placeholder catalogue number of the first satellite; the others follow plane by plane.

    Returns
    -------
    list of WalkerElements
        Plane by plane, slot by slot.

    Raises
    ------
    OptionError
        For counts below 1, a phasing outside ``[0, P - 1]``, an altitude outside
        [150, 40000] km, an inclination outside [0, 180] deg, an eccentricity outside [0, 1) or
        with a perigee below 100 km, or an unreadable epoch. The field names the CLI option.

    References
    ----------
    Walker, J. G., "Satellite constellations", J. Brit. Interplanet. Soc. 37, 559-572 (1984).
    """
    planes = _check_count(planes, "planes")
    per_plane = _check_count(per_plane, "per_plane")
    total = planes * per_plane
    if total > MAX_SATELLITES:
        raise OptionError(f"{total} satellites is more than the {MAX_SATELLITES} limit",
                          field="per_plane")
    if (isinstance(phasing, bool) or not isinstance(phasing, (int, np.integer))
            or not 0 <= phasing <= planes - 1):
        raise OptionError(f"expected a whole number in [0, {planes - 1}] (0 to planes - 1), "
                          f"found {phasing!r}", field="phasing")
    altitude = _check_number(altitude_km, "altitude_km", MIN_ALTITUDE_KM, MAX_ALTITUDE_KM)
    eccentricity = _check_number(eccentricity, "eccentricity", 0.0, 1.0, high_open=True)
    perigee = (EARTH_RADIUS_KM + altitude) * (1 - eccentricity) - EARTH_RADIUS_KM
    if perigee < 100.0:
        raise OptionError(f"eccentricity {eccentricity:g} puts the perigee at {perigee:.0f} km, "
                          "below 100 km", field="eccentricity")
    raan0 = _check_number(raan0_deg, "raan0_deg", -360.0, 360.0)
    bstar = _check_number(bstar, "bstar", -1.0, 1.0)
    if (isinstance(norad_base, bool) or not isinstance(norad_base, (int, np.integer))
            or not 0 < norad_base <= 10**9 - total):
        raise OptionError(f"expected a catalogue number from 1 to {10**9 - total}, found "
                          f"{norad_base!r}", field="norad_base")
    epoch_dt = as_utc_datetime(epoch, option="epoch")
    if not 1957 <= epoch_dt.year <= 2056:
        raise OptionError(f"epoch year {epoch_dt.year} is outside 1957-2056", field="epoch")
    inclination, mean_motion = _inclination(inclination_deg, altitude, eccentricity, epoch_dt,
                                            bstar)
    plane_width, slot_width = len(str(planes)), len(str(per_plane))
    out = []
    for p in range(planes):
        for s in range(per_plane):
            phase = s * 360.0 / per_plane + p * phasing * 360.0 / total
            out.append(WalkerElements(
                name=f"{name_prefix}-P{p + 1:0{plane_width}d}-S{s + 1:0{slot_width}d}",
                norad=int(norad_base) + p * per_plane + s, plane=p, slot=s, epoch=epoch_dt,
                inclination_deg=inclination, raan_deg=(raan0 + p * 360.0 / planes) % 360.0,
                eccentricity=eccentricity, arg_perigee_deg=0.0,
                mean_anomaly_deg=phase % 360.0, mean_motion_rev_per_day=mean_motion,
                bstar=bstar))
    return out


# ------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------


def _comment_lines(provenance: dict | None) -> list[str]:
    return [f"# {key}: {' '.join(str(value).split())}" for key, value in (provenance or {}).items()]


def walker_tle_text(records: Sequence[WalkerElements], provenance: dict | None = None) -> str:
    """Three-line element sets of ``records``, preceded by ``# key: value`` provenance lines.

    :func:`planner.elements.elementsets.parse_tle_text` skips the ``#`` lines; strict readers may
    need them
    removed.
    """
    lines = _comment_lines(provenance)
    for record in records:
        lines.extend(record.tle_lines())
    return "\n".join(lines) + "\n"


def walker_omm_json(records: Sequence[WalkerElements], provenance: dict | None = None) -> str:
    """A CelesTrak-style OMM JSON list of ``records``.

    Provenance goes in each record's CCSDS ``COMMENT`` field (readers of CelesTrak JSON ignore
    it).
    """
    comment = "; ".join(f"{k}: {v}" for k, v in (provenance or {}).items())
    rows = []
    for record in records:
        row = record.omm()
        if comment:
            row = {"COMMENT": comment, **row}
        rows.append(row)
    return json.dumps(rows, indent=1) + "\n"


def walker_catalogue(records: Iterable[WalkerElements], kind: str = "tle") -> Catalogue:
    """A :class:`~planner.elements.elementsets.Catalogue` of ``records``, through the written text.

    Parameters
    ----------
    records : iterable of WalkerElements
        The constellation.
    kind : {"tle", "omm"}
        Go through TLE text (the values rounded to their TLE fields, as a user's file would
        hold them) or OMM JSON (full precision).
    """
    records = list(records)
    if kind == "tle":
        return Catalogue(parse_tle_text(walker_tle_text(records), source="<walker>"))
    if kind == "omm":
        return Catalogue(parse_omm_json(walker_omm_json(records), source="<walker>"))
    raise OptionError(f"expected tle or omm, found {kind!r}", field="kind")
