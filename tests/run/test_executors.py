"""Tests of planner.run.executors, .tasks and .parquet: executors, chunking, Parquet output, errors.

The reference is the in-process pass finder, ``planner.geometry.passes.find_passes`` (itself tested
against Skyfield in test_passes.py): split by satellite, on local processes or a 2-worker Dask
LocalCluster on 127.0.0.1, and split in time chunks, the pass table must be identical to it.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from planner.elements.elementsets import Catalogue, format_tle, parse_omm_json, parse_tle_text
from planner.elements.walker import walker_catalogue, walker_delta
from planner.errors import OptionError
from planner.geometry.passes import find_passes
from planner.mission.stations import Station
from planner.run.executors import (
    DEFAULT_CHUNK_DAYS,
    ExecutorSpec,
    InProcessExecutor,
    executor_spec,
    find_passes_parallel,
    iter_pass_tables,
    open_executor,
    pass_tasks,
    read_passes_parquet,
    write_passes_parquet,
)

START = datetime(2026, 11, 20, tzinfo=UTC)
END = START + timedelta(days=4)
TIMES = ["aos_utc", "tca_utc", "los_utc"]


def synthetic_station(name, latitude, longitude, **extra):
    return Station(name=name, latitude_deg=latitude, longitude_deg=longitude, altitude_m=100.0,
                   timezone="UTC", clear_sky_probability=[0.5] * 12, source="test", **extra)


@pytest.fixture(scope="module")
def stations():
    return [
        synthetic_station("North", 60.0, 10.0),
        synthetic_station("Tropic", 5.0, -60.0, min_elevation_deg=10.0),
        synthetic_station("South", -34.0, 18.9, night_sun_elevation_deg=-18.0),
        synthetic_station("Masked", 36.7, 117.1, horizon_mask=[[0, 20], [180, 12]]),
    ]


@pytest.fixture(scope="module")
def catalogue():
    """Six Walker satellites read from TLE text, plus one satellite with two element sets."""
    sets = parse_tle_text("".join(
        "\n".join(lines) + "\n" for lines in (r.tle_lines() for r in walker_delta(
            3, 2, 1, 500.0, "sso", START))))
    for days in (0.0, 2.5):                                # two epochs: the nearest one is used
        lines = format_tle("TWO-SETS", 95000, "", START + timedelta(days=days), 53.0,
                           40.0 + days, 0.0005, 0.0, 120.0 + 100 * days, 15.3, bstar=2e-4)
        sets += parse_tle_text("\n".join(lines) + "\n")
    return Catalogue(sets)


@pytest.fixture(scope="module")
def reference(catalogue, stations):
    return find_passes(catalogue, stations, START, END)


@pytest.fixture(scope="module")
def dask_executor():
    pytest.importorskip("distributed")
    executor = open_executor("local:2")
    yield executor
    executor.close()


def same_sort(table):
    return table.sort_values(["aos_utc", "station", "satellite"]).reset_index(drop=True)


def assert_identical(got, expected):
    pd.testing.assert_frame_equal(same_sort(got), same_sort(expected))


def test_reference_has_passes(reference, catalogue, stations):
    assert len(reference) > 100
    assert set(reference["satellite"]) == {catalogue.name(k) for k in catalogue.satellites}
    assert set(reference["station"]) == {s.name for s in stations}


def test_in_process_identical(catalogue, stations, reference):
    got = find_passes_parallel(catalogue, stations, START, END)
    pd.testing.assert_frame_equal(got, reference)          # same order too


def test_omm_catalogue_identical(stations):
    """OMM element sets travel as SGP4 mean elements and rebuild the bit-identical model."""
    records = walker_delta(2, 2, 1, 550.0, 53.0, START, bstar=1e-4)
    catalogue = Catalogue(parse_omm_json(walker_omm(records)))
    expected = find_passes(catalogue, stations, START, START + timedelta(days=2))
    got = find_passes_parallel(catalogue, stations, START, START + timedelta(days=2))
    pd.testing.assert_frame_equal(got, expected)


def walker_omm(records):
    from planner.elements.walker import walker_omm_json

    return walker_omm_json(records)


def test_processes_identical(catalogue, stations, reference):
    got = find_passes_parallel(catalogue, stations, START, END, executor="processes:2")
    assert_identical(got, reference)


def test_dask_local_cluster_identical(dask_executor, catalogue, stations, reference):
    assert dask_executor.client.scheduler.address.startswith("tcp://127.0.0.1:")
    assert dask_executor.workers == 2
    got = find_passes_parallel(catalogue, stations, START, END, executor=dask_executor)
    assert_identical(got, reference)
    # time chunks on the cluster: the same as time chunks in-process
    chunked = find_passes_parallel(catalogue, stations, START, END, executor=dask_executor,
                                   chunk_days=1.5)
    assert_identical(chunked, find_passes_parallel(catalogue, stations, START, END,
                                                   chunk_days=1.5))
    assert all(mb < 2048 for mb in dask_executor.peak_memory_mb().values())


def test_dask_workers_keep_adaptive_malloc(dask_executor):
    """Dask's MALLOC_TRIM_THRESHOLD_ default (which slows numpy temporaries) is not passed on."""
    import os

    environ = dask_executor.client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert set(environ.values()) == {None}


@pytest.mark.parametrize("chunk_days", [1.0, 1.7, 3.0])
def test_time_chunks_give_the_identical_table(catalogue, stations, reference, chunk_days):
    """Chunks share the period's time base and grid lattice, so nothing differs."""
    assert_identical(find_passes_parallel(catalogue, stations, START, END,
                                          chunk_days=chunk_days), reference)


def test_passes_across_chunk_boundaries_counted_once(catalogue, stations, reference):
    """A pass in progress at a chunk boundary belongs to the chunk of its AOS only."""
    boundary = pd.Timestamp(START + timedelta(days=1))
    across = reference[(reference["aos_utc"] < boundary) & (reference["los_utc"] > boundary)]
    got = find_passes_parallel(catalogue, stations, START, END, chunk_days=1.0)
    for row in across.itertuples():
        match = got[(got["satellite"] == row.satellite) & (got["station"] == row.station)
                    & ((got["aos_utc"] - row.aos_utc).abs() < pd.Timedelta("1ms"))]
        assert len(match) == 1


def test_tasks_are_small_and_picklable(catalogue, stations):
    tasks = pass_tasks(catalogue, stations, START, END, chunk_days=1.0)
    assert len(tasks) == len(catalogue) * 4
    assert [t["index"] for t in tasks] == list(range(len(tasks)))
    sizes = [len(pickle.dumps(task)) for task in tasks]
    assert max(sizes) < 16_000
    assert all("Satrec" not in repr(task) for task in tasks)


def test_warnings_are_collected(stations):
    """A satellite SGP4 cannot propagate is reported once, the others still run."""
    decaying = format_tle("DECAYING", 96000, "", START, 51.6, 0.0, 0.0, 0.0, 0.0, 16.3,
                          bstar=0.5)
    healthy = walker_delta(1, 1, 0, 500.0, 97.4, START)[0].tle_lines()
    catalogue = Catalogue(parse_tle_text("\n".join([*decaying, *healthy]) + "\n"))
    expected_warnings: list[str] = []
    expected = find_passes(catalogue, stations, START, END, warnings=expected_warnings)
    warnings: list[str] = []
    got = find_passes_parallel(catalogue, stations, START, END, warnings=warnings)
    pd.testing.assert_frame_equal(got, expected)
    assert warnings == expected_warnings
    assert any("DECAYING" in w for w in warnings)


def test_empty_inputs(catalogue, stations):
    assert find_passes_parallel(catalogue, [], START, END).empty
    assert find_passes_parallel(Catalogue([]), stations, START, END).empty
    assert list(find_passes(Catalogue([]), stations, START, END).columns) == list(
        find_passes_parallel(Catalogue([]), stations, START, END).columns)


# --- Executor options ---------------------------------------------------------------------


@pytest.mark.parametrize(("dask", "processes", "expected"), [
    (None, None, ExecutorSpec()),
    ("local:3", None, ExecutorSpec("dask", workers=3)),
    ("tcp://127.0.0.1:8786", None, ExecutorSpec("dask", address="tcp://127.0.0.1:8786")),
    (None, 2, ExecutorSpec("processes", workers=2)),
])
def test_executor_spec(dask, processes, expected):
    assert executor_spec(dask, processes) == expected


@pytest.mark.parametrize(("dask", "processes"), [
    ("local:0", None), ("local:x", None), ("127.0.0.1:8786", None), ("http://x:1", None),
    (None, 0), ("local:2", 2),
])
def test_executor_spec_errors(dask, processes):
    with pytest.raises(OptionError) as caught:
        executor_spec(dask, processes)
    assert caught.value.field == ("processes" if dask is None else "dask")


@pytest.mark.parametrize("chunk_days", [0.0, 0.5, -3.0, float("nan")])
def test_bad_chunk_days(catalogue, stations, chunk_days):
    with pytest.raises(OptionError, match="days") as caught:
        find_passes_parallel(catalogue, stations, START, END, chunk_days=chunk_days)
    assert caught.value.field == "chunk_days"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_scheduler_is_an_option_error(catalogue, stations):
    pytest.importorskip("distributed")
    spec = executor_spec(f"tcp://127.0.0.1:{free_port()}", connect_timeout_s=2.0)
    begin = time.monotonic()
    with pytest.raises(OptionError, match="cannot reach the Dask scheduler") as caught:
        find_passes_parallel(catalogue, stations, START, END, executor=spec)
    assert time.monotonic() - begin < 20.0
    assert caught.value.field == "executor"              # find_passes_parallel's parameter
    assert spec.address in caught.value.message
    assert "\n" not in str(caught.value)


def test_unreachable_scheduler_names_the_spec_it_was_given():
    """``open_executor(spec)`` names ``spec``, not ``executor_spec``'s ``dask``."""
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{free_port()}"
    for spec in (address, executor_spec(address, connect_timeout_s=1.0)):
        with pytest.raises(OptionError, match="cannot reach the Dask scheduler") as caught:
            open_executor(spec)
        assert caught.value.field == "spec"
        assert address in caught.value.message


def test_missing_optional_packages(monkeypatch, tmp_path, catalogue, stations):
    monkeypatch.setitem(sys.modules, "pyarrow", None)        # import pyarrow now fails
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(OptionError, match=r"install qkdplan\[dask\]"):
        write_passes_parquet([], tmp_path / "out")
    with pytest.raises(OptionError, match=r"install qkdplan\[dask\]"):
        open_executor("local:2")
    assert not (tmp_path / "out").exists()


# --- Parquet ------------------------------------------------------------------------------


@pytest.mark.parametrize("partition_cols", [["satellite"], ["month"], ["station", "month"], []])
def test_parquet_round_trip(tmp_path, catalogue, stations, partition_cols):
    pytest.importorskip("pyarrow")
    directory = tmp_path / "passes"
    pieces = iter_pass_tables(catalogue, stations, START, END, chunk_days=1.0)
    write_passes_parquet(pieces, directory, partition_cols, provenance={"run": "test"})
    back = read_passes_parquet(directory, stations)
    expected = find_passes_parallel(catalogue, stations, START, END, chunk_days=1.0)
    assert_identical(back, expected)
    if partition_cols[:1] == ["satellite"]:
        assert {p.name for p in directory.iterdir() if p.is_dir()} == {
            f"satellite={catalogue.name(k)}" for k in catalogue.satellites}
    if partition_cols == ["month"]:
        assert {p.name for p in directory.iterdir() if p.is_dir()} == {"month=2026-11"}
    assert '"run": "test"' in (directory / "_provenance.json").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["passes"]   # no temporary left


def test_parquet_whole_period_identical(tmp_path, catalogue, stations, reference):
    pytest.importorskip("pyarrow")
    write_passes_parquet(iter_pass_tables(catalogue, stations, START, END, chunk_days=None),
                         tmp_path / "p")
    pd.testing.assert_frame_equal(read_passes_parquet(tmp_path / "p", stations), reference)


def test_parquet_refuses_existing_directory(tmp_path):
    pytest.importorskip("pyarrow")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(OptionError, match="already exists"):
        write_passes_parquet([], tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    with pytest.raises(OptionError, match="does not exist"):
        write_passes_parquet([], tmp_path / "missing" / "out")
    write_passes_parquet([], tmp_path / "empty")             # an empty result is fine
    assert (tmp_path / "empty" / "_provenance.json").exists()


def test_parquet_nothing_left_on_failure(tmp_path, catalogue, stations):
    pytest.importorskip("pyarrow")

    def failing():
        yield from iter_pass_tables(catalogue, stations, START, START + timedelta(days=2),
                                    chunk_days=1.0)
        raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError, match="worker lost"):
        write_passes_parquet(failing(), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_parquet_bounded_pieces(catalogue, stations):
    """Streaming keeps at most a few task tables alive: each piece is one satellite-chunk."""
    sizes = [len(t) for _, t in iter_pass_tables(catalogue, stations, START, END,
                                                 executor=InProcessExecutor(), chunk_days=1.0)]
    assert len(sizes) == len(catalogue) * 4
    per_satellite = sum(sizes) / len(catalogue)
    assert max(sizes) < 0.5 * per_satellite                 # a piece is a chunk, not a satellite
    assert DEFAULT_CHUNK_DAYS == 90.0


# --- Command line ------------------------------------------------------------------------


@pytest.fixture
def cli_main():
    from planner.cli import root as cli

    def run(argv):
        with pytest.raises(SystemExit) as done:
            cli.main(argv)
        return done.value.code

    return run


@pytest.fixture
def walker_file(tmp_path):
    path = tmp_path / "walker.tle"
    records = walker_delta(2, 2, 1, 500.0, "sso", START)
    from planner.elements.walker import walker_tle_text

    path.write_text(walker_tle_text(records))
    return path


def test_cli_passes_csv_and_parquet(cli_main, tmp_path, walker_file, capsys):
    pytest.importorskip("pyarrow")
    common = ["constellation", "passes", "--tle", str(walker_file), "--station", "Jinan",
              "--station", "Stellenbosch", "--start", "2026-11-20", "--days", "3", "--all"]
    csv_path = tmp_path / "passes.csv"
    assert cli_main([*common, "--output", str(csv_path)]) == 0
    table = pd.read_csv(csv_path)
    assert len(table) > 10
    meta = json.loads((tmp_path / "passes.csv.meta.json").read_text())
    assert meta["provenance"]["options"]["executor"] == "inprocess"
    directory = tmp_path / "passes.parquet"
    assert cli_main([*common, "--format", "parquet", "--chunk-days", "1", "--output",
                     str(directory), "--partition-by", "month"]) == 0
    back = read_passes_parquet(directory)
    assert len(back) == len(table)
    np.testing.assert_allclose(np.sort(back["max_elevation_deg"]),
                               np.sort(table["max_elevation_deg"]), atol=1e-5)


def test_cli_passes_unreachable_scheduler(cli_main, tmp_path, walker_file, capsys):
    pytest.importorskip("distributed")
    output = tmp_path / "out.csv"
    port = free_port()
    begin = time.monotonic()
    code = cli_main(["constellation", "passes", "--tle", str(walker_file), "--station", "Jinan",
                     "--start", "2026-11-20", "--days", "1", "--dask",
                     f"tcp://127.0.0.1:{port}", "--output", str(output)])
    assert code == 2
    assert time.monotonic() - begin < 30.0
    err = capsys.readouterr().err.strip()
    assert err.startswith("qkdplan: error: --dask: cannot reach the Dask scheduler at "
                          f"tcp://127.0.0.1:{port} ")
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == [walker_file]


@pytest.mark.parametrize(("extra", "field"), [
    (["--format", "parquet"], "--output"), (["--dask", "local:0"], "--dask"),
    (["--processes", "2", "--dask", "local:2"], "--dask"), (["--chunk-days", "0.1"],
                                                            "--chunk-days"),
])
def test_cli_passes_bad_options(cli_main, walker_file, capsys, extra, field):
    code = cli_main(["constellation", "passes", "--tle", str(walker_file), "--station", "Jinan",
                     "--start", "2026-11-20", "--days", "1", *extra])
    assert code == 2
    assert field in capsys.readouterr().err


def test_small_work_runs_in_process_unless_insisted(cli_main, walker_file, capsys):
    """4 satellites x 1 station x 1 day takes well under a second alone: starting workers
    would cost more, so the run stays in-process and says why."""
    code = cli_main(["constellation", "passes", "--tle", str(walker_file), "--station", "Jinan",
                     "--start", "2026-11-20", "--days", "1", "--processes", "2"])
    assert code == 0
    err = capsys.readouterr().err
    assert "running in-process" in err and "--always-parallel" in err


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="parallel never pays on one core")
def test_worth_parallel_follows_the_measured_costs():
    from planner.run.executors import INPROCESS_RATE, STARTUP_S, worth_parallel

    two = ExecutorSpec("processes", workers=2)
    # the case: 24 x 12 x 30 d, in-process 3.4 s beat 2 processes (7.0 s)
    assert not worth_parallel(two, 24, 12, 30)[0]
    assert worth_parallel(two, 24, 12, 365)[0]
    # the break-even, from the two constants: alone = STARTUP + alone / 2
    break_even_days = 2 * STARTUP_S["processes"] * INPROCESS_RATE / (24 * 12)
    assert not worth_parallel(two, 24, 12, 0.95 * break_even_days)[0]
    assert worth_parallel(two, 24, 12, 1.05 * break_even_days)[0]
    assert not worth_parallel(two, 1, 12, 365, tasks=1)[0]         # one task: one worker
    assert worth_parallel(ExecutorSpec("dask", address="tcp://10.0.0.1:8786"), 1, 1, 1)[0]


def test_walker_catalogue_feeds_the_finder(stations):
    """End to end: a Walker constellation, its passes in parallel chunks, nothing lost."""
    catalogue = walker_catalogue(walker_delta(2, 3, 1, 550.0, 53.0, START), "omm")
    whole = find_passes(catalogue, stations, START, START + timedelta(days=2))
    chunked = find_passes_parallel(catalogue, stations, START, START + timedelta(days=2),
                                   chunk_days=1.0)
    assert len(chunked) == len(whole) > 0


def test_coded_tables_concatenate_and_sort_as_the_finder_does(catalogue, stations):
    """Task results travel as codes with their own code books: pieces over different station
    subsets and satellites merge into the finder's table, sorted by AOS and station order."""
    from planner.run.tasks import CodedTable

    whole = find_passes(catalogue, stations, START, END)
    pieces = [CodedTable.encode(find_passes(catalogue, part, START, END))
              for part in (stations[2:], stations[:1], stations[1:2])]
    assert [list(p.names["station"]) for p in pieces][1] == [stations[0].name]
    merged = CodedTable.merge(pieces, stations).decode()
    pd.testing.assert_frame_equal(merged, whole)
    # an independent sort: by AOS, then by position in the station list
    rank = {s.name: k for k, s in enumerate(stations)}
    expected = whole.assign(_rank=whole["station"].map(rank)).sort_values(
        ["aos_utc", "_rank"], kind="stable").drop(columns="_rank").reset_index(drop=True)
    pd.testing.assert_frame_equal(merged, expected)
    assert merged["norad"].dtype == "Int64"


def test_pass_order_breaks_aos_ties_by_station_then_input_order():
    from planner.run.tasks import pass_order

    aos = np.array([30, 10, 20, 10, 10, 20], dtype=np.int64)
    rank = np.array([0, 2, 1, 0, 2, 0])
    # AOS 10: rows 1 (rank 2), 3 (rank 0), 4 (rank 2) -> 3, 1, 4; AOS 20: rows 2 (1), 5 (0)
    assert pass_order(aos, rank).tolist() == [3, 1, 4, 5, 2, 0]
    # no ties: the AOS order alone
    assert pass_order(np.array([5, 1, 3]), np.array([0, 0, 0])).tolist() == [1, 2, 0]
