"""The user's configuration file: default stations, element sets, demands and thresholds.

A TOML file whose keys are the command-line options' names (``--warn-age-days`` is
``warn_age_days``); every command takes from it the defaults it has options for, and an option
given on the command line still wins. Example::

    # ~/.config/qkdplan/config.toml
    stations = "~/qkd/ground_stations.yaml"   # relative paths: from this file's directory
    station = ["Graz", "Stellenbosch"]
    norad = [41731]                           # from the `qkdplan tle fetch` cache
    demand = ["Graz:Stellenbosch"]
    warn_age_days = 7
    tz = "utc"

Where it is looked for, first found wins: the ``config`` argument (``qkdplan --config FILE``),
``$QKDPLAN_CONFIG``, then the user configuration directory (``$XDG_CONFIG_HOME/qkdplan/
config.toml``, by default ``~/.config/qkdplan/config.toml``; the platform's own place on macOS
and Windows, as :mod:`platformdirs` gives it). A file named explicitly must exist; the default
one may not.
"""

from __future__ import annotations

import functools
import os
import re
import types
import typing
from pathlib import Path
from typing import Any

from planner.errors import PlannerInputError

CONFIG_ENV = "QKDPLAN_CONFIG"
"""Environment variable naming the configuration file."""

MAX_CONFIG_BYTES = 1_000_000
"""Largest configuration file read [bytes]."""


class ConfigError(PlannerInputError):
    """The configuration file is invalid."""


@functools.cache
def config_model() -> type:
    """The pydantic model of the file: defaults for the commands, named as their options.

    Built on first use: every command looks for a configuration file, and pydantic is not
    worth importing (~0.2 s) when there is none. The model checks the settings' types only: the
    range of a number (``warn_age_days`` > 0) is its option's, checked where the options' are
    (``planner.cli.numbers.RANGES``, by ``planner.cli.configfile.apply_config`` as the command
    line reads the file), so that a value is refused in the same words from the file as from
    the command line.
    """
    from pydantic import BaseModel, ConfigDict, Field

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=False)

        tle: list[Path] | None = Field(None, description="element-set files")
        norad: list[int] | None = Field(None, description="catalogue numbers, fetch cache")
        stations: Path | None = Field(None, description="ground-station YAML")
        station: list[str] | None = Field(None, description="stations to use")
        payload: Path | None = Field(None, description="payload YAML")
        payload_name: str | None = Field(None, description="payload for every satellite")
        demand: list[str] | None = Field(None, description="relay demands A:B[:w[:bits]]")
        demands: Path | None = Field(None, description="demand YAML")
        tz: str | None = Field(None, description="time zone of shown times")
        warn_age_days: float | None = Field(None, description="age warning [days]")
        min_elevation: float | None = Field(None, description="minimum elevation [deg]")
        scenarios: int | None = Field(None, description="weather scenarios")
        seed: int | None = Field(None, description="weather seed")

    return Config


_PATH_KEYS = ("tle", "stations", "payload", "demands")


def default_config_path() -> Path:
    """The user configuration file's place (it need not exist)."""
    try:
        from platformdirs import user_config_dir
    except ImportError:                                       # the XDG rule, by hand
        base = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
        return Path(base) / "qkdplan" / "config.toml"
    return Path(user_config_dir("qkdplan", appauthor=False)) / "config.toml"


def config_path(explicit: str | Path | None = None) -> tuple[Path | None, bool]:
    """The configuration file to read and whether it was named (and so must exist)."""
    if explicit is not None and str(explicit).strip():
        return Path(explicit).expanduser(), True
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named).expanduser(), True
    path = default_config_path()
    return (path, False) if path.is_file() else (None, False)


def _line_of(text: str, key: str) -> int | None:
    """The line of ``key = ...`` (or of a table ``[key]``) in the file's text."""
    pattern = re.compile(rf"^[ \t]*(?:{re.escape(key)}\s*=|\[\[?\s*{re.escape(key)}\s*[].])",
                         re.MULTILINE)
    match = pattern.search(text)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def key_line(path: str | Path, key: str) -> int | None:
    """The line of the configuration file ``path`` that sets ``key`` (None if unknown)."""
    try:
        return _line_of(Path(path).read_text(encoding="utf-8"), key)
    except (OSError, UnicodeDecodeError):
        return None


def load_config(explicit: str | Path | None = None) -> tuple[Any, Path | None]:
    """Read and validate the configuration file.

    Parameters
    ----------
    explicit
        A file named on the command line; else ``$QKDPLAN_CONFIG``; else the default place.

    Returns
    -------
    (config_model() instance or None, Path or None)
        The settings (``None`` when there is no file) and the file read.

    Raises
    ------
    ConfigError
        For a named file that is missing or unreadable, a TOML syntax error, an unknown key or
        a value of the wrong type: one line with the file, line and key. (Numbers out of
        their option's range are refused by the command line, :func:`config_model`.)
    """
    path, named = config_path(explicit)
    if path is None:
        return None, None
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"larger than {MAX_CONFIG_BYTES // 1000} kB; is this a "
                              "configuration file?", path=str(path))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not named:
            return None, None
        raise ConfigError("no such configuration file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"cannot read the configuration file: {reason}",
                          path=str(path)) from None
    import tomllib

    from pydantic import ValidationError

    from planner.io.yamlfile import format_location

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "",
                         str(error))
        line = (int(found.group(1)) if found else  # at the end: the last line with text
                len(text.rstrip().splitlines()) or 1)
        raise ConfigError(f"not valid TOML: {message}", path=str(path), line=line) from None
    for key, field in config_model().model_fields.items():  # a single value: a one-item list
        if (key in data and isinstance(data[key], str | int | float)
                and holds_list(field.annotation)):
            data[key] = [data[key]]
    for key in _PATH_KEYS:
        if key in data:
            data[key] = _relative_to(data[key], path.parent)
    try:
        return config_model().model_validate(data), path
    except ValidationError as error:
        first = error.errors()[0]
        location = format_location(first["loc"])
        key = str(first["loc"][0]) if first["loc"] else None
        message = ("unknown setting (known: " + ", ".join(config_model().model_fields) + ")"
                   if first["type"] == "extra_forbidden" else first["msg"])
        raise ConfigError(message, path=str(path),
                          line=None if key is None else _line_of(text, key),
                          field=location or None) from None


def holds_list(annotation) -> bool:
    """Whether a setting of type ``annotation`` is a list (``list[str] | None``,
    ``Optional[List[str]]``), by the annotation's structure rather than its text.

    Parameters
    ----------
    annotation
        A type annotation, as a model field's ``annotation``.
    """
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(holds_list(arg) for arg in typing.get_args(annotation))
    return typing.get_origin(annotation) is list or annotation is list


def _relative_to(value: Any, base: Path) -> Any:
    """Paths of the file made absolute (``~`` expanded, relative ones from ``base``)."""
    if isinstance(value, str):
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else base / path)
    if isinstance(value, list):
        return [_relative_to(v, base) for v in value]
    return value


def command_defaults(config, parameters: dict[str, list[str]]) -> dict[str, dict]:
    """Click's ``default_map``: for each command, the settings it has parameters for.

    Parameters
    ----------
    config
        The settings (a :func:`config_model` instance).
    parameters
        Each command's name and the names of its parameters (sub-groups as ``"tle check"``).
    """
    settings = {k: v for k, v in config.model_dump().items() if v is not None}
    settings = {k: [str(x) for x in v] if isinstance(v, list) and k == "tle" else
                str(v) if isinstance(v, Path) else v for k, v in settings.items()}
    out: dict[str, dict] = {}
    for command, names in parameters.items():
        chosen = {k: v for k, v in settings.items() if k in names}
        if not chosen:
            continue
        *groups, leaf = command.split()
        target = out
        for group in groups:
            target = target.setdefault(group, {})
        target[leaf] = chosen
    return out
