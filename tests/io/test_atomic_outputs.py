"""A run stopped by SIGINT or SIGTERM leaves no partial output and keeps an existing one intact.

``planner.io.output.write_atomic`` writes to ``.<name>.<random>.part`` beside the target and renames
it; its ``except BaseException`` removes the temporary file. These tests run the real command
line in a subprocess and stop it with a signal:

* **while computing** (``passes --days 3000`` takes seconds): the signal is sent once the run has
  loaded its inputs (its element-age warning is on standard error);
* **while writing**: the subprocess runs ``planner.cli.root.main`` with ``os.fsync`` replaced by a
  function that creates a marker file and then sleeps, so the signal arrives exactly when the
  temporary file exists (as with a slow disk).

Python's default SIGTERM action ends the process without unwinding the stack, so no ``finally``
or ``except`` would run; ``planner.cli.root.main`` therefore turns SIGTERM into ``SystemExit(143)``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import MICIUS_TLE

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

WAIT_S = 120.0  # generous bound on every wait (imports and a loaded machine)
OLD_BYTES = b"# an earlier run's output\nsatellite,norad\nMICIUS,41731\n"

LONG_RUN = ["passes", "--start", "2021-04-27", "--days", "3000", "--all", "-f", "csv",
            "-o", "out.csv", "--tle", "micius.tle", "--allow-stale"]
SHORT_RUN = [*LONG_RUN[:4], "2", *LONG_RUN[5:]]  # --days 2

# planner.cli.root.main with fsync made slow: the marker file says "the temporary file is written".
SLOW_DISK = """
import os, sys, time
marker = os.environ["QKDPLAN_TEST_MARKER"]
real_fsync = os.fsync
def slow_fsync(fd):
    open(marker, "w").close()
    time.sleep(60)
    real_fsync(fd)
os.fsync = slow_fsync
{setup}
from planner.cli.root import main
main(sys.argv[1:])
"""

class Run:
    """A subprocess of the planner whose standard error is collected as it arrives."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen([sys.executable, *args], cwd=cwd, env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        self.stderr: list[str] = []
        self.computing = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.stderr.append(line)
            if line.startswith("warning:"):  # inputs loaded: the pass search is under way
                self.computing.set()

    def signal(self, signum: int) -> int:
        """Send ``signum`` (the run must still be going) and return the exit status."""
        assert self.process.poll() is None, "the run ended before the signal: " + self.text
        self.process.send_signal(signum)
        status = self.process.wait(timeout=WAIT_S)
        self.reader.join(timeout=WAIT_S)
        return status

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT_S)

    @property
    def text(self) -> str:
        return "".join(self.stderr)


def _wait_for(condition, what: str, run: Run) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert run.process.poll() is None, f"the run ended before {what}: {run.text}"
        assert time.monotonic() < deadline, f"no {what} within {WAIT_S} s"
        time.sleep(0.02)


@pytest.fixture
def workdir(tmp_path) -> Path:
    (tmp_path / "micius.tle").write_text(MICIUS_TLE)
    return tmp_path


def _leftovers(directory: Path) -> list[Path]:
    return sorted(directory.glob(".out.csv.*.part"))


def _stop_while_computing(workdir: Path, signum: int) -> int:
    run = Run(["-m", "planner", *LONG_RUN], workdir)
    try:
        _wait_for(run.computing.is_set, "element-age warning", run)
        time.sleep(0.3)
        return run.signal(signum)
    finally:
        run.kill()


def _stop_while_writing(workdir: Path, signum: int, setup: str = "") -> int:
    marker = workdir / "writing"
    env = {**os.environ, "QKDPLAN_TEST_MARKER": str(marker)}
    run = Run(["-c", SLOW_DISK.format(setup=setup), *SHORT_RUN], workdir, env)
    try:
        _wait_for(marker.exists, "write", run)
        assert _leftovers(workdir), "the temporary file should exist while writing"
        return run.signal(signum)
    finally:
        run.kill()


SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]
SIGNALS_WRITING = SIGNALS


@pytest.mark.parametrize("signum", SIGNALS)
def test_run_stopped_while_computing_writes_nothing(workdir, signum):
    status = _stop_while_computing(workdir, signum)
    assert status != 0
    assert not (workdir / "out.csv").exists()
    assert _leftovers(workdir) == []


@pytest.mark.parametrize("signum", SIGNALS)
def test_run_stopped_while_computing_keeps_the_old_file(workdir, signum):
    (workdir / "out.csv").write_bytes(OLD_BYTES)
    assert _stop_while_computing(workdir, signum) != 0
    assert (workdir / "out.csv").read_bytes() == OLD_BYTES
    assert _leftovers(workdir) == []


@pytest.mark.parametrize("signum", SIGNALS_WRITING)
def test_run_stopped_while_writing_leaves_no_temporary_file(workdir, signum):
    assert _stop_while_writing(workdir, signum) != 0
    assert not (workdir / "out.csv").exists()
    assert _leftovers(workdir) == []


@pytest.mark.parametrize("signum", SIGNALS_WRITING)
def test_run_stopped_while_writing_keeps_the_old_file(workdir, signum):
    (workdir / "out.csv").write_bytes(OLD_BYTES)
    assert _stop_while_writing(workdir, signum) != 0
    assert (workdir / "out.csv").read_bytes() == OLD_BYTES
    assert _leftovers(workdir) == []


def test_uninterrupted_run_writes_the_file(workdir):
    """Not stopped, the same command writes the complete file and nothing else."""
    result = subprocess.run([sys.executable, "-m", "planner", *SHORT_RUN], cwd=workdir,
                            capture_output=True, text=True, timeout=WAIT_S)
    assert result.returncode == 0, result.stderr
    text = (workdir / "out.csv").read_text()
    assert text.startswith("satellite,") and "41731" in text and _leftovers(workdir) == []
