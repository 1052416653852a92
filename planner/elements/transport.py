"""HTTP connections for :mod:`planner.elements.download`: separate timeouts, no redirects.

``urllib`` has one timeout for connecting and reading; these connections take the connect
timeout for the TCP connection and TLS handshake and a read timeout for every read after it,
record each raw socket (so that a watchdog can shut it down at the overall deadline), and turn
every redirect into an error (CelesTrak's usage policy: stop on any answer other than 200).
Only :func:`planner.elements.download.http_get` imports this module, when it sends a request,
so no other command pays for loading the HTTP client.
"""

from __future__ import annotations

import http.client
import socket
import urllib.request
from typing import Any

__all__ = ["opener"]


class _ReadTimeout:
    """Mixin for http.client connections: ``timeout`` covers connecting (and the TLS handshake);
    once connected, reads use ``read_timeout_s``. Each raw socket opened is added to
    ``sockets``, so that a watchdog can shut it down when the overall deadline passes."""

    def __init__(self, *args: Any, read_timeout_s: float, sockets: list[socket.socket],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timeout_s = read_timeout_s
        create = self._create_connection

        def create_and_record(*c_args: Any, **c_kwargs: Any) -> socket.socket:
            sock = create(*c_args, **c_kwargs)
            sockets.append(sock)
            return sock

        self._create_connection = create_and_record

    def connect(self) -> None:
        super().connect()
        self.sock.settimeout(self._read_timeout_s)


class _TimedHTTPConnection(_ReadTimeout, http.client.HTTPConnection):
    """HTTP with separate connect and read timeouts."""


class _TimedHTTPSConnection(_ReadTimeout, http.client.HTTPSConnection):
    """HTTPS with separate connect and read timeouts."""


class _TimedHandler:
    """Mixin for urllib's HTTP and HTTPS handlers: open their connections with
    ``read_timeout_s`` and ``sockets`` (see :class:`_ReadTimeout`)."""

    def __init__(self, read_timeout_s: float, sockets: list[socket.socket]) -> None:
        super().__init__()
        self.read_timeout_s = read_timeout_s
        self.sockets = sockets

    def _timed_open(self, connection: type[http.client.HTTPConnection],
                    req: urllib.request.Request, **extra: Any) -> http.client.HTTPResponse:
        """``do_open`` with ``connection`` and our read timeout and socket list."""
        return self.do_open(connection, req, read_timeout_s=self.read_timeout_s,
                            sockets=self.sockets, **extra)


class _HTTPHandler(_TimedHandler, urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self._timed_open(_TimedHTTPConnection, req)


class _HTTPSHandler(_TimedHandler, urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self._timed_open(_TimedHTTPSConnection, req, context=self._context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse to follow redirects: a 3xx answer becomes an ``HTTPError`` like any non-200."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def opener(read_timeout_s: float, sockets: list[socket.socket]
           ) -> urllib.request.OpenerDirector:
    """An opener with our timeouts, no redirects and the environment's proxies."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler(), _HTTPHandler(read_timeout_s, sockets),
        _HTTPSHandler(read_timeout_s, sockets), _NoRedirect())
