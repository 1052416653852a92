"""Fault campaign: signals at every moment of a run, and network faults against ``tle fetch``.

Each run is a real ``python -m planner`` process; the counts go into the README's reliability
table.

* **signals**: ``qkdplan passes ... -f csv -o out.csv`` over an existing ``out.csv``, sent
  SIGINT or SIGTERM after a delay spread over start-up (imports), computing and writing. Every
  run must end with status 0 (finished first), 130 or 143 -- never a death by signal --, print
  no traceback and at most one line of its own (``qkdplan: interrupted|terminated``), and leave
  ``out.csv`` either as it was or complete, with no ``.part`` file.
* **network**: ``qkdplan tle fetch`` against a server on 127.0.0.1 that misbehaves in one way
  per scenario (drips its headers or body a byte at a time, stalls, resets, lies about the
  length, answers garbage or an error). Every request must end within its deadline (timed
  in-process) and every command line exit 2 with one line and write no cache file.

A signal within CPython's own start-up (the first few tens of milliseconds, while ``site`` and
the codecs load, before any line of the planner runs) is the interpreter's business; the signal
runs start after 0.25 s or 1.5 times the measured start-up of a bare ``python -c pass``,
whichever is later.

Run:  python benchmarks/fault_campaign.py [--signal-runs N] [--network-rounds N]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MICIUS_TLE = """MICIUS (QUESS)
1 41731U 16051A   21117.42314584  .00000696  00000-0  30260-4 0  9998
2 41731  97.3499  30.8507 0012844 347.0485 124.2616 15.25507799261429
"""
OLD = b"an earlier run's output\n"
RUN = ["passes", "--tle", "micius.tle", "--start", "2021-04-27", "--days", "60", "--all",
       "--allow-stale", "-f", "csv", "-o", "out.csv"]
DEADLINE_S = 3.0
DEADLINE_SLACK_S = 0.25  # the watchdog's own reaction time
FIRST_SIGNAL_S = 0.25  # earliest signal: CPython's start-up (site, codecs) takes ~0.02-0.2 s

REPO = Path(__file__).resolve().parents[1]
# the console script a user runs (beside this interpreter), else the module
_SCRIPT = Path(sys.executable).with_name("qkdplan")
ENTRY = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "planner"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        env.pop(name, None)
    env["NO_PROXY"] = "127.0.0.1"
    return env


def _bare_start_up_s() -> float:
    """The slowest of three start-ups of a bare interpreter on this machine [s]."""
    times = []
    for _ in range(3):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.monotonic() - started)
    return max(times)


def signal_run(workdir: Path, delay_s: float, signum: int) -> list[str]:
    """One run stopped after ``delay_s``; the problems found (empty: a clean run)."""
    (workdir / "out.csv").write_bytes(OLD)
    process = subprocess.Popen([*ENTRY, *RUN], cwd=workdir,
                               env=_env(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay_s)
    if process.poll() is None:
        process.send_signal(signum)
    _, err = process.communicate(timeout=300)
    problems = []
    if process.returncode not in (0, 130, 143):
        problems.append(f"exit status {process.returncode}")
    if "Traceback" in err:
        problems.append("traceback")
    own = [line for line in err.splitlines() if line.startswith("qkdplan:")]
    if process.returncode in (130, 143) and own not in (["qkdplan: interrupted"],
                                                        ["qkdplan: terminated"]):
        problems.append(f"stderr {own!r}")
    data = (workdir / "out.csv").read_bytes()
    if data != OLD and not (data.endswith(b"\n") and b"satellite" in data[:4096]):
        problems.append("a partial out.csv")
    if list(workdir.glob(".*.part")):
        problems.append("a .part file left")
    return problems


# --------------------------------------------------------------------------------------------
# The misbehaving server
# --------------------------------------------------------------------------------------------

ANSWER = (REPO / "tests" / "data" / "fetch" / "gp_catnr_41731.json").read_bytes()


def _drip(handler: BaseHTTPRequestHandler, data: bytes, pause_s: float) -> None:
    for byte in data:
        if handler.server.stop.wait(pause_s):
            return
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()


def _head(length: int | str | None = None, extra: str = "") -> bytes:
    text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    if length is not None:
        text += f"Content-Length: {length}\r\n"
    return (text + extra + "\r\n").encode()


SCENARIOS = {
    "drip_headers": lambda h: _drip(h, _head(len(ANSWER)), 0.3),
    "drip_body": lambda h: (h.wfile.write(_head(len(ANSWER))), _drip(h, ANSWER, 0.05)),
    "stall": lambda h: h.server.stop.wait(60),
    "stall_after_headers": lambda h: (h.wfile.write(_head(len(ANSWER))), h.wfile.flush(),
                                      h.server.stop.wait(60)),
    "reset_mid_body": lambda h: (h.wfile.write(_head(len(ANSWER)) + ANSWER[:300]),
                                 h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                         b"\x01\x00\x00\x00\x00\x00\x00\x00")),
    "short_body": lambda h: h.wfile.write(_head(len(ANSWER) + 50) + ANSWER),
    "conflicting_lengths": lambda h: h.wfile.write(
        _head(len(ANSWER), f"Content-Length: {len(ANSWER) - 7}\r\n") + ANSWER),
    "bad_length": lambda h: h.wfile.write(_head("12abc") + ANSWER),
    "huge_length": lambda h: h.wfile.write(_head(10**12)),
    "garbage": lambda h: h.wfile.write(_head(9) + b"<html>x</"),
    "not_utf8": lambda h: h.wfile.write(_head(4) + b"\xff\xfe[]"),
    "error_500": lambda h: h.wfile.write(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"),
    "redirect": lambda h: h.wfile.write(b"HTTP/1.1 301 Moved\r\nLocation: http://x/\r\n"
                                        b"Content-Length: 0\r\n\r\n"),
    "not_http": lambda h: h.wfile.write(b"SSH-2.0-OpenSSH\r\n"),
    "empty_close": lambda h: None,
}


class _Handler(BaseHTTPRequestHandler):
    def handle(self) -> None:  # read the request line and headers, then misbehave
        self.raw_requestline = self.rfile.readline(65537)
        if not self.parse_request():
            return
        scenario = self.path.strip("/").split("/")[0]
        try:
            SCENARIOS[scenario](self)
            self.wfile.flush()
        except OSError:
            pass  # the client gave up: expected

    def log_message(self, *_args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, *_args) -> None:
        pass


def network_run(port: int, scenario: str, cache: Path) -> tuple[list[str], float]:
    """The command line's behaviour, and the time the request itself took (in-process)."""
    from planner.elements.fetch import fetch_elements, make_query
    from planner.errors import FetchError

    url = f"http://127.0.0.1:{port}/{scenario}/gp.php"
    problems = []
    started = time.monotonic()
    try:
        fetch_elements(make_query(catnr=41731), base_url=url, cache_dir=cache,
                       deadline_s=DEADLINE_S, read_timeout_s=1.0, connect_timeout_s=1.0)
        problems.append("fetched")
    except FetchError:
        pass
    elapsed = time.monotonic() - started
    if elapsed > DEADLINE_S + DEADLINE_SLACK_S:
        problems.append(f"the request took {elapsed:.2f} s")
    done = subprocess.run([*ENTRY, "tle", "fetch", "--catnr", "41731",
                           "--base-url", url, "--cache-dir", str(cache), "--deadline",
                           str(DEADLINE_S), "--read-timeout", "1", "--connect-timeout", "1"],
                          env=_env(), capture_output=True, text=True, timeout=300, check=False)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    if done.returncode != 2 or len(lines) != 1 or "Traceback" in done.stderr:
        problems.append(f"status {done.returncode}, stderr {done.stderr.strip()[:200]!r}")
    if cache.exists() and any(cache.iterdir()):
        problems.append("wrote into the cache")
    return problems, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--signal-runs", type=int, default=40)
    parser.add_argument("--network-rounds", type=int, default=2)
    args = parser.parse_args()
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        (workdir / "micius.tle").write_text(MICIUS_TLE)
        outcomes: dict[int, int] = {}
        first_signal_s = max(FIRST_SIGNAL_S, 1.5 * _bare_start_up_s())
        for i in range(args.signal_runs):
            delay = first_signal_s + 3.0 * i / max(args.signal_runs - 1, 1)
            signum = signal.SIGINT if i % 2 == 0 else signal.SIGTERM
            problems = signal_run(workdir, delay, signum)
            failures += [f"signal {signum.name} at {delay:.2f} s: {p}" for p in problems]
            outcomes[i] = len(problems)
        print(f"signal runs: {args.signal_runs} (from {first_signal_s:.2f} s to "
              f"{first_signal_s + 3:.2f} s after the start), clean: "
              f"{sum(v == 0 for v in outcomes.values())}")

        server = _Server(("127.0.0.1", 0), _Handler)
        server.stop = threading.Event()
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        slowest = 0.0
        runs = 0
        try:
            for _ in range(args.network_rounds):
                for scenario in SCENARIOS:
                    problems, elapsed = network_run(server.server_address[1], scenario,
                                                    workdir / "cache")
                    slowest = max(slowest, elapsed)
                    runs += 1
                    failures += [f"network {scenario}: {p}" for p in problems]
        finally:
            server.stop.set()
            server.shutdown()
            server.server_close()
        print(f"network fault runs: {runs} ({len(SCENARIOS)} scenarios), each in-process and "
              f"through the CLI; slowest request {slowest:.2f} s with a {DEADLINE_S:g} s "
              "deadline")
    for failure in failures:
        print("FAIL", failure)
    print(f"{len(failures)} problems")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
