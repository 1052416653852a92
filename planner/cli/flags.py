"""Library errors name parameters; on the command line they name the flags that set them.

The library (everything outside ``planner.cli``) raises errors whose ``field`` is the parameter
of the function called (``days``, ``station_names``) and whose message names other parameters
in backticks (```payload_name```). The CLI
turns those into its flags in one place, the error handler of :mod:`planner.cli.root`, with
:data:`RUN_FLAGS`; a command whose own parameters need other flags wraps its library calls in
:func:`flags_named` with its mapping (``tle fetch``, ``constellation walker``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from planner.errors import OutputError, PlannerInputError

__all__ = ["RUN_FLAGS", "executor_flags", "flags_named", "with_flags"]

#: The parameters of the functions the commands call (:mod:`planner.run.pipeline`,
#: :mod:`planner.run.executors`, :mod:`planner.run.tasks`, the element-set age check, station
#: and payload selection, relay demand parsing) and the flag that sets each. The relay's own
#: options (memory, gap, reserve, ...) are mapped by ``qkdplan schedule`` itself.
RUN_FLAGS = {
    # the period and the inputs (load_inputs, resolve_period, cached_element_file)
    "start": "--start", "end": "--end", "days": "--days", "tle": "--tle", "norad": "--norad",
    "station_names": "--station", "allow_stale": "--allow-stale",
    "warn_age_days": "--warn-age-days",
    # passes and keys (passes_for, keys_for, check_key_options)
    "min_elevation_deg": "--min-elevation", "payload_name": "--payload-name",
    "optimise": "--optimise", "pool": "--pool", "fluctuation": "--fluctuation",
    "ec_leakage": "--ec-leakage",
    # the relay plan of the main job (demands_for, schedule_for, relay demand/fibre parsing)
    "demands": "--demand", "fibre_links": "--fibre", "unavailable": "--unavailable",
    "solver": "--solver", "scenarios": "--scenarios", "n_scenarios": "--scenarios",
    "seed": "--seed",
    # the report and other outputs (run_plan, check_output_path, write_atomic)
    "night": "--night", "output": "--output",
    # executors (executor_spec, pass_tasks)
    "dask": "--dask", "processes": "--processes", "chunk_days": "--chunk-days",
}


def executor_flags(kind: str) -> dict[str, str]:
    """The flags that set the executor an :class:`~planner.run.executors.ExecutorSpec` of
    ``kind`` describes, under the names the library gives it.

    :func:`~planner.run.executors.open_executor` names its parameter ``spec``, the functions
    that run on an executor (``run_sweep``, ``find_passes_parallel``) theirs ``executor``;
    on the command line both are ``--dask`` or ``--processes``, whichever was given.

    Parameters
    ----------
    kind : str
        The spec's kind (``"dask"``, ``"processes"`` or ``"inprocess"``).
    """
    flag = {"dask": "--dask", "processes": "--processes"}.get(kind)
    return {"spec": flag, "executor": flag} if flag else {}


def _flag_field(field: str | None, flags: Mapping[str, str]) -> str | None:
    """``field`` with a leading parameter name replaced by its flag.

    ``days`` -> ``--days``; ``demands 'A:B'`` (a parameter and the item of it at fault) ->
    ``--demand 'A:B'``; anything else unchanged.
    """
    if field is None:
        return None
    head, space, rest = field.partition(" ")
    return flags[head] + space + rest if head in flags else field


def _flag_message(message: str, flags: Mapping[str, str]) -> str:
    """``message`` with each ```parameter``` replaced by its flag (bare words are left alone:
    they may be prose, a file's key or part of a path)."""
    if not flags:
        return message
    quoted = re.compile(r"`(" + "|".join(map(re.escape, flags)) + r")`")
    return quoted.sub(lambda match: flags[match.group(1)], message)


def with_flags(error: PlannerInputError | OutputError,
               flags: Mapping[str, str]) -> PlannerInputError | OutputError:
    """``error`` with parameter names replaced by the flags that set them.

    The field is replaced when it is a parameter, alone or followed by the item at fault
    (``demands 'A:B'``), and the error names no file (a field of a file is that file's key,
    not a parameter). In the message, parameters in backticks (```payload_name```) are
    replaced.

    Parameters
    ----------
    error
        The library's error; changed in place and returned.
    flags
        Parameter name -> flag, e.g. ``{"read_timeout_s": "--read-timeout"}``.
    """
    if getattr(error, "path", None) is None:
        error.field = _flag_field(error.field, flags)
    error.message = _flag_message(error.message, flags)
    error.args = (error.one_line(),)
    return error


@contextmanager
def flags_named(flags: Mapping[str, str]) -> Iterator[None]:
    """Within the block, a :class:`PlannerInputError` or :class:`OutputError` leaves with
    flags in place of parameters."""
    try:
        yield
    except (PlannerInputError, OutputError) as error:
        raise with_flags(error, flags) from error.__cause__
