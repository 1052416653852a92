"""The ``qkdplan`` command line: parse, call the stages, print or write. Nothing else.

Exit status: 0 on success, 2 on bad input or usage (one line naming the file, line and field),
1 on an internal error (a bug: set ``QKDPLAN_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from planner import __version__
from planner.cli.entry import main  # noqa: F401 (planner.cli.root.main: the entry point)
from planner.errors import OptionError, OutputError, PlannerInputError
from planner.io.output import write_atomic

app = typer.Typer(
    name="qkdplan",
    help="Plan satellite-to-ground quantum key distribution: passes, key volume, trusted relay.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
tle_app = typer.Typer(help="Element sets: check files, fetch fresh ones from CelesTrak.",
                      no_args_is_help=True)
app.add_typer(tle_app, name="tle")

# tables are wider than 80 columns: give them room when the output is not a terminal
stdout = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)
stderr = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    ics = "ics"


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


TleOption = Annotated[list[Path] | None, typer.Option(
    "--tle", help="Element-set file (TLE, 3LE, OMM JSON/CSV/XML/KVN); repeatable. "
    "Default: the bundled representative Jinan-1 set.")]
StationsOption = Annotated[Path | None, typer.Option(
    "--stations", help="Ground-station YAML. Default: the bundled ground_stations.yaml.")]
StationOption = Annotated[list[str] | None, typer.Option(
    "--station", help="Use only this station (case-insensitive); repeatable.")]
StartOption = Annotated[str, typer.Option(
    "--start", help="Start of the period: ISO 8601 UTC (e.g. 2026-11-24T12:00Z) or 'now'.")]
DaysOption = Annotated[float | None, typer.Option(
    "--days", help="Length of the period [days] (default 7).")]
EndOption = Annotated[str | None, typer.Option(
    "--end", help="End of the period, ISO 8601 UTC (instead of --days).")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write to this file (atomically) instead of standard output.")]
AllowStaleOption = Annotated[bool, typer.Option(
    "--allow-stale", help="Use element sets more than 365 days from the period anyway.")]
WarnAgeOption = Annotated[float, typer.Option(
    "--warn-age-days", help="Warn when an element set is older than this [days].")]


DemandOption = Annotated[list[str] | None, typer.Option(
    "--demand", help="Station pair needing key: A:B[:weight[:target_bits]]; repeatable.")]
DemandsFileOption = Annotated[Path | None, typer.Option(
    "--demands", help="YAML file of demands (station_a, station_b, weight, target_bits).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the weather scenarios.")]


class Objective(StrEnum):
    total = "total"
    fair = "fair"
    earliest = "earliest"


class Solver(StrEnum):
    milp = "milp"
    greedy = "greedy"
    rolling = "rolling"


ReportOutputOption = Annotated[Path, typer.Option(
    "--output", "-o", help="The HTML report (its tables are written beside it).")]
SolverOption = Annotated[Solver | None, typer.Option(
    "--solver", help="Relay solver; default milp up to 31 days, rolling beyond.")]
ScenariosOption = Annotated[int, typer.Option(
    "--scenarios", help="Weather scenarios for the P10/P50/P90 of delivered key.")]
NightOption = Annotated[str | None, typer.Option(
    "--night", help="Night (YYYY-MM-DD) of the report's sky plot; default the best one.")]
PayloadOption = Annotated[Path | None, typer.Option(
    "--payload", help="Payload YAML. Default: the bundled payloads.yaml.")]
PayloadNameOption = Annotated[str | None, typer.Option(
    "--payload-name", help="Use this payload for every satellite (default: by name).")]


def _version(value: bool) -> None:
    if value:
        stdout.print(f"qkdplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version.")] = False):
    """Plan satellite-to-ground QKD missions."""


def _emit(text: str | Iterable[str], output: Path | None) -> None:
    if output is None:
        for chunk in [text] if isinstance(text, str) else text:  # pieces: a streamed document
            sys.stdout.write(chunk)
        sys.stdout.flush()
    else:
        write_atomic(output, text)
        stderr.print(f"wrote {output}")


def _warn(messages) -> None:
    for message in messages:
        stderr.print(f"[yellow]warning:[/yellow] {message}", highlight=False)


def _days_default(days: float | None, end: str | None) -> float | None:
    if days is not None and end is not None:
        raise OptionError("give --days or --end, not both", field="--days")
    return 7.0 if days is None and end is None else days



def _print_frame(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in frame.columns:
        table.add_column(str(column), justify="right" if pd.api.types.is_numeric_dtype(
            frame[column]) else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    stdout.print(table)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.4g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None or value is pd.NA else str(value)


def _command_line_error(error: Exception) -> bool:
    """Whether ``error`` is the command-line parser's own (bad option, missing argument...).

    Typer's parser errors carry ``format_message`` and an integer ``exit_code``; matching on
    that, rather than on a class, works whichever Click Typer is built on.
    """
    return callable(getattr(error, "format_message", None)) and isinstance(
        getattr(error, "exit_code", None), int)


def run_command_line(argv: list[str] | None) -> None:
    """Parse ``argv``, run the command and exit with its status (see the module docstring).

    Called by :func:`planner.cli.entry.main` once its signal handlers are installed.
    """
    _main(argv)


def _main(argv: list[str] | None) -> None:
    try:
        code = app(args=argv, prog_name="qkdplan", standalone_mode=False)
    except PlannerInputError as error:
        stderr.print(f"qkdplan: error: {error.one_line()}", highlight=False, markup=False)
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        stderr.print("qkdplan: interrupted", highlight=False)
        sys.exit(130)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(0)
    except OutputError as error:
        stderr.print(f"qkdplan: error: {error}", highlight=False, markup=False)
        sys.exit(1)
    except OSError as error:
        if error.errno not in _WRITE_ERRNOS:
            _internal_error(error)
        _silence_stdout()
        stderr.print(f"qkdplan: error: cannot write the output: {error.strerror}",
                     highlight=False, markup=False)
        sys.exit(1)
    except Exception as error:
        if _command_line_error(error):
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "qkdplan"
            message = " ".join(error.format_message().split())
            if message:  # (no message: the help was printed because no command was given)
                stderr.print(f"{command}: error: {message} (see {command} --help)",
                             highlight=False, markup=False)
            sys.exit(2 if error.exit_code in (0, 1, 2) else error.exit_code)
        _internal_error(error)
    if code == 130:  # the parser turned Ctrl-C into exit status 130
        stderr.print("qkdplan: interrupted", highlight=False)
    sys.exit(code if isinstance(code, int) else 0)


def _internal_error(error: BaseException) -> None:
    if os.environ.get("QKDPLAN_DEBUG"):
        traceback.print_exc()
    stderr.print(f"qkdplan: internal error: {type(error).__name__}: {error} "
                 "(set QKDPLAN_DEBUG=1 for the traceback; please report it)",
                 highlight=False, markup=False)
    sys.exit(1)


#: Errors of a write that failed for reasons outside the input (standard output on a full disk).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _register_commands() -> None:
    """Import the command modules: each registers its commands on ``app`` as it loads."""
    from planner.cli import inputs, passes, plan, schedule, sweep  # noqa: F401
    from planner.cli.constellation import constellation_app
    from planner.cli.fetch import fetch_command

    tle_app.command("fetch")(fetch_command)
    app.add_typer(constellation_app, name="constellation")


_register_commands()
