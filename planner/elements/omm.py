"""OMM (CCSDS 502.0-B-3) element sets: CelesTrak/Space-Track GP JSON, CSV, XML and KVN.

Five-digit catalogue numbers ran out in 2026 and new objects are published as OMM only, so OMM is
first-class. A record needs EPOCH, MEAN_MOTION, ECCENTRICITY, INCLINATION, RA_OF_ASC_NODE,
ARG_OF_PERICENTER, MEAN_ANOMALY, BSTAR and NORAD_CAT_ID or OBJECT_NAME; MEAN_MOTION_DOT and
MEAN_MOTION_DDOT (unused by SGP4) default to 0, EPHEMERIS_TYPE to 0, CLASSIFICATION_TYPE to U,
ELEMENT_SET_NO to 999 and REV_AT_EPOCH to 0. Catalogue numbers above 339999 are kept in
:attr:`~planner.elements.elementset.ElementSet.norad` but stored as 0 in the ``Satrec`` (which
cannot hold them). Ephemeris type 4 (SGP4-XP) is refused: those elements need a different
propagator. Records are initialised with ``sgp4.omm.initialize``.

References
----------
.. [1] CCSDS 502.0-B-3, Orbit Data Messages (2023); see docs/reference.md.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.parsers import expat

from sgp4 import omm as sgp4_omm
from sgp4.api import Satrec

from planner.elements.elementset import (
    MAX_ALPHA5,
    OBJECT_ID_RE,
    ElementSet,
    MeanElements,
    check_ranges,
    check_satrec,
    content_lines,
    is_leap_year,
)
from planner.errors import ElementSetError

__all__ = ["parse_omm_csv", "parse_omm_json", "parse_omm_kvn", "parse_omm_xml"]

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


#: OMM XML elements that may appear more than once in a segment (and are not used here).
_REPEATABLE_XML = {"COMMENT", "USER_DEFINED"}


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
        For malformed XML, an element given twice in one segment (``COMMENT`` and
        ``USER_DEFINED`` excepted) or an invalid record (naming the line of the offending
        element).
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
            key = tag.upper()
            if value and key in segment[1] and key not in _REPEATABLE_XML:
                raise ElementSetError(f"<{tag}> appears twice in one segment (first on line "
                                      f"{segment[2][key]})", path=source,
                                      line=state["start"], field=key)
            if value and key not in _REPEATABLE_XML:
                segment[1][key] = value
                segment[2][key] = state["start"]
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
    for lineno, content in content_lines(text, source):
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
    elements = MeanElements(**values)
    labels = {attr: where(key) for key, attr in _OMM_REQUIRED_FLOATS.items()}
    labels["orbit"] = (line, "MEAN_MOTION, ECCENTRICITY")
    check_ranges(elements, labels, source)
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
        "OBJECT_ID": object_id if OBJECT_ID_RE.fullmatch(object_id) else "",
        "EPHEMERIS_TYPE": ephtype,
        "ELEMENT_SET_NO": _omm_int(rec, "ELEMENT_SET_NO", source, where, default=999, lo=0,
                                   hi=2**31 - 1),
        "REV_AT_EPOCH": _omm_int(rec, "REV_AT_EPOCH", source, where, default=0, lo=0,
                                 hi=2**31 - 1),
        "EPOCH": epoch.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "NORAD_CAT_ID": norad if norad is not None and norad <= MAX_ALPHA5 else 0,
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
    check_satrec(satrec, labels["orbit"], source)
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


def _check_tle_representable(elements: MeanElements, source: str, where: Any) -> None:
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
            if not 1 <= doy <= (366 if is_leap_year(year) else 365):
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
