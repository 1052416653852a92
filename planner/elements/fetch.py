"""Fresh element sets from CelesTrak's GP interface, validated, cached with their fetch time.

Only ``qkdplan tle fetch`` calls this module: nothing is downloaded unless a user asks. The query
(:mod:`planner.elements.gpquery`) is sent once (:mod:`planner.elements.download`) and the answer,
OMM JSON, is handled like this:

* **one request, never retried.** CelesTrak's usage policy asks automated clients to stop on any
  answer other than 200; a redirect, 403, 404 or 500 raises :class:`FetchError` at once.
* **validated before anything is written.** The answer must be complete (as long as its
  ``Content-Length``), UTF-8, JSON, and every record a valid element set
  (:func:`planner.elements.omm.parse_omm_json`); CelesTrak's plain-text "No GP data found" answer
  and an empty list are errors. A ``CATNR`` answer must hold that catalogue number.
* **cached with provenance** (:mod:`planner.elements.fetchcache`).

Every failure raises :class:`FetchError` (a :class:`~planner.errors.PlannerInputError`, so the
CLI prints one line naming the URL and exits with status 2) and leaves no file behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from planner.elements.download import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_BYTES,
    DEFAULT_READ_TIMEOUT_S,
    Answer,
    http_get,
)
from planner.elements.fetchcache import (
    FetchRecord,
    fetch_note,
    meta_path_for,
    read_fetch_record,
    write_cache,
)
from planner.elements.gpquery import (
    BASE_URL_ENV,
    CACHE_DIR_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_CACHE_DIR,
    GPQuery,
    check_cache_dir,
    check_positive,
    make_query,
    resolve_base_url,
    resolve_cache_dir,
)
from planner.errors import ElementSetError, FetchError
from planner.io.output import check_output_path, write_atomic

if TYPE_CHECKING:  # numpy and sgp4 load with the element sets, not with the command line
    from planner.elements.elementset import ElementSet

__all__ = [
    "BASE_URL_ENV",
    "CACHE_DIR_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_DEADLINE_S",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_READ_TIMEOUT_S",
    "Answer",
    "FetchError",
    "FetchRecord",
    "FetchResult",
    "GPQuery",
    "fetch_elements",
    "fetch_note",
    "http_get",
    "make_query",
    "meta_path_for",
    "read_fetch_record",
    "resolve_base_url",
    "resolve_cache_dir",
    "validate_answer",
    "write_cache",
]

_NO_GP_DATA = "No GP data found"


def validate_answer(answer: Answer, query: GPQuery) -> list[ElementSet]:
    """Check that an answer is CelesTrak GP JSON holding valid element sets for ``query``.

    Raises
    ------
    FetchError
        For "No GP data found", text that is not UTF-8 or not JSON, an invalid record (naming
        the line of the answer and the OMM keyword), an empty list, or a ``CATNR`` answer
        without that catalogue number.
    """
    from planner.elements.elementsets import parse_omm_json

    url = answer.url
    try:
        text = answer.body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FetchError(f"the answer is not UTF-8 text (byte {error.start})", path=url) from None
    head = text.strip()
    if not head.startswith(("[", "{")) and _NO_GP_DATA in head[:2000]:
        raise FetchError(f"CelesTrak has no element sets for {query.key}={query.value} (it "
                         f"answered {_NO_GP_DATA!r}); check {query.parameter}", path=url)
    if not head.startswith(("[", "{")):
        shown = " ".join(head[:40].split())
        raise FetchError(f"the answer is not JSON (it starts with {shown!r}); is `base_url` a "
                         "CelesTrak GP interface?", path=url)
    try:
        sets = parse_omm_json(text, source=url)
    except ElementSetError as error:
        raise FetchError(f"the answer is not valid element-set JSON: {error.message}",
                         path=url, line=error.line, field=error.field) from None
    if not sets:
        raise FetchError("the answer holds no element sets", path=url)
    if query.key == "CATNR" and not any(s.norad == int(query.value) for s in sets):
        found = ", ".join(sorted({str(s.norad) for s in sets}))[:60]
        raise FetchError(f"asked for catalogue number {query.value} but the answer holds "
                         f"{found}", path=url, field="NORAD_CAT_ID")
    return sets


def _mention_cached_copy(error: FetchError, cached: Path) -> FetchError:
    """After a non-200 answer, point to the copy of the same query already in the cache."""
    record = read_fetch_record(cached) if error.status is not None else None
    if record is None:
        return error
    fetched = record.fetched_utc.strftime("%Y-%m-%d %H:%M")
    better = FetchError(f"{error.message}; the copy fetched {fetched} UTC is in {cached}",
                        path=error.path, line=error.line, field=error.field)
    better.status = error.status
    return better


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_elements` fetched and wrote.

    Attributes
    ----------
    record
        The fetch record (also in the cache sidecar).
    element_sets
        The validated element sets.
    cache_path, meta_path
        The cached element-set file and its sidecar.
    output
        The ``output`` file, if one was asked for.
    """

    record: FetchRecord
    element_sets: list[ElementSet]
    cache_path: Path
    meta_path: Path
    output: Path | None = None


def fetch_elements(query: GPQuery, *, base_url: str | None = None,
                   cache_dir: str | Path | None = None, output: str | Path | None = None,
                   connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
                   read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
                   max_bytes: int = DEFAULT_MAX_BYTES,
                   deadline_s: float = DEFAULT_DEADLINE_S) -> FetchResult:
    """Fetch one query's element sets, validate them, cache them and optionally write a copy.

    Options are checked and the cache directory and ``output`` are checked for writability
    before the request; the answer is validated before anything is written.

    Parameters
    ----------
    query
        From :func:`make_query`.
    base_url
        The GP interface; ``None``: ``$QKDPLAN_CELESTRAK_URL`` or :data:`DEFAULT_BASE_URL`.
    cache_dir
        ``None``: ``$QKDPLAN_CACHE_DIR`` or :data:`DEFAULT_CACHE_DIR`.
    output
        Also write the OMM JSON here (atomically), if given.
    connect_timeout_s, read_timeout_s, max_bytes, deadline_s
        As :func:`http_get`.

    Returns
    -------
    FetchResult

    Raises
    ------
    OptionError
        For a bad option value or an unwritable cache directory or output.
    FetchError
        If the request fails or the answer is unusable (nothing is written then).
    """
    url = query.url(resolve_base_url(base_url))
    limits = {"connect_timeout_s": check_positive(connect_timeout_s, "connect_timeout_s"),
              "read_timeout_s": check_positive(read_timeout_s, "read_timeout_s"),
              "deadline_s": check_positive(deadline_s, "deadline_s"),
              "max_bytes": int(check_positive(max_bytes, "max_bytes"))}
    directory = resolve_cache_dir(cache_dir)
    check_cache_dir(directory)
    if output is not None:
        output = check_output_path(output, "output")
    try:
        answer = http_get(url, **limits)
    except FetchError as error:
        raise _mention_cached_copy(error, directory / f"{query.cache_stem}.json") from None
    sets = validate_answer(answer, query)
    record = FetchRecord.of(answer, query, sets)
    cache_path, meta_path = write_cache(directory, query, answer, record)
    if output is not None:
        write_atomic(output, answer.body, "output")
    return FetchResult(record=record, element_sets=sets, cache_path=cache_path,
                       meta_path=meta_path, output=None if output is None else Path(output))
