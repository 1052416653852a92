"""Tasks of a parallel pass search: one satellite over one time chunk, small and picklable.

A task carries only small, plain inputs -- the element set's TLE lines or its SGP4 mean elements
(``sgp4.api.Satrec`` objects cannot be pickled), the stations as dicts and the chunk's start and
end -- and returns that chunk's pass table as a :class:`CodedTable` (one array per column,
satellite and station names as integer codes: a million rows pickle, merge and sort in a
fraction of the time a DataFrame of strings takes, and the strings are made once, at the end).
A pass belongs to the chunk in which its AOS falls (the rule of
:func:`planner.geometry.passes.find_passes`), so the chunks concatenate without duplicates or
losses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from planner.errors import OptionError

__all__ = [
    "DEFAULT_CHUNK_DAYS",
    "MIN_CHUNK_DAYS",
    "CodedTable",
    "element_payload",
    "element_set_from_payload",
    "pass_order",
    "pass_tasks",
    "run_pass_task",
    "sort_pass_table",
]

DEFAULT_CHUNK_DAYS = 90.0
"""Time chunk of a streamed run [days]: bounds each task's memory whatever the period.

Shorter chunks cost time: the pass finder's work is vectorised over a chunk's windows, and 30-day
chunks take about twice as long as whole years, 90-day ones about 1.2 times (one satellite x 50
stations; benchmarks/constellation.py). A 90-day task of one satellite over 1,000 stations peaks
at about 0.5 GB (460 MiB traced, 277,000 passes)."""

MIN_CHUNK_DAYS = 1.0
"""Shortest accepted time chunk [days]."""
_SGP4_EPOCH0 = datetime(1949, 12, 31)


def element_payload(element_set) -> dict:
    """The parts of an :class:`~planner.elements.elementsets.ElementSet` a worker needs to rebuild
    it.

    TLE sets travel as their lines (``Satrec.twoline2rv`` rebuilds the same model); OMM sets as
    the SGP4 mean elements ``sgp4.omm.initialize`` passed to ``Satrec.sgp4init`` (which gives the
    bit-identical model: a few floats, not the record).
    """
    payload = {"name": element_set.name, "norad": element_set.norad,
               "intl_designator": element_set.intl_designator, "epoch": element_set.epoch,
               "source": element_set.source, "line": element_set.line, "kind": element_set.kind,
               "line1": element_set.line1, "line2": element_set.line2}
    if element_set.line1 is None:
        s = element_set.satrec
        epoch = element_set.epoch.astimezone(UTC).replace(tzinfo=None)
        payload["sgp4init"] = (int(s.satnum), (epoch - _SGP4_EPOCH0).total_seconds() / 86400.0,
                               s.bstar, s.ndot, s.nddot, s.ecco, s.argpo, s.inclo, s.mo,
                               s.no_kozai, s.nodeo)
    return payload


def element_set_from_payload(payload: dict):
    """Rebuild an :class:`~planner.elements.elementsets.ElementSet` from :func:`element_payload`."""
    from sgp4.api import WGS72, Satrec

    from planner.elements.elementsets import ElementSet

    if payload["line1"] is not None:
        satrec = Satrec.twoline2rv(payload["line1"], payload["line2"])
    else:
        satrec = Satrec()
        satnum, epoch, *elements = payload["sgp4init"]
        satrec.sgp4init(WGS72, "i", satnum, epoch, *elements)
    return ElementSet(name=payload["name"], norad=payload["norad"],
                      intl_designator=payload["intl_designator"], epoch=payload["epoch"],
                      satrec=satrec, source=payload["source"], line=payload["line"],
                      kind=payload["kind"], line1=payload["line1"], line2=payload["line2"])


def _chunk_bounds(start: datetime, end: datetime, chunk_days: float | None
                  ) -> list[tuple[datetime, datetime]]:
    """Consecutive ``[a, b)`` chunks covering ``[start, end)``; the last may be shorter."""
    if chunk_days is None:
        return [(start, end)]
    if not (isinstance(chunk_days, (int, float)) and math.isfinite(chunk_days)
            and chunk_days >= MIN_CHUNK_DAYS):
        raise OptionError(f"expected a number of days >= {MIN_CHUNK_DAYS:g}, found "
                          f"{chunk_days!r}", field="chunk_days")
    step = timedelta(days=float(chunk_days))
    bounds, a = [], start
    while a < end:
        b = min(a + step, end)
        bounds.append((a, b))
        a = b
    return bounds


def pass_tasks(catalogue, stations: Sequence, start, end, *, chunk_days: float | None = None,
               min_elevation_deg: float | None = None, refraction: bool = False) -> list[dict]:
    """Split a pass search into tasks of one satellite over one time chunk.

    Parameters
    ----------
    catalogue : planner.elements.elementsets.Catalogue
        The satellites.
    stations : sequence of planner.mission.stations.Station
        The stations.
    start, end : datetime or ISO 8601 str
        The period, UTC.
    chunk_days : float, optional
        Length of the time chunks [days] (at least 1); ``None``: one chunk, the whole period.
    min_elevation_deg, refraction
        As in :func:`~planner.geometry.passes.find_passes`.

    Returns
    -------
    list of dict
        Picklable tasks for :func:`run_pass_task`, satellite by satellite, chunk by chunk; each
        holds the satellite's element sets (TLE lines or SGP4 mean elements), the stations as
        dicts, the chunk's bounds and the options -- a few kilobytes.
    """
    from planner.timebase import as_utc_datetime

    start_dt = as_utc_datetime(start, option="start")
    end_dt = as_utc_datetime(end, option="end")
    origin = (start_dt, (end_dt - start_dt).total_seconds())     # one time base for all chunks
    station_dicts = [s.model_dump() for s in stations]
    bounds = _chunk_bounds(start_dt, end_dt, chunk_days)
    tasks = []
    for key in catalogue.satellites:
        elements = [element_payload(s) for s in catalogue.sets(key)]
        for chunk_start, chunk_end in bounds:
            tasks.append({"index": len(tasks), "satellite": key, "elements": elements,
                          "stations": station_dicts, "start": chunk_start, "end": chunk_end,
                          "min_elevation_deg": min_elevation_deg, "refraction": refraction,
                          "origin": origin})
    return tasks


def run_pass_task(task: dict) -> tuple[int, CodedTable, list[str]]:
    """Run one task of :func:`pass_tasks` (in any process).

    Returns
    -------
    index : int
        The task's index.
    table : CodedTable
        Its pass table (:data:`planner.geometry.passes.PASS_COLUMNS`), string columns as codes;
        :meth:`CodedTable.decode` gives the table.
    warnings : list of str
        Propagation problems, as :func:`~planner.geometry.passes.find_passes` reports them.
    """
    from planner.elements.elementsets import Catalogue
    from planner.geometry.passes import find_passes
    from planner.mission.stations import Station
    from planner.timebase import TimeBase

    catalogue = Catalogue(element_set_from_payload(p) for p in task["elements"])
    stations = [Station(**s) for s in task["stations"]]
    warnings: list[str] = []
    table = find_passes(catalogue, stations, task["start"], task["end"],
                        min_elevation_deg=task["min_elevation_deg"],
                        refraction=task["refraction"], timebase=TimeBase(*task["origin"]),
                        warnings=warnings)
    return task["index"], CodedTable.encode(table), warnings


@dataclass(frozen=True)
class CodedTable:
    """A pass table as one array per column, its string columns as integer codes.

    The form tasks return their passes in: a million rows pickle, concatenate and sort
    several times faster as plain arrays and integer codes than as a DataFrame of strings,
    and the strings are made once, at the end (:meth:`decode`).

    Attributes
    ----------
    columns : dict of str to array
        Each column's values (numpy or pandas arrays); ``satellite`` and ``station`` as
        int32 codes.
    names : dict of str to numpy.ndarray
        For each coded column, the strings its codes index.
    """

    columns: dict
    names: dict

    CODED = ("satellite", "station")

    @classmethod
    def encode(cls, table: pd.DataFrame) -> CodedTable:
        columns, names = {}, {}
        for column in table.columns:
            if column in cls.CODED:
                codes, uniques = pd.factorize(table[column])
                columns[column] = codes.astype(np.int32)
                names[column] = np.asarray(uniques, dtype=object)
            else:
                values = table[column].array
                columns[column] = (values.to_numpy()
                                   if isinstance(values, pd.arrays.NumpyExtensionArray)
                                   else values)
        return cls(columns, names)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    @classmethod
    def merge(cls, pieces: Sequence[CodedTable], stations: Sequence) -> CodedTable:
        """One coded table of all ``pieces``, rows in :func:`~planner.geometry.passes.find_passes`
        order.

        By AOS, then station order; rows that tie on both keep their order in ``pieces``. Each
        column is gathered straight into its result through one scratch buffer per dtype: no
        concatenated copy of the whole table is made (fresh memory costs a page fault per 4 KiB,
        which on this kind of machine is most of the price of a copy).
        """
        pieces = list(pieces)
        sizes = [len(p) for p in pieces]
        names, codes = {}, {}
        for column in cls.CODED:
            books = [p.names[column] for p in pieces]
            names[column], inverse = np.unique(np.concatenate(books), return_inverse=True)
            offsets = np.cumsum([0] + [b.size for b in books])
            codes[column] = np.concatenate([
                inverse[offsets[k]:offsets[k + 1]][p.columns[column]]
                for k, p in enumerate(pieces)]).astype(np.int32)
        rank = pd.Index([s.name for s in stations]).get_indexer(names["station"])
        aos = np.concatenate([_naive_datetimes(p.columns["aos_utc"]).astype("M8[ns]")
                              for p in pieces]).view(np.int64)
        order = pass_order(aos, rank[codes["station"]])
        del aos
        scratch: dict[np.dtype, np.ndarray] = {}

        def gathered(parts: list[np.ndarray]) -> np.ndarray:
            dtype = parts[0].dtype
            if dtype not in scratch:
                scratch[dtype] = np.empty(sum(sizes), dtype=dtype)
            return np.concatenate(parts, out=scratch[dtype]).take(order)

        columns = {}
        for column, first in pieces[0].columns.items():
            parts = [p.columns[column] for p in pieces]
            if column in cls.CODED:
                columns[column] = codes[column].take(order)
            elif isinstance(first, np.ndarray):
                columns[column] = gathered(parts)
            elif isinstance(first.dtype, pd.DatetimeTZDtype):
                values = gathered([_naive_datetimes(a) for a in parts])
                columns[column] = pd.array(values).tz_localize(first.dtype.tz)
            else:
                columns[column] = type(first)._concat_same_type(parts).take(order)
        return cls(columns, names)

    def sorted(self, stations: Sequence) -> CodedTable:
        """Rows in :func:`~planner.geometry.passes.find_passes` order: by AOS, then station
        order."""
        return CodedTable.merge([self], stations)

    def decode(self) -> pd.DataFrame:
        """The pass table, with the strings back."""
        return pd.DataFrame({c: _string_column(self.names[c], v) if c in self.CODED else v
                             for c, v in self.columns.items()}, copy=False)


def _naive_datetimes(values) -> np.ndarray:
    """The UTC datetime64 values of a tz-aware datetime array, without a copy."""
    return np.asarray(values.tz_convert(None))


def pass_order(aos_ns: np.ndarray, station_rank: np.ndarray) -> np.ndarray:
    """Stable order of rows by AOS, then station rank.

    Distinct stations almost never share an AOS to the nanosecond, so a stable sort on AOS
    alone usually decides; the two-key sort runs only if some AOS repeats. Pieces that are
    already sorted (one task's passes each) make the AOS sort a merge of sorted runs.
    """
    order = np.argsort(aos_ns, kind="stable")
    if np.any(np.diff(aos_ns[order]) == 0):
        order = np.lexsort((station_rank, aos_ns))       # stable: last key sorts first
    return order


def _string_column(names: np.ndarray, codes: np.ndarray):
    """``names[codes]`` as the column pandas makes of those strings.

    Where pandas keeps strings in Arrow (pandas 3 with pyarrow), they are gathered there:
    three times faster for a million rows than converting as many Python objects.
    """
    dtype = pd.Series(names[:1]).dtype if names.size else None
    if getattr(dtype, "storage", None) != "pyarrow":
        return names[codes]
    import pyarrow as pa

    return pd.array(pa.array(names, type=pa.large_string()).take(pa.array(codes)), dtype=dtype)

def sort_pass_table(table: pd.DataFrame, stations: Sequence) -> pd.DataFrame:
    """Sort a pass table as :func:`~planner.geometry.passes.find_passes` does: by AOS, then station
    order.

    The sort is stable, so passes with the same AOS and station keep their satellite order.
    """

    return CodedTable.encode(table).sorted(stations).decode()

