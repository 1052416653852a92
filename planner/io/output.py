"""Writing tables: CSV, JSON and iCalendar text, atomic files, provenance.

Conventions (docs/architecture.md): times are ISO 8601 UTC with a ``Z`` and millisecond precision;
CSV is plain, header first (``pandas.read_csv(path)`` and ``csv.DictReader`` read it with no
options); a file's provenance goes in a sidecar ``NAME.meta.json`` beside it
(:func:`sidecar_path`), and ``# key: value`` comment lines before the header only when asked
for. JSON documents carry a ``provenance`` object beside the rows; files are written to a
temporary name in the target directory and renamed, so a failure or an interrupt never leaves a
half-written file behind.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import __version__
from planner.io.atomic import check_output_path, write_atomic  # noqa: F401 (callers' import)

# numpy and pandas are imported inside the table functions: the command line imports this
# module for its output checks, and ``qkdplan --help`` must not wait for pandas.
if TYPE_CHECKING:
    import pandas as pd


def iso_utc(values: pd.Series) -> pd.Series:
    """Format UTC timestamps as ``2026-11-24T21:03:05.123Z`` (milliseconds, rounded)."""
    import pandas as pd

    times = pd.to_datetime(values, utc=True).dt.round("ms")
    return times.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"


def _serialisable(frame: pd.DataFrame) -> pd.DataFrame:
    """Times as ISO 8601 UTC text; calendar dates (naive columns named ``*date``, every value
    a midnight) as ``YYYY-MM-DD``: a night's date is not an instant."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = iso_utc(values)
        elif pd.api.types.is_datetime64_dtype(values):
            calendar = (str(column).endswith("date")
                        and bool((values.dropna() == values.dropna().dt.normalize()).all()))
            out[column] = values.dt.strftime("%Y-%m-%d") if calendar else iso_utc(values)
    return out


def to_csv(frame: pd.DataFrame, provenance: Mapping[str, Any] | None = None,
           float_digits: int = 6, *, comments: bool = False) -> str:
    """Plain CSV text of a table: the header first, then the rows.

    The text is what ``DataFrame.to_csv(index=False, float_format=f"%.{float_digits}f",
    lineterminator="\\n")`` writes for the table's serialised form (:func:`_serialisable`);
    columns of the common types are formatted here, about twice as fast as pandas (which
    formats floats value by value through a slower path), and a table with any other column
    type is written by pandas itself (``tests/io/test_csv_writer.py`` checks both are equal).

    Parameters
    ----------
    frame
        The table; datetime columns are written as ISO 8601 UTC (:func:`iso_utc`).
    provenance
        Written as ``# key: value`` lines before the header only if ``comments`` is true
        (read such text with ``pandas.read_csv(path, comment="#")``); otherwise ignored: give
        it to :func:`sidecar_text` for a ``NAME.meta.json`` beside the file.
    float_digits
        Digits after the decimal point of floating-point columns.
    comments
        Prefix the provenance as comment lines (opt-in: most CSV readers take them as rows).
    """
    buffer = io.StringIO()
    for key, value in (provenance or {}).items() if comments else ():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        buffer.write(f"# {key}: {' '.join(str(text).split())}\n")
    table = _serialisable(frame)
    cells = _csv_cells(table, float_digits)
    if cells is None:
        table.to_csv(buffer, index=False, float_format=f"%.{float_digits}f",
                     lineterminator="\n")
    else:
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([str(c) for c in table.columns])
        writer.writerows(zip(*cells, strict=True))
    return buffer.getvalue()


def _csv_cells(table: pd.DataFrame, float_digits: int) -> list[list[str]] | None:
    """Each column's cells as pandas writes them (missing values empty), or ``None`` if a
    column is of a type this fast path does not format (then pandas writes the table)."""
    import numpy as np
    import pandas as pd

    if table.columns.empty:
        return None
    columns = []
    for _, values in table.items():
        dtype = values.dtype
        if dtype == np.float64:
            columns.append([f"{x:.{float_digits}f}" if x == x else ""
                            for x in values.to_numpy().tolist()])
        elif dtype == np.int64 or dtype == np.bool_:
            columns.append([str(x) for x in values.to_numpy().tolist()])
        elif isinstance(dtype, (pd.Int64Dtype, pd.BooleanDtype, pd.StringDtype)) or (
                pd.api.types.is_object_dtype(dtype) and _all_text(values.tolist())):
            missing = values.isna().to_numpy().tolist()
            columns.append(["" if gap else str(x)
                            for x, gap in zip(values.tolist(), missing, strict=True)])
        else:
            return None
    return columns


def _all_text(values: list) -> bool:
    """Whether every value is text or missing (``None``, ``pd.NA``)."""
    import pandas as pd

    return all(isinstance(x, str) or x is None or x is pd.NA for x in values)


def _json_value(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else round(float(value), 9)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is pd.NA or value is None:
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as JSON-ready dicts (ISO times, None for missing values)."""
    table = _serialisable(frame)
    plain = table.astype(object).where(table.notna(), None)
    return [{k: _json_value(v) for k, v in row.items()} for row in plain.to_dict("records")]


def to_json(tables: Mapping[str, pd.DataFrame | Any], provenance: Mapping[str, Any]) -> str:
    """A JSON document ``{"provenance": ..., name: [rows...], ...}``."""
    import pandas as pd

    document: dict[str, Any] = {"provenance": dict(provenance)}
    for name, table in tables.items():
        document[name] = records(table) if isinstance(table, pd.DataFrame) else table
    return json.dumps(document, indent=1, default=str, allow_nan=False) + "\n"


def _ics_escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 section 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        limit = 75 if not parts else 74
        if len(current) + len(encoded) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _ics_time(value: pd.Timestamp) -> str:
    import pandas as pd

    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y%m%dT%H%M%SZ")


def to_ics(events: Sequence[Mapping[str, Any]], *, calendar_name: str,
           stamp: datetime) -> str:
    """An iCalendar (RFC 5545) document with one VEVENT per event.

    Parameters
    ----------
    events
        Mappings with ``uid_key`` (a string that identifies the event, hashed into its UID),
        ``start``, ``end`` (UTC Timestamps), ``summary``, ``description`` and optionally
        ``location``.
    calendar_name
        Shown by calendar programs as the calendar's name.
    stamp
        DTSTAMP of every event; passing a fixed time keeps the file reproducible.
    """
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//qkdplan//{__version__}//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{_ics_escape(calendar_name)}"]
    dtstamp = _ics_time(stamp)
    for event in events:
        uid = hashlib.sha1(str(event["uid_key"]).encode()).hexdigest()[:24] + "@qkdplan"
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{dtstamp}",
                  f"DTSTART:{_ics_time(event['start'])}", f"DTEND:{_ics_time(event['end'])}",
                  f"SUMMARY:{_ics_escape(str(event['summary']))}",
                  f"DESCRIPTION:{_ics_escape(str(event['description']))}"]
        if event.get("location"):
            lines.append(f"LOCATION:{_ics_escape(str(event['location']))}")
        lines += ["TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_ics_fold(line) for line in lines) + "\r\n"


def sidecar_path(path: str | Path) -> Path:
    """Where the provenance of the output file ``path`` goes: ``NAME.meta.json`` beside it
    (``passes.csv`` -> ``passes.csv.meta.json``)."""
    path = Path(path)
    return path.with_name(f"{path.name}.meta.json")


def sidecar_text(record: Mapping[str, Any], data_file: str | Path) -> str:
    """The JSON text of a sidecar: ``{"file": NAME, "provenance": {...}}``."""
    return json.dumps({"file": Path(data_file).name, "provenance": dict(record)}, indent=1,
                      default=str, allow_nan=False) + "\n"


def provenance(**items: Any) -> dict[str, Any]:
    """Provenance record: the given items plus the planner version.

    No wall-clock time is added, so the same inputs give byte-identical outputs.
    """
    record = {"generator": f"qkdplan {__version__}"}
    record.update({k: v for k, v in items.items() if v is not None})
    return record
