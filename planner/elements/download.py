"""One bounded HTTP GET: no retries, no redirects, a size limit and timeouts.

Separate connect and read timeouts (the read timeout bounds every wait for data, the answer's
headers included), one overall deadline over the whole request (connection, headers and body: a
server that drips its headers a byte at a time cannot hold the request past it), and a size
limit: reading stops as soon as the answer is larger, and a larger ``Content-Length`` is refused
before the body is read. Only the
standard library is used (``urllib``/``http.client``, loaded with the first request; the
connections are in :mod:`planner.elements.transport`); proxies from the usual ``*_proxy``
environment variables are honoured.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from planner import __version__
from planner.elements.gpquery import DEFAULT_BASE_URL
from planner.errors import FetchError

if TYPE_CHECKING:  # the HTTP client loads with the first request (start-up of every command)
    import http.client
    import urllib.error

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_DEADLINE_S",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_READ_TIMEOUT_S",
    "KEPT_HEADERS",
    "Answer",
    "http_get",
]

#: Longest wait for the TCP connection (and TLS handshake) [s].
DEFAULT_CONNECT_TIMEOUT_S = 10.0
#: Longest wait for any data from the server once connected, headers included [s].
DEFAULT_READ_TIMEOUT_S = 30.0
#: Longest time for the whole request, connection, headers and body [s] (guards against a
#: server that drips its headers or body a byte at a time, which no read timeout catches).
DEFAULT_DEADLINE_S = 300.0
#: Largest answer accepted [bytes] (20 MB; CelesTrak's "active" group is about 10 MB of JSON).
DEFAULT_MAX_BYTES = 20_000_000

#: HTTP answer headers kept in the cache sidecar.
KEPT_HEADERS = ("Date", "Last-Modified", "ETag", "Content-Type", "Content-Length",
                "Cache-Control", "Expires", "Age", "Server")

_CHUNK_BYTES = 65_536
_NOT_UPDATED = "has not updated since your last"
_ERROR_TEXT_BYTES = 1024
_ERROR_TEXT_CHARS = 160
_USER_AGENT = f"qkdplan/{__version__} (Python urllib; one request per user command)"


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


def _megabytes(size: int) -> str:
    return f"{size / 1e6:g} MB"


def _error_text(error: urllib.error.HTTPError) -> str:
    """The start of a plain-text error answer, on one line ('' for HTML or nothing)."""
    import http.client

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
        301: f"the server moved it to {location}; pass that as `base_url`",
        302: f"the server redirects to {location}; pass that as `base_url`",
        403: "CelesTrak blocks clients that ask too often: wait before asking again, and do "
             "not fetch the same data more often than it is updated (about every two hours)",
        404: "check `base_url` (CelesTrak's is " + DEFAULT_BASE_URL + ")",
    }
    return hints.get(code) or (
        f"redirected to {location}; pass that as `base_url`" if 300 <= code < 400
        else "the server has a problem: try again later" if code >= 500
        else "check the query and `base_url`")


def _connect_error(url: str, error: urllib.error.URLError, connect_timeout_s: float
                   ) -> FetchError:
    reason = error.reason
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return FetchError(f"no connection within the {connect_timeout_s:g} s connect timeout "
                          "(`connect_timeout_s`)", path=url)
    text = getattr(reason, "strerror", None) or str(reason)
    return FetchError(f"cannot connect: {text}", path=url)


def _kept_headers(message: Mapping[str, str]) -> dict[str, str]:
    return {name: str(message[name]) for name in KEPT_HEADERS if message.get(name) is not None}


def _content_length(headers: Mapping[str, str], url: str) -> int | None:
    values = headers.get_all("Content-Length") if hasattr(headers, "get_all") else None
    if values and len({value.strip() for value in values}) > 1:
        shown = ", ".join(repr(value[:20]) for value in values[:4])
        raise FetchError(f"the answer has conflicting Content-Length headers ({shown}); "
                         "refused, as the length of the answer is unknown", path=url,
                         field="Content-Length")
    text = headers.get("Content-Length")
    if text is None:
        return None
    if not text.strip().isdigit():
        raise FetchError(f"the answer's Content-Length {text[:20]!r} is not a number", path=url)
    return int(text.strip())


def _read_body(response: http.client.HTTPResponse, url: str, *, max_bytes: int,
               declared: int | None, read_timeout_s: float) -> bytes:
    """Read the body in chunks, stopping as soon as it is larger than ``max_bytes``."""
    if declared is not None and declared > max_bytes:
        raise FetchError(f"the answer is {_megabytes(declared)} (Content-Length), larger than "
                         f"the {_megabytes(max_bytes)} limit (`max_bytes`); nothing was read",
                         path=url)
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = response.read1(_CHUNK_BYTES)
        except TimeoutError:
            raise FetchError(f"the answer stalled: no data for {read_timeout_s:g} s after "
                             f"{size} bytes (`read_timeout_s`)", path=url) from None
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"the answer is larger than the {_megabytes(max_bytes)} limit "
                             "(`max_bytes`); stopped reading", path=url)
        chunks.append(chunk)
    if declared is not None and size != declared:
        raise FetchError(f"the answer was cut off: {size} of {declared} bytes "
                         "(Content-Length) arrived", path=url)
    return b"".join(chunks)


def http_get(url: str, *, connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
             read_timeout_s: float = DEFAULT_READ_TIMEOUT_S, max_bytes: int = DEFAULT_MAX_BYTES,
             deadline_s: float = DEFAULT_DEADLINE_S) -> Answer:
    """GET ``url`` once and return the complete body of a 200 answer, within a deadline.

    The request runs in a worker thread; when ``deadline_s`` passes, its sockets are shut down
    and :class:`FetchError` is raised, whatever the request was doing (resolving the name,
    connecting, waiting for headers sent a byte at a time, reading the body).

    Parameters
    ----------
    url
        An ``http://`` or ``https://`` URL.
    connect_timeout_s
        Longest wait for the connection, TLS handshake included [s].
    read_timeout_s
        Longest wait for any data from the server: the answer's headers, each block of its
        body [s].
    max_bytes
        Largest body accepted [bytes]; reading stops as soon as it is exceeded.
    deadline_s
        Longest time for the whole request: connection, headers and body [s].

    Returns
    -------
    Answer

    Raises
    ------
    FetchError
        On no connection, a timeout, the deadline, any status other than 200 (redirects are
        not followed), a body larger than ``max_bytes`` or shorter than its ``Content-Length``,
        or conflicting ``Content-Length`` headers.
    """
    sockets: list[socket.socket] = []
    outcome: dict[str, Any] = {}

    def request() -> None:
        try:
            outcome["answer"] = _get_once(url, sockets, connect_timeout_s=connect_timeout_s,
                                          read_timeout_s=read_timeout_s, max_bytes=max_bytes)
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error

    worker = threading.Thread(target=request, name="qkdplan-http-get", daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive():
        for sock in list(sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        raise FetchError(f"no complete answer within the {deadline_s:g} s deadline "
                         "(`deadline_s`); gave up", path=url)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["answer"]


def _get_once(url: str, sockets: list[socket.socket], *, connect_timeout_s: float,
              read_timeout_s: float, max_bytes: int) -> Answer:
    """The request itself, without the overall deadline (see :func:`http_get`)."""
    import http.client
    import urllib.error
    import urllib.request

    from planner.elements.transport import opener

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT,
                                                   "Accept": "application/json"})
    try:
        response = opener(read_timeout_s, sockets).open(request, timeout=connect_timeout_s)
    except urllib.error.HTTPError as error:
        text = _error_text(error)
        error.close()
        location = (error.headers or {}).get("Location")
        raise _status_error(url, error.code, str(error.reason), location, text) from None
    except urllib.error.URLError as error:
        raise _connect_error(url, error, connect_timeout_s) from None
    except TimeoutError:
        raise FetchError(f"no answer within the {read_timeout_s:g} s read timeout "
                         "(`read_timeout_s`)", path=url) from None
    except (http.client.HTTPException, OSError) as error:
        raise FetchError(f"the connection failed: {type(error).__name__}: {error}",
                         path=url) from None
    with response:
        return _complete_answer(response, url, max_bytes=max_bytes,
                                read_timeout_s=read_timeout_s)


def _complete_answer(response: http.client.HTTPResponse, url: str, *, max_bytes: int,
                     read_timeout_s: float) -> Answer:
    import http.client

    fetched = datetime.now(UTC)
    if response.status != 200:
        raise _status_error(url, response.status, response.reason or "", None)
    headers = _kept_headers(response.headers)
    try:
        body = _read_body(response, url, max_bytes=max_bytes,
                          declared=_content_length(response.headers, url),
                          read_timeout_s=read_timeout_s)
    except (http.client.HTTPException, OSError) as error:  # e.g. a cut-off chunked answer
        raise FetchError(f"the answer was cut off: {type(error).__name__}", path=url) from None
    return Answer(url=url, status=response.status, headers=headers, body=body,
                  fetched_utc=fetched)
