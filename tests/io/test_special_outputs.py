"""Outputs that are not regular files, a full standard output, and signals during start-up.

* ``-o`` on a character device, a FIFO or a symbolic link must write through it, never replace it
  with a regular file (as root, a rename over ``/dev/null`` would replace the system's device).
* Standard output on a full device (``/dev/full``) ends with one line and exit status 1.
* Ctrl-C or SIGTERM while the command line is still importing its libraries ends with one line
  and exit status 130 or 143, not a traceback or a death by signal.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from planner.errors import OptionError, OutputError
from planner.io.atomic import write_atomic
from tests.conftest import MICIUS_TLE, run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")

WAIT_S = 120.0  # bound on every subprocess (imports on a loaded machine)
NULL_DEVICE = (1, 3)  # Linux major/minor of /dev/null
FULL_DEVICE = (1, 7)  # Linux major/minor of /dev/full


def _device_copy(path: Path, numbers: tuple[int, int]) -> Path:
    """A character device node like /dev/null or /dev/full at ``path`` (needs root)."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(*numbers))
    except PermissionError:
        pytest.skip("creating device nodes needs root")
    return path


def _is_char_device(path: Path) -> bool:
    return stat.S_ISCHR(os.lstat(path).st_mode)


def test_character_device_is_written_through_not_replaced(tmp_path):
    node = _device_copy(tmp_path / "null", NULL_DEVICE)
    write_atomic(node, "passes\n")
    assert _is_char_device(node)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no temporary file left


def test_full_device_fails_with_output_error_and_stays(tmp_path):
    node = _device_copy(tmp_path / "full", FULL_DEVICE)
    with pytest.raises(OutputError, match="No space left on device"):
        write_atomic(node, "x" * 10_000)
    assert _is_char_device(node)


def test_cli_output_on_a_device_copy_keeps_the_device(tmp_path, capsys):
    tle = tmp_path / "micius.tle"
    tle.write_text(MICIUS_TLE)
    node = _device_copy(tmp_path / "null", NULL_DEVICE)
    code, _out, err = run(["tle", "check", tle, "-f", "csv", "-o", node], capsys)
    assert code == 0, err
    assert _is_char_device(node)


def test_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as stream:
            received.append(stream.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    write_atomic(fifo, ["first\n", b"second\n"])
    thread.join(WAIT_S)
    assert received == [b"first\nsecond\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_symbolic_link_is_followed_and_kept(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    write_atomic(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new\n"


def test_dangling_symbolic_link_creates_its_target(tmp_path):
    (tmp_path / "out").mkdir()
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "out" / "new.csv")
    write_atomic(link, "made\n")
    assert link.is_symlink()
    assert (tmp_path / "out" / "new.csv").read_text() == "made\n"


def test_socket_is_refused_not_replaced(tmp_path):
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(OptionError, match="refusing to replace"):
            write_atomic(path, "x")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)


def _python(code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=WAIT_S, check=False, **kwargs)


def test_stdout_on_a_full_device_is_one_line_and_status_1():
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "planner", "--version"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=WAIT_S, check=False)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and "No space left on device" in lines[0], done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


# The signal arrives exactly while the command line's heavy modules are being imported: the
# console script's ``from planner.cli import main; main()`` with the import of planner.cli.root
# (pandas, typer, rich, the stages) made to send the signal first.
SIGNAL_DURING_IMPORT = """
import builtins, os, signal
real_import = builtins.__import__
def importing(name, *args, **kwargs):
    if name == "planner.cli.root" or (name == "planner.cli" and "root" in (args[2] or ())):
        builtins.__import__ = real_import
        os.kill(os.getpid(), signal.{signal})
    return real_import(name, *args, **kwargs)
builtins.__import__ = importing
from planner.cli import main
main(["--version"])
"""


@pytest.mark.parametrize(("name", "status", "word"), [("SIGINT", 130, "interrupted"),
                                                      ("SIGTERM", 143, "terminated")])
def test_signal_during_start_up_is_one_line(name, status, word):
    done = _python(SIGNAL_DURING_IMPORT.format(signal=name))
    assert done.returncode == status, (done.returncode, done.stderr)
    assert done.stderr.strip() == f"qkdplan: {word}", done.stderr
    assert "Traceback" not in done.stderr
