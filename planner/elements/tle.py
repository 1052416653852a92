"""Two- and three-line element sets (TLE): a strict, column-exact reader and writer.

The fast ``sgp4`` parser and Skyfield accept wrong checksums, shifted columns and letters in
numeric fields silently, so every line is checked here first and each problem is reported as an
:class:`~planner.errors.ElementSetError` naming the file, the 1-based line and the field (e.g.
``line 1 checksum (column 69)``). 2-line or 3-line sets (a name line, optionally prefixed
``"0 "``), many satellites per file, blank lines, ``#`` comment lines, CRLF line ends and trailing
whitespace are accepted; Alpha-5 catalogue numbers (``A0001`` = 100001) are decoded.
:func:`format_tle` writes checksum-valid, column-exact sets.

References
----------
.. [1] Vallado, D. A., Crawford, P., Hujsak, R., Kelso, T. S., "Revisiting Spacetrack Report #3",
   AIAA 2006-6753 (the TLE format, appendix B); see docs/reference.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sgp4.alpha5 import from_alpha5, to_alpha5
from sgp4.api import Satrec

from planner.elements.elementset import (
    MAX_ALPHA5,
    OBJECT_ID_RE,
    US_PER_1E8_DAY,
    ElementSet,
    MeanElements,
    check_ranges,
    check_satrec,
    content_lines,
    is_leap_year,
)
from planner.errors import ElementSetError

__all__ = ["TLE_LINE_LENGTH", "format_tle", "parse_tle_text", "tle_checksum"]

TLE_LINE_LENGTH = 69



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
    lines = content_lines(text, source)
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
    check_ranges(elements, labels, source)
    satrec = Satrec.twoline2rv(l1, l2)
    check_satrec(satrec, labels["orbit"], source)
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
    days_in_year = 366 if is_leap_year(year) else 365
    if not 1 <= day <= days_in_year:
        raise ElementSetError(
            f"epoch day {day} is not a day of {year} (expected 1 to {days_in_year})",
            path=source, line=lineno, field=_L1["epoch_day"].label(1))
    return datetime(year, 1, 1, tzinfo=UTC) + timedelta(
        days=day - 1, microseconds=int(frac) * US_PER_1E8_DAY)



def _tle_exp(text: str) -> float:
    """Value of a ``' NNNNN-N'`` field (implied leading decimal point)."""
    sign = -1.0 if text[0] == "-" else 1.0
    exponent = int(text[7]) * (-1 if text[6] == "-" else 1)
    return sign * float("0." + text[1:6]) * 10.0**exponent


def _tle_elements(l1: str, l2: str) -> MeanElements:
    return MeanElements(
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
    if not 0 <= norad <= MAX_ALPHA5:
        raise ElementSetError(f"catalogue number {norad} does not fit a TLE (0-{MAX_ALPHA5}); "
                              "use OMM", field="norad")
    return to_alpha5(norad)


def _format_intl(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    long = OBJECT_ID_RE.fullmatch(text)
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
    ticks = (micro + US_PER_1E8_DAY // 2) // US_PER_1E8_DAY  # units of 1e-8 day
    day, frac = divmod(ticks, 10**8)
    days_in_year = 366 if is_leap_year(year) else 365
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
