"""``qkdplan tle fetch``: fresh element sets from CelesTrak (the command function).

Registered on ``qkdplan tle`` as this module loads (``cli.root.register_commands``). Thin, as the
rest of the CLI: check the options, call
:func:`planner.elements.fetch.fetch_elements`, print what was
fetched. Errors are :class:`~planner.errors.PlannerInputError` subclasses (``OptionError``,
``FetchError``), which ``planner.cli.root.main`` prints as one line with exit status 2.

Standard output gets one line per satellite (name, catalogue number, designator, epoch, age of
the elements); standard error says where the answer came from and which files were written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.flags import flags_named
from planner.cli.root import tle_app
from planner.cli.terminal import clean
from planner.elements.fetch import (
    BASE_URL_ENV,
    CACHE_DIR_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_CACHE_DIR,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_BYTES,
    DEFAULT_READ_TIMEOUT_S,
    FetchResult,
    fetch_elements,
    make_query,
)
from planner.errors import OptionError

__all__ = ["FETCH_FLAGS", "fetch_command"]

#: The library parameters of :func:`fetch_elements` and the flags that set them, so that errors
#: (which name parameters) name the flags on the command line.
FETCH_FLAGS = {
    "catnr": "--catnr", "intdes": "--intdes", "group": "--group", "name": "--name",
    "base_url": "--base-url", "cache_dir": "--cache-dir", "output": "--output",
    "connect_timeout_s": "--connect-timeout", "read_timeout_s": "--read-timeout",
    "deadline_s": "--deadline", "max_bytes": "--max-size-mb",
}

_BYTES_PER_MB = 1_000_000


@tle_app.command("fetch", short_help="Fetch current element sets from CelesTrak.")
def fetch_command(
    catnr: Annotated[int | None, typer.Option(
        "--catnr", help="Catalogue (NORAD) number, e.g. 41731 for Micius.")] = None,
    intdes: Annotated[str | None, typer.Option(
        "--intdes", help="International designator of a launch (2022-086: every object of "
        "it) or of one object (2016-051A).")] = None,
    group: Annotated[str | None, typer.Option(
        "--group", help="A CelesTrak group, e.g. 'stations' or 'active'.")] = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="Satellites whose name contains this text.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE",
        help="Also write the OMM JSON to this file (atomically).")] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help=f"The GP interface (default: ${BASE_URL_ENV}, else CelesTrak's, "
        f"{DEFAULT_BASE_URL}).")] = None,
    cache_dir: Annotated[Path | None, typer.Option(
        "--cache-dir", metavar="DIR",
        help=f"Where answers are kept with their fetch time (default: "
        f"${CACHE_DIR_ENV}, else {DEFAULT_CACHE_DIR}).")] = None,
    connect_timeout: Annotated[float, typer.Option(
        "--connect-timeout", help="Longest wait for the connection [s].")
    ] = DEFAULT_CONNECT_TIMEOUT_S,
    read_timeout: Annotated[float, typer.Option(
        "--read-timeout", help="Longest wait for data from the server [s].")
    ] = DEFAULT_READ_TIMEOUT_S,
    deadline: Annotated[float, typer.Option(
        "--deadline", help="Longest time for the whole request (connection, headers and body) "
        "[s].")] = DEFAULT_DEADLINE_S,
    max_size_mb: Annotated[float, typer.Option(
        "--max-size-mb", help="Largest answer accepted, in MB; reading stops beyond it.")
    ] = DEFAULT_MAX_BYTES / _BYTES_PER_MB,
) -> None:
    """Fetch current element sets (OMM JSON) from CelesTrak's GP interface.

    One request, never retried; the answer is validated before it is cached (and written to -o).
    """
    given = [flag for flag, value in (("--catnr", catnr), ("--intdes", intdes),
                                      ("--group", group), ("--name", name)) if value is not None]
    if len(given) != 1:  # said with the flags here (make_query names its parameters)
        raise OptionError("give exactly one of --catnr, --intdes, --group, --name (found "
                          f"{' and '.join(given) or 'none'})", field="--catnr")
    with flags_named(FETCH_FLAGS):
        query = make_query(catnr=catnr, intdes=intdes, group=group, name=name)
        result = fetch_elements(
            query, base_url=base_url, cache_dir=cache_dir, output=output,
            connect_timeout_s=connect_timeout, read_timeout_s=read_timeout, deadline_s=deadline,
            max_bytes=_max_bytes(max_size_mb))
    _report(result)


def _max_bytes(max_size_mb: float) -> float:
    """The size limit in bytes (non-positive values are passed on to be refused)."""
    return max_size_mb * _BYTES_PER_MB if max_size_mb > 0 else max_size_mb


def _report(result: FetchResult) -> None:
    """Satellites on standard output; provenance and files written on standard error."""
    record = result.record
    for es in result.element_sets:
        age_days = (record.fetched_utc - es.epoch).total_seconds() / 86400.0
        norad = "-" if es.norad is None else str(es.norad)
        typer.echo(f"{clean(es.name)}\t{norad}\t{clean(es.intl_designator or '-')}\t"
                   f"epoch {es.epoch:%Y-%m-%dT%H:%M:%S}Z\t{age_days:.2f} days old")
    typer.echo(f"fetched {record.element_sets} element set(s) from {record.url} at "
               f"{record.fetched_utc:%Y-%m-%dT%H:%M:%S}Z "
               f"(server date: {record.headers.get('Date', 'not given')})", err=True)
    typer.echo(f"wrote {result.cache_path} (fetch record {result.meta_path.name})", err=True)
    if result.output is not None:
        typer.echo(f"wrote {result.output}", err=True)
