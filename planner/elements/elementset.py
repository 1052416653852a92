"""One validated element set and the checks every element-set format shares.

:class:`ElementSet` is what every reader (:mod:`planner.elements.tle`,
:mod:`planner.elements.omm`) returns: a satellite's mean elements at one epoch with the
``sgp4.api.Satrec`` built from them (WGS72 constants, what Skyfield uses). The range and SGP4
initialisation checks here are applied to TLE and OMM alike.

Times
-----
Element-set epochs are timezone-aware UTC :class:`datetime.datetime` values with microsecond
precision.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sgp4.api import SGP4_ERRORS, Satrec

from planner.errors import ElementSetError

__all__ = [
    "DEFAULT_ELEMENTS",
    "MICIUS_ELEMENTS",
    "WGS72_EQUATORIAL_RADIUS_KM",
    "ElementSet",
    "MeanElements",
    "check_ranges",
    "check_satrec",
    "content_lines",
    "is_leap_year",
]

#: Equatorial radius of the WGS72 ellipsoid [km]; SGP4 measures perigee and apogee from it.
WGS72_EQUATORIAL_RADIUS_KM = 6378.135

#: The bundled default element set (a *representative* Jinan-1 orbit, see tle_data/README.md).
DEFAULT_ELEMENTS = "tle_data/jinan1_representative.tle"

#: The bundled real Micius (QUESS) element set of 2021-04-27.
MICIUS_ELEMENTS = "tle_data/micius.tle"

TLE_LINE_LENGTH = 69
MAX_ALPHA5 = 339_999
_MINUTES_PER_DAY = 1440.0
NS_PER_DAY = 86_400 * 10**9
US_PER_1E8_DAY = 864  # 1e-8 day = 864 microseconds exactly
_TWO_PI = 2.0 * math.pi

#: Largest catalogue number a TLE (Alpha-5) or a ``Satrec`` can hold.
MAX_ALPHA5 = 339_999
#: OMM ``OBJECT_ID`` / international designator in its long form, ``2016-051A``.
OBJECT_ID_RE = re.compile(r"(\d{4})-(\d{3})([A-Z]{1,3})", re.ASCII)


# --------------------------------------------------------------------------------------------
# The element set
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementSet:
    """One validated element set of one satellite, ready for SGP4.

    Equality ignores ``satrec`` (an ``sgp4`` object compared by identity).

    Attributes
    ----------
    name
        Satellite name; ``"NORAD <n>"`` if the file has none.
    norad
        Catalogue (NORAD) number, or ``None`` if the record has none.
    intl_designator
        International (COSPAR) designator such as ``"2016-051A"``; may be ``""``.
    epoch
        Epoch of the elements, timezone-aware UTC, microsecond precision.
    satrec
        The ``sgp4.api.Satrec`` built with WGS72 constants (what Skyfield uses).
    source
        Path of the file the set was read from (``"<string>"`` for text).
    line
        1-based line of the record in ``source``: TLE line 1, or the OMM record's first line;
        0 for a set generated in memory (no file, ``source`` says how it was made).
    kind
        ``"tle"`` or ``"omm"``.
    line1, line2
        The TLE lines (trailing whitespace removed) or ``None`` for OMM.
    """

    name: str
    norad: int | None
    intl_designator: str
    epoch: datetime
    satrec: Satrec = field(compare=False, repr=False)
    source: str
    line: int
    kind: str
    line1: str | None = None
    line2: str | None = None

    @property
    def satellite_key(self) -> str:
        """Key grouping the sets of one satellite: the catalogue number if known, else the name."""
        return str(self.norad) if self.norad is not None else self.name

    @property
    def epoch64(self) -> np.datetime64:
        """The epoch as numpy ``datetime64[ns]`` (UTC, no time zone)."""
        return np.datetime64(self.epoch.astimezone(UTC).replace(tzinfo=None), "ns")

    @property
    def inclination_deg(self) -> float:
        """Inclination [deg]."""
        return math.degrees(self.satrec.inclo)

    @property
    def raan_deg(self) -> float:
        """Right ascension of the ascending node, TEME frame [deg]."""
        return math.degrees(self.satrec.nodeo)

    @property
    def arg_perigee_deg(self) -> float:
        """Argument of perigee [deg]."""
        return math.degrees(self.satrec.argpo)

    @property
    def mean_anomaly_deg(self) -> float:
        """Mean anomaly at epoch [deg]."""
        return math.degrees(self.satrec.mo)

    @property
    def eccentricity(self) -> float:
        """Mean eccentricity [-]."""
        return float(self.satrec.ecco)

    @property
    def bstar(self) -> float:
        """SGP4 drag term B* [1/earth radii]."""
        return float(self.satrec.bstar)

    @property
    def mean_motion_rev_per_day(self) -> float:
        """Mean motion as given in the element set (Kozai convention) [rev/day]."""
        return self.satrec.no_kozai * _MINUTES_PER_DAY / _TWO_PI

    @property
    def period_min(self) -> float:
        """Orbital period from the element set's mean motion, 1440 / n [min]."""
        return _MINUTES_PER_DAY / self.mean_motion_rev_per_day

    @property
    def semi_major_axis_km(self) -> float:
        """Mean semi-major axis as SGP4 derives it (un-Kozai'd mean motion, WGS72) [km]."""
        return self.satrec.a * WGS72_EQUATORIAL_RADIUS_KM

    @property
    def perigee_km(self) -> float:
        """Perigee altitude above the WGS72 equatorial radius (6378.135 km) [km]."""
        return self.satrec.altp * WGS72_EQUATORIAL_RADIUS_KM

    @property
    def apogee_km(self) -> float:
        """Apogee altitude above the WGS72 equatorial radius (6378.135 km) [km]."""
        return self.satrec.alta * WGS72_EQUATORIAL_RADIUS_KM

    def where(self) -> str:
        """``source:line`` of this set, for messages (``source`` alone for a generated set,
        ``line`` 0)."""
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass(frozen=True)
class MeanElements:
    """Mean elements in the units of the TLE/OMM fields, before SGP4 initialisation."""

    inclination_deg: float
    raan_deg: float
    eccentricity: float
    arg_perigee_deg: float
    mean_anomaly_deg: float
    mean_motion_rev_per_day: float
    bstar: float
    ndot: float
    nddot: float


# --------------------------------------------------------------------------------------------
# Checks shared by TLE and OMM
# --------------------------------------------------------------------------------------------

_RANGES = {
    "inclination_deg": (0.0, 180.0, "between 0 and 180 degrees"),
    "raan_deg": (0.0, 360.0, "between 0 and 360 degrees"),
    "arg_perigee_deg": (0.0, 360.0, "between 0 and 360 degrees"),
    "mean_anomaly_deg": (0.0, 360.0, "between 0 and 360 degrees"),
}


def check_ranges(elements: MeanElements, labels: Mapping[str, tuple[int, str]], source: str
                  ) -> None:
    """Check the element values against the ranges a valid element set can have."""
    for key, (lo, hi, text) in _RANGES.items():
        value = getattr(elements, key)
        if not lo <= value <= hi:
            line, label = labels[key]
            raise ElementSetError(f"expected {text}, found {value:g}", path=source, line=line,
                                  field=label)
    if not 0.0 <= elements.eccentricity < 1.0:
        line, label = labels["eccentricity"]
        raise ElementSetError(
            f"expected an eccentricity from 0 up to (not including) 1, found "
            f"{elements.eccentricity:g} (not a closed orbit)", path=source, line=line, field=label)
    if not elements.mean_motion_rev_per_day > 0.0:
        line, label = labels["mean_motion_rev_per_day"]
        raise ElementSetError(
            f"expected a positive mean motion, found {elements.mean_motion_rev_per_day:g} rev/day",
            path=source, line=line, field=label)


def check_satrec(satrec: Satrec, where: tuple[int, str], source: str) -> None:
    """Reject element sets SGP4 cannot initialise or whose perigee is below the surface."""
    line, label = where
    if satrec.error != 0:
        reason = SGP4_ERRORS.get(satrec.error, f"error code {satrec.error}")
        raise ElementSetError(f"SGP4 cannot initialise these elements: {reason}",
                              path=source, line=line, field=label)
    perigee_km = satrec.altp * WGS72_EQUATORIAL_RADIUS_KM
    if not perigee_km >= 0.0:  # also catches NaN
        raise ElementSetError(
            f"perigee altitude is {perigee_km:.1f} km, below the Earth's surface "
            f"(decayed or sub-orbital object)", path=source, line=line, field=label)



def content_lines(text: str, source: str = "<string>") -> list[tuple[int, str]]:
    """Number the lines of ``text`` (1-based) and keep those with content.

    Lines end with LF or CRLF; trailing whitespace is dropped.

    Raises
    ------
    ElementSetError
        If a carriage return stands inside a line: the text has CR-only line ends (classic
        Mac OS), which would otherwise read as one long line.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    out = []
    for lineno, raw in enumerate(text.split("\n"), start=1):
        content = raw.rstrip()
        if "\r" in content:
            raise ElementSetError(
                "a carriage return (CR) inside a line: the file has CR-only line ends (classic "
                "Mac OS); save it with LF or CRLF line ends", path=source, line=lineno,
                field="line ends")
        if content and not content.startswith("#"):
            out.append((lineno, content))
    return out


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)

