"""Start-up: which heavy libraries a command loads, checked in fresh interpreters.

The start-up targets (README, "Start-up and benchmarks") are met by not importing what a
command does not use; the times themselves depend on the machine and are measured by
``benchmarks/cli_startup.py``, never here. Each case runs the command line in a new
``python -c`` process and reports the libraries that were really loaded: a module that
:func:`planner.cli.lazy.lazy_module` has bound but nobody has touched yet does not count.

* Importing the console script's entry point loads nothing beyond the standard library.
* ``qkdplan --help`` and every command's ``--help`` load none of numpy, pandas, pyarrow, SciPy,
  Skyfield, sgp4, plotly, HiGHS, Dask, Jinja2, PyYAML or the HTTP client.
* ``qkdplan passes`` with a terminal table loads no SciPy, plotly, HiGHS, Dask or Jinja2 (it
  needs numpy, pandas, Skyfield and sgp4: the pass table is a DataFrame; Skyfield's file loader,
  which provides the built-in time scale, imports the HTTP client itself).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["numpy", "pandas", "pyarrow", "scipy", "skyfield", "sgp4", "plotly", "highspy", "dask",
         "jinja2", "http.client", "yaml"]
"""Libraries that cost start-up time (typer's own pydantic is left out: ``passes --help`` needs
typer to build the help, and typer loads pydantic to read the options)."""

_PROBE = """
import contextlib, io, json, sys
from importlib.util import _LazyModule
argv = json.loads(sys.argv[1])
from planner.cli.entry import main
if argv is not None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
loaded = [name for name in json.loads(sys.argv[2])
          if name in sys.modules and not isinstance(sys.modules[name], _LazyModule)]
print(json.dumps(loaded))
"""


def loaded_after(argv: list[str] | None) -> set[str]:
    """The :data:`HEAVY` modules loaded after running ``qkdplan argv`` in a new interpreter
    (``None``: after importing the entry point only)."""
    result = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argv), json.dumps(HEAVY)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def test_the_entry_point_imports_no_heavy_library():
    assert loaded_after(None) == set()


def _command_paths() -> list[list[str]]:
    """Every command and command group of ``qkdplan``, as the arguments that name it."""
    import typer.main

    from planner.cli.root import app, register_commands

    register_commands()

    def walk(command, path):
        for name, sub in getattr(command, "commands", {}).items():
            yield [*path, name]
            yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(app), []))


@pytest.mark.parametrize("command", [[], *_command_paths()],
                         ids=lambda command: " ".join(["qkdplan", *command]))
def test_help_imports_no_heavy_library(command):
    assert loaded_after([*command, "--help"]) == set()


def test_a_pass_table_imports_no_scipy_report_or_solver_library():
    loaded = loaded_after(["passes", "--days", "1", "--start", "2026-11-20T00:00Z"])
    assert {"numpy", "pandas", "skyfield", "sgp4"} <= loaded  # the probe sees real imports
    assert not loaded & {"scipy", "plotly", "highspy", "dask", "jinja2"}


def test_the_key_model_loads_scipy_stats_only_for_the_finite_leakage():
    """scipy.stats costs 0.3-1.6 s; only error_correction_leakage(method="finite") needs it
    (planner.key.reconciliation imported it at the top, so every plan and report paid), and
    scipy.optimize (0.3 s) only --optimise."""
    args = ["keys", "--days", "1", "--start", "2026-11-20T00:00Z"]
    result = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args),
                             json.dumps(["numpy", "scipy.stats", "scipy.optimize"])],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["numpy"]  # (the probe sees real imports)
    result = subprocess.run([sys.executable, "-c", _PROBE,
                             json.dumps([*args, "--ec-leakage", "finite"]),
                             json.dumps(["scipy.stats"])],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["scipy.stats"]
