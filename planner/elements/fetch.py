"""Fresh element sets from CelesTrak's GP interface, validated, cached with their fetch time.

Only ``qkdplan tle fetch`` calls this module: nothing is downloaded unless a user asks. One query
(``CATNR``, ``INTDES``, ``GROUP`` or ``NAME``) is sent to the GP interface
(``https://celestrak.org/NORAD/elements/gp.php?CATNR=41731&FORMAT=json``) and the answer, OMM
JSON, is handled like this:

* **one request, never retried.** CelesTrak's usage policy asks automated clients to stop on any
  answer other than 200; a redirect, 403, 404 or 500 raises :class:`FetchError` at once.
* **bounded.** Separate connect and read timeouts (the read timeout bounds every wait for data,
  the answer's headers included; the whole transfer is also bounded), and a size limit: reading
  stops as soon as the answer is larger, and a larger ``Content-Length`` is refused before the
  body is read.
* **validated before anything is written.** The answer must be complete (as long as its
  ``Content-Length``), UTF-8, JSON, and every record a valid element set
  (:func:`planner.elements.elementsets.parse_omm_json`); CelesTrak's plain-text "No GP data found"
  answer and
  an empty list are errors. A ``CATNR`` answer must hold that catalogue number.
* **cached with provenance.** The answer is written, byte for byte and atomically, to
  ``<cache dir>/<query>.json`` (e.g. ``catnr-41731.json``, directly usable with ``--tle``) with a
  sidecar ``<query>.meta`` (JSON: URL, fetch time in UTC, HTTP status and headers of interest,
  size, SHA-256, number of sets, newest epoch), so the planner can say when the elements were
  fetched and how old they were then (:func:`read_fetch_record`, :meth:`FetchRecord.describe`).
  The cache directory is ``--cache-dir``, else ``$QKDPLAN_CACHE_DIR``, else
  ``~/.cache/qkdplan/elements``; the base URL is ``--base-url``, else ``$QKDPLAN_CELESTRAK_URL``,
  else CelesTrak's.

Every failure raises :class:`FetchError` (a :class:`~planner.errors.PlannerInputError`, so the
CLI prints one line naming the URL and exits with status 2) and leaves no file behind. Only the
standard library is used (``urllib``/``http.client``); proxies from the usual ``*_proxy``
environment variables are honoured.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import math
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner import __version__
from planner.errors import ElementSetError, OptionError, PlannerInputError
from planner.io.output import check_output_path, write_atomic

if TYPE_CHECKING:  # planner.elements.elementsets (sgp4) is imported when an answer is validated
    from planner.elements.elementsets import ElementSet

__all__ = [
    "BASE_URL_ENV",
    "CACHE_DIR_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_READ_TIMEOUT_S",
    "DEFAULT_TRANSFER_TIMEOUT_S",
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

#: CelesTrak's GP (general perturbations) query interface.
DEFAULT_BASE_URL = "https://celestrak.org/NORAD/elements/gp.php"
#: Environment variable overriding the base URL (a mirror, or a local test server).
BASE_URL_ENV = "QKDPLAN_CELESTRAK_URL"
#: Environment variable overriding the cache directory.
CACHE_DIR_ENV = "QKDPLAN_CACHE_DIR"
#: Default cache directory (``~`` expanded when used).
DEFAULT_CACHE_DIR = "~/.cache/qkdplan/elements"
#: Longest wait for the TCP connection (and TLS handshake) [s].
DEFAULT_CONNECT_TIMEOUT_S = 10.0
#: Longest wait for any data from the server once connected, headers included [s].
DEFAULT_READ_TIMEOUT_S = 30.0
#: Longest time for the whole body to arrive [s] (guards against a server that drips data).
DEFAULT_TRANSFER_TIMEOUT_S = 300.0
#: Largest answer accepted [bytes] (20 MB; CelesTrak's "active" group is about 10 MB of JSON).
DEFAULT_MAX_BYTES = 20_000_000

#: HTTP answer headers kept in the cache sidecar.
KEPT_HEADERS = ("Date", "Last-Modified", "ETag", "Content-Type", "Content-Length",
                "Cache-Control", "Expires", "Age", "Server")

_QUERY_OPTIONS = {"CATNR": "--catnr", "INTDES": "--intdes", "GROUP": "--group", "NAME": "--name"}
_INTDES_RE = re.compile(r"\d{4}-\d{3}[A-Z]{0,3}", re.ASCII)
_GROUP_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}", re.ASCII)
_MAX_CATNR = 999_999_999
_MAX_NAME_LENGTH = 100
_CHUNK_BYTES = 65_536
_NO_GP_DATA = "No GP data found"
_NOT_UPDATED = "has not updated since your last"
_ERROR_TEXT_BYTES = 1024
_ERROR_TEXT_CHARS = 160
_USER_AGENT = f"qkdplan/{__version__} (Python urllib; one request per user command)"
_META_SUFFIX = ".meta"


class FetchError(PlannerInputError):
    """Fetching element sets failed: no connection, a non-200 answer, or an unusable answer.

    ``path`` is the URL asked; nothing has been written when this is raised. ``status`` is the
    HTTP status of a non-200 answer (else ``None``).
    """

    status: int | None = None


# --------------------------------------------------------------------------------------------
# The query
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GPQuery:
    """One CelesTrak GP query, e.g. ``GPQuery("CATNR", "41731")``.

    Attributes
    ----------
    key
        ``"CATNR"``, ``"INTDES"``, ``"GROUP"`` or ``"NAME"``.
    value
        The value sent (already checked by :func:`make_query`).
    """

    key: str
    value: str

    @property
    def option(self) -> str:
        """The command-line option that sets this query (for messages)."""
        return _QUERY_OPTIONS[self.key]

    def url(self, base_url: str) -> str:
        """The full request URL: ``base_url`` with ``KEY=value&FORMAT=json`` appended."""
        parts = urllib.parse.urlsplit(base_url)
        params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        params = [(k, v) for k, v in params if k.upper() not in (*_QUERY_OPTIONS, "FORMAT")]
        params += [(self.key, self.value), ("FORMAT", "json")]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(params)))

    @property
    def cache_stem(self) -> str:
        """File-name stem of this query in the cache, e.g. ``catnr-41731``, ``intdes-2022-086``.

        Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``; a short hash
        of the value is appended when that changed anything, so distinct queries never share
        a file.
        """
        text = self.value.lower()
        safe = re.sub(r"[^a-z0-9._-]+", "_", text).strip("._")[:60] or "_"
        if safe != text:
            safe += "-" + hashlib.sha256(self.value.encode()).hexdigest()[:8]
        return f"{self.key.lower()}-{safe}"


def make_query(catnr: int | None = None, intdes: str | None = None, group: str | None = None,
               name: str | None = None) -> GPQuery:
    """Check the query options (exactly one must be given) and build the query.

    Parameters
    ----------
    catnr
        Catalogue (NORAD) number, 1 to 999999999.
    intdes
        International designator of a launch (``2022-086``) or object (``2022-086A``).
    group
        A CelesTrak group name such as ``stations`` or ``active``.
    name
        (Part of) a satellite name, at most 100 characters.

    Raises
    ------
    OptionError
        If none or more than one is given, or the value is malformed.
    """
    given = {key: value for key, value in
             (("CATNR", catnr), ("INTDES", intdes), ("GROUP", group), ("NAME", name))
             if value is not None}
    if len(given) != 1:
        found = "none" if not given else " and ".join(_QUERY_OPTIONS[k] for k in given)
        raise OptionError(f"give exactly one of --catnr, --intdes, --group, --name "
                          f"(found {found})", field="--catnr")
    key, value = next(iter(given.items()))
    return GPQuery(key, _CHECKS[key](value))


def _check_catnr(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_CATNR:
        raise OptionError(f"expected a catalogue number from 1 to {_MAX_CATNR}, found "
                          f"{value!r}", field="--catnr")
    return str(value)


def _check_intdes(value: Any) -> str:
    text = str(value).strip().upper()
    if not _INTDES_RE.fullmatch(text):
        raise OptionError(f"expected an international designator such as 2022-086 or "
                          f"2016-051A, found {str(value)[:40]!r}", field="--intdes")
    return text


def _check_group(value: Any) -> str:
    text = str(value).strip()
    if not _GROUP_RE.fullmatch(text):
        raise OptionError(f"expected a CelesTrak group name such as 'stations' or 'active' "
                          f"(letters, digits, '-', '_', '.'), found {str(value)[:40]!r}",
                          field="--group")
    return text


def _check_name(value: Any) -> str:
    text = " ".join(str(value).split())
    if not text or len(text) > _MAX_NAME_LENGTH or not text.isprintable():
        raise OptionError(f"expected a satellite name of 1 to {_MAX_NAME_LENGTH} printable "
                          f"characters, found {str(value)[:40]!r}", field="--name")
    return text


_CHECKS = {"CATNR": _check_catnr, "INTDES": _check_intdes, "GROUP": _check_group,
           "NAME": _check_name}


# --------------------------------------------------------------------------------------------
# Settings from options and the environment
# --------------------------------------------------------------------------------------------


def resolve_base_url(base_url: str | None = None) -> str:
    """The base URL: ``base_url``, else ``$QKDPLAN_CELESTRAK_URL``, else CelesTrak's.

    Raises
    ------
    OptionError
        If the URL is not ``http://`` or ``https://`` with a host (``file:``, ``ftp:`` and
        others are refused), naming ``--base-url`` or the environment variable.
    """
    option = "--base-url"
    if base_url is None or not base_url.strip():
        base_url, option = os.environ.get(BASE_URL_ENV, "").strip(), BASE_URL_ENV
        if not base_url:
            return DEFAULT_BASE_URL
    base_url = base_url.strip()
    try:
        parts = urllib.parse.urlsplit(base_url)
        has_host = bool(parts.hostname)
    except ValueError:
        parts, has_host = None, False
    if parts is None or parts.scheme.lower() not in ("http", "https") or not has_host:
        raise OptionError(f"expected an http:// or https:// URL such as {DEFAULT_BASE_URL}, "
                          f"found {base_url[:60]!r}", field=option)
    return base_url


def resolve_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """The cache directory: ``cache_dir``, else ``$QKDPLAN_CACHE_DIR``, else the default.

    ``~`` is expanded. The directory is not created here.
    """
    if cache_dir is None or not str(cache_dir).strip():
        cache_dir = os.environ.get(CACHE_DIR_ENV, "").strip() or DEFAULT_CACHE_DIR
    return Path(cache_dir).expanduser()


def _check_positive(value: float, option: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise OptionError(f"expected a positive number, found {value!r}", field=option)
    return float(value)


def _check_cache_dir(path: Path) -> None:
    """Fail before any request if ``path`` cannot become a writable directory."""
    if path.exists() and not path.is_dir():
        raise OptionError(f"{str(path)!r} exists and is not a directory", field="--cache-dir")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OptionError(f"cannot create or write the cache directory {str(path)!r} "
                          f"({str(existing)!r} is not writable)", field="--cache-dir")


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A complete 200 answer.

    Attributes
    ----------
    url
        The URL asked.
    status
        HTTP status (always 200).
    headers
        The headers of :data:`KEPT_HEADERS` that the server sent.
    body
        The body, complete and within the size limit.
    fetched_utc
        When the answer's headers arrived (timezone-aware UTC).
    """

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_utc: datetime


class _ReadTimeout:
    """Mixin for http.client connections: ``timeout`` covers connecting (and the TLS handshake);
    once connected, reads use ``read_timeout_s``."""

    def __init__(self, *args: Any, read_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timeout_s = read_timeout_s

    def connect(self) -> None:
        super().connect()
        self.sock.settimeout(self._read_timeout_s)


class _TimedHTTPConnection(_ReadTimeout, http.client.HTTPConnection):
    """HTTP with separate connect and read timeouts."""


class _TimedHTTPSConnection(_ReadTimeout, http.client.HTTPSConnection):
    """HTTPS with separate connect and read timeouts."""


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, read_timeout_s: float) -> None:
        super().__init__()
        self.read_timeout_s = read_timeout_s

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_TimedHTTPConnection, req, read_timeout_s=self.read_timeout_s)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, read_timeout_s: float) -> None:
        super().__init__()
        self.read_timeout_s = read_timeout_s

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_TimedHTTPSConnection, req, context=self._context,
                            read_timeout_s=self.read_timeout_s)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse to follow redirects: a 3xx answer becomes an ``HTTPError`` like any non-200."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def _opener(read_timeout_s: float) -> urllib.request.OpenerDirector:
    """An opener with our timeouts, no redirects and the environment's proxies."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler(), _HTTPHandler(read_timeout_s),
        _HTTPSHandler(read_timeout_s), _NoRedirect())


def _megabytes(size: int) -> str:
    return f"{size / 1e6:g} MB"


def _error_text(error: urllib.error.HTTPError) -> str:
    """The start of a plain-text error answer, on one line ('' for HTML or nothing)."""
    reader = getattr(error, "fp", None)
    try:  # one read of what has arrived: a server dripping its error page cannot hold us
        raw = (reader.read1(_ERROR_TEXT_BYTES) if hasattr(reader, "read1")
               else error.read(_ERROR_TEXT_BYTES))
    except (OSError, ValueError, http.client.HTTPException):
        return ""
    text = " ".join(raw.decode("utf-8", "replace").split())
    if not text or text.startswith("<"):
        return ""
    return text if len(text) <= _ERROR_TEXT_CHARS else text[:_ERROR_TEXT_CHARS - 3] + "..."


def _status_error(url: str, code: int, reason: str, location: str | None, text: str = ""
                  ) -> FetchError:
    """The error for a non-200 answer, with what the server said and a hint of what to do."""
    if code == 403 and _NOT_UPDATED in text:
        hint = ("CelesTrak serves the same data once per update, every two hours: the copy "
                "fetched before is current")
    else:
        hint = _status_hint(code, location)
    said = f" ({text!r})" if text else ""
    error = FetchError(f"the server answered {code} {reason.strip() or '(no reason)'}{said}; "
                       f"stopped without retrying, as CelesTrak's usage policy asks ({hint})",
                       path=url, field="HTTP status")
    error.status = code
    return error


def _status_hint(code: int, location: str | None) -> str:
    hints = {
        301: f"the server moved it to {location}; pass that as --base-url",
        302: f"the server redirects to {location}; pass that as --base-url",
        403: "CelesTrak blocks clients that ask too often: wait before asking again, and do "
             "not fetch the same data more often than it is updated (about every two hours)",
        404: "check --base-url (CelesTrak's is " + DEFAULT_BASE_URL + ")",
    }
    return hints.get(code) or (
        f"redirected to {location}; pass that as --base-url" if 300 <= code < 400
        else "the server has a problem: try again later" if code >= 500
        else "check the query and --base-url")


def _connect_error(url: str, error: urllib.error.URLError, connect_timeout_s: float
                   ) -> FetchError:
    reason = error.reason
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return FetchError(f"no connection within the {connect_timeout_s:g} s connect timeout "
                          "(--connect-timeout)", path=url)
    text = getattr(reason, "strerror", None) or str(reason)
    return FetchError(f"cannot connect: {text}", path=url)


def _kept_headers(message: Mapping[str, str]) -> dict[str, str]:
    return {name: str(message[name]) for name in KEPT_HEADERS if message.get(name) is not None}


def _content_length(headers: Mapping[str, str], url: str) -> int | None:
    text = headers.get("Content-Length")
    if text is None:
        return None
    if not text.strip().isdigit():
        raise FetchError(f"the answer's Content-Length {text[:20]!r} is not a number", path=url)
    return int(text.strip())


def _read_body(response: http.client.HTTPResponse, url: str, *, max_bytes: int,
               declared: int | None, read_timeout_s: float, transfer_timeout_s: float) -> bytes:
    """Read the body in chunks, stopping past ``max_bytes`` or the transfer deadline."""
    if declared is not None and declared > max_bytes:
        raise FetchError(f"the answer is {_megabytes(declared)} (Content-Length), larger than "
                         f"the {_megabytes(max_bytes)} limit (--max-size-mb); nothing was read",
                         path=url)
    deadline = time.monotonic() + transfer_timeout_s
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = response.read1(_CHUNK_BYTES)
        except TimeoutError:
            raise FetchError(f"the answer stalled: no data for {read_timeout_s:g} s after "
                             f"{size} bytes (read timeout, --read-timeout)", path=url) from None
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"the answer is larger than the {_megabytes(max_bytes)} limit "
                             "(--max-size-mb); stopped reading", path=url)
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise FetchError(f"the answer took longer than {transfer_timeout_s:g} s to arrive "
                             f"({size} bytes so far)", path=url)
    if declared is not None and size != declared:
        raise FetchError(f"the answer was cut off: {size} of {declared} bytes "
                         "(Content-Length) arrived", path=url)
    return b"".join(chunks)


def http_get(url: str, *, connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
             read_timeout_s: float = DEFAULT_READ_TIMEOUT_S, max_bytes: int = DEFAULT_MAX_BYTES,
             transfer_timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> Answer:
    """GET ``url`` once and return the complete body of a 200 answer.

    Parameters
    ----------
    url
        An ``http://`` or ``https://`` URL.
    connect_timeout_s
        Longest wait for the connection, TLS handshake included [s].
    read_timeout_s
        Longest wait for the answer's headers and for each block of its body [s].
    max_bytes
        Largest body accepted [bytes]; reading stops as soon as it is exceeded.
    transfer_timeout_s
        Longest time for the whole body [s].

    Returns
    -------
    Answer

    Raises
    ------
    FetchError
        On no connection, a timeout, any status other than 200 (redirects are not followed),
        a body larger than ``max_bytes`` or shorter than its ``Content-Length``.
    """
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT,
                                                   "Accept": "application/json"})
    try:
        response = _opener(read_timeout_s).open(request, timeout=connect_timeout_s)
    except urllib.error.HTTPError as error:
        text = _error_text(error)
        error.close()
        location = (error.headers or {}).get("Location")
        raise _status_error(url, error.code, str(error.reason), location, text) from None
    except urllib.error.URLError as error:
        raise _connect_error(url, error, connect_timeout_s) from None
    except TimeoutError:
        raise FetchError(f"no answer within the {read_timeout_s:g} s read timeout "
                         "(--read-timeout)", path=url) from None
    except (http.client.HTTPException, OSError) as error:
        raise FetchError(f"the connection failed: {type(error).__name__}: {error}",
                         path=url) from None
    with response:
        return _complete_answer(response, url, max_bytes=max_bytes,
                                read_timeout_s=read_timeout_s,
                                transfer_timeout_s=transfer_timeout_s)


def _complete_answer(response: http.client.HTTPResponse, url: str, *, max_bytes: int,
                     read_timeout_s: float, transfer_timeout_s: float) -> Answer:
    fetched = datetime.now(UTC)
    if response.status != 200:
        raise _status_error(url, response.status, response.reason or "", None)
    headers = _kept_headers(response.headers)
    try:
        body = _read_body(response, url, max_bytes=max_bytes,
                          declared=_content_length(response.headers, url),
                          read_timeout_s=read_timeout_s, transfer_timeout_s=transfer_timeout_s)
    except (http.client.HTTPException, OSError) as error:  # e.g. a cut-off chunked answer
        raise FetchError(f"the answer was cut off: {type(error).__name__}", path=url) from None
    return Answer(url=url, status=response.status, headers=headers, body=body,
                  fetched_utc=fetched)


# --------------------------------------------------------------------------------------------
# Validating the answer
# --------------------------------------------------------------------------------------------


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
                         f"answered {_NO_GP_DATA!r}); check {query.option}", path=url)
    if not head.startswith(("[", "{")):
        shown = " ".join(head[:40].split())
        raise FetchError(f"the answer is not JSON (it starts with {shown!r}); is --base-url a "
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


# --------------------------------------------------------------------------------------------
# The cache and its fetch records
# --------------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _age(seconds: float) -> str:
    if abs(seconds) < 7200:
        return f"{seconds / 60:.0f} min"
    if abs(seconds) < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@dataclass(frozen=True)
class FetchRecord:
    """Where and when an element-set file was fetched (the cache sidecar's content).

    Attributes
    ----------
    url
        The URL asked.
    query
        ``{"key": "CATNR", "value": "41731"}``.
    fetched_utc
        When the answer arrived (timezone-aware UTC).
    status
        HTTP status (200).
    headers
        HTTP headers of interest (:data:`KEPT_HEADERS` that were sent).
    size_bytes, sha256
        Size and SHA-256 (hex) of the element-set file as written.
    element_sets
        Number of element sets in it.
    newest_epoch_utc, oldest_epoch_utc
        Newest and oldest element-set epochs (timezone-aware UTC).
    generator
        ``qkdplan <version>``.
    """

    url: str
    query: dict[str, str]
    fetched_utc: datetime
    status: int
    headers: dict[str, str]
    size_bytes: int
    sha256: str
    element_sets: int
    newest_epoch_utc: datetime
    oldest_epoch_utc: datetime
    generator: str = field(default=f"qkdplan {__version__}")

    @classmethod
    def of(cls, answer: Answer, query: GPQuery, sets: list[ElementSet]) -> FetchRecord:
        """The record of a validated answer."""
        epochs = [s.epoch for s in sets]
        return cls(url=answer.url, query={"key": query.key, "value": query.value},
                   fetched_utc=answer.fetched_utc, status=answer.status,
                   headers=dict(answer.headers), size_bytes=len(answer.body),
                   sha256=hashlib.sha256(answer.body).hexdigest(), element_sets=len(sets),
                   newest_epoch_utc=max(epochs), oldest_epoch_utc=min(epochs))

    def to_json(self) -> str:
        """The record as a JSON document (times ISO 8601 UTC with ``Z``)."""
        data = asdict(self)
        for key in ("fetched_utc", "newest_epoch_utc", "oldest_epoch_utc"):
            data[key] = _iso(data[key])
        return json.dumps(data, indent=1, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> FetchRecord:
        """Read a record written by :meth:`to_json`.

        Raises
        ------
        ValueError, KeyError, TypeError
            If the text is not such a record.
        """
        data = json.loads(text)
        for key in ("fetched_utc", "newest_epoch_utc", "oldest_epoch_utc"):
            data[key] = _parse_iso(data[key])
        return cls(**data)

    def describe(self, now: datetime | None = None) -> str:
        """One line: when and where from the sets were fetched, and how old they were.

        Parameters
        ----------
        now
            Reference time (default: the current time), for "fetched ... ago".
        """
        now = datetime.now(UTC) if now is None else now.astimezone(UTC)
        since = (now - self.fetched_utc).total_seconds()
        at_fetch = (self.fetched_utc - self.newest_epoch_utc).total_seconds()
        return (f"{self.element_sets} element set(s) fetched {self.fetched_utc:%Y-%m-%d %H:%M} "
                f"UTC ({_age(since)} ago) from {self.url}; newest epoch "
                f"{self.newest_epoch_utc:%Y-%m-%d %H:%M} UTC, {_age(at_fetch)} old when fetched")


def meta_path_for(element_path: str | Path) -> Path:
    """The sidecar of an element-set file: ``catnr-41731.json`` -> ``catnr-41731.meta``."""
    path = Path(element_path)
    return path.with_name(path.stem + _META_SUFFIX)


def read_fetch_record(element_path: str | Path) -> FetchRecord | None:
    """The fetch record of an element-set file, if it has a sidecar that matches it.

    Returns ``None`` when there is no sidecar, it cannot be read, or the file's SHA-256 differs
    from the recorded one (the file was changed after it was fetched).
    """
    path = Path(element_path)
    try:
        record = FetchRecord.from_json(meta_path_for(path).read_text(encoding="utf-8"))
        data = path.read_bytes()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return record if hashlib.sha256(data).hexdigest() == record.sha256 else None


def fetch_note(element_path: str | Path, now: datetime | None = None) -> str | None:
    """``"<file>: <FetchRecord.describe>"`` for a fetched file, ``None`` for any other."""
    record = read_fetch_record(element_path)
    return None if record is None else f"{element_path}: {record.describe(now)}"


def write_cache(cache_dir: Path, query: GPQuery, answer: Answer, record: FetchRecord
                ) -> tuple[Path, Path]:
    """Write the answer and its sidecar into ``cache_dir`` (created if needed), atomically.

    Returns
    -------
    (Path, Path)
        The element-set file and its sidecar.
    """
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OptionError(f"cannot create the cache directory {str(cache_dir)!r}: "
                          f"{error.strerror}", field="--cache-dir") from None
    path = cache_dir / f"{query.cache_stem}.json"
    write_atomic(path, answer.body, option="--cache-dir")
    meta = write_atomic(meta_path_for(path), record.to_json(), option="--cache-dir")
    return path, meta


# --------------------------------------------------------------------------------------------
# The whole job
# --------------------------------------------------------------------------------------------


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
        The ``--output`` file, if one was asked for.
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
                   transfer_timeout_s: float = DEFAULT_TRANSFER_TIMEOUT_S) -> FetchResult:
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
    connect_timeout_s, read_timeout_s, max_bytes, transfer_timeout_s
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
    limits = {"connect_timeout_s": _check_positive(connect_timeout_s, "--connect-timeout"),
              "read_timeout_s": _check_positive(read_timeout_s, "--read-timeout"),
              "transfer_timeout_s": _check_positive(transfer_timeout_s, "transfer_timeout_s"),
              "max_bytes": int(_check_positive(max_bytes, "--max-size-mb"))}
    directory = resolve_cache_dir(cache_dir)
    _check_cache_dir(directory)
    if output is not None:
        output = check_output_path(output)
    try:
        answer = http_get(url, **limits)
    except FetchError as error:
        raise _mention_cached_copy(error, directory / f"{query.cache_stem}.json") from None
    sets = validate_answer(answer, query)
    record = FetchRecord.of(answer, query, sets)
    cache_path, meta_path = write_cache(directory, query, answer, record)
    if output is not None:
        write_atomic(output, answer.body)
    return FetchResult(record=record, element_sets=sets, cache_path=cache_path,
                       meta_path=meta_path, output=None if output is None else Path(output))
