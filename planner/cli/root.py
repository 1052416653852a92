"""The ``qkdplan`` command line: parse, call the stages, print or write. Nothing else.

Exit status: 0 on success, 2 on bad input or usage (one line naming the file, line and field),
1 on an internal error (a bug: set ``QKDPLAN_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
import traceback
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperArgument, TyperCommand

from planner import __version__
from planner.cli.configfile import CONFIG_HELP, ConfiguredCommand, apply_config
from planner.cli.entry import (
    Interrupted,
    main,  # noqa: F401 (planner.cli.root.main: the entry point)
    signal_received,
)
from planner.cli.flags import RUN_FLAGS, with_flags
from planner.cli.optiontypes import choices, value_types
from planner.cli.terminal import (
    Column,
    clean,
    collapse_warnings,
    fit_to_terminal,
    make_console,
    shown_paths,
    stacked_lines,
    styled,
    table_layout,
)
from planner.errors import OptionError, OutputError, PlannerInputError

# Start-up: ``qkdplan --help`` must not pay for pandas, numpy, Skyfield, plotly or HiGHS, so this
# package imports the stages (and planner.io.output, which needs pandas) inside the commands.
# Help is plain text (rich_markup_mode=None): Rich markup would eat units such as [days] and
# turn ":b:" into an emoji.

app = typer.Typer(
    name="qkdplan",
    help="Plan satellite-to-ground quantum key distribution: passes, key volume, trusted relay.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
tle_app = typer.Typer(help="Element sets: check files, fetch fresh ones from CelesTrak.",
                      no_args_is_help=True, rich_markup_mode=None)
app.add_typer(tle_app, name="tle")

# sized for each run by fit_to_terminal (COLUMNS, else the terminal, else 80 columns)
stdout = make_console()
stderr = make_console(stderr=True)


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
    "--tle", metavar="FILE", help="Element-set file (TLE, 3LE, OMM JSON/CSV/XML/KVN); repeatable. "
    "Default: the bundled representative Jinan-1 set.")]
NoradOption = Annotated[list[int] | None, typer.Option(
    "--norad", metavar="N",
    help="Use the element sets that 'qkdplan tle fetch --catnr N' cached for this "
    "catalogue number; repeatable, and combines with --tle.")]
StationsOption = Annotated[Path | None, typer.Option(
    "--stations", metavar="FILE",
    help="Ground-station YAML. Default: the bundled ground_stations.yaml.")]
StationOption = Annotated[list[str] | None, typer.Option(
    "--station", metavar="NAME", help="Use only this station (case-insensitive); repeatable.")]
StartOption = Annotated[str, typer.Option(
    "--start", help="Start of the period: ISO 8601 UTC (e.g. 2026-11-24T12:00Z) or 'now'.")]
DaysOption = Annotated[float | None, typer.Option(
    "--days", help="Length of the period [days] (default 7).")]
EndOption = Annotated[str | None, typer.Option(
    "--end", help="End of the period, ISO 8601 UTC (instead of --days).")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", metavar="FILE",
    help="Write to this file (atomically) instead of standard output.")]
AllowStaleOption = Annotated[bool, typer.Option(
    "--allow-stale", help="Use element sets more than 365 days from the period anyway.")]
WarnAgeOption = Annotated[float, typer.Option(
    "--warn-age-days", help="Warn when an element set is older than this [days].")]
TzOption = Annotated[str, typer.Option(
    "--tz", help="Time zone of the times shown: local (each station's own), utc, or an IANA "
    "name such as Asia/Shanghai.")]
MinElevationOption = Annotated[float | None, typer.Option(
    "--min-elevation", help="Minimum elevation for every station [deg] (overrides each "
    "station's own).")]
CsvCommentsOption = Annotated[bool, typer.Option(
    "--csv-comments", help="Start CSV with '# key: value' provenance lines (default: plain "
    "CSV; a file written with -o gets its provenance in NAME.meta.json beside it).")]


DemandOption = Annotated[list[str] | None, typer.Option(
    "--demand", metavar="A:B",
    help="Station pair needing key: A:B[:weight[:target_bits]]; repeatable.")]
DemandsFileOption = Annotated[Path | None, typer.Option(
    "--demands", metavar="FILE",
    help="YAML file of demands (station_a, station_b, weight, target_bits).")]
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
    "--output", "-o", metavar="FILE", help="The HTML report (its tables are written beside it).")]
SolverOption = Annotated[Solver | None, typer.Option(
    "--solver", help="Relay solver; default milp up to 31 days, rolling beyond.")]
ScenariosOption = Annotated[int, typer.Option(
    "--scenarios", help="Weather scenarios for the P10/P50/P90 of delivered key.")]
NightOption = Annotated[str | None, typer.Option(
    "--night", help="Night (YYYY-MM-DD, or 'best') of the report's sky plots; default tonight.")]
PayloadOption = Annotated[Path | None, typer.Option(
    "--payload", metavar="FILE", help="Payload YAML. Default: the bundled payloads.yaml.")]
PayloadNameOption = Annotated[str | None, typer.Option(
    "--payload-name", help="Use this payload for every satellite (default: by name).")]


def _version(value: bool) -> None:
    if value:
        stdout.print(f"qkdplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version.")] = False,
    config: Annotated[Path | None, typer.Option("--config", metavar="FILE",
                                                help=CONFIG_HELP)] = None,
) -> None:
    """Plan satellite-to-ground QKD missions."""
    if ctx.resilient_parsing:
        return
    if config is None and (ctx.obj or {}).get("config_after_command"):
        return  # the command's own --config reads the file (planner.cli.configfile)
    apply_config(ctx, config, _parameters(ctx.command))


def _config_after_command(args: list[str]) -> bool:
    """Whether ``args`` give ``--config`` after the command word (before any ``--``)."""
    args = [str(a) for a in args]
    words = args[:args.index("--")] if "--" in args else args
    command = command_word(words)
    if command is None:
        return False
    after = words[words.index(command) + 1:]
    return any(w == "--config" or w.startswith("--config=") for w in after)


def _parameters(group, prefix: str = "") -> dict[str, list[str]]:
    """Each command's name (``"tle check"`` for sub-commands) and its parameters' names."""
    out: dict[str, list[str]] = {}
    for name, command in getattr(group, "commands", {}).items():
        if hasattr(command, "commands"):
            out.update(_parameters(command, f"{prefix}{name} "))
        else:
            out[f"{prefix}{name}"] = [p.name for p in command.params]
    return out


def _emit(text: str | Iterable[str], output: Path | None, record: dict | None = None
          ) -> None:
    """Write ``text`` (or its pieces, a streamed document) to standard output or atomically
    to ``output``; beside a file, its provenance ``record`` as ``NAME.meta.json``."""
    from planner.io.output import sidecar_path, sidecar_text, write_atomic

    if output is None:
        for chunk in [text] if isinstance(text, str) else text:  # pieces: a streamed document
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    write_atomic(output, text)
    if record is None:
        stderr.print(styled("wrote ", str(output)))
        return
    write_atomic(sidecar_path(output), sidecar_text(record, output))
    stderr.print(styled("wrote ", str(output), " (provenance: ", sidecar_path(output).name, ")"))


def _warn(messages) -> None:
    """Warnings on standard error: one per cause, paths shortened, text made safe."""
    for message in collapse_warnings(messages):
        stderr.print(styled(("warning:", "yellow"), " ", shown_paths(message)))


def check_output(output: Path | None, table_format: bool,
                 formats: tuple[str, ...] = ("csv", "json")) -> None:
    """Before any work: ``--output`` must be writable, and a table is for the terminal only.

    Parameters
    ----------
    output
        The ``--output`` file, if any.
    table_format
        Whether ``--format`` is ``table``.
    formats
        The file formats the command writes (its ``--format`` values), named in the refusal
        of a table file with the extensions that choose them (:data:`FORMAT_OF_EXTENSION`).
    """
    from planner.io.output import check_output_path

    if output is not None:
        check_output_path(output)
        if table_format:
            extensions = list(dict.fromkeys(
                extension for wanted in formats
                for extension, meant in FORMAT_OF_EXTENSION.items() if wanted in meant))
            named = (f" (a file named {one_of(extensions)} gets that format)" if extensions
                     else "")
            raise OptionError(f"--format table prints to the terminal; use {one_of(formats)} "
                              f"with --output{named}", field="--format")


def one_of(words, conjunction: str = "or") -> str:
    """``words`` as English alternatives: ``a``, ``a or b``, ``a, b or c`` (or, with
    ``conjunction="and"``, a list: ``a, b and c``)."""
    words = list(words)
    return (words[0] if len(words) == 1 else
            f"{', '.join(words[:-1])} {conjunction} {words[-1]}")


#: Output-file extensions and the ``--format`` each one means, first match among the
#: command's own choices (``.json`` is OMM JSON for ``constellation walker``).
FORMAT_OF_EXTENSION: dict[str, tuple[str, ...]] = {
    ".csv": ("csv",), ".json": ("json", "omm-json"), ".ics": ("ics",),
    ".parquet": ("parquet",), ".tle": ("tle",), ".txt": ("tle",),
}


def format_from_output(ctx) -> None:
    """``--format`` from ``--output``'s extension when ``--format`` was not given.

    ``-o passes.csv`` means ``--format csv``: a command whose ``--format`` offers the format
    of the file's extension (:data:`FORMAT_OF_EXTENSION`) writes it. A ``--format`` given on the
    command line wins over the extension (``-f json -o x.csv`` writes JSON); an extension that
    means nothing here leaves the default (and ``--format table`` with ``--output`` is refused).
    The formats offered are those of the ``output_format`` argument's annotation, an enum or a
    ``Literal`` (:func:`planner.cli.optiontypes.choices`).
    """
    output = ctx.params.get("output")
    parameter = next((p for p in ctx.command.params if p.name == "output_format"), None)
    if output is None or parameter is None:
        return
    source = ctx.get_parameter_source("output_format")
    if source is not None and source.name != "DEFAULT":
        return
    offered = choices(value_types(ctx.command).get("output_format"))
    for wanted in FORMAT_OF_EXTENSION.get(Path(str(output)).suffix.lower(), ()):
        if wanted in offered:
            ctx.params["output_format"] = offered[wanted]
            return


class MetavarArgument(TyperArgument):
    """An argument whose help shows its metavar alone: Typer writes the Python type beside it
    (``FILE <list[Path]>``), which says nothing to a user the metavar has not said."""

    def display_type_rich(self, ctx):
        if self.metavar is not None:
            return None
        return super().display_type_rich(ctx)


class PlannerCommand(ConfiguredCommand):
    """Every ``qkdplan`` command: defaults from the configuration file
    (:class:`planner.cli.configfile.ConfiguredCommand`), ``--format`` from ``--output``'s
    extension (:func:`format_from_output`), and arguments with a metavar shown by it alone
    (:class:`MetavarArgument`)."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if type(param) is TyperArgument and param.metavar is not None:
                param.__class__ = MetavarArgument  # (Typer builds the argument itself)
        return params

    def invoke(self, ctx):
        format_from_output(ctx)
        check_csv_comments(ctx.params)
        return super().invoke(ctx)


def check_csv_comments(params: dict) -> None:
    """``--csv-comments`` only with CSV output: it would be silently ignored otherwise."""
    if not params.get("csv_comments"):
        return
    chosen = params.get("output_format")
    if getattr(chosen, "value", chosen) != "csv":
        raise OptionError(f"--csv-comments writes comment lines into CSV; it does nothing with "
                          f"--format {getattr(chosen, 'value', chosen)}", field="--csv-comments")


def _element_files(tle, norad) -> list[Path] | None:
    """The element files of ``--tle`` and ``--norad`` (None: the default set)."""
    from planner.run.pipeline import cached_element_file

    files = [*(tle or []), *(cached_element_file(n) for n in norad or [])]
    return files or None


def _days_default(days: float | None, end: str | None) -> float | None:
    if days is not None and end is not None:
        raise OptionError("give --days or --end, not both", field="--days")
    return 7.0 if days is None and end is None else days



def print_table(title: str, columns, rows) -> None:
    """Print a compact table (no vertical rules) that fits the console's width.

    Parameters
    ----------
    title
        Shown above the table (wrapped to the width, at spaces).
    columns
        :class:`~planner.cli.terminal.Column` s, or ``(header, justify)`` or
        ``(header, justify, width)`` tuples (``width``: the preferred width, into which the
        header wraps).
    rows
        Sequences of cell strings; untrusted text is fine: each cell is made terminal-safe
        and never parsed as markup.

    No number, time, word or identifier is broken: cells wrap only at spaces, every column
    is at least as wide as its longest word, the columns with the most room wrap first
    (:func:`~planner.cli.terminal.fit_widths`), and on a narrower terminal the columns marked
    droppable are left out (the title says which), else each row is shown one field a line
    (:func:`~planner.cli.terminal.stacked_lines`). Nothing is cut with an ellipsis.
    """
    from rich.table import Table

    rows = [[clean(c) for c in row] for row in rows]
    columns = [Column(*c) for c in columns]
    columns = [c._replace(header=clean(c.header)) for c in columns]
    layout = table_layout(columns, rows, stdout.width)
    if layout is None:
        stdout.print(styled(title), soft_wrap=False)
        for line in stacked_lines([c.header for c in columns], rows, stdout.width):
            stdout.print(styled(line), soft_wrap=True)
        return
    kept, widths = layout
    left_out = [c.header for k, c in enumerate(columns) if k not in kept]
    if left_out:
        title += f" (left out for the terminal's width: {', '.join(left_out)})"
    table = Table(title=styled(title), title_justify="left", header_style="bold underline",
                  box=None, padding=(0, 1), pad_edge=False, collapse_padding=True)
    for k, width in zip(kept, widths, strict=True):
        table.add_column(columns[k].header, justify=columns[k].justify, overflow="fold",
                         width=width)
    for row in rows:
        table.add_row(*[styled(row[k]) for k in kept])
    stdout.print(table, soft_wrap=False)


def _print_frame(frame, title: str, columns: dict | None = None) -> None:
    """Print a data frame as :func:`print_table` does, numbers right-aligned and each float
    column in one format (:func:`_float_cells`); ``columns`` maps a column's name to the
    :class:`~planner.cli.terminal.Column` options it needs (``{"via": {"drop": 1}}``)."""
    import pandas as pd

    specs, cells = [], []
    for name in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[name]) and \
            not pd.api.types.is_bool_dtype(frame[name])
        specs.append(Column(**{"header": str(name), "justify": "right" if numeric else "left",
                               **(columns or {}).get(name, {})}))
        cells.append(_float_cells(frame[name]) if pd.api.types.is_float_dtype(frame[name])
                     else [_cell(v) for v in frame[name]])
    print_table(title, specs, [list(row) for row in zip(*cells, strict=True)] if cells else [])


def _float_cells(values) -> list[str]:
    """A float column's cells in one format: fixed point with as many decimals (up to 3) as
    its values need, or, when any reaches a million, four significant digits in scientific
    notation for all; empty for NaN."""
    import numpy as np

    numbers = np.asarray(values, dtype=float)
    finite = numbers[np.isfinite(numbers)]
    if finite.size and np.abs(finite).max() >= 1e6:
        return ["" if v != v else f"{v:.3e}" for v in numbers]
    decimals = max((len(f"{v:.3f}".rstrip("0").partition(".")[2]) for v in finite), default=0)
    return ["" if v != v else f"{v:.{decimals}f}" for v in numbers]


def _cell(value) -> str:
    import pandas as pd

    if isinstance(value, float):
        if value != value:
            return ""
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


def _no_command_given(error: Exception) -> bool:
    """Whether ``error`` is the parser's "no command given" of a group (``qkdplan``, ``qkdplan
    tle``): Click's ``NoArgsIsHelpError``, whose message is the group's whole help."""
    context = getattr(error, "ctx", None)
    return (type(error).__name__ == "NoArgsIsHelpError" or (context is not None
            and error.format_message() == context.get_help()))


def run_command_line(argv: list[str] | None) -> None:
    """Parse ``argv``, run the command and exit with its status (see the module docstring).

    Called by :func:`planner.cli.entry.main` once its signal handlers are installed.
    """
    _main(argv)


def _main(argv: list[str] | None) -> None:
    fit_to_terminal(stdout, stderr)
    args = sys.argv[1:] if argv is None else argv
    register_commands(command_word(args))
    try:
        code = app(args=argv, prog_name="qkdplan", standalone_mode=False,
                   obj={"config_after_command": _config_after_command(args)})
    except PlannerInputError as error:  # the library names parameters; the user sees flags
        error = with_flags(error, RUN_FLAGS)
        _print_error(shown_paths(error.one_line()))
        sys.exit(2)
    except typer.Abort:  # the parser's own Ctrl-C: ends the run as entry.main ends one
        raise Interrupted from None
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(0)
    except OutputError as error:
        _print_error(str(with_flags(error, RUN_FLAGS)))
        sys.exit(1)
    except OSError as error:
        if error.errno not in _WRITE_ERRNOS:
            _internal_error(error)
        _silence_stdout()
        _print_error(f"cannot write the output: {error.strerror}")
        sys.exit(1)
    except Exception as error:
        if _command_line_error(error):
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "qkdplan"
            if _no_command_given(error):  # a group alone: its help, as Click prints it
                sys.stdout.flush()
                sys.stderr.write(error.format_message().rstrip("\n") + "\n")
                sys.exit(2)
            message = " ".join(error.format_message().split())
            if message:
                _print_error(f"{message} (see {command} --help)", command)
            sys.exit(2 if error.exit_code in (0, 1, 2) else error.exit_code)
        _internal_error(error)
    if code == 130:  # the parser turned Ctrl-C into exit status 130
        raise Interrupted
    sys.exit(code if isinstance(code, int) else 0)


def _print_error(text: str, command: str = "qkdplan") -> None:
    """One line ``COMMAND: error: TEXT`` on standard error, exactly as written: no markup, no
    highlighting and no emoji codes (``--fibre A:B:RATE`` must not turn ``:B:`` into an emoji),
    and no control characters."""
    stderr.print(f"{command}: error: {clean(text)}", markup=False, emoji=False, highlight=False)


def _internal_error(error: BaseException) -> None:
    """Report ``error`` as a bug (exit status 1), unless a signal came first: then it is the
    signal's doing (a module it left half-imported, say) and the run ends as interrupted or
    terminated (:func:`planner.cli.entry.signal_received`)."""
    received = signal_received()
    if received is not None and not os.environ.get("QKDPLAN_DEBUG"):
        raise received from None
    if os.environ.get("QKDPLAN_DEBUG"):
        traceback.print_exc()
    stderr.print(f"qkdplan: internal error: {type(error).__name__}: {clean(error)} "
                 "(set QKDPLAN_DEBUG=1 for the traceback; please report it)",
                 highlight=False, markup=False, emoji=False)
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


#: Each command (or command group) of ``qkdplan`` and the modules that register it, in the
#: order ``qkdplan --help`` lists them. A run imports only its own command's modules: each one
#: costs its imports and Typer's work on its options (about 0.07 s for all of them, of the
#: 0.8 s start-up budget of ``qkdplan passes``); help and unknown commands load them all.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "stations": ("inputs",), "config": ("inputs",), "next": ("operator",),
    "track": ("operator",), "passes": ("passes",), "keys": ("passes",),
    "schedule": ("schedule",), "plan": ("plan",), "report": ("plan",), "sweep": ("sweep",),
    "tle": ("inputs", "fetch"), "constellation": ("constellation",),
}

#: Root options that take a value (the word after them is not a command).
_ROOT_OPTIONS_WITH_VALUE = {"--config"}

def command_word(args: list[str]) -> str | None:
    """The command named in ``args`` (the first word that is neither an option of the root
    nor its value), or ``None``."""
    words = iter(args)
    for word in words:
        if word in _ROOT_OPTIONS_WITH_VALUE:
            next(words, None)
        elif word == "--" or not word.startswith("-"):
            return None if word == "--" else word
    return None


def register_commands(command: str | None = None) -> None:
    """Register ``command`` on ``app`` (importing its modules), or every command if ``None``
    or not a command of ``qkdplan`` (so that help lists them all and a typo gets Typer's
    suggestion). Each module registers its commands as it loads; commands already registered
    stay, and calling it again is cheap."""
    for module in COMMAND_MODULES.get(command, sorted({m for ms in COMMAND_MODULES.values()
                                                        for m in ms})):
        importlib.import_module(f"planner.cli.{module}")
    for typer_app in (app, *(group.typer_instance for group in app.registered_groups)):
        for info in typer_app.registered_commands:
            if info.cls is None or info.cls is TyperCommand:
                info.cls = PlannerCommand
    order = list(COMMAND_MODULES)
    app.registered_commands.sort(key=lambda info: order.index(_command_name(info)))


def _command_name(info) -> str:
    """A registered command's name, as Typer derives it from the function if not given."""
    return info.name or info.callback.__name__.lower().replace("_", "-")
