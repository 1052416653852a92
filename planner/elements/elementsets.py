"""Orbital element sets: TLE and OMM parsing with validation, catalogues and element age.

The orbital model is SGP4 as implemented by the ``sgp4`` package (the propagator Skyfield uses),
initialised with the WGS72 constants exactly as ``Satrec.twoline2rv`` and ``sgp4.omm.initialize``
do by default. This module adds what those readers leave out: the fast ``sgp4`` parser and Skyfield
accept wrong checksums, shifted columns and letters in numeric fields silently, so every line is
checked here first and each problem is reported as an :class:`~planner.errors.ElementSetError`
naming the file, the 1-based line and the field (e.g. ``line 1 checksum (column 69)``).

Inputs
------
* TLE files, 2-line or 3-line (a name line, optionally prefixed ``"0 "``), many satellites per
  file, blank lines, ``#`` comment lines, CRLF line ends and trailing whitespace allowed.
  Alpha-5 catalogue numbers (``A0001`` = 100001) are decoded.
* OMM (CCSDS 502.0-B-3) as CelesTrak/Space-Track GP JSON, CSV, XML or KVN. Five-digit catalogue
  numbers ran out in 2026 and new objects are published as OMM only, so OMM is first-class.
  A record needs EPOCH, MEAN_MOTION, ECCENTRICITY, INCLINATION, RA_OF_ASC_NODE,
  ARG_OF_PERICENTER, MEAN_ANOMALY, BSTAR and NORAD_CAT_ID or OBJECT_NAME; MEAN_MOTION_DOT and
  MEAN_MOTION_DDOT (unused by SGP4) default to 0, EPHEMERIS_TYPE to 0, CLASSIFICATION_TYPE to U,
  ELEMENT_SET_NO to 999 and REV_AT_EPOCH to 0. Catalogue numbers above 339999 are kept in
  :attr:`ElementSet.norad` but stored as 0 in the ``Satrec`` (which cannot hold them).

Both kinds are checked against the same ranges (inclination 0-180°, angles 0-360°, eccentricity
in [0, 1), mean motion > 0), then SGP4 is initialised and sets it cannot initialise, or whose
perigee lies below the WGS72 equatorial radius, are refused. Ephemeris type 4 (SGP4-XP) is
refused: those elements need a different propagator.

Times
-----
Element-set epochs are timezone-aware UTC :class:`datetime.datetime` values with microsecond
precision. Arrays of times (:meth:`Catalogue.nearest`, :func:`element_age_days`) are numpy
``datetime64[ns]`` in UTC; pandas timestamps/indexes (naive = UTC, aware = converted) and
:class:`datetime.datetime` objects are converted. Julian dates are not accepted.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.parsers import expat

import numpy as np
import pandas as pd
from sgp4 import omm as sgp4_omm
from sgp4.alpha5 import from_alpha5, to_alpha5
from sgp4.api import SGP4_ERRORS, Satrec

from planner.errors import ElementSetError, OptionError
from planner.io.readers import read_input_text
from planner.io.resources import bundled_path

__all__ = [
    "DEFAULT_ELEMENTS",
    "MICIUS_ELEMENTS",
    "WGS72_EQUATORIAL_RADIUS_KM",
    "Catalogue",
    "ElementSet",
    "check_ages",
    "default_element_paths",
    "element_age_days",
    "format_tle",
    "parse_omm_csv",
    "parse_omm_json",
    "parse_omm_kvn",
    "parse_omm_xml",
    "parse_tle_text",
    "read_catalogue",
    "read_elements",
    "summarise",
    "tle_checksum",
    "to_datetime64",
]

#: Equatorial radius of the WGS72 ellipsoid [km]; SGP4 measures perigee and apogee from it.
WGS72_EQUATORIAL_RADIUS_KM = 6378.135

#: The bundled default element set (a *representative* Jinan-1 orbit, see tle_data/README.md).
DEFAULT_ELEMENTS = "tle_data/jinan1_representative.tle"

#: The bundled real Micius (QUESS) element set of 2021-04-27.
MICIUS_ELEMENTS = "tle_data/micius.tle"

TLE_LINE_LENGTH = 69
_MAX_ALPHA5 = 339_999
_MINUTES_PER_DAY = 1440.0
_NS_PER_DAY = 86_400 * 10**9
_US_PER_1E8_DAY = 864  # 1e-8 day = 864 microseconds exactly
_TWO_PI = 2.0 * math.pi

_TLE_SUFFIXES = {".tle", ".3le", ".2le"}


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
        1-based line of the record in ``source``: TLE line 1, or the OMM record's first line.
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
        """``source:line`` of this set, for messages."""
        return f"{self.source}:{self.line}"


@dataclass(frozen=True)
class _Elements:
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
# TLE
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """A fixed-column TLE field (1-based, inclusive columns)."""

    name: str
    first: int
    last: int
    pattern: str
    expected: str

    def text(self, line: str) -> str:
        return line[self.first - 1 : self.last]

    def label(self, line_no: int) -> str:
        cols = (f"column {self.first}" if self.first == self.last
                else f"columns {self.first}-{self.last}")
        return f"line {line_no} {self.name} ({cols})"


_EXP = r"[ +-]\d{5}[ +-]\d"
_ANGLE = r" *\d{1,3}\.\d{4}"
_SATNUM = r"\d{5}|[A-HJ-NP-Z]\d{4}"

_L1 = {
    "satnum": _Field("catalogue number", 3, 7, _SATNUM,
                     "5 digits, or a letter (not I or O) and 4 digits (Alpha-5)"),
    "classification": _Field("classification", 8, 8, r"[UCS ]", "U, C or S"),
    "intl": _Field("international designator", 10, 17, r"\d{5}[A-Z]{0,3} *| {8}",
                   "YYNNNPPP such as '16051A  ', or blanks"),
    "epoch_year": _Field("epoch year", 19, 20, r"\d\d", "two digits"),
    "epoch_day": _Field("epoch day", 21, 32, r" *\d{1,3}\.\d{8}", "DDD.DDDDDDDD"),
    "ndot": _Field("mean motion first derivative", 34, 43, r"[ +-]\.\d{8}",
                   "' .NNNNNNNN' (sign, point, 8 digits)"),
    "nddot": _Field("mean motion second derivative", 45, 52, _EXP,
                    "' NNNNN-N' (sign, 5 digits, exponent)"),
    "bstar": _Field("B* drag term", 54, 61, _EXP, "' NNNNN-N' (sign, 5 digits, exponent)"),
    "ephtype": _Field("ephemeris type", 63, 63, r"[0-9 ]", "a digit"),
    "elnum": _Field("element set number", 65, 68, r" *\d+", "up to 4 digits"),
}
_L2 = {
    "satnum": _Field("catalogue number", 3, 7, _SATNUM,
                     "5 digits, or a letter (not I or O) and 4 digits (Alpha-5)"),
    "inclination": _Field("inclination", 9, 16, _ANGLE, "NNN.NNNN degrees"),
    "raan": _Field("right ascension of the ascending node", 18, 25, _ANGLE, "NNN.NNNN degrees"),
    "eccentricity": _Field("eccentricity", 27, 33, r"\d{7}",
                           "7 digits with an implied leading decimal point"),
    "argp": _Field("argument of perigee", 35, 42, _ANGLE, "NNN.NNNN degrees"),
    "mean_anomaly": _Field("mean anomaly", 44, 51, _ANGLE, "NNN.NNNN degrees"),
    "mean_motion": _Field("mean motion", 53, 63, r" *\d{1,2}\.\d{8}", "NN.NNNNNNNN rev/day"),
    "revnum": _Field("revolution number", 64, 68, r" *\d*", "up to 5 digits"),
}
_L1_BLANKS = (2, 9, 18, 33, 44, 53, 62, 64)
_L2_BLANKS = (2, 8, 17, 26, 34, 43, 52)
_PATTERNS = {f.pattern: re.compile(f.pattern, re.ASCII) for f in (*_L1.values(), *_L2.values())}


def tle_checksum(line: str) -> int:
    """Return the TLE checksum of a line.

    Parameters
    ----------
    line
        A TLE line; only columns 1-68 are used.

    Returns
    -------
    int
        Sum of the digits plus one for each ``'-'`` over columns 1-68, modulo 10.
    """
    total = 0
    for ch in line[:68]:
        if "0" <= ch <= "9":
            total += ord(ch) - 48
        elif ch == "-":
            total += 1
    return total % 10


def parse_tle_text(text: str, source: str = "<string>") -> list[ElementSet]:
    """Parse and validate 2-line or 3-line element sets.

    Parameters
    ----------
    text
        File contents. Blank lines and lines starting with ``#`` are skipped; CRLF and trailing
        whitespace are accepted. A line that is not a TLE line names the satellite of the next
        element set (a leading ``"0 "`` is dropped).
    source
        Path used in error messages and stored in each :class:`ElementSet`.

    Returns
    -------
    list of ElementSet
        In file order (empty if the text holds no element set).

    Raises
    ------
    ElementSetError
        On the first malformed or physically impossible element set, naming the line and field.
    """
    lines = _content_lines(text)
    out: list[ElementSet] = []
    pending_name: tuple[int, str] | None = None
    i = 0
    while i < len(lines):
        lineno, content = lines[i]
        kind = _classify(content)
        if kind == "name":
            if pending_name is not None:
                if _looks_like_tle_line(content):   # a line 1 with a wrong line number
                    _raise_line_number((lineno, content), 1, source)
                _raise_orphan_name(pending_name, source)
            pending_name = (lineno, content)
            i += 1
            continue
        if kind == "2":
            if pending_name is not None and _looks_like_tle_line(pending_name[1]):
                _raise_line_number(pending_name, 1, source)
            raise ElementSetError("line 2 of an element set without its line 1 before it",
                                  path=source, line=lineno, field="line 1")
        if i + 1 >= len(lines) or _classify(lines[i + 1][1]) != "2":
            if i + 1 < len(lines) and _classify(lines[i + 1][1]) == "name" \
                    and _looks_like_tle_line(lines[i + 1][1]):
                _raise_line_number(lines[i + 1], 2, source)
            found = "the end of the file" if i + 1 >= len(lines) else f"line {lines[i + 1][0]}"
            raise ElementSetError(f"line 1 without its line 2 (found {found} instead)",
                                  path=source, line=lineno, field="line 2")
        name = pending_name[1] if pending_name is not None else None
        out.append(_parse_tle_pair(name, lines[i], lines[i + 1], source))
        pending_name = None
        i += 2
    if pending_name is not None:
        _raise_orphan_name(pending_name, source)
    return out


def _content_lines(text: str) -> list[tuple[int, str]]:
    """Number the lines of ``text`` (1-based) and keep those with content."""
    if text.startswith("\ufeff"):
        text = text[1:]
    out = []
    for lineno, raw in enumerate(text.split("\n"), start=1):
        content = raw.rstrip()
        if content and not content.startswith("#"):
            out.append((lineno, content))
    return out


def _classify(content: str) -> str:
    """``"1"``/``"2"`` for TLE lines, ``"name"`` otherwise."""
    if content[0] in "12" and (content[1:2] == " " or len(content) >= 60):
        return content[0]
    return "name"


def _looks_like_tle_line(content: str) -> bool:
    return len(content) >= 60


def _raise_line_number(entry: tuple[int, str], expected: int, source: str) -> None:
    lineno, content = entry
    raise ElementSetError(
        f"expected line {expected} of an element set ('{expected}' in column 1), "
        f"found {content[0]!r}",
        path=source, line=lineno, field=f"line {expected} line number (column 1)")


def _raise_orphan_name(entry: tuple[int, str], source: str) -> None:
    if _looks_like_tle_line(entry[1]):
        _raise_line_number(entry, 1, source)
    raise ElementSetError(
        f"name line {entry[1][:40]!r} is not followed by the two lines of an element set",
        path=source, line=entry[0], field="line 1")


def _parse_tle_pair(name: str | None, first: tuple[int, str], second: tuple[int, str],
                    source: str) -> ElementSet:
    """Validate one pair of TLE lines and build its :class:`ElementSet`."""
    (n1, l1), (n2, l2) = first, second
    _check_line_layout(l1, 1, n1, _L1, _L1_BLANKS, source)
    _check_line_layout(l2, 2, n2, _L2, _L2_BLANKS, source)
    sat1, sat2 = _L1["satnum"].text(l1), _L2["satnum"].text(l2)
    if sat1 != sat2:
        raise ElementSetError(f"catalogue number is {sat2!r} on line 2 but {sat1!r} on line 1",
                              path=source, line=n2, field=_L2["satnum"].label(2))
    if _L1["ephtype"].text(l1) == "4":
        raise ElementSetError("ephemeris type 4 (SGP4-XP) elements cannot be propagated with "
                              "SGP4; fetch ordinary (type 0) elements", path=source, line=n1,
                              field=_L1["ephtype"].label(1))
    norad = from_alpha5(sat1)
    epoch = _tle_epoch(l1, n1, source)
    elements = _tle_elements(l1, l2)
    labels = {
        "inclination_deg": (n2, _L2["inclination"].label(2)),
        "raan_deg": (n2, _L2["raan"].label(2)),
        "eccentricity": (n2, _L2["eccentricity"].label(2)),
        "arg_perigee_deg": (n2, _L2["argp"].label(2)),
        "mean_anomaly_deg": (n2, _L2["mean_anomaly"].label(2)),
        "mean_motion_rev_per_day": (n2, _L2["mean_motion"].label(2)),
        "orbit": (n2, "line 2 mean motion and eccentricity"),
    }
    _check_ranges(elements, labels, source)
    satrec = Satrec.twoline2rv(l1, l2)
    _check_satrec(satrec, labels["orbit"], source)
    if name is not None and name.startswith("0 "):
        name = name[2:].strip()
    return ElementSet(
        name=name or f"NORAD {norad}", norad=norad,
        intl_designator=_intl_from_tle(_L1["intl"].text(l1)), epoch=epoch, satrec=satrec,
        source=source, line=n1, kind="tle", line1=l1, line2=l2)


def _check_line_layout(line: str, line_no: int, lineno: int, fields: Mapping[str, _Field],
                       blanks: tuple[int, ...], source: str) -> None:
    """Check characters, length, fixed blanks, field formats and checksum of one TLE line."""
    for col, ch in enumerate(line, start=1):
        if not " " <= ch <= "~":
            raise ElementSetError(
                f"unexpected character {ch!r} in column {col} (TLE lines are plain ASCII)",
                path=source, line=lineno, field=f"line {line_no} column {col}")
    if len(line) != TLE_LINE_LENGTH:
        hint = " (is the checksum missing?)" if len(line) == TLE_LINE_LENGTH - 1 else ""
        raise ElementSetError(
            f"line {line_no} is {len(line)} characters long, expected {TLE_LINE_LENGTH}{hint}",
            path=source, line=lineno, field=f"line {line_no} length")
    for col in blanks:
        if line[col - 1] != " ":
            raise ElementSetError(
                f"expected a blank in column {col}, found {line[col - 1]!r} "
                "(a field is shifted or too wide)",
                path=source, line=lineno, field=f"line {line_no} column {col}")
    for fld in fields.values():
        text = fld.text(line)
        if not _PATTERNS[fld.pattern].fullmatch(text):
            what = ("a letter in a numeric field" if re.search(r"[A-Za-z]", text)
                    and fld.name not in ("classification", "international designator",
                                         "catalogue number")
                    else "bad format")
            raise ElementSetError(f"{what}: expected {fld.expected}, found {text!r}",
                                  path=source, line=lineno, field=fld.label(line_no))
    label = f"line {line_no} checksum (column 69)"
    if not line[68].isdigit():
        raise ElementSetError(f"expected the checksum digit, found {line[68]!r}",
                              path=source, line=lineno, field=label)
    expected = tle_checksum(line)
    if int(line[68]) != expected:
        raise ElementSetError(f"checksum is {expected}, column 69 says {line[68]}",
                              path=source, line=lineno, field=label)


def _tle_epoch(l1: str, lineno: int, source: str) -> datetime:
    """Epoch of line 1 as an aware UTC datetime (exact: 1e-8 day = 864 us)."""
    two_digit = int(_L1["epoch_year"].text(l1))
    year = 1900 + two_digit if two_digit >= 57 else 2000 + two_digit
    whole, frac = _L1["epoch_day"].text(l1).strip().split(".")
    day = int(whole)
    days_in_year = 366 if _is_leap(year) else 365
    if not 1 <= day <= days_in_year:
        raise ElementSetError(
            f"epoch day {day} is not a day of {year} (expected 1 to {days_in_year})",
            path=source, line=lineno, field=_L1["epoch_day"].label(1))
    return datetime(year, 1, 1, tzinfo=UTC) + timedelta(
        days=day - 1, microseconds=int(frac) * _US_PER_1E8_DAY)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _tle_exp(text: str) -> float:
    """Value of a ``' NNNNN-N'`` field (implied leading decimal point)."""
    sign = -1.0 if text[0] == "-" else 1.0
    exponent = int(text[7]) * (-1 if text[6] == "-" else 1)
    return sign * float("0." + text[1:6]) * 10.0**exponent


def _tle_elements(l1: str, l2: str) -> _Elements:
    return _Elements(
        inclination_deg=float(_L2["inclination"].text(l2)),
        raan_deg=float(_L2["raan"].text(l2)),
        eccentricity=float("0." + _L2["eccentricity"].text(l2)),
        arg_perigee_deg=float(_L2["argp"].text(l2)),
        mean_anomaly_deg=float(_L2["mean_anomaly"].text(l2)),
        mean_motion_rev_per_day=float(_L2["mean_motion"].text(l2)),
        bstar=_tle_exp(_L1["bstar"].text(l1)),
        ndot=float(_L1["ndot"].text(l1).replace(" ", "")),
        nddot=_tle_exp(_L1["nddot"].text(l1)),
    )


def _intl_from_tle(text: str) -> str:
    """``'16051A  '`` -> ``'2016-051A'``; blanks -> ``''``."""
    text = text.strip()
    if not text:
        return ""
    two_digit = int(text[:2])
    year = 1900 + two_digit if two_digit >= 57 else 2000 + two_digit
    return f"{year}-{text[2:5]}{text[5:]}"


# --------------------------------------------------------------------------------------------
# Checks shared by TLE and OMM
# --------------------------------------------------------------------------------------------

_RANGES = {
    "inclination_deg": (0.0, 180.0, "between 0 and 180 degrees"),
    "raan_deg": (0.0, 360.0, "between 0 and 360 degrees"),
    "arg_perigee_deg": (0.0, 360.0, "between 0 and 360 degrees"),
    "mean_anomaly_deg": (0.0, 360.0, "between 0 and 360 degrees"),
}


def _check_ranges(elements: _Elements, labels: Mapping[str, tuple[int, str]], source: str
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


def _check_satrec(satrec: Satrec, where: tuple[int, str], source: str) -> None:
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


# --------------------------------------------------------------------------------------------
# OMM
# --------------------------------------------------------------------------------------------

_OMM_REQUIRED_FLOATS = {
    "MEAN_MOTION": "mean_motion_rev_per_day",
    "ECCENTRICITY": "eccentricity",
    "INCLINATION": "inclination_deg",
    "RA_OF_ASC_NODE": "raan_deg",
    "ARG_OF_PERICENTER": "arg_perigee_deg",
    "MEAN_ANOMALY": "mean_anomaly_deg",
    "BSTAR": "bstar",
}
_OMM_OPTIONAL_FLOATS = {"MEAN_MOTION_DOT": "ndot", "MEAN_MOTION_DDOT": "nddot"}
_NUMBER_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_INT_RE = re.compile(r"[+-]?\d+", re.ASCII)
_EPOCH_RE = re.compile(
    r"(?P<y>\d{4})-(?:(?P<m>\d{2})-(?P<d>\d{2})|(?P<doy>\d{3}))[T ]"
    r"(?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})(?:\.(?P<f>\d+))?(?:Z|z|\+00:00|\+0000)?",
    re.ASCII)
_OBJECT_ID_RE = re.compile(r"(\d{4})-(\d{3})([A-Z]{1,3})", re.ASCII)


def parse_omm_json(text: str, source: str = "<string>") -> list[ElementSet]:
    """Parse CelesTrak/Space-Track GP JSON (OMM keywords), one object or a list of objects.

    Parameters
    ----------
    text
        JSON text. Values may be numbers or strings (Space-Track quotes numbers).
    source
        Path used in error messages and stored in each :class:`ElementSet`.

    Returns
    -------
    list of ElementSet
        In file order; each record's ``line`` is the line of its opening brace.

    Raises
    ------
    ElementSetError
        For invalid JSON or an invalid record (naming the record's line and the OMM keyword).
    """
    return [_omm_record(obj, source, line) for line, obj in _json_records(text, source)]


def _json_records(text: str, source: str) -> list[tuple[int, Any]]:
    """Top-level JSON records with the line each starts on."""
    decoder = json.JSONDecoder()
    n = len(text)
    pos = _skip_ws(text, 1 if text.startswith("\ufeff") else 0)
    line_counter = _LineCounter(text)
    records: list[tuple[int, Any]] = []
    try:
        if pos >= n:
            return []
        if text[pos] != "[":
            obj, pos = decoder.raw_decode(text, pos)
            records.append((1, obj))
        else:
            pos = _skip_ws(text, pos + 1)
            while pos < n and text[pos] != "]":
                start = pos
                obj, pos = decoder.raw_decode(text, pos)
                records.append((line_counter.line_of(start), obj))
                pos = _skip_ws(text, pos)
                if pos < n and text[pos] == ",":
                    pos = _skip_ws(text, pos + 1)
                elif pos >= n or text[pos] != "]":
                    raise ElementSetError("expected ',' or ']' between records", path=source,
                                          line=line_counter.line_of(min(pos, n)))
            if pos >= n:
                raise ElementSetError("the JSON list is not closed with ']'", path=source,
                                      line=line_counter.line_of(n))
            pos += 1
    except json.JSONDecodeError as exc:
        raise ElementSetError(f"not valid JSON: {exc.msg} (column {exc.colno})", path=source,
                              line=exc.lineno) from None
    except RecursionError:
        raise ElementSetError("not valid JSON: nested too deeply", path=source) from None
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise ElementSetError(f"not valid JSON: {exc}", path=source) from None
    pos = _skip_ws(text, pos)
    if pos < n:
        raise ElementSetError("unexpected text after the JSON data", path=source,
                              line=line_counter.line_of(pos))
    return records


class _LineCounter:
    """Map string offsets to 1-based line numbers, for increasing offsets in O(total)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def line_of(self, pos: int) -> int:
        if pos < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, pos)
        self.offset = pos
        return self.line


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def parse_omm_csv(text: str, source: str = "<string>") -> list[ElementSet]:
    """Parse CelesTrak GP CSV: a header row of OMM keywords, then one record per row.

    Parameters
    ----------
    text
        CSV text.
    source
        Path used in error messages and stored in each :class:`ElementSet`.

    Returns
    -------
    list of ElementSet
        In file order; each record's ``line`` is its row's line.

    Raises
    ------
    ElementSetError
        For a missing required column, a row with the wrong number of fields or an invalid
        record.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    out: list[ElementSet] = []
    try:
        while True:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if not row or all(not cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lstrip("\ufeff").upper() for cell in row]
                header_line = start
                _check_csv_header(header, source, header_line)
                continue
            if len(row) != len(header):
                raise ElementSetError(
                    f"row has {len(row)} fields, the header has {len(header)}",
                    path=source, line=start)
            record = {key: value for key, value in zip(header, row, strict=True)
                      if value.strip()}
            out.append(_omm_record(record, source, start))
    except csv.Error as exc:
        raise ElementSetError(f"not valid CSV: {exc}", path=source,
                              line=reader.line_num) from None
    return out


def _check_csv_header(header: list[str], source: str, line: int) -> None:
    for key in ("EPOCH", *_OMM_REQUIRED_FLOATS):
        if key not in header:
            raise ElementSetError(f"the header has no {key} column", path=source, line=line,
                                  field=key)


def parse_omm_xml(text: str, source: str = "<string>") -> list[ElementSet]:
    """Parse CCSDS OMM XML (``<ndm>``/``<omm>`` with one ``<segment>`` per object).

    Parameters
    ----------
    text
        XML text. Namespaces and prefixes are ignored; DOCTYPE declarations are refused.
    source
        Path used in error messages and stored in each :class:`ElementSet`.

    Returns
    -------
    list of ElementSet
        One per ``<segment>``; ``line`` is the segment's line.

    Raises
    ------
    ElementSetError
        For malformed XML or an invalid record (naming the line of the offending element).
    """
    parser = expat.ParserCreate()
    segments: list[tuple[int, dict[str, str], dict[str, int]]] = []
    state: dict[str, Any] = {"segment": None, "text": [], "start": 0}

    def local(name: str) -> str:
        return name.rsplit(":", 1)[-1].rsplit("}", 1)[-1]

    def start(name: str, _attrs: Any) -> None:
        state["text"] = []
        state["start"] = parser.CurrentLineNumber
        if local(name) == "segment":
            state["segment"] = (parser.CurrentLineNumber, {}, {})

    def end(name: str) -> None:
        tag = local(name)
        segment = state["segment"]
        if tag == "segment" and segment is not None:
            segments.append(segment)
            state["segment"] = None
        elif segment is not None:
            value = "".join(state["text"]).strip()
            if value and tag.upper() not in segment[1]:
                segment[1][tag.upper()] = value
                segment[2][tag.upper()] = state["start"]
        state["text"] = []

    def chars(data: str) -> None:
        state["text"].append(data)

    def doctype(*_args: Any) -> None:
        raise ElementSetError("DOCTYPE declarations are not accepted in OMM XML", path=source,
                              line=parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise ElementSetError(f"not valid XML: {expat.ErrorString(exc.code)}", path=source,
                              line=exc.lineno) from None
    return [_omm_record(fields, source, line, field_lines)
            for line, fields, field_lines in segments]


def parse_omm_kvn(text: str, source: str = "<string>") -> list[ElementSet]:
    """Parse CCSDS OMM KVN (``KEY = value [units]``); each ``CCSDS_OMM_VERS`` starts a message.

    Parameters
    ----------
    text
        KVN text; ``COMMENT`` lines and ``*_START``/``*_STOP`` markers are skipped.
    source
        Path used in error messages and stored in each :class:`ElementSet`.

    Returns
    -------
    list of ElementSet
        One per message; ``line`` is the message's first line.

    Raises
    ------
    ElementSetError
        For a malformed line, a repeated keyword or an invalid record.
    """
    records: list[tuple[int, dict[str, str], dict[str, int]]] = []
    current: tuple[int, dict[str, str], dict[str, int]] | None = None
    for lineno, content in _content_lines(text):
        stripped = content.strip()
        if stripped.upper().startswith("COMMENT") or re.fullmatch(r"[A-Z_]+_(START|STOP)",
                                                                   stripped):
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip().upper()
        if not sep or not re.fullmatch(r"[A-Z0-9_]+", key):
            raise ElementSetError(f"expected 'KEYWORD = value', found {stripped[:40]!r}",
                                  path=source, line=lineno)
        value = re.sub(r"\s*\[[^\]]*\]\s*$", "", value.strip())
        if current is None or key == "CCSDS_OMM_VERS":
            current = (lineno, {}, {})
            records.append(current)
        if key in current[1]:
            raise ElementSetError(f"{key} appears twice in one message", path=source,
                                  line=lineno, field=key)
        current[1][key] = value
        current[2][key] = lineno
    return [_omm_record(fields, source, line, lines) for line, fields, lines in records]


def _omm_record(record: Any, source: str, line: int,
                field_lines: Mapping[str, int] | None = None) -> ElementSet:
    """Validate one OMM record (keyword -> value) and build its :class:`ElementSet`."""
    if not isinstance(record, Mapping):
        raise ElementSetError(f"expected an object of OMM keywords, found {type(record).__name__}",
                              path=source, line=line)
    rec = {str(k).strip().upper(): v for k, v in record.items()}
    lines = {str(k).upper(): v for k, v in (field_lines or {}).items()}

    def where(key: str) -> tuple[int, str]:
        return lines.get(key, line), key

    _check_omm_metadata(rec, source, where)
    epoch = _omm_epoch(rec.get("EPOCH"), source, *where("EPOCH"))
    values = {attr: _omm_float(rec, key, source, where, required=True)
              for key, attr in _OMM_REQUIRED_FLOATS.items()}
    values.update({attr: _omm_float(rec, key, source, where, required=False)
                   for key, attr in _OMM_OPTIONAL_FLOATS.items()})
    elements = _Elements(**values)
    labels = {attr: where(key) for key, attr in _OMM_REQUIRED_FLOATS.items()}
    labels["orbit"] = (line, "MEAN_MOTION, ECCENTRICITY")
    _check_ranges(elements, labels, source)
    _check_tle_representable(elements, source, where)
    norad = _omm_int(rec, "NORAD_CAT_ID", source, where, default=None, lo=0, hi=10**9)
    name = _omm_text(rec, "OBJECT_NAME", source, where)
    object_id = _omm_text(rec, "OBJECT_ID", source, where)
    if norad is None and not name:
        raise ElementSetError("the record has neither NORAD_CAT_ID nor OBJECT_NAME",
                              path=source, line=line, field="NORAD_CAT_ID")
    classification = _omm_text(rec, "CLASSIFICATION_TYPE", source, where) or "U"
    if classification not in ("U", "C", "S"):
        raise ElementSetError(f"expected U, C or S, found {classification[:20]!r}", path=source,
                              line=where("CLASSIFICATION_TYPE")[0], field="CLASSIFICATION_TYPE")
    ephtype = _omm_int(rec, "EPHEMERIS_TYPE", source, where, default=0, lo=0, hi=9)
    if ephtype == 4:
        raise ElementSetError("ephemeris type 4 (SGP4-XP) elements cannot be propagated with "
                              "SGP4; fetch ordinary (type 0) elements", path=source,
                              line=where("EPHEMERIS_TYPE")[0], field="EPHEMERIS_TYPE")
    fields = {
        "CLASSIFICATION_TYPE": classification,
        "OBJECT_ID": object_id if _OBJECT_ID_RE.fullmatch(object_id) else "",
        "EPHEMERIS_TYPE": ephtype,
        "ELEMENT_SET_NO": _omm_int(rec, "ELEMENT_SET_NO", source, where, default=999, lo=0,
                                   hi=2**31 - 1),
        "REV_AT_EPOCH": _omm_int(rec, "REV_AT_EPOCH", source, where, default=0, lo=0,
                                 hi=2**31 - 1),
        "EPOCH": epoch.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "NORAD_CAT_ID": norad if norad is not None and norad <= _MAX_ALPHA5 else 0,
        "MEAN_MOTION": elements.mean_motion_rev_per_day,
        "ECCENTRICITY": elements.eccentricity,
        "INCLINATION": elements.inclination_deg,
        "RA_OF_ASC_NODE": elements.raan_deg,
        "ARG_OF_PERICENTER": elements.arg_perigee_deg,
        "MEAN_ANOMALY": elements.mean_anomaly_deg,
        "BSTAR": elements.bstar,
        "MEAN_MOTION_DOT": elements.ndot,
        "MEAN_MOTION_DDOT": elements.nddot,
    }
    satrec = Satrec()
    sgp4_omm.initialize(satrec, fields)
    _check_satrec(satrec, labels["orbit"], source)
    return ElementSet(
        name=name or f"NORAD {norad}", norad=norad, intl_designator=object_id, epoch=epoch,
        satrec=satrec, source=source, line=line, kind="omm")


def _check_omm_metadata(rec: Mapping[str, Any], source: str, where: Any) -> None:
    """Refuse messages whose theory, frame or time system SGP4 cannot use."""
    accepted = {
        "MEAN_ELEMENT_THEORY": ({"SGP4", "SGP/SGP4"}, "SGP4"),
        "REF_FRAME": ({"TEME"}, "TEME"),
        "TIME_SYSTEM": ({"UTC"}, "UTC"),
    }
    for key, (allowed, expected) in accepted.items():
        if key in rec and rec[key] is not None:
            value = str(rec[key]).strip().upper()
            if value and value not in allowed:
                raise ElementSetError(
                    f"expected {expected}, found {value[:20]!r}: only SGP4 mean elements in "
                    "TEME with UTC epochs can be propagated", path=source, line=where(key)[0],
                    field=key)


def _check_tle_representable(elements: _Elements, source: str, where: Any) -> None:
    """Drag and mean-motion derivatives within what the TLE fields can hold."""
    limits = {"BSTAR": ("bstar", 1e9), "MEAN_MOTION_DOT": ("ndot", 1.0),
              "MEAN_MOTION_DDOT": ("nddot", 1e9)}
    for key, (attr, limit) in limits.items():
        value = getattr(elements, attr)
        if not abs(value) < limit:
            raise ElementSetError(f"expected a magnitude below {limit:g}, found {value:g}",
                                  path=source, line=where(key)[0], field=key)


def _omm_value(rec: Mapping[str, Any], key: str) -> Any:
    value = rec.get(key)
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _omm_float(rec: Mapping[str, Any], key: str, source: str, where: Any, *, required: bool
               ) -> float:
    value = _omm_value(rec, key)
    line = where(key)[0]
    if value is None:
        if required:
            raise ElementSetError(f"{key} is missing", path=source, line=line, field=key)
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ElementSetError(f"expected a number, found {_show(value)}", path=source,
                              line=line, field=key)
    if isinstance(value, str):
        if not _NUMBER_RE.fullmatch(value.strip()):
            raise ElementSetError(f"expected a number, found {_show(value)}", path=source,
                                  line=line, field=key)
        value = float(value.strip())
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise ElementSetError(f"expected a finite number, found {_show(value)}", path=source,
                              line=line, field=key)
    return result


def _omm_int(rec: Mapping[str, Any], key: str, source: str, where: Any, *, default: int | None,
             lo: int, hi: int) -> int | None:
    value = _omm_value(rec, key)
    line = where(key)[0]
    if value is None:
        return default
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None:
        raise ElementSetError(f"expected a whole number, found {_show(value)}", path=source,
                              line=line, field=key)
    if not lo <= number <= hi:
        raise ElementSetError(f"expected a whole number from {lo} to {hi}, found {number}",
                              path=source, line=line, field=key)
    return number


def _omm_text(rec: Mapping[str, Any], key: str, source: str, where: Any) -> str:
    value = _omm_value(rec, key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ElementSetError(f"expected text, found {_show(value)}", path=source,
                              line=where(key)[0], field=key)
    return value.strip()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _omm_epoch(value: Any, source: str, line: int, key: str) -> datetime:
    """Parse an OMM EPOCH (calendar or day-of-year form, optional fraction and ``Z``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ElementSetError("EPOCH is missing", path=source, line=line, field=key)
    if not isinstance(value, str):
        raise ElementSetError(f"expected a date and time such as 2021-04-27T10:09:19.800576, "
                              f"found {_show(value)}", path=source, line=line, field=key)
    match = _EPOCH_RE.fullmatch(value.strip())
    epoch = _epoch_from_match(match) if match else None
    if epoch is None:
        raise ElementSetError(f"expected a UTC date and time such as 2021-04-27T10:09:19.800576, "
                              f"found {_show(value)}", path=source, line=line, field=key)
    if not 1957 <= epoch.year <= 2100:
        raise ElementSetError(f"epoch year {epoch.year} is outside 1957-2100", path=source,
                              line=line, field=key)
    return epoch


def _epoch_from_match(match: re.Match[str]) -> datetime | None:
    g = match.groupdict()
    frac = g["f"] or "0"
    micro = round(int(frac) * 10 ** (6 - len(frac))) if len(frac) <= 6 else round(
        int(frac) / 10 ** (len(frac) - 6))
    try:
        if g["doy"] is not None:
            year = int(g["y"])
            doy = int(g["doy"])
            if not 1 <= doy <= (366 if _is_leap(year) else 365):
                return None
            base = datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=doy - 1)
        else:
            base = datetime(int(g["y"]), int(g["m"]), int(g["d"]), tzinfo=UTC)
        hour, minute, second = int(g["H"]), int(g["M"]), int(g["S"])
        if hour > 23 or minute > 59 or second > 59:
            return None
    except ValueError:
        return None
    return base + timedelta(hours=hour, minutes=minute, seconds=second, microseconds=micro)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

_PARSERS = {
    "tle": parse_tle_text,
    "json": parse_omm_json,
    "csv": parse_omm_csv,
    "xml": parse_omm_xml,
    "kvn": parse_omm_kvn,
}
# ``.txt`` is sniffed: CelesTrak answers are often saved as .txt whatever their format.
_SUFFIX_FORMAT = {**dict.fromkeys(_TLE_SUFFIXES, "tle"), ".json": "json",
                  ".csv": "csv", ".xml": "xml", ".kvn": "kvn"}


def _sniff(text: str) -> str:
    """Guess the format of element-set text from its first non-blank characters."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith(("[", "{")):
        return "json"
    if head.startswith("<"):
        return "xml"
    first = head.split("\n", 1)[0].upper()
    if "=" in first and re.match(r"\s*(CCSDS_OMM_VERS|COMMENT|[A-Z_]+\s*=)", first):
        return "kvn"
    if "," in first and ("EPOCH" in first or "NORAD_CAT_ID" in first):
        return "csv"
    return "tle"


def read_elements(path: str | Path) -> list[ElementSet]:
    """Read and validate every element set in a file.

    The format follows the extension (``.tle .3le .2le`` TLE, ``.json``, ``.csv``, ``.xml``,
    ``.kvn``); ``.txt``, ``.omm`` and anything else are recognised from the content (JSON, XML,
    KVN, CSV with an OMM header, else TLE).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    list of ElementSet
        At least one.

    Raises
    ------
    ElementSetError
        If the file is missing, a directory, unreadable, not UTF-8, holds no element set, or holds
        an invalid one.
    """
    path = Path(path)
    source = str(path)
    text = read_input_text(path, ElementSetError, kind="element-set file")
    fmt = _SUFFIX_FORMAT.get(path.suffix.lower()) or _sniff(text)
    sets = _PARSERS[fmt](text, source)
    if not sets:
        raise ElementSetError("no element sets found", path=source)
    return sets


def read_catalogue(paths: str | Path | Iterable[str | Path]) -> Catalogue:
    """Read element-set files into one :class:`Catalogue`.

    Parameters
    ----------
    paths
        One path or several; a set met twice (same satellite and epoch) is kept once, from the
        first file that has it.

    Raises
    ------
    ElementSetError
        As :func:`read_elements`.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    sets: list[ElementSet] = []
    for path in paths:
        sets.extend(read_elements(path))
    return Catalogue(sets)


def default_element_paths() -> list[Path]:
    """Paths of the bundled default element sets (the representative Jinan-1 set)."""
    return [bundled_path(DEFAULT_ELEMENTS)]


# --------------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------------


class Catalogue:
    """Element sets grouped by satellite, each group sorted by epoch.

    Parameters
    ----------
    element_sets
        Sets in any order. Within a satellite (:attr:`ElementSet.satellite_key`) a set with the
        same epoch as an earlier one is dropped (the first one met is kept).
    """

    def __init__(self, element_sets: Iterable[ElementSet]) -> None:
        groups: dict[str, dict[datetime, ElementSet]] = {}
        for es in element_sets:
            groups.setdefault(es.satellite_key, {}).setdefault(es.epoch, es)
        self._sets = {key: sorted(group.values(), key=lambda s: s.epoch)
                      for key, group in groups.items()}
        self._epochs = {key: np.array([s.epoch64 for s in sets], dtype="datetime64[ns]")
                        for key, sets in self._sets.items()}

    @property
    def satellites(self) -> list[str]:
        """Satellite keys in order of first appearance."""
        return list(self._sets)

    def __len__(self) -> int:
        return len(self._sets)

    def __iter__(self) -> Iterator[str]:
        return iter(self._sets)

    def __contains__(self, key: object) -> bool:
        return key in self._sets

    def sets(self, key: str) -> list[ElementSet]:
        """The satellite's element sets, oldest first."""
        return list(self._sets[key])

    def all_sets(self) -> list[ElementSet]:
        """Every element set, satellite by satellite, oldest first."""
        return [es for sets in self._sets.values() for es in sets]

    def newest(self, key: str) -> ElementSet:
        """The satellite's newest element set."""
        return self._sets[key][-1]

    def name(self, key: str) -> str:
        """Name of the satellite (from its newest element set)."""
        return self.newest(key).name

    def norad(self, key: str) -> int | None:
        """Catalogue number of the satellite, or ``None``."""
        return self.newest(key).norad

    def epochs(self, key: str) -> np.ndarray:
        """Epochs of the satellite's sets, ``datetime64[ns]`` UTC, ascending."""
        return self._epochs[key].copy()

    def resolve(self, query: str | int) -> str:
        """Find a satellite by key, catalogue number or name (case-insensitive).

        Raises
        ------
        ElementSetError
            If nothing matches (the message lists the satellites available).
        """
        text = str(query).strip()
        if text in self._sets:
            return text
        for key in self._sets:
            if self.name(key).casefold() == text.casefold():
                return key
        available = ", ".join(f"{self.name(k)} ({k})" for k in list(self._sets)[:10])
        raise ElementSetError(f"no element set for satellite {text!r}; available: {available}",
                              field="satellite")

    def nearest(self, key: str, times: Any) -> np.ndarray:
        """Index (into :meth:`sets`) of the set whose epoch is nearest each time.

        Parameters
        ----------
        key
            Satellite key.
        times
            UTC times: numpy ``datetime64``, pandas timestamps/index (naive means UTC) or
            :class:`datetime.datetime` objects, any shape.

        Returns
        -------
        numpy.ndarray of int
            Same shape as ``times``. Exactly half-way between two epochs the earlier set wins.
        """
        t = to_datetime64(times)
        epochs = self._epochs[key].astype(np.int64)
        ti = t.astype(np.int64).ravel()
        right = np.clip(np.searchsorted(epochs, ti, side="left"), 0, len(epochs) - 1)
        left = np.clip(right - 1, 0, len(epochs) - 1)
        pick_right = np.abs(epochs[right] - ti) < np.abs(ti - epochs[left])
        return np.where(pick_right, right, left).astype(np.intp).reshape(t.shape)


# --------------------------------------------------------------------------------------------
# Element age
# --------------------------------------------------------------------------------------------


def to_datetime64(times: Any) -> np.ndarray:
    """Convert UTC times to a numpy ``datetime64[ns]`` array (naive, UTC).

    Parameters
    ----------
    times
        numpy ``datetime64`` values, pandas ``Timestamp``/``DatetimeIndex``/``Series``, ISO strings
        or :class:`datetime.datetime` objects; naive values are taken as UTC, aware ones are
        converted.

    Raises
    ------
    TypeError
        For numbers (Julian dates or epoch seconds are ambiguous and not accepted).
    """
    if isinstance(times, (pd.Series, pd.Index)):
        idx = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
        return idx.tz_localize(None).to_numpy("datetime64[ns]")
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]")
    if arr.dtype.kind in "biufc":
        raise TypeError("times must be datetimes (numpy datetime64, pandas or datetime), "
                        "not numbers")
    flat = pd.DatetimeIndex(pd.to_datetime(arr.ravel().tolist(), utc=True))
    return flat.tz_localize(None).to_numpy("datetime64[ns]").reshape(arr.shape)


def element_age_days(epoch: Any, times: Any) -> np.ndarray:
    """Absolute time between element-set epoch(s) and times [days].

    Parameters
    ----------
    epoch
        Epoch(s) (anything :func:`to_datetime64` accepts); broadcast against ``times``.
    times
        UTC times.

    Returns
    -------
    numpy.ndarray of float
        ``|times - epoch|`` in days (86400 s), never negative.
    """
    e = to_datetime64(epoch).astype(np.int64)
    t = to_datetime64(times).astype(np.int64)
    return np.abs(t - e).astype(np.float64) / _NS_PER_DAY


def _worst_age(epochs: np.ndarray, start: np.int64, end: np.int64) -> tuple[float, int, np.int64]:
    """Largest age of the nearest set over [start, end]: (age [days], set index, time)."""
    e = epochs.astype(np.int64)
    mids = (e[:-1] + (e[1:] - e[:-1]) // 2) if len(e) > 1 else np.empty(0, np.int64)
    candidates = np.concatenate([[start, end], mids[(mids > start) & (mids < end)]])
    right = np.clip(np.searchsorted(e, candidates, side="left"), 0, len(e) - 1)
    left = np.clip(right - 1, 0, len(e) - 1)
    idx = np.where(np.abs(e[right] - candidates) < np.abs(candidates - e[left]), right, left)
    ages = np.abs(candidates - e[idx])
    worst = int(np.argmax(ages))
    return float(ages[worst]) / _NS_PER_DAY, int(idx[worst]), candidates[worst]


def check_ages(catalogue: Catalogue, start: Any, end: Any, *, warn_days: float = 14.0,
               max_days: float = 365.0, allow_stale: bool = False) -> list[str]:
    """Check that every satellite has element sets fresh enough for [start, end].

    For each satellite the age of its nearest element set is evaluated over the whole window
    (the maximum lies at an end of the window or half-way between two epochs).

    Parameters
    ----------
    catalogue
        The element sets.
    start, end
        The planning window (UTC; anything :func:`to_datetime64` accepts).
    warn_days
        Age beyond which a warning is returned [days]. SGP4 errors grow by roughly 1-3 km along
        track per day of age; Skyfield's documentation advises fresh elements beyond 14 days.
    max_days
        Age beyond which planning is refused unless ``allow_stale`` [days].
    allow_stale
        Turn the refusal into a warning.

    Returns
    -------
    list of str
        Human-readable warnings, one per satellite concerned.

    Raises
    ------
    ElementSetError
        If a set is older than ``max_days`` and ``allow_stale`` is false; the error names that
        set's file and line and the field ``epoch``.
    OptionError
        If ``end`` is before ``start``.
    """
    t0, t1 = (np.int64(to_datetime64(t).astype(np.int64).reshape(-1)[0]) for t in (start, end))
    if t1 < t0:
        raise OptionError("the end of the planning window is before its start", field="end")
    warnings: list[str] = []
    for key in catalogue.satellites:
        age, index, when = _worst_age(catalogue.epochs(key), t0, t1)
        if age <= warn_days:
            continue
        es = catalogue.sets(key)[index]
        at = pd.Timestamp(int(when), tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
        what = (f"{es.name} ({key}): element set epoch {es.epoch:%Y-%m-%d %H:%M} UTC "
                f"({es.where()}) is {age:.1f} days from {at}")
        if age > max_days and not allow_stale:
            raise ElementSetError(
                f"element set of {es.name} ({key}) is {age:.0f} days from the planning window "
                f"(limit {max_days:g} days); fetch fresh elements (CelesTrak or Space-Track) "
                "or pass --allow-stale to plan anyway", path=es.source, line=es.line,
                field="epoch")
        if age > max_days:
            warnings.append(f"{what}, beyond the {max_days:g}-day limit (--allow-stale): "
                            "predicted passes may be badly wrong")
        else:
            warnings.append(f"{what}; positions degrade by roughly 1-3 km per day of age, "
                            "fetch fresh elements for accurate pass times")
    return warnings


# --------------------------------------------------------------------------------------------
# Summary table
# --------------------------------------------------------------------------------------------


def summarise(element_sets: Catalogue | Iterable[ElementSet], now: datetime) -> pd.DataFrame:
    """One row per satellite (its newest set), for ``qkdplan tle check``.

    Parameters
    ----------
    element_sets
        A :class:`Catalogue` or element sets.
    now
        Reference time (UTC; naive means UTC).

    Returns
    -------
    pandas.DataFrame
        Columns ``name, norad, intl_designator, epoch_utc, age_days, perigee_km, apogee_km,
        inclination_deg, period_min, source``. ``age_days`` is ``now - epoch`` in days
        (negative if the epoch is in the future); ``epoch_utc`` is tz-aware UTC; ``norad`` is a
        nullable integer.
    """
    catalogue = element_sets if isinstance(element_sets, Catalogue) else Catalogue(element_sets)
    now64 = to_datetime64(now).astype(np.int64).reshape(-1)[0]
    rows = []
    for key in catalogue.satellites:
        es = catalogue.newest(key)
        rows.append({
            "name": es.name,
            "norad": es.norad,
            "intl_designator": es.intl_designator,
            "epoch_utc": pd.Timestamp(es.epoch),
            "age_days": float(now64 - es.epoch64.astype(np.int64)) / _NS_PER_DAY,
            "perigee_km": es.perigee_km,
            "apogee_km": es.apogee_km,
            "inclination_deg": es.inclination_deg,
            "period_min": es.period_min,
            "source": es.source,
        })
    columns = ["name", "norad", "intl_designator", "epoch_utc", "age_days", "perigee_km",
               "apogee_km", "inclination_deg", "period_min", "source"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["norad"] = frame["norad"].astype("Int64")
    frame["epoch_utc"] = pd.to_datetime(frame["epoch_utc"], utc=True).astype(
        "datetime64[ns, UTC]")
    for column in ("age_days", "perigee_km", "apogee_km", "inclination_deg", "period_min"):
        frame[column] = frame[column].astype(np.float64)
    return frame


# --------------------------------------------------------------------------------------------
# Writing TLEs
# --------------------------------------------------------------------------------------------


def format_tle(name: str, norad: int, intl_designator: str, epoch: datetime,
               inclination_deg: float, raan_deg: float, eccentricity: float,
               arg_perigee_deg: float, mean_anomaly_deg: float, mean_motion_rev_per_day: float,
               bstar: float = 0.0, ndot: float = 0.0, nddot: float = 0.0,
               element_set_no: int = 999, rev_number: int = 0, classification: str = "U"
               ) -> tuple[str, str, str]:
    """Write a checksum-valid, column-exact three-line element set.

    Values are rounded to the precision of their fields; angles other than the inclination are
    wrapped into [0, 360).

    Parameters
    ----------
    name
        Name line (returned as is, without a ``"0 "`` prefix).
    norad
        Catalogue number, 0-339999 (above 99999 written in Alpha-5).
    intl_designator
        ``"2016-051A"`` (or ``"16051A"``), or ``""``.
    epoch
        Epoch, UTC (naive means UTC), 1957-2056; written to 1e-8 day (0.864 ms).
    inclination_deg, raan_deg, arg_perigee_deg, mean_anomaly_deg
        Angles [deg], to 1e-4 deg.
    eccentricity
        [0, 1), to 1e-7.
    mean_motion_rev_per_day
        Kozai mean motion (0, 100) [rev/day], to 1e-8.
    bstar
        Drag term [1/earth radii], 5 significant digits.
    ndot
        The TLE's first field of mean-motion change, ṅ/2 [rev/day²], |ndot| < 1, to 1e-8.
    nddot
        The TLE's second field, n̈/6 [rev/day³], 5 significant digits.
    element_set_no
        0-9999.
    rev_number
        Revolution number at epoch; written modulo 100000.
    classification
        ``"U"``, ``"C"`` or ``"S"``.

    Returns
    -------
    tuple of str
        ``(line0, line1, line2)``.

    Raises
    ------
    ElementSetError
        If a value cannot be represented (the field names the parameter).
    """
    satnum = _format_satnum(norad)
    if classification not in ("U", "C", "S"):
        raise ElementSetError(f"expected U, C or S, found {classification!r}",
                              field="classification")
    if not 0 <= element_set_no <= 9999:
        raise ElementSetError(f"expected 0-9999, found {element_set_no}",
                              field="element_set_no")
    if rev_number < 0:
        raise ElementSetError(f"expected a non-negative number, found {rev_number}",
                              field="rev_number")
    line1 = (f"1 {satnum}{classification} {_format_intl(intl_designator):8s} "
             f"{_format_epoch(epoch)} {_format_ndot(ndot)} {_format_exp(nddot, 'nddot')} "
             f"{_format_exp(bstar, 'bstar')} 0 {element_set_no:4d}")
    line2 = (f"2 {satnum} {_format_inclination(inclination_deg)} "
             f"{_format_angle(raan_deg, 'raan_deg')} {_format_eccentricity(eccentricity)} "
             f"{_format_angle(arg_perigee_deg, 'arg_perigee_deg')} "
             f"{_format_angle(mean_anomaly_deg, 'mean_anomaly_deg')} "
             f"{_format_mean_motion(mean_motion_rev_per_day)}{rev_number % 100000:5d}")
    return name, line1 + str(tle_checksum(line1)), line2 + str(tle_checksum(line2))


def _format_satnum(norad: int) -> str:
    if not 0 <= norad <= _MAX_ALPHA5:
        raise ElementSetError(f"catalogue number {norad} does not fit a TLE (0-{_MAX_ALPHA5}); "
                              "use OMM", field="norad")
    return to_alpha5(norad)


def _format_intl(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    long = _OBJECT_ID_RE.fullmatch(text)
    if long:
        return f"{long.group(1)[2:]}{long.group(2)}{long.group(3)}"
    if re.fullmatch(r"\d{5}[A-Z]{1,3}", text):
        return text
    raise ElementSetError(f"expected an international designator like 2016-051A, found {text!r}",
                          field="intl_designator")


def _format_epoch(epoch: datetime) -> str:
    if epoch.tzinfo is not None:
        epoch = epoch.astimezone(UTC).replace(tzinfo=None)
    year = epoch.year
    since_new_year = epoch - datetime(year, 1, 1)
    micro = (since_new_year.days * 86_400 + since_new_year.seconds) * 10**6 \
        + since_new_year.microseconds
    ticks = (micro + _US_PER_1E8_DAY // 2) // _US_PER_1E8_DAY  # units of 1e-8 day
    day, frac = divmod(ticks, 10**8)
    days_in_year = 366 if _is_leap(year) else 365
    if day >= days_in_year:  # rounded up into the next year
        year, day = year + 1, day - days_in_year
    if not 1957 <= year <= 2056:
        raise ElementSetError(f"epoch year {year} cannot be written in a TLE (1957-2056)",
                              field="epoch")
    return f"{year % 100:02d}{day + 1:03d}.{frac:08d}"


def _format_ndot(value: float) -> str:
    ticks = round(abs(value) * 1e8)
    if not math.isfinite(value) or ticks >= 10**8:
        raise ElementSetError(f"expected |ndot| < 1 rev/day², found {value:g}", field="ndot")
    sign = "-" if value < 0 and ticks else " "
    return f"{sign}.{ticks:08d}"


def _format_exp(value: float, name: str) -> str:
    """``' NNNNN-N'``: sign, 5-digit mantissa with implied leading point, exponent."""
    if not math.isfinite(value):
        raise ElementSetError(f"expected a finite number, found {value}", field=name)
    if value == 0.0:
        return " 00000-0"
    exponent = max(math.floor(math.log10(abs(value))) + 1, -9)
    digits = round(abs(value) / 10.0**exponent * 1e5)
    if digits >= 100000:
        digits, exponent = round(digits / 10), exponent + 1
    if digits == 0:
        return " 00000-0"
    if exponent > 9:
        raise ElementSetError(f"{value:g} is too large for a TLE field (below 1e9)", field=name)
    sign = "-" if value < 0 else " "
    return f"{sign}{digits:05d}{'-' if exponent < 0 else '+'}{abs(exponent)}"


def _format_inclination(value: float) -> str:
    rounded = round(value, 4)
    if not 0.0 <= rounded <= 180.0:
        raise ElementSetError(f"expected 0-180 degrees, found {value:g}", field="inclination_deg")
    return f"{rounded:8.4f}"


def _format_angle(value: float, name: str) -> str:
    if not math.isfinite(value):
        raise ElementSetError(f"expected a finite angle, found {value}", field=name)
    rounded = round(value % 360.0, 4)
    if rounded >= 360.0:
        rounded -= 360.0
    return f"{rounded:8.4f}"


def _format_eccentricity(value: float) -> str:
    ticks = round(value * 1e7) if math.isfinite(value) else -1
    if not 0 <= ticks <= 9_999_999:
        raise ElementSetError(f"expected 0 <= e < 1, found {value:g}", field="eccentricity")
    return f"{ticks:07d}"


def _format_mean_motion(value: float) -> str:
    rounded = round(value, 8) if math.isfinite(value) else -1.0
    if not 0.0 < rounded < 100.0:
        raise ElementSetError(f"expected 0 < n < 100 rev/day, found {value:g}",
                              field="mean_motion_rev_per_day")
    return f"{rounded:11.8f}"
