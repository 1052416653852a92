"""One check of every number option of every command, before any work.

Typer reads ``nan``, ``inf`` and ``-5`` as floats, and a comparison with NaN is always false:
``--warn-age-days nan`` flagged nothing as stale, ``--warn-age-days -5`` everything. Every
float option must be finite, and those in :data:`RANGES` must lie in their range; the library
checks its own limits beyond that (``--days`` at most ten years).
Run by :class:`planner.cli.configfile.ConfiguredCommand` for every command, so a value from
the configuration file is checked, and blamed on the file, the same way.
"""

from __future__ import annotations

import math

from planner.cli.optiontypes import value_types
from planner.errors import OptionError

__all__ = ["RANGES", "check_numbers", "number_params"]

#: Parameter name -> (low, low included, high, high included) of the float options that have
#: a range (None: unbounded on that side). The others need only be finite (``--raan0-deg``,
#: ``--bstar``).
RANGES: dict[str, tuple[float | None, bool, float | None, bool]] = {
    "days": (0.0, False, None, False),
    "warn_age_days": (0.0, False, None, False),
    "min_elevation": (0.0, True, 90.0, False),
    "step_s": (0.1, True, 600.0, True),  # track --step [s]
    "chunk_days": (0.0, False, None, False),
    "memory_bits": (0.0, False, None, False),
    "gap_s": (0.0, True, None, False),
    "reserve_bits": (0.0, True, None, False),
    "time_limit": (0.0, False, None, False),
    "connect_timeout": (0.0, False, None, False),
    "read_timeout": (0.0, False, None, False),
    "deadline": (0.0, False, None, False),
    "max_size_mb": (0.0, False, None, False),
    "altitude_km": (0.0, False, None, False),
    "eccentricity": (0.0, True, 1.0, False),
}


def number_params(command) -> list:
    """The float options of a command: its parameters whose function argument is annotated
    ``float`` (or ``float | None``; :func:`planner.cli.optiontypes.value_types`)."""
    types = value_types(command)
    return [param for param in command.params if types.get(param.name) is float]


def _describe(low, low_in, high, high_in) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_in else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if high_in else '<'} {high:g}")
    return "a number " + " and ".join(parts) if parts else "a finite number"


def check_number(value: float, flag: str, name: str) -> None:
    """Raise :class:`OptionError` naming ``flag`` unless ``value`` is finite and in the range
    :data:`RANGES` gives ``name``."""
    low, low_in, high, high_in = RANGES.get(name, (None, False, None, False))
    ok = math.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_in else value > low
    if ok and high is not None:
        ok = value <= high if high_in else value < high
    if not ok:
        raise OptionError(f"expected {_describe(low, low_in, high, high_in)}, found {value:g}",
                          field=flag)


def check_numbers(command, params: dict) -> None:
    """Check every float option of ``command`` given a value in ``params`` (the parsed
    values by parameter name), before the command runs."""
    for param in number_params(command):
        value = params.get(param.name)
        if value is not None:
            check_number(float(value), max(param.opts, key=len), param.name)
