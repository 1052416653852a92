"""Outputs that are not regular files, a full standard output, and signals during start-up.

* ``-o`` on a character device, a FIFO or a symbolic link must write through it, never replace it
  with a regular file (as root, a rename over ``/dev/null`` would replace the system's device).
* Standard output on a full device (``/dev/full``) ends with one line and exit status 1.
* Ctrl-C or SIGTERM while the command line is still importing its libraries ends with one line
  and exit status 130 or 143, not a traceback or a death by signal; so does Ctrl-C at any moment
  of a run under ``python -m planner``, and a signal a library's import swallows.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
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


# Under ``python -m planner``, CPython ends the process by SIGINT at exit when a KeyboardInterrupt
# of the exact type ever left code it ran with PyRun_String (Cython modules do, as they load),
# even if the planner caught it. Here the signal lands in such code as planner.cli.root is
# imported (a sitecustomize module makes it so in the ``-m`` process itself).
SIGNAL_IN_PYRUN = """
import builtins, ctypes
real_import = builtins.__import__
def importing(name, *args, **kwargs):
    if name == "planner.cli.root" or (name == "planner.cli" and "root" in (args[2] or ())):
        builtins.__import__ = real_import
        run = ctypes.pythonapi.PyRun_String
        run.restype = ctypes.py_object
        run.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.py_object, ctypes.py_object]
        code = (b"import os, signal\\nos.kill(os.getpid(), signal.SIGINT)\\n"
                b"for _ in range(10**6): pass\\n")
        run(code, 257, {}, {})  # 257: Py_file_input
    return real_import(name, *args, **kwargs)
builtins.__import__ = importing
"""


def _module_env(site: Path) -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), root])}


def test_sigint_caught_in_pyrun_code_under_python_m_is_status_130(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(SIGNAL_IN_PYRUN)
    done = subprocess.run([sys.executable, "-m", "planner", "--version"], capture_output=True,
                          text=True, timeout=WAIT_S, check=False, env=_module_env(tmp_path))
    assert done.returncode == 130, (done.returncode, done.stderr)   # not -2: death by SIGINT
    assert done.stderr.strip() == "qkdplan: interrupted", done.stderr


# skyfield.iokit imports urllib.parse inside a bare ``except:``, falling back to Python 2's
# ``urlparse``: a Ctrl-C at that moment is swallowed there and the fallback fails.
SIGNAL_SWALLOWED = """
import builtins, os, signal
real_import = builtins.__import__
def importing(name, globals=None, *args, **kwargs):
    if name == "urllib.parse" and (globals or {{}}).get("__name__") == "skyfield.iokit":
        builtins.__import__ = real_import
        os.kill(os.getpid(), signal.SIGINT)
    return real_import(name, globals, *args, **kwargs)
builtins.__import__ = importing
from planner.cli import main
main(["passes", "--tle", {tle!r}, "--start", "2021-04-27", "--days", "1", "--allow-stale"])
"""


def test_a_signal_a_library_swallows_still_ends_the_run_as_interrupted(tmp_path):
    tle = tmp_path / "micius.tle"
    tle.write_text(MICIUS_TLE)
    done = _python(SIGNAL_SWALLOWED.format(tle=str(tle)))
    assert done.returncode == 130, (done.returncode, done.stderr)   # not 1: internal error
    assert done.stderr.strip() == "qkdplan: interrupted", done.stderr


def test_sigint_at_spread_moments_of_a_python_m_run(tmp_path):
    """Ctrl-C from start-up to past the end of a short run under ``python -m planner``:
    status 130 with one line, or 0 if the run was done; never a death by signal, a traceback
    or a partial output."""
    (tmp_path / "micius.tle").write_text(MICIUS_TLE)
    old = b"an earlier run's output\n"
    command = [sys.executable, "-m", "planner", "passes", "--tle", "micius.tle", "--start",
               "2021-04-27", "--days", "2", "--all", "--allow-stale", "-f", "csv", "-o",
               "out.csv"]
    env = _module_env(tmp_path / "no-site")
    started = time.monotonic()
    subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, timeout=WAIT_S,
                   check=True)
    duration = time.monotonic() - started
    runs = 16
    for i in range(runs):
        (tmp_path / "out.csv").write_bytes(old)
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.25 + (duration * 1.1 - 0.25) * i / (runs - 1))
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=WAIT_S)
        assert process.returncode in (0, 130), (i, process.returncode, err)
        assert "Traceback" not in err, err
        own = [line for line in err.splitlines() if line.startswith("qkdplan:")]
        assert own == (["qkdplan: interrupted"] if process.returncode else []), (i, err)
        data = (tmp_path / "out.csv").read_bytes()
        assert data == old or (data.startswith(b"satellite") and data.endswith(b"\n")), i
        assert not list(tmp_path.glob(".*.part")), i


#: A SIGINT handled inside a weak-reference callback, where Python can only print the
#: exception (as the import system's module-lock callbacks are), during a whole run.
SIGNAL_IN_CALLBACK = """
import os, signal, weakref
import planner.cli.entry as entry
import planner.cli.root as root
run_command_line = root.run_command_line
def run(argv):
    class Owner:
        pass
    owner = Owner()
    ref = weakref.ref(owner, lambda _: os.kill(os.getpid(), signal.SIGINT))
    del owner
    run_command_line(argv)
root.run_command_line = run
entry.main(["stations"])
"""


def test_a_sigint_python_can_only_print_ends_the_run_as_interrupted():
    done = subprocess.run([sys.executable, "-c", SIGNAL_IN_CALLBACK], capture_output=True,
                          text=True, timeout=WAIT_S)
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert done.stderr == "qkdplan: interrupted\n"


#: A signal while the interpreter shuts down after a finished run of the console script (an
#: exit handler sends it, after ``main`` has returned and the run's status is settled).
SIGNAL_AT_SHUTDOWN = """
import atexit, os, signal, sys
atexit.register(lambda: os.kill(os.getpid(), signal.{signal}))
sys.argv = ["qkdplan", "stations"]
from planner.cli import main
main()
"""


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_after_the_run_finished_leaves_its_status(name):
    done = subprocess.run([sys.executable, "-c", SIGNAL_AT_SHUTDOWN.format(signal=name)],
                          capture_output=True, text=True, timeout=WAIT_S)
    assert done.returncode == 0, (done.returncode, done.stderr)   # not death by the signal
    assert "Jinan" in done.stdout and done.stderr == ""
