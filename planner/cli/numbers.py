"""One check of every number option of every command, and of the configuration file's numbers.

Typer reads ``nan``, ``inf`` and ``-5`` as floats, and a comparison with NaN is always false:
``--warn-age-days nan`` flagged nothing as stale, ``--warn-age-days -5`` everything. Every
float option must be finite, and the float and integer options in :data:`RANGES` must lie in
their range; the library checks its own limits beyond that (``--days`` at most ten years).

:data:`RANGES` is the one place these limits live: :class:`planner.cli.configfile.
ConfiguredCommand` runs :func:`check_numbers` for every command before its work, and
:func:`planner.cli.configfile.apply_config` runs :func:`check_number` on the configuration
file's settings as it reads them (its keys are the options' names), so the same wrong value is
refused in the same words from either place, named by the flag or by the file, line and key.
"""

from __future__ import annotations

import math

from planner.cli.optiontypes import value_types
from planner.errors import OptionError

__all__ = ["RANGES", "check_number", "check_numbers", "number_params"]

#: Parameter name (the configuration file's key) -> (low, low included, high, high included)
#: of the number options that have a range (None: unbounded on that side). The other float
#: options need only be finite (``--raan0-deg``, ``--bstar``); an integer option is checked
#: here only if it is listed.
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
    "scenarios": (1, True, None, False),  # weather scenarios (an integer)
}


def number_params(command) -> list:
    """The number options of a command that :func:`check_numbers` checks: every float option
    (its function's argument annotated ``float`` or ``float | None``) and the integer options
    with a range in :data:`RANGES` (:func:`planner.cli.optiontypes.value_types`)."""
    types = value_types(command)
    return [param for param in command.params if types.get(param.name) is float
            or (types.get(param.name) is int and param.name in RANGES)]


def _describe(low, low_in, high, high_in, whole: bool) -> str:
    """What a value in the range is, in words: ``a number >= 0 and < 90``."""
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_in else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if high_in else '<'} {high:g}")
    kind = "a whole number" if whole else "a number"
    return f"{kind} {' and '.join(parts)}" if parts else "a finite number"


def check_number(value: float | int, field: str, name: str) -> None:
    """Refuse ``value`` unless it is finite and in the range :data:`RANGES` gives ``name``.

    Parameters
    ----------
    value
        The option's or the setting's value (an ``int`` for an integer option).
    field
        What the error names: the flag (``--warn-age-days``) or the file's key.
    name
        The parameter's name, the key of :data:`RANGES`.

    Raises
    ------
    OptionError
        ``expected a number > 0, found -5``, naming ``field``.
    """
    low, low_in, high, high_in = RANGES.get(name, (None, False, None, False))
    whole = isinstance(value, int) and not isinstance(value, bool)
    ok = whole or math.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_in else value > low
    if ok and high is not None:
        ok = value <= high if high_in else value < high
    if not ok:
        found = str(value) if whole else f"{value:g}"  # (an int may exceed any float)
        raise OptionError(f"expected {_describe(low, low_in, high, high_in, whole)}, "
                          f"found {found}", field=field)


def check_numbers(command, params: dict) -> None:
    """Check every number option of ``command`` (:func:`number_params`) given a value in
    ``params`` (the parsed values by parameter name), before the command runs."""
    for param in number_params(command):
        value = params.get(param.name)
        if value is not None:
            check_number(value, max(param.opts, key=len), param.name)
