"""Executors for the pass finder: in-process (default), local processes, Dask; Parquet output.

The pass finder treats every satellite independently, so a run splits into tasks of one
satellite over one time chunk. A task carries only small, plain inputs -- the element set's TLE
lines or its SGP4 mean elements (``sgp4.api.Satrec`` objects cannot be pickled), the stations as
dicts and the chunk's start and end -- and returns that chunk's pass table as a
:class:`CodedTable` (one array per column, satellite and station names as integer codes: a
million rows pickle, merge and sort in a fraction of the time a DataFrame of strings takes, and
the strings are made once, at the end). A pass belongs to the chunk in which its AOS falls (the
rule of :func:`planner.geometry.passes.find_passes`), so the chunks concatenate without duplicates
or
losses.

Three executors run the tasks:

* in-process (the default): a plain loop;
* local processes: :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start
  method (no threads or locks inherited by forking);
* Dask distributed: ``local:N`` starts a ``LocalCluster`` of ``N`` single-threaded worker
  processes on 127.0.0.1 (no dashboard); ``tcp://HOST:PORT`` connects to a running scheduler,
  whose workers need ``qkdplan`` installed (and should be started with the Dask setting
  ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null``: Dask's default
  slows numpy-heavy work by ~1.8x, see :class:`DaskExecutor`).

At most twice as many tasks as workers are in flight, so results stream back with bounded
memory: :func:`iter_pass_tables` yields them as they complete and
:func:`write_passes_parquet` writes them to a partitioned Parquet dataset without ever holding
the whole pass table.

Exactness. With ``chunk_days=None`` (one chunk per satellite) the result of
:func:`find_passes_parallel` is identical to :func:`~planner.geometry.passes.find_passes`: each
task runs
the same computation on the same time base (the sun's elevation, interpolated over each task's
span, agrees to ~1e-8 deg). Splitting in time changes each chunk's time origin and coarse grid,
so Newton's method stops at slightly different points: the same passes, with times that agree to
within the finder's stated tolerance (rise/set 0.1 ms, culmination 1 ms) rather than to the
nanosecond.

``dask[distributed]`` and ``pyarrow`` are optional (``pip install 'qkdplan[dask]'``) and
imported only when used.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import OptionError

__all__ = [
    "DEFAULT_CHUNK_DAYS",
    "CodedTable",
    "DaskExecutor",
    "Executor",
    "ExecutorSpec",
    "InProcessExecutor",
    "ProcessExecutor",
    "check_dataset_directory",
    "executor_spec",
    "find_passes_parallel",
    "iter_pass_tables",
    "open_executor",
    "pass_tasks",
    "peak_rss_mb",
    "read_passes_parquet",
    "run_pass_task",
    "sort_pass_table",
    "write_passes_parquet",
]

DEFAULT_CHUNK_DAYS = 90.0
"""Time chunk of a streamed run [days]: bounds each task's memory whatever the period.

Shorter chunks cost time: the pass finder's work is vectorised over a chunk's windows, and 30-day
chunks take about twice as long as whole years, 90-day ones about 1.2 times (one satellite x 50
stations; benchmarks/constellation.py). A 90-day task of one satellite over 1,000 stations peaks
at about 0.5 GB (460 MiB traced, 277,000 passes)."""

MIN_CHUNK_DAYS = 1.0
"""Shortest accepted time chunk [days]."""

CONNECT_TIMEOUT_S = 5.0
"""How long to wait for a remote Dask scheduler before giving up [s]."""

MAX_WORKERS = 256
"""Most worker processes ``local:N`` or ``--processes`` may start."""

INSTALL_HINT = "install qkdplan[dask] (pip install 'qkdplan[dask]')"

_SGP4_EPOCH0 = datetime(1949, 12, 31)
_TRIM_SETTING = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
_DASK_ADDRESS = re.compile(r"(tcp|tls|ucx|inproc)://[^\s/]+", re.ASCII)


# ------------------------------------------------------------------------------------------
# Optional dependencies
# ------------------------------------------------------------------------------------------


def _require(module: str, what: str):
    """Import an optional dependency or raise OptionError saying how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise OptionError(f"{what} needs the {module.split('.')[0]} package: {INSTALL_HINT}",
                          field=what) from None


# ------------------------------------------------------------------------------------------
# Tasks: small, picklable inputs
# ------------------------------------------------------------------------------------------


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
                          f"{chunk_days!r}", field="--chunk-days")
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

    start_dt = as_utc_datetime(start, option="--start")
    end_dt = as_utc_datetime(end, option="--end")
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


# ------------------------------------------------------------------------------------------
# Executors
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor to use.

    Attributes
    ----------
    kind : {"inprocess", "processes", "dask"}
        In-process loop, local process pool, or Dask distributed.
    workers : int, optional
        Worker processes (``processes``, and ``dask`` with a local cluster).
    address : str, optional
        Scheduler address ``tcp://HOST:PORT`` of an existing Dask cluster.
    connect_timeout_s : float
        How long to wait for that scheduler [s].
    """

    kind: str = "inprocess"
    workers: int | None = None
    address: str | None = None
    connect_timeout_s: float = CONNECT_TIMEOUT_S

    def describe(self) -> str:
        """One line for provenance and messages, e.g. ``dask local:2``."""
        if self.kind == "dask":
            return f"dask {self.address}" if self.address else f"dask local:{self.workers}"
        if self.kind == "processes":
            return f"processes:{self.workers}"
        return "inprocess"


def _worker_count(text: str, field: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise OptionError(f"expected a number of workers, found {text!r}", field=field) from None
    if not 1 <= count <= MAX_WORKERS:
        raise OptionError(f"expected 1 to {MAX_WORKERS} workers, found {count}", field=field)
    return count


def executor_spec(dask: str | None = None, processes: int | None = None,
                  connect_timeout_s: float = CONNECT_TIMEOUT_S) -> ExecutorSpec:
    """The executor a command line asks for (``--dask`` / ``--processes``).

    Parameters
    ----------
    dask : str, optional
        ``local:N`` (a local cluster of N worker processes on 127.0.0.1) or ``tcp://HOST:PORT``
        (an existing scheduler).
    processes : int, optional
        Number of local worker processes (``concurrent.futures``).
    connect_timeout_s : float
        Timeout for connecting to a remote scheduler [s].

    Raises
    ------
    OptionError
        For both options at once, or a malformed value.
    """
    if dask is not None and processes is not None:
        raise OptionError("give --dask or --processes, not both", field="--dask")
    if processes is not None:
        return ExecutorSpec("processes", workers=_worker_count(str(processes), "--processes"))
    if dask is None:
        return ExecutorSpec()
    text = dask.strip()
    if text.lower().startswith("local:"):
        return ExecutorSpec("dask", workers=_worker_count(text[6:], "--dask"))
    if _DASK_ADDRESS.fullmatch(text):
        return ExecutorSpec("dask", address=text, connect_timeout_s=connect_timeout_s)
    raise OptionError(f"expected local:N or tcp://HOST:PORT, found {dask!r}", field="--dask")


class Executor:
    """Runs tasks and yields ``fn(task)`` results as they complete.

    Use as a context manager (``with open_executor(spec) as executor:``); :meth:`close`
    releases the workers.
    """

    workers: int = 1
    spec: ExecutorSpec = ExecutorSpec()

    def imap_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Results of ``fn`` over ``tasks``, in completion order."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def max_pending(self) -> int:
        """Tasks kept in flight: enough to keep every worker busy, few enough to bound memory."""
        return 2 * self.workers


class InProcessExecutor(Executor):
    """A plain loop in the calling process (the default)."""

    def imap_unordered(self, fn, tasks):
        for task in tasks:
            yield fn(task)


class ProcessExecutor(Executor):
    """Local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`, ``spawn``).

    Parameters
    ----------
    workers : int
        Number of processes.
    """

    def __init__(self, workers: int):
        import multiprocessing

        self.workers = workers
        self.spec = ExecutorSpec("processes", workers=workers)
        self._pool = ProcessPoolExecutor(max_workers=workers,
                                         mp_context=multiprocessing.get_context("spawn"))

    def imap_unordered(self, fn, tasks):
        tasks = iter(tasks)
        pending = set()
        try:
            for task in tasks:
                pending.add(self._pool.submit(fn, task))
                if len(pending) >= self.max_pending:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    task = next(tasks, None)
                    if task is not None:
                        pending.add(self._pool.submit(fn, task))
                    yield result
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Dask distributed: a new local cluster, or a connection to a running scheduler.

    Parameters
    ----------
    spec : ExecutorSpec
        ``kind="dask"`` with ``workers`` (start a ``LocalCluster`` of that many single-threaded
        worker processes on 127.0.0.1, no dashboard) or ``address``.

    Raises
    ------
    OptionError
        If dask.distributed is not installed, or the scheduler cannot be reached within
        ``spec.connect_timeout_s``.
    """

    def __init__(self, spec: ExecutorSpec):
        import logging

        distributed = _require("distributed", "--dask")
        import dask

        self.spec = spec
        self._cluster = None
        if spec.address is None:
            # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which switches off
            # glibc's adaptive mmap threshold: every numpy temporary above 128 KiB is then mapped
            # and zero-filled afresh, and the pass finder runs ~1.8x slower (3 satellites x 50
            # stations x 365 d: 1.6 s -> 2.9 s, system time 0.15 s -> 1.4 s). The workers get
            # glibc's defaults instead.
            with dask.config.set({_TRIM_SETTING: None}):
                self._cluster = distributed.LocalCluster(
                    n_workers=spec.workers, threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
            try:
                self.client = distributed.Client(self._cluster)
            except BaseException:
                self._cluster.close()
                raise
        else:
            try:
                self.client = distributed.Client(spec.address,
                                                 timeout=f"{spec.connect_timeout_s}s")
            except (OSError, TimeoutError) as error:
                raise OptionError(
                    f"cannot reach the Dask scheduler at {spec.address} within "
                    f"{spec.connect_timeout_s:g} s ({type(error).__name__}); start it, check "
                    "the address, or use --dask local:N", field="--dask") from None
            try:
                self.client.wait_for_workers(1, timeout=spec.connect_timeout_s)
            except (OSError, TimeoutError):
                self.client.close()
                raise OptionError(f"the Dask scheduler at {spec.address} has no workers",
                                  field="--dask") from None
        self.workers = max(1, len(self.client.nthreads()))

    def imap_unordered(self, fn, tasks):
        from distributed import as_completed

        tasks = iter(tasks)
        futures = as_completed()
        # a task travels inside a partial: Dask then ships it as one pickle instead of walking
        # its lists of element sets and stations item by item on the client
        for task in tasks:
            futures.add(self.client.submit(functools.partial(fn, task), pure=False))
            if futures.count() >= self.max_pending:
                break
        try:
            for future in futures:
                result = future.result()
                future.release()
                task = next(tasks, None)
                if task is not None:
                    futures.add(self.client.submit(functools.partial(fn, task), pure=False))
                yield result
        finally:
            futures.clear()

    def peak_memory_mb(self) -> dict[str, float]:
        """Peak resident memory of each worker process so far [MiB] (:func:`peak_rss_mb`)."""
        return self.client.run(peak_rss_mb)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def peak_rss_mb() -> float:
    """Peak resident memory of this process [MiB].

    Linux's ``VmHWM`` (the high-water mark of this process image); ``ru_maxrss`` elsewhere.
    ``ru_maxrss`` alone would mislead: a spawned process starts from its parent's peak, since
    Linux carries the maximum across fork and exec.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def open_executor(spec: ExecutorSpec | str | None = None) -> Executor:
    """Start the executor ``spec`` describes (use it as a context manager).

    Parameters
    ----------
    spec : ExecutorSpec or str, optional
        ``None`` or ``"inprocess"``; ``"processes:N"``; ``"local:N"`` or ``"tcp://HOST:PORT"``
        for Dask; or an :class:`ExecutorSpec`.
    """
    if spec is None:
        spec = ExecutorSpec()
    elif isinstance(spec, str):
        text = spec.strip().lower()
        if text == "inprocess":
            spec = ExecutorSpec()
        elif text.startswith("processes:"):
            spec = executor_spec(processes=_worker_count(text[10:], "--processes"))
        else:
            spec = executor_spec(dask=spec)
    if spec.kind == "inprocess":
        return InProcessExecutor()
    if spec.kind == "processes":
        return ProcessExecutor(spec.workers or os.cpu_count() or 1)
    if spec.kind == "dask":
        return DaskExecutor(spec)
    raise OptionError(f"unknown executor {spec.kind!r}", field="executor")


# ------------------------------------------------------------------------------------------
# Running a pass search
# ------------------------------------------------------------------------------------------


class _Borrowed:
    """An executor given by the caller: used, not closed."""

    def __init__(self, executor: Executor):
        self.executor = executor

    def __enter__(self) -> Executor:
        return self.executor

    def __exit__(self, *exc) -> None:
        pass


def executor_context(executor):
    """A context manager around ``executor``: an :class:`Executor` given by the caller is
    borrowed (left open), a spec or ``None`` is opened here and closed on exit."""
    if isinstance(executor, Executor):
        return _Borrowed(executor)
    return open_executor(executor)


def iter_pass_tables(catalogue, stations: Sequence, start, end, *, executor=None,
                     chunk_days: float | None = DEFAULT_CHUNK_DAYS,
                     min_elevation_deg: float | None = None, refraction: bool = False,
                     warnings: list[str] | None = None) -> Iterator[tuple[int, pd.DataFrame]]:
    """Pass tables of each task (satellite x time chunk), as they complete.

    Parameters
    ----------
    catalogue, stations, start, end, min_elevation_deg, refraction
        As in :func:`~planner.geometry.passes.find_passes`.
    executor : Executor, ExecutorSpec or str, optional
        Where to run (see :func:`open_executor`); an open :class:`Executor` is used and left
        open, anything else is opened and closed here. In-process by default.
    chunk_days : float, optional
        Time chunk [days]; ``None`` for whole-period tasks.
    warnings : list of str, optional
        Receives the propagation problems of every task (each message once).

    Yields
    ------
    index : int
        The task's index in :func:`pass_tasks` order.
    table : pandas.DataFrame
        Its passes (possibly empty).
    """
    for index, coded in _iter_coded_tables(catalogue, stations, start, end, executor=executor,
                                           chunk_days=chunk_days,
                                           min_elevation_deg=min_elevation_deg,
                                           refraction=refraction, warnings=warnings):
        yield index, coded.decode()


def _iter_coded_tables(catalogue, stations, start, end, *, executor, chunk_days,
                       min_elevation_deg, refraction, warnings
                       ) -> Iterator[tuple[int, CodedTable]]:
    tasks = pass_tasks(catalogue, stations, start, end, chunk_days=chunk_days,
                       min_elevation_deg=min_elevation_deg, refraction=refraction)
    seen: set[str] = set()
    with executor_context(executor) as running:
        for index, coded, problems in running.imap_unordered(run_pass_task, tasks):
            if warnings is not None:
                for message in problems:
                    if message not in seen:
                        seen.add(message)
                        warnings.append(message)
            yield index, coded


def find_passes_parallel(catalogue, stations: Sequence, start, end, *, executor=None,
                         chunk_days: float | None = None, min_elevation_deg: float | None = None,
                         refraction: bool = False, warnings: list[str] | None = None
                         ) -> pd.DataFrame:
    """:func:`~planner.geometry.passes.find_passes`, split by satellite and time chunk over an
    executor.

    Parameters
    ----------
    catalogue, stations, start, end, min_elevation_deg, refraction, warnings
        As in :func:`~planner.geometry.passes.find_passes`.
    executor : Executor, ExecutorSpec or str, optional
        In-process (default), ``"processes:N"``, ``"local:N"`` (Dask LocalCluster),
        ``"tcp://HOST:PORT"``, or an open :class:`Executor` (reused, left open).
    chunk_days : float, optional
        Split each satellite's period into chunks of this many days (>= 1). ``None`` (default):
        one task per satellite, and a result identical to ``find_passes``. With chunks the same
        passes are found, their times within the finder's tolerance of ``find_passes``'s (see
        the module docstring).

    Returns
    -------
    pandas.DataFrame
        The pass table, sorted as ``find_passes`` sorts it (AOS, then station order).
    """
    from planner.geometry.passes import _empty_table

    stations = list(stations)
    if not stations or not catalogue.satellites:
        return _empty_table()
    pieces = dict(_iter_coded_tables(catalogue, stations, start, end, executor=executor,
                                     chunk_days=chunk_days, min_elevation_deg=min_elevation_deg,
                                     refraction=refraction, warnings=warnings))
    tables = [pieces[i] for i in sorted(pieces) if len(pieces[i])]
    if not tables:
        return _empty_table()
    return CodedTable.merge(tables, stations).decode()


def sort_pass_table(table: pd.DataFrame, stations: Sequence) -> pd.DataFrame:
    """Sort a pass table as :func:`~planner.geometry.passes.find_passes` does: by AOS, then station
    order.

    The sort is stable, so passes with the same AOS and station keep their satellite order.
    """

    return CodedTable.encode(table).sorted(stations).decode()


# ------------------------------------------------------------------------------------------
# Parquet
# ------------------------------------------------------------------------------------------

MONTH = "month"
"""Partition name for the month of a pass's AOS (``YYYY-MM``), derived on writing."""


def check_dataset_directory(directory: str | Path) -> Path:
    """Fail early (before any work) unless ``directory`` can become a new dataset directory.

    Raises
    ------
    OptionError
        If it exists and is not an empty directory, or its parent is missing or read-only.
    """
    directory = Path(directory)
    parent = directory.parent if str(directory.parent) else Path(".")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OptionError(f"{str(directory)!r} already exists and is not an empty directory; "
                          "remove it or choose another", field="--output")
    if not parent.is_dir():
        raise OptionError(f"directory {str(parent)!r} does not exist", field="--output")
    if not os.access(parent, os.W_OK):
        raise OptionError(f"directory {str(parent)!r} is not writable", field="--output")
    return directory


def write_passes_parquet(tables: Iterable[pd.DataFrame | tuple[int, pd.DataFrame]],
                         directory: str | Path, partition_cols: Sequence[str] = ("satellite",),
                         provenance: dict | None = None) -> Path:
    """Stream pass tables into a partitioned Parquet dataset (Hive layout), atomically.

    Each table is written as soon as it arrives and then dropped, so memory holds one table at
    a time however long the run. The dataset is built in a temporary sibling directory and
    renamed into place at the end; on any failure the temporary directory is removed and
    nothing is left at ``directory``.

    Parameters
    ----------
    tables : iterable of DataFrame or (index, DataFrame)
        Pass tables, e.g. from :func:`iter_pass_tables` (pieces are named after the index, so
        the files do not depend on completion order).
    directory : str or Path
        The dataset directory; must not exist (or be empty).
    partition_cols : sequence of str
        Columns to partition by (``satellite``, ``station``...), and/or ``"month"`` for the
        month of the AOS (``YYYY-MM``, added as a column).
    provenance : dict, optional
        Written to ``_provenance.json`` in the directory (ignored by Parquet readers).

    Returns
    -------
    Path
        ``directory``.

    Raises
    ------
    OptionError
        If pyarrow is missing (install qkdplan[dask]), the directory exists and is not empty,
        or a partition column is unknown.
    """
    pa = _require("pyarrow", "--format parquet")
    pq = _require("pyarrow.parquet", "--format parquet")
    directory = check_dataset_directory(directory)
    partition_cols = list(partition_cols)
    parent = directory.parent if str(directory.parent) else Path(".")
    temporary = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".part", dir=parent))
    rows = 0
    try:
        for number, item in enumerate(tables):
            index, table = item if isinstance(item, tuple) else (number, item)
            if table.empty:
                continue
            if MONTH in partition_cols:
                table = table.assign(**{MONTH: table["aos_utc"].dt.strftime("%Y-%m")})
            unknown = [c for c in partition_cols if c not in table.columns]
            if unknown:
                raise OptionError(f"cannot partition by {unknown[0]!r}: not a pass-table "
                                  "column or 'month'", field="partition_cols")
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            pq.write_to_dataset(arrow, temporary, partition_cols=partition_cols or None,
                                basename_template=f"part-{index:06d}-{{i}}.parquet",
                                existing_data_behavior="overwrite_or_ignore")
            rows += len(table)
        record = dict(provenance or {})
        record.update({"rows": rows, "partition_cols": partition_cols})
        (temporary / "_provenance.json").write_text(json.dumps(record, indent=1, default=str)
                                                    + "\n")
        if directory.exists():
            directory.rmdir()
        os.replace(temporary, directory)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return directory


def read_passes_parquet(directory: str | Path, stations: Sequence | None = None) -> pd.DataFrame:
    """Read a dataset of :func:`write_passes_parquet` back as one pass table.

    Partition columns come back as ordinary columns (``satellite`` and ``station`` as strings,
    as :func:`~planner.geometry.passes.find_passes` gives them); the derived ``month`` column is
    dropped. Rows are sorted by AOS, then by station order if
    ``stations`` is given, else by station name.
    """
    from planner.geometry.passes import PASS_COLUMNS

    pq = _require("pyarrow.parquet", "--format parquet")
    table = pq.read_table(Path(directory)).to_pandas()
    for column in ("satellite", "station"):
        if isinstance(table[column].dtype, pd.CategoricalDtype):
            table[column] = table[column].astype(str)
    table = table[PASS_COLUMNS]
    table["norad"] = table["norad"].astype("Int64")
    if stations is not None:
        return sort_pass_table(table, stations)
    return table.sort_values(["aos_utc", "station"], kind="stable").reset_index(drop=True)
