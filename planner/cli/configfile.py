"""The configuration file on the command line: which file, its defaults, and whose fault.

:mod:`planner.io.config` reads the file; here the commands take it in. Every command is a
:class:`ConfiguredCommand` (through ``cli.root.PlannerCommand``, the class
``cli.root.register_commands`` sets), which

* checks every number option before the work (:mod:`planner.cli.numbers`: finite, in range),
  as :func:`apply_config` checks the file's numbers in the same words;
* accepts ``--config FILE`` after the command word too (``qkdplan next --config site.toml``),
  as the root does before it;
* blames a bad value on the file when the value came from it: ``site.toml:7: tz: unknown time
  zone ...`` rather than ``--tz: ...``, which would name an option nobody typed;
* warns once, after its run, when a planning command (one with ``--start``) cannot use a
  setting of the file that decides which passes are found or how they are shown
  (``warn_age_days`` and ``tz`` for ``constellation passes``): such a setting is applied or
  warned about, never dropped in silence. (Relay and key settings such as ``demand`` mean
  nothing to ``passes``.)
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from planner.errors import PlannerInputError

#: ``ctx.meta`` key of the run's configuration: ``(settings or None, path or None)``.
CONFIG_META = "qkdplan.config"

#: Settings that decide which passes a planning command finds or how it shows them: a
#: planning command without the option says so when the file sets one.
PASS_SETTINGS = ("tle", "norad", "stations", "station", "min_elevation", "warn_age_days", "tz")

CONFIG_HELP = ("Configuration file (TOML) of default options: stations, element files, "
               "demands, thresholds. Default: $QKDPLAN_CONFIG, else "
               "~/.config/qkdplan/config.toml (the platform's user configuration directory) "
               "if it exists.")


def apply_config(ctx: typer.Context, explicit: str | Path | None, parameters) -> None:
    """Read the configuration file and make its settings the defaults of the commands.

    Parameters
    ----------
    ctx
        The root's context (``parameters``: every command's parameters) or a command's own
        (``parameters``: that command's, as ``{ctx.info_name: names}``).
    explicit
        The file named with ``--config``, if any.
    """
    from planner.io.config import command_defaults, load_config

    settings, path = load_config(explicit)
    if settings is not None:
        check_config_numbers(settings, path)
    ctx.meta[CONFIG_META] = (settings, path)
    if settings is None:
        return
    defaults = command_defaults(settings, parameters)
    ctx.default_map = (defaults if ctx.parent is None
                       else defaults.get(ctx.info_name, {}))


def check_config_numbers(settings, path: Path) -> None:
    """The file's numbers, each in its option's range, checked as the file is read.

    The same check as the command line's (:func:`planner.cli.numbers.check_number` with
    :data:`planner.cli.numbers.RANGES`), so ``warn_age_days = -5`` and ``--warn-age-days -5``
    are refused in the same words: ``site.toml:2: warn_age_days: expected a number > 0,
    found -5`` and ``--warn-age-days: expected a number > 0, found -5``.

    Parameters
    ----------
    settings
        The file's settings (a :func:`planner.io.config.config_model` instance).
    path
        The file read, named in the error with the key's line.

    Raises
    ------
    planner.io.config.ConfigError
        For the first setting out of its range.
    """
    from planner.cli.numbers import RANGES, check_number
    from planner.errors import OptionError
    from planner.io.config import ConfigError, key_line

    for key in RANGES:
        value = getattr(settings, key, None)
        if value is None:
            continue
        try:
            check_number(value, key, key)
        except OptionError as error:
            raise ConfigError(error.message, path=str(path), line=key_line(path, key),
                              field=key) from None


def _command_config(ctx: typer.Context, value: Path | None) -> Path | None:
    """``--config`` after the command word: the file's settings become this command's
    defaults (eager, so before its other options take their values)."""
    if value is not None and not ctx.resilient_parsing:
        apply_config(ctx, value, {ctx.info_name: [p.name for p in ctx.command.params]})
    return value


@functools.cache
def _config_option():
    """A command's ``--config FILE`` option, as Typer builds it (eager: read first; not
    passed to the command's function)."""
    probe = typer.Typer()

    @probe.command()
    def probe_command(config: Annotated[Path | None, typer.Option(
            "--config", metavar="FILE", help=CONFIG_HELP, is_eager=True, expose_value=False,
            callback=_command_config)] = None) -> None:
        """(builds the option)"""

    return next(p for p in typer.main.get_command(probe).params if p.name == "config")


class ConfiguredCommand(TyperCommand):
    """A command that takes its defaults from the configuration file (module docstring)."""

    def get_params(self, ctx):
        params = super().get_params(ctx)  # (may be the command's own list: not changed)
        if not any(p.name == "config" for p in params):
            params = [_config_option(), *params]
        return params

    def invoke(self, ctx):
        from planner.cli.numbers import check_numbers

        settings, path = ctx.meta.get(CONFIG_META, (None, None))
        try:
            check_numbers(self, ctx.params)
            result = super().invoke(ctx)
        except PlannerInputError as error:
            if settings is None:
                raise
            raise blame_config(error, ctx, self, path) from error.__cause__
        if settings is None:
            return result
        names = {p.name for p in self.params}
        unused = [k for k in PASS_SETTINGS if getattr(settings, k) is not None
                  and k not in names] if "start" in names else []
        if unused:  # (after the run: a bad input stays one line)
            from planner.cli.root import _warn

            _warn([f"{path}: qkdplan {ctx.command_path.partition(' ')[2]} has no option "
                   f"for {', '.join(unused)}; the file's value is not used"])
        return result


def from_config(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` took its value from the configuration file (Click's
    ``default_map``, :func:`apply_config`)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "DEFAULT_MAP"


def given(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` was given on the command line or in the environment (not
    a default, nor the configuration file's)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def blame_config(error: PlannerInputError, ctx, command, path: Path) -> PlannerInputError:
    """``error`` as the configuration file's, when the option it names took its value from
    the file (file, line and key); else ``error`` unchanged (with flags for parameters).

    Parameters
    ----------
    error
        The error the command raised.
    ctx, command
        The command's context and the command.
    path
        The configuration file read.
    """
    from planner.cli.flags import RUN_FLAGS, with_flags
    from planner.io.config import ConfigError, key_line

    error = with_flags(error, RUN_FLAGS)
    if getattr(error, "path", None) is not None or not error.field:
        return error
    head, space, rest = error.field.partition(" ")
    param = next((p for p in command.params if head in getattr(p, "opts", ())), None)
    if param is None:
        return error
    if not from_config(ctx, param.name):
        return error
    return ConfigError(error.message, path=str(path), line=key_line(path, param.name),
                       field=param.name + space + rest)
