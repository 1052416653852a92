"""``qkdplan tle fetch`` against a local HTTP server serving recorded CelesTrak answers.

The server runs in a thread on 127.0.0.1 (port 0) for this module; nothing here reaches the
network: an autouse fixture points ``QKDPLAN_CELESTRAK_URL`` at a closed local port and clears
proxy variables, so a test that forgot ``base_url`` fails instead of calling CelesTrak. Each
scenario checks the error type and message, that exactly one request was made (CelesTrak's
policy: stop on any non-200 answer, never retry), that no cache or output file is left, and that
timeouts bound the time taken (the server waits far longer than the timeout given).

Recorded answers: tests/data/fetch (see its README.md).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import planner.cli.root
from planner.elements.elementsets import parse_tle_text
from planner.elements.fetch import (
    BASE_URL_ENV,
    CACHE_DIR_ENV,
    DEFAULT_BASE_URL,
    FetchError,
    FetchRecord,
    GPQuery,
    fetch_elements,
    fetch_note,
    http_get,
    make_query,
    meta_path_for,
    read_fetch_record,
    resolve_base_url,
    resolve_cache_dir,
)
from planner.errors import OptionError, PlannerInputError
from tests.conftest import MICIUS_TLE

DATA = Path(__file__).resolve().parents[1] / "data" / "fetch"
MICIUS_ANSWER = (DATA / "gp_catnr_41731.json").read_bytes()
NOT_UPDATED = (DATA / "not_updated_403.txt").read_bytes()
SERVER_WAIT_S = 5.0  # how long the "slow" scenarios stall: far beyond the timeouts used
TIMEOUT_S = 0.5
BOUND_S = 3.5  # a timed-out request must give up well before the server would have answered


# ---------------------------------------------------------------------------------------------
# The local server
# ---------------------------------------------------------------------------------------------


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes,
          content_type: str = "application/json", length: int | None = None,
          extra: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    if length is not None:
        handler.send_header("Content-Length", str(length))
    for name, value in (extra or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def _ok(handler, body: bytes = MICIUS_ANSWER) -> None:
    _send(handler, 200, body, length=len(body), extra={
        "Last-Modified": "Tue, 27 Apr 2021 12:00:00 GMT", "ETag": '"micius-41731"',
        "Cache-Control": "max-age=7200"})


def _stall_then(handler, first: bytes = b"") -> None:
    """Send ``first`` (headers/body so far), then stall until the test is over."""
    if first:
        handler.wfile.write(first)
        handler.wfile.flush()
    handler.server.stop.wait(SERVER_WAIT_S)


def _truncated_connection(handler) -> None:
    """Promise the whole answer (Content-Length), send 200 bytes, close the connection."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(MICIUS_ANSWER)))
    handler.end_headers()
    handler.wfile.write(MICIUS_ANSWER[:200])
    handler.close_connection = True


def _truncated_chunks(handler) -> None:
    """A chunked answer whose connection closes inside its first chunk."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    handler.wfile.write(b"%x\r\n" % len(MICIUS_ANSWER) + MICIUS_ANSWER[:100])
    handler.close_connection = True


def _slow_body(handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(MICIUS_ANSWER)))
    handler.end_headers()
    _stall_then(handler, MICIUS_ANSWER[:100])


def _stream_without_length(handler, size: int) -> None:
    """An answer of ``size`` bytes without Content-Length (HTTP/1.0: ends when closed)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    block = b" " * 4096
    for _ in range(size // len(block)):
        handler.wfile.write(block)


def _drip_headers(handler) -> None:
    """A complete, valid answer whose status line and headers come one byte every 0.1 s.

    Every byte arrives well within any read timeout, so only an overall deadline stops the
    client; the server itself finishes after about 5 s (or when the test module ends).
    """
    head = (b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(MICIUS_ANSWER))
    for byte in head:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        if handler.server.stop.wait(0.1):
            return
    handler.wfile.write(MICIUS_ANSWER)
    handler.close_connection = True


def _conflicting_lengths(handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(MICIUS_ANSWER)))
    handler.send_header("Content-Length", str(len(MICIUS_ANSWER) - 10))
    handler.end_headers()
    handler.wfile.write(MICIUS_ANSWER)


def _redirect(handler) -> None:
    _send(handler, 301, b"moved", "text/html", 5,
          {"Location": "https://celestrak.org/NORAD/elements/gp.php"})


SCENARIOS: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {
    "ok": _ok,
    "forbidden": lambda h: _send(h, 403, b"Forbidden", "text/plain", 9),
    "not_updated": lambda h: _send(h, 403, NOT_UPDATED, "text/plain", len(NOT_UPDATED)),
    "missing": lambda h: _send(h, 404, b"Not Found", "text/plain", 9),
    "broken": lambda h: _send(h, 500, b"Internal Server Error", "text/plain", 21),
    "moved": _redirect,
    "drip_headers": _drip_headers,
    "conflicting_lengths": _conflicting_lengths,
    "slow": lambda h: _stall_then(h),
    "slow_body": _slow_body,
    "truncated": _truncated_connection,
    "truncated_chunks": _truncated_chunks,
    "garbage": lambda h: _ok(h, (DATA / "garbage.html").read_bytes()),
    "truncated_json": lambda h: _ok(h, (DATA / "truncated.json").read_bytes()),
    "no_gp_data": lambda h: _send(h, 200, (DATA / "no_gp_data.txt").read_bytes(), "text/plain",
                                  len((DATA / "no_gp_data.txt").read_bytes())),
    "empty": lambda h: _ok(h, (DATA / "empty_list.json").read_bytes()),
    "huge_declared": lambda h: _send(h, 200, b"", length=50_000_000),
    "huge_streamed": lambda h: _stream_without_length(h, 1_000_000),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        scenario = parts.path.strip("/").split("/")[0]
        self.server.requests.append((scenario, dict(urllib.parse.parse_qsl(parts.query)),
                                     dict(self.headers)))
        SCENARIOS.get(scenario, lambda h: _send(h, 404, b"", length=0))(self)

    def log_message(self, *_args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, *_args) -> None:  # a client that gave up: expected here
        pass


@pytest.fixture(scope="module")
def server():
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.requests = []
    httpd.stop = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield httpd
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def gp(server):
    """``gp(scenario)`` -> base URL of that scenario; ``gp.requests`` -> requests made so far."""
    server.requests.clear()

    def base(scenario: str) -> str:
        return f"http://127.0.0.1:{server.server_address[1]}/{scenario}/NORAD/elements/gp.php"

    base.requests = server.requests
    return base


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test may reach CelesTrak: the default URL points at a closed local port."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{_closed_port()}/gp.php")
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)


def _files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


MICIUS = make_query(catnr=41731)


# ---------------------------------------------------------------------------------------------
# Queries, URLs and settings
# ---------------------------------------------------------------------------------------------


def test_queries_build_celestrak_gp_urls():
    base = DEFAULT_BASE_URL
    assert MICIUS.url(base) == base + "?CATNR=41731&FORMAT=json"
    assert make_query(intdes="2022-086").url(base) == base + "?INTDES=2022-086&FORMAT=json"
    assert make_query(group="stations").url(base) == base + "?GROUP=stations&FORMAT=json"
    assert make_query(name="MICIUS (QUESS)").url(base) == (
        base + "?NAME=MICIUS+%28QUESS%29&FORMAT=json")
    assert make_query(intdes="2016-051a").value == "2016-051A"
    # a base URL that already has a query keeps its other parameters, not an old selector
    assert MICIUS.url("http://mirror.example/gp.php?key=1&CATNR=5&FORMAT=tle") == (
        "http://mirror.example/gp.php?key=1&CATNR=41731&FORMAT=json")


def test_cache_names_are_safe_and_distinct():
    assert MICIUS.cache_stem == "catnr-41731"
    assert make_query(intdes="2022-086").cache_stem == "intdes-2022-086"
    a, b = make_query(name="MICIUS (QUESS)").cache_stem, make_query(name="MICIUS QUESS").cache_stem
    assert a != b and "/" not in a and " " not in a and a.startswith("name-micius_quess")
    assert make_query(name="../../etc").cache_stem.startswith("name-etc-")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({}, "catnr"),
    ({"catnr": 41731, "group": "stations"}, "catnr"),
    ({"catnr": 0}, "catnr"),
    ({"catnr": 10**10}, "catnr"),
    ({"intdes": "22-086"}, "intdes"),
    ({"intdes": "2022-86"}, "intdes"),
    ({"group": "../x"}, "group"),
    ({"group": ""}, "group"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
])
def test_bad_query_options(kwargs, field):
    with pytest.raises(OptionError) as info:
        make_query(**kwargs)
    assert info.value.field == field


def test_base_url_and_cache_dir_from_options_environment_and_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv(BASE_URL_ENV)
    assert resolve_base_url() == DEFAULT_BASE_URL
    monkeypatch.setenv(BASE_URL_ENV, "http://127.0.0.1:8/gp.php")
    assert resolve_base_url() == "http://127.0.0.1:8/gp.php"
    assert resolve_base_url("https://mirror.example/gp.php") == "https://mirror.example/gp.php"
    assert resolve_cache_dir() == Path("~/.cache/qkdplan/elements").expanduser()
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "env"))
    assert resolve_cache_dir() == tmp_path / "env"
    assert resolve_cache_dir(tmp_path / "opt") == tmp_path / "opt"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://celestrak.org/gp.php",
                                 "celestrak.org/gp.php", "http://", "http://[::1/gp.php"])
def test_only_http_base_urls_are_accepted(url, monkeypatch):
    with pytest.raises(OptionError) as info:
        resolve_base_url(url)
    assert info.value.field == "base_url"
    monkeypatch.setenv(BASE_URL_ENV, url)
    with pytest.raises(OptionError) as info:
        resolve_base_url()
    assert info.value.field == BASE_URL_ENV


# ---------------------------------------------------------------------------------------------
# A good answer
# ---------------------------------------------------------------------------------------------


def test_fetch_validates_caches_and_records_provenance(gp, tmp_path):
    cache = tmp_path / "cache"
    before = datetime.now(UTC)
    result = fetch_elements(MICIUS, base_url=gp("ok"), cache_dir=cache)
    after = datetime.now(UTC)

    assert gp.requests == [("ok", {"CATNR": "41731", "FORMAT": "json"}, gp.requests[0][2])]
    assert gp.requests[0][2]["User-Agent"].startswith("qkdplan/")
    assert result.cache_path == cache / "catnr-41731.json"
    assert result.cache_path.read_bytes() == MICIUS_ANSWER  # byte for byte as answered
    assert _files_under(cache) == [cache / "catnr-41731.json", cache / "catnr-41731.meta"]

    meta = json.loads(result.meta_path.read_text())
    assert meta["url"] == gp("ok") + "?CATNR=41731&FORMAT=json"
    assert meta["query"] == {"key": "CATNR", "value": "41731"}
    assert meta["status"] == 200 and meta["size_bytes"] == len(MICIUS_ANSWER)
    assert meta["headers"]["Last-Modified"] == "Tue, 27 Apr 2021 12:00:00 GMT"
    assert meta["headers"]["ETag"] == '"micius-41731"' and "Date" in meta["headers"]
    assert meta["fetched_utc"].endswith("Z")
    assert before <= datetime.fromisoformat(meta["fetched_utc"].replace("Z", "+00:00")) <= after
    assert meta["newest_epoch_utc"] == "2021-04-27T10:09:19.800576Z"

    record = read_fetch_record(result.cache_path)
    assert record == result.record
    assert record.describe(datetime(2021, 5, 1, 10, 9, tzinfo=UTC)).startswith(
        "1 element set(s) fetched ")
    assert "days old when fetched" in record.describe()
    assert fetch_note(result.cache_path).startswith(f"{result.cache_path}: 1 element set(s)")


def test_fetched_elements_equal_the_reference_tle(gp, tmp_path):
    """The recorded answer is consistent: SGP4 gets the same elements as from the real TLE."""
    result = fetch_elements(MICIUS, base_url=gp("ok"), cache_dir=tmp_path)
    (fetched,) = result.element_sets
    (reference,) = parse_tle_text(MICIUS_TLE)
    assert fetched.norad == 41731 and fetched.intl_designator == "2016-051A"
    assert fetched.epoch == reference.epoch
    for attribute in ("inclo", "nodeo", "ecco", "argpo", "mo", "no_kozai", "bstar"):
        assert getattr(fetched.satrec, attribute) == pytest.approx(
            getattr(reference.satrec, attribute), rel=1e-12, abs=1e-15), attribute


def test_output_file_and_every_query_kind(gp, tmp_path):
    output = tmp_path / "micius.json"
    for query in (make_query(intdes="2016-051"), make_query(group="stations"),
                  make_query(name="MICIUS")):
        result = fetch_elements(query, base_url=gp("ok"), cache_dir=tmp_path / "c",
                                output=output)
        assert output.read_bytes() == MICIUS_ANSWER and result.output == output
    assert [r[1] for r in gp.requests] == [{"INTDES": "2016-051", "FORMAT": "json"},
                                          {"GROUP": "stations", "FORMAT": "json"},
                                          {"NAME": "MICIUS", "FORMAT": "json"}]
    assert {p.name for p in _files_under(tmp_path / "c")} == {
        "intdes-2016-051.json", "intdes-2016-051.meta", "group-stations.json",
        "group-stations.meta", "name-micius.json", "name-micius.meta"}


def test_a_changed_cache_file_loses_its_fetch_record(gp, tmp_path):
    result = fetch_elements(MICIUS, base_url=gp("ok"), cache_dir=tmp_path)
    result.cache_path.write_bytes(MICIUS_ANSWER.replace(b"MICIUS", b"MOZI"))
    assert read_fetch_record(result.cache_path) is None
    assert fetch_note(tmp_path / "nothing.json") is None
    meta_path_for(result.cache_path).write_text("{not json")
    assert read_fetch_record(result.cache_path) is None


def test_record_round_trips_through_json(gp, tmp_path):
    record = fetch_elements(MICIUS, base_url=gp("ok"), cache_dir=tmp_path).record
    assert FetchRecord.from_json(record.to_json()) == record


# ---------------------------------------------------------------------------------------------
# Failures: right error, one request, nothing written, bounded time
# ---------------------------------------------------------------------------------------------

FAILURES = {
    # scenario: (query, message fragments, extra keyword arguments)
    "forbidden": (MICIUS, ["403", "stopped without retrying", "usage policy", "wait"], {}),
    "missing": (MICIUS, ["404", "stopped without retrying", "base_url"], {}),
    "broken": (MICIUS, ["500", "stopped without retrying", "try again later"], {}),
    "moved": (MICIUS, ["301", "https://celestrak.org/NORAD/elements/gp.php", "base_url"], {}),
    "slow": (MICIUS, ["no answer within the 0.5 s read timeout", "read_timeout_s"],
             {"read_timeout_s": TIMEOUT_S}),
    "slow_body": (MICIUS, ["stalled", "no data for 0.5 s after 100 bytes", "read_timeout_s"],
                  {"read_timeout_s": TIMEOUT_S}),
    "truncated": (MICIUS, ["cut off", f"200 of {len(MICIUS_ANSWER)} bytes"], {}),
    "truncated_chunks": (MICIUS, ["the answer was cut off"], {}),
    "garbage": (MICIUS, ["not JSON", "<!DOCTYPE html>", "base_url"], {}),
    "truncated_json": (MICIUS, ["not valid element-set JSON", "not valid JSON"], {}),
    "no_gp_data": (make_query(catnr=99999), ["no element sets for CATNR=99999",
                                             "No GP data found", "catnr"], {}),
    "empty": (MICIUS, ["holds no element sets"], {}),
    "huge_declared": (MICIUS, ["50 MB (Content-Length)", "0.001 MB limit", "max_bytes"],
                      {"max_bytes": 1000}),
    "huge_streamed": (MICIUS, ["larger than the 0.1 MB limit", "stopped reading"],
                      {"max_bytes": 100_000}),
    "drip_headers": (MICIUS, ["no complete answer within the 1 s deadline", "deadline_s"],
                     {"read_timeout_s": TIMEOUT_S, "deadline_s": 1.0}),
    "conflicting_lengths": (MICIUS, ["conflicting Content-Length headers"], {}),
    "ok": (make_query(catnr=25544), ["asked for catalogue number 25544", "41731"], {}),
}


@pytest.mark.parametrize("scenario", sorted(FAILURES))
def test_failures_raise_fetch_error_and_write_nothing(scenario, gp, tmp_path):
    query, fragments, limits = FAILURES[scenario]
    cache, output = tmp_path / "cache", tmp_path / "out.json"
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch_elements(query, base_url=gp(scenario), cache_dir=cache, output=output, **limits)
    elapsed = time.monotonic() - started

    message = info.value.one_line()
    assert isinstance(info.value, PlannerInputError)
    assert message.startswith(gp(scenario) + "?"), message  # names the URL
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert len(gp.requests) == 1  # never retried
    assert _files_under(tmp_path) == [] and not cache.exists()
    assert elapsed < BOUND_S


def test_truncated_json_error_names_the_line_of_the_answer(gp, tmp_path):
    with pytest.raises(FetchError) as info:
        fetch_elements(MICIUS, base_url=gp("truncated_json"), cache_dir=tmp_path)
    assert info.value.line == 7  # the answer breaks off on its line 7, in INCLINATION


def test_connection_refused(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/gp.php"
    started = time.monotonic()
    with pytest.raises(FetchError, match="cannot connect"):
        fetch_elements(MICIUS, base_url=url, cache_dir=tmp_path / "c", connect_timeout_s=2)
    assert time.monotonic() - started < BOUND_S
    assert _files_under(tmp_path) == []


def test_connect_timeout(tmp_path):
    """A listener whose accept queue is full drops new connection attempts (Linux)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue (its length is backlog + 1 on Linux)
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
            fillers.append(filler)
        time.sleep(0.1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/gp.php"
        started = time.monotonic()
        with pytest.raises(FetchError) as info:
            http_get(url, connect_timeout_s=TIMEOUT_S, read_timeout_s=TIMEOUT_S)
        elapsed = time.monotonic() - started
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    message = info.value.one_line()
    if "connect timeout" not in message:
        pytest.skip(f"this kernel did not drop the connection attempt ({message})")
    assert "0.5 s connect timeout" in message and "connect_timeout_s" in message
    assert elapsed < BOUND_S


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """The scenario server over TLS, with a self-signed certificate for 127.0.0.1; yields
    (server, certificate file)."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.requests = []
    httpd.stop = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield httpd, cert
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_https_verifies_the_server_and_bounds_each_read(tls_server, monkeypatch):
    """HTTPS goes through the same deadline-bounded connection as HTTP: the certificate is
    checked, a trusted server's answer read, and a stall after the handshake ends at the
    read timeout."""
    server, cert = tls_server
    base = f"https://127.0.0.1:{server.server_address[1]}"
    with pytest.raises(FetchError, match=r"(?i)certificate"):
        http_get(f"{base}/ok/gp.php", connect_timeout_s=2, read_timeout_s=2)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))          # trust it from now on
    assert http_get(f"{base}/ok/gp.php", connect_timeout_s=2, read_timeout_s=2,
                    deadline_s=10).body == MICIUS_ANSWER
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"0\.5 s read timeout"):
        http_get(f"{base}/slow/gp.php", connect_timeout_s=4, read_timeout_s=TIMEOUT_S,
                 deadline_s=10)
    assert time.monotonic() - started < 2.5         # the read timeout's, not the connect's


def test_problems_found_before_any_request(gp, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    cases = [
        ({"cache_dir": not_a_dir}, "cache_dir"),
        ({"cache_dir": not_a_dir / "below"}, "cache_dir"),
        ({"output": tmp_path / "no" / "such" / "dir.json"}, "output"),
        ({"read_timeout_s": 0}, "read_timeout_s"),
        ({"connect_timeout_s": float("nan")}, "connect_timeout_s"),
        ({"max_bytes": -1}, "max_bytes"),
        ({"base_url": "file:///etc/passwd"}, "base_url"),
    ]
    for kwargs, field in cases:
        options = {"base_url": gp("ok"), "cache_dir": tmp_path / "cache", **kwargs}
        with pytest.raises(OptionError) as info:
            fetch_elements(MICIUS, **options)
        assert info.value.field == field, kwargs
    assert gp.requests == []
    assert _files_under(tmp_path) == [not_a_dir]


def test_environment_chooses_server_and_cache(gp, tmp_path, monkeypatch):
    monkeypatch.setenv(BASE_URL_ENV, gp("ok"))
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "env-cache"))
    result = fetch_elements(MICIUS)
    assert result.cache_path == tmp_path / "env-cache" / "catnr-41731.json"
    assert len(gp.requests) == 1


def test_cache_is_replaced_atomically_and_kept_on_a_later_failure(gp, tmp_path):
    first = fetch_elements(MICIUS, base_url=gp("ok"), cache_dir=tmp_path)
    kept = first.cache_path.read_bytes(), first.meta_path.read_bytes()
    with pytest.raises(FetchError):
        fetch_elements(MICIUS, base_url=gp("garbage"), cache_dir=tmp_path)
    assert (first.cache_path.read_bytes(), first.meta_path.read_bytes()) == kept
    assert not list(tmp_path.glob(".*.part"))


def test_unchanged_data_answer_points_to_the_cached_copy(gp, tmp_path):
    """CelesTrak answers 403 with a short text when the same data is asked for again too soon."""
    first = fetch_elements(MICIUS, base_url=gp("ok"), cache_dir=tmp_path)
    kept = first.cache_path.read_bytes(), first.meta_path.read_bytes()
    with pytest.raises(FetchError) as info:
        fetch_elements(MICIUS, base_url=gp("not_updated"), cache_dir=tmp_path)
    message = info.value.one_line()
    assert info.value.status == 403 and "403 Forbidden ('GP data has not updated" in message
    assert "the copy fetched before is current" in message
    assert message.endswith(f"UTC is in {first.cache_path}")
    assert (first.cache_path.read_bytes(), first.meta_path.read_bytes()) == kept
    assert len(gp.requests) == 2


def test_gp_query_is_a_value():
    assert GPQuery("CATNR", "41731") == MICIUS and MICIUS.parameter == "catnr"


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def cli(capsys):
    """Run ``qkdplan tle fetch`` through ``planner.cli.root.main`` (its exit-status handling)."""

    def run(*args):
        with pytest.raises(SystemExit) as exit_info:
            planner.cli.root.main(["tle", "fetch", *[str(a) for a in args]])
        captured = capsys.readouterr()
        return exit_info.value.code, captured.out, captured.err

    return run


def test_command_fetches_and_reports(cli, gp, tmp_path):
    output = tmp_path / "micius.json"
    code, out, err = cli("--catnr", 41731, "--base-url", gp("ok"), "--cache-dir",
                         tmp_path / "cache", "-o", output)
    assert code == 0, err
    assert out.startswith("MICIUS (QUESS)\t41731\t2016-051A\tepoch 2021-04-27T10:09:19Z\t")
    assert "fetched 1 element set(s) from " + gp("ok") in err
    assert f"wrote {tmp_path / 'cache' / 'catnr-41731.json'}" in err and f"wrote {output}" in err
    assert output.read_bytes() == MICIUS_ANSWER


def test_command_options_timeouts_and_size_limit(cli, gp, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    started = time.monotonic()
    code, out, err = cli("--catnr", 41731, "--base-url", gp("slow"), "--read-timeout", 0.5,
                         "--connect-timeout", 0.5)
    assert code == 2 and out == "" and time.monotonic() - started < BOUND_S
    code, out, err = cli("--catnr", 41731, "--base-url", gp("ok"), "--max-size-mb", 0.0001)
    assert code == 2 and "0.0001 MB limit" in err
    assert _files_under(tmp_path) == []


@pytest.mark.parametrize(("scenario", "args", "needle"), [
    ("forbidden", ["--catnr", "41731"], "403 Forbidden"),
    ("no_gp_data", ["--name", "NO SUCH SATELLITE"], "No GP data found"),
    ("garbage", ["--group", "stations"], "not JSON"),
    ("ok", ["--catnr", "41731", "--group", "stations"],
     "exactly one of --catnr, --intdes, --group, --name (found --catnr and --group)"),
    ("drip_headers", ["--catnr", "41731", "--deadline", "1", "--read-timeout", "0.5"],
     "no complete answer within the 1 s deadline (--deadline)"),
    ("missing", ["--catnr", "41731"], "check --base-url"),
    ("huge_declared", ["--catnr", "41731", "--max-size-mb", "1"], "(--max-size-mb)"),
    ("ok", ["--intdes", "86"], "--intdes"),
    ("ok", ["--catnr", "abc"], "--catnr"),
])
def test_command_errors_exit_2_with_one_line(cli, gp, tmp_path, scenario, args, needle):
    output = tmp_path / "out.json"
    code, out, err = cli(*args, "--base-url", gp(scenario), "--cache-dir", tmp_path / "c",
                         "-o", output)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and out == "", err
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err
    assert _files_under(tmp_path) == []


def test_registered_command(gp, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        planner.cli.root.main(["tle", "fetch", "--catnr", "41731", "--base-url", gp("ok"),
                          "--cache-dir", str(tmp_path)])
    assert exit_info.value.code == 0, capsys.readouterr().err
    assert (tmp_path / "catnr-41731.json").read_bytes() == MICIUS_ANSWER
    with pytest.raises(SystemExit) as exit_info:
        planner.cli.root.main(["tle", "fetch", "--catnr", "41731", "--base-url", gp("broken"),
                          "--cache-dir", str(tmp_path / "other")])
    assert exit_info.value.code == 2 and "500" in capsys.readouterr().err
