"""Executors for the pass finder: in-process (default), local processes, Dask.

The pass finder treats every satellite independently, so a run splits into tasks of one
satellite over one time chunk (:mod:`planner.run.tasks`).

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
:func:`planner.run.parquet.write_passes_parquet` writes them to a partitioned Parquet dataset
without ever holding the whole pass table.

Exactness. With ``chunk_days=None`` (one chunk per satellite) the result of
:func:`find_passes_parallel` is identical to :func:`~planner.geometry.passes.find_passes`: each
task runs the same computation on the same time base (the sun's elevation, interpolated over
each task's span, agrees to ~1e-8 deg). Splitting in time changes each chunk's time origin and
coarse grid, so Newton's method stops at slightly different points: the same passes, with times
that agree to within the finder's stated tolerance (rise/set 0.1 ms, culmination 1 ms) rather
than to the nanosecond.

``dask[distributed]`` and ``pyarrow`` are optional (``pip install 'qkdplan[dask]'``) and
imported only when used.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import pandas as pd

from planner.errors import OptionError
from planner.run.optional import require

# the task and Parquet parts lived here before: their names stay importable from this module
from planner.run.parquet import (
    check_dataset_directory,
    read_passes_parquet,
    write_passes_parquet,
)
from planner.run.tasks import (
    DEFAULT_CHUNK_DAYS,
    CodedTable,
    pass_tasks,
    run_pass_task,
    sort_pass_table,
)

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
    "worth_parallel",
    "write_passes_parquet",
]

CONNECT_TIMEOUT_S = 5.0
"""How long to wait for a remote Dask scheduler before giving up [s]."""

MAX_WORKERS = 256
"""Most worker processes ``local:N`` or ``--processes`` may start."""

INPROCESS_RATE = 2500.0
"""In-process pass-finding speed [satellite x station x days per second] [A]: 24 satellites x 12
stations x 30 days in 3.4 s on the 2-core reference machine (README, "When parallel pays")."""

STARTUP_S = {"processes": 5.3, "dask": 3.8}
"""What starting local workers costs a run [s] [A], measured on that machine for 2 workers: each
spawned process imports numpy, pandas, Skyfield and SciPy, and the tasks' inputs and results
travel by pickle (24 x 12 x 30 d: in-process 3.4 s, ``--processes 2`` 7.0 s, ``--dask local:2``
5.5 s)."""

_TRIM_SETTING = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
_DASK_ADDRESS = re.compile(r"(tcp|tls|ucx|inproc)://[^\s/]+", re.ASCII)


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
    """The executor asked for by ``dask`` or ``processes`` (at most one of them).

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
        For both parameters at once, or a malformed value (naming ``dask`` or
        ``processes``).
    """
    if dask is not None and processes is not None:
        raise OptionError("give `dask` or `processes`, not both", field="dask")
    if processes is not None:
        return ExecutorSpec("processes", workers=_worker_count(str(processes), "processes"))
    if dask is None:
        return ExecutorSpec()
    text = dask.strip()
    if text.lower().startswith("local:"):
        return ExecutorSpec("dask", workers=_worker_count(text[6:], "dask"))
    if _DASK_ADDRESS.fullmatch(text):
        return ExecutorSpec("dask", address=text, connect_timeout_s=connect_timeout_s)
    raise OptionError(f"expected local:N or tcp://HOST:PORT, found {dask!r}", field="dask")


def worth_parallel(spec: ExecutorSpec, satellites: int, stations: int, days: float,
                   tasks: int | None = None) -> tuple[bool, str]:
    """Whether local workers would finish a pass search sooner than one process.

    The in-process time is estimated from :data:`INPROCESS_RATE`, the parallel one as the
    workers' start-up (:data:`STARTUP_S`) plus that time shared among the workers that have a
    task. A remote Dask cluster (its workers already running) is always worth it.

    Parameters
    ----------
    spec : ExecutorSpec
        The executor asked for.
    satellites, stations : int
        The work's size.
    days : float
        Its period [days].
    tasks : int, optional
        Number of tasks (satellites x time chunks); default one per satellite.

    Returns
    -------
    (bool, str)
        The verdict and one line saying why, with the estimates [s].
    """
    if spec.kind == "inprocess" or spec.address is not None:
        return True, "as asked"
    alone = satellites * stations * days / INPROCESS_RATE
    workers = max(1, min(spec.workers or os.cpu_count() or 1, tasks or satellites,
                         os.cpu_count() or 1))
    together = STARTUP_S[spec.kind] + alone / workers
    why = (f"in-process ~{alone:.1f} s against ~{together:.1f} s with {spec.describe()} "
           f"({STARTUP_S[spec.kind]:g} s to start the workers, {workers} usable on "
           f"{os.cpu_count()} cores)")
    return together < alone, why


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
        ``spec.connect_timeout_s`` (naming ``spec``).
    """

    def __init__(self, spec: ExecutorSpec):
        import logging

        distributed = require("distributed", "a Dask executor", field="spec")
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
                    "the address, or use a local cluster (local:N)", field="spec") from None
            try:
                self.client.wait_for_workers(1, timeout=spec.connect_timeout_s)
            except (OSError, TimeoutError):
                self.client.close()
                raise OptionError(f"the Dask scheduler at {spec.address} has no workers",
                                  field="spec") from None
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

    Raises
    ------
    OptionError
        For a malformed ``spec``, a missing optional package or an unreachable Dask scheduler
        (naming ``spec``).
    """
    if spec is None:
        spec = ExecutorSpec()
    elif isinstance(spec, str):
        text = spec.strip().lower()
        if text == "inprocess":
            spec = ExecutorSpec()
        elif text.startswith("processes:"):
            spec = executor_spec(processes=_worker_count(text[10:], "spec"))
        else:
            try:
                spec = executor_spec(dask=spec)
            except OptionError as error:  # named after this function's parameter
                raise OptionError(error.message, field="spec") from None
    if spec.kind == "inprocess":
        return InProcessExecutor()
    if spec.kind == "processes":
        return ProcessExecutor(spec.workers or os.cpu_count() or 1)
    if spec.kind == "dask":
        return DaskExecutor(spec)
    raise OptionError(f"unknown executor {spec.kind!r}", field="spec")


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
    borrowed (left open), a spec or ``None`` is opened here and closed on exit.

    Raises
    ------
    OptionError
        As :func:`open_executor`, naming ``executor`` (the parameter of the functions that
        call this one) instead of ``spec``.
    """
    if isinstance(executor, Executor):
        return _Borrowed(executor)
    try:
        return open_executor(executor)
    except OptionError as error:
        if error.field != "spec":
            raise
        raise OptionError(error.message, field="executor") from None


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

