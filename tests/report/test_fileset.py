"""The report's files are one set: interrupts, killed processes and concurrent runs never leave
a reader a mix of two runs' files or a stale ``.part`` file (issue 16)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.report import fileset
from planner.report.page import ReportInputs, report_paths, write_report

NAMES = ("passes", "keys", "summary", "html")


def contents(label: str) -> dict[str, str]:
    return {name: f"{name} of run {label}\n" * 1000 for name in NAMES}


def labels(directory: Path) -> dict[str, str]:
    """Which run each visible file comes from (hidden files: none may be left)."""
    paths = report_paths(directory / "r.html")
    return {name: paths[name].read_text().split("run ")[1].split("\n")[0]
            for name in NAMES if paths[name].exists()}


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def interrupt_rename(monkeypatch, call: int) -> None:
    """Make the ``call``-th rename of the set raise KeyboardInterrupt (Ctrl-C at that moment);
    every other rename, before and after (the roll-back), is real."""
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(fileset.os, "replace", replace)


def test_interrupt_between_renames_keeps_the_previous_set(tmp_path, monkeypatch):
    paths = report_paths(tmp_path / "r.html")
    fileset.write_file_set(paths, contents("A"))
    interrupt_rename(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        fileset.write_file_set(paths, contents("B"))
    assert labels(tmp_path) == dict.fromkeys(NAMES, "A")
    assert leftovers(tmp_path) == []


def test_interrupt_of_a_first_write_leaves_nothing(tmp_path, monkeypatch):
    interrupt_rename(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        fileset.write_file_set(report_paths(tmp_path / "r.html"), contents("B"))
    assert list(tmp_path.iterdir()) == []


def test_interrupted_report_keeps_the_previous_report(tmp_path, monkeypatch, run):
    """The real report (a run without passes: quick) over a previous one."""
    inputs = dict(passes=run["passes"].iloc[:0], stations=run["inputs"].stations)
    first = write_report(tmp_path / "r.html", ReportInputs(**inputs, title="first run"))
    before = {name: path.read_bytes() for name, path in first.items()}
    interrupt_rename(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path / "r.html", ReportInputs(**inputs, title="second run",
                                                       provenance={"run": "second"}))
    assert {name: path.read_bytes() for name, path in first.items()} == before
    assert leftovers(tmp_path) == []


_CHILD = """
import os, sys, time
from pathlib import Path
from planner.report import fileset

directory, label, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
paths = {"passes": directory / "r_passes.csv", "keys": directory / "r_keys.csv",
         "summary": directory / "r_summary.json", "html": directory / "r.html"}
marker = directory.parent / f"{label}.ready"
real_replace, real_fsync = os.replace, os.fsync
replaced, synced = [], []

def replace(src, dst):
    real_replace(src, dst)
    replaced.append(dst)
    if len(replaced) == 1:
        marker.touch()
        if mode == "hang-after-first-rename":
            time.sleep(60)
        if mode == "slow-renames":
            while not (directory.parent / "B.started").exists():
                time.sleep(0.01)
            time.sleep(1.0)
    elif mode == "slow-renames":
        time.sleep(0.3)

def fsync(fd):
    real_fsync(fd)
    synced.append(fd)
    if mode == "hang-while-writing" and len(synced) == 2:
        marker.touch()
        time.sleep(60)

os.replace, os.fsync = replace, fsync
text = {name: f"{name} of run {label}\\n" * 100000 for name in paths}
(directory.parent / f"{label}.started").touch()
fileset.write_file_set(paths, text)
"""


def child(directory: Path, label: str, mode: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(directory), label, mode])


def wait_for(marker: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, "the child ended before its marker"
        assert time.monotonic() < deadline, "the child never reached its marker"
        time.sleep(0.02)


@pytest.mark.parametrize("mode", ["hang-after-first-rename", "hang-while-writing"])
def test_killed_writer_is_completed_or_cleaned_by_the_next_run(tmp_path, mode):
    directory = tmp_path / "out"
    directory.mkdir()
    paths = report_paths(directory / "r.html")
    fileset.write_file_set(paths, contents("A"))
    process = child(directory, "B", mode)
    wait_for(tmp_path / "B.ready", process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert leftovers(directory), "the killed run left its journal or .part files"
    fileset.recover_file_set(paths)
    expected = "B" if mode == "hang-after-first-rename" else "A"
    assert labels(directory) == dict.fromkeys(NAMES, expected)
    assert leftovers(directory) == []
    # and the next run writes over it as usual
    process = child(directory, "C", mode)
    wait_for(tmp_path / "C.ready", process)
    process.kill()
    process.wait()
    fileset.write_file_set(paths, contents("D"))
    assert labels(directory) == dict.fromkeys(NAMES, "D")
    assert leftovers(directory) == []


def test_two_concurrent_runs_do_not_mix(tmp_path):
    """Run A renames slowly; B writes after A's first rename. Without the lock B's files land
    between A's (a table from B, the page from A) or B breaks A's commit; with it, B waits
    for A's commit and the set is B's."""
    directory = tmp_path / "out"
    directory.mkdir()
    slow = child(directory, "A", "slow-renames")
    wait_for(tmp_path / "A.ready", slow)
    fast = child(directory, "B", "fast")
    assert fast.wait(timeout=60) == 0 and slow.wait(timeout=60) == 0
    assert labels(directory) == dict.fromkeys(NAMES, "B")
    assert leftovers(directory) == []


@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_special_files_are_refused_not_replaced(tmp_path, kind):
    from planner.errors import OptionError, PlannerInputError
    from planner.report.page import check_report_path

    paths = report_paths(tmp_path / "r.html")
    target = paths["keys"]
    if kind == "fifo":
        os.mkfifo(target)
    else:
        (tmp_path / "elsewhere.csv").write_text("keep me")
        target.symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(OptionError, match="not a regular file") as error:
        check_report_path(tmp_path / "r.html")
    assert error.value.field == "output"
    with pytest.raises(PlannerInputError, match="not a regular file"):
        fileset.write_file_set(paths, contents("A"))
    assert target.is_fifo() if kind == "fifo" else target.is_symlink()
    assert not paths["html"].exists()


def test_a_file_the_new_set_lacks_is_removed_with_the_commit(tmp_path, monkeypatch):
    """A run without a key table must not leave the previous run's key table beside it; an
    interrupt puts it back with the rest."""
    paths = report_paths(tmp_path / "r.html")
    fileset.write_file_set(paths, contents("A"))
    without_keys = {k: v for k, v in contents("B").items() if k != "keys"}
    interrupt_rename(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        fileset.write_file_set(paths, without_keys)
    assert labels(tmp_path) == dict.fromkeys(NAMES, "A")
    monkeypatch.undo()
    written = fileset.write_file_set(paths, without_keys)
    assert set(written) == {"passes", "summary", "html"}
    assert labels(tmp_path) == {"passes": "B", "summary": "B", "html": "B"}
    assert leftovers(tmp_path) == []


def test_relative_paths_are_written_and_returned_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = report_paths("r.html")
    written = fileset.write_file_set(paths, contents("A"))
    assert written["html"] == paths["html"]
    assert labels(tmp_path) == dict.fromkeys(NAMES, "A")
    assert leftovers(tmp_path) == []
