"""The report in a real browser: headless Chromium renders every figure, offline, without errors;
the map shows the coastline and labels that do not overlap; the tonight table is there.

Chromium is driven over the Chrome DevTools Protocol through ``--remote-debugging-pipe``
(commands on file descriptor 3, answers on 4, NUL-separated JSON), so the test needs only the
standard library. Name resolution is disabled (``--host-resolver-rules``), so a figure that
needed the network (e.g. plotly's CDN map outlines) would fail to render here. A full-page
screenshot is saved under the test's temporary directory and its path printed.

Skipped when ``/usr/bin/chromium`` (Debian package ``chromium``) is not installed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from planner.report import page as report

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="headless browser test needs /usr/bin/chromium "
                                       "(apt-get install chromium)")
WIDTH = 1400
TIMEOUT_S = 60.0


class Browser:
    """Headless Chromium controlled over ``--remote-debugging-pipe``."""

    def __init__(self, profile: Path) -> None:
        command_read, command_write = os.pipe()
        answer_read, answer_write = os.pipe()
        # above 4, so the child's dup2 onto 3 and 4 cannot clobber one with the other
        child_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
                               for fd in (command_read, answer_write))
        os.close(command_read)
        os.close(answer_write)

        def wire_pipes() -> None:
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        args = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                f"--user-data-dir={profile}", "--remote-debugging-pipe",
                "--host-resolver-rules=MAP * ~NOTFOUND", "about:blank"]
        self.process = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=wire_pipes,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(child_in)
        os.close(child_out)
        self._write, self._read = command_write, answer_read
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None
        self.width = WIDTH

    def command(self, method: str, params: dict | None = None, *, page: bool = True) -> dict:
        """Send one command (to the page's session unless ``page`` is False); its result."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if page and self.session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            for answer in self._messages(deadline):
                if answer.get("id") == self._id:
                    if "error" in answer:
                        raise RuntimeError(f"{method}: {answer['error']}")
                    return answer["result"]
                self.events.append(answer)

    def wait_for(self, event: str) -> dict:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            for i, message in enumerate(self.events):
                if message.get("method") == event:
                    return self.events.pop(i)
            self.events.extend(self._messages(deadline))

    def evaluate(self, expression: str):
        result = self.command("Runtime.evaluate", {"expression": expression,
                                                   "returnByValue": True,
                                                   "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def _messages(self, deadline: float) -> list[dict]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._read], [], [], left)
            if ready:
                chunk = os.read(self._read, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the debugging pipe")
                self._buffer += chunk
        *messages, self._buffer = self._buffer.split(b"\0")
        return [json.loads(m) for m in messages]

    def open(self, path: Path, height: int = 1000) -> None:
        """Open a page in a new tab and wait for its load event."""
        target = self.command("Target.createTarget", {"url": "about:blank"}, page=False)
        self.session = self.command("Target.attachToTarget",
                                    {"targetId": target["targetId"], "flatten": True},
                                    page=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.command(f"{domain}.enable")
        self.resize(height)
        self.command("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for("Page.loadEventFired")

    def resize(self, height: int) -> None:
        self.command("Emulation.setDeviceMetricsOverride",
                     {"width": self.width, "height": height, "deviceScaleFactor": 1,
                      "mobile": False})

    def problems(self) -> list[str]:
        """JavaScript exceptions, console errors and warnings, and any non-file request."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning",
                                                                              "assert"):
                found.append(f"console.{params['type']}: {params['args']}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error",
                                                                           "warning"):
                found.append(f"log: {params['entry']['text']}")
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:", "blob:", "about:")):
                    found.append(f"network request: {url}")
        return found

    def close(self) -> None:
        try:
            self.command("Browser.close", page=False)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)


@pytest.fixture
def browser(tmp_path):
    instance = Browser(tmp_path / "profile")
    yield instance
    instance.close()


_RENDERED = """(async () => {
  const deadline = Date.now() + 30000;
  const ids = %s;
  const state = () => ids.map(id => {
    const div = document.getElementById(id);
    return [id, div ? div.querySelectorAll('svg.main-svg').length : -1,
            div && div.querySelector('.gtitle') ? div.querySelector('.gtitle').textContent : '',
            div ? div.querySelectorAll('.legendtext').length : 0,
            div ? [...div.querySelectorAll('.g-xtitle, .g-ytitle, .g-x2title, .g-y2title')]
                    .map(e => e.textContent).filter(t => t) : []];
  });
  while (Date.now() < deadline) {
    const now = state();
    if (now.every(([, svgs]) => svgs > 0)) { return now; }
    await new Promise(r => setTimeout(r, 100));
  }
  return state();
})()"""


def test_every_figure_renders_offline_without_errors(tmp_path, browser, build_inputs):
    path = report.write_report(tmp_path / "report.html", build_inputs())["html"]
    browser.open(path)
    state = browser.evaluate(_RENDERED % json.dumps(list(report.FIGURE_IDS)))
    for figure, svgs, title, legend, axis_titles in state:
        assert svgs > 0, f"{figure} did not render"
        assert title.strip(), f"{figure} has no title"
        assert legend > 0, f"{figure} has no legend"
        if figure != "fig-sky":  # polar: azimuth labels N/E/S/W and elevation rings instead
            assert any("[" in t for t in axis_titles), f"{figure}: axis titles {axis_titles}"
    assert browser.evaluate("document.querySelectorAll('.plotly-graph-div').length") == \
        len(report.FIGURE_IDS)

    # the timeline's "first 3 days" button zooms in
    browser.evaluate("document.querySelector('#fig-timeline .updatemenu-button').dispatchEvent("
                     "new MouseEvent('click', {bubbles: true}))")
    span_days = browser.evaluate("""(async () => {
        await new Promise(r => setTimeout(r, 300));
        const r = document.getElementById('fig-timeline').layout.xaxis.range;
        return (new Date(r[1].replace(' ', 'T') + 'Z') - new Date(r[0].replace(' ', 'T') + 'Z'))
               / 86400000; })()""")
    assert 2.9 < span_days < 3.2

    # the map draws Natural Earth's coastline (the world map's first trace), thousands of
    # vertices (the hand-drawn outline it replaces had ~560)
    coast = browser.evaluate("""(() => {
        const div = document.getElementById('fig-groundtrack');
        const legend = [...div.querySelectorAll('.legendtext')].map(e => e.textContent);
        const trace = div.querySelector('.scatterlayer .trace');
        const vertices = [...trace.querySelectorAll('.js-line')].map(
            p => ((p.getAttribute('d') || '').match(/[ML]/g) || []).length);
        return [legend.filter(t => t.startsWith('coastline: Natural Earth 1:110m')).length,
                vertices.reduce((a, b) => a + b, 0)]; })()""")
    assert coast[0] == 1 and coast[1] > 2_000, coast
    # station labels on the map do not overlap
    boxes = browser.evaluate("""[...document.querySelectorAll(
        '#fig-groundtrack .annotation .annotation-text-g')].map(e => {
        const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })""")
    assert len(boxes) >= 3
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    # the tonight table is shown; the provenance is folded away
    tonight = browser.evaluate("""(() => {
        const table = document.querySelector('#sec-tonight table');
        return [table.rows.length, table.offsetHeight, table.innerText]; })()""")
    assert tonight[0] > 2 and tonight[1] > 50 and "rise–set (local)" in tonight[2]
    assert browser.evaluate("document.querySelector('#sec-provenance details').open") is False
    assert browser.evaluate("document.getElementById('sec-provenance').offsetHeight") < 200

    assert browser.problems() == []
    screenshot = _screenshot(browser, tmp_path / "report.png")
    print(f"\nreport screenshot: {screenshot}\nreport page: {path}")


NARROW = 1280
"""A common laptop width [px]: the summary and tonight tables fit it without scrolling."""


def test_tables_fit_a_1280_px_window(tmp_path, browser, build_inputs):
    from zoneinfo import ZoneInfo

    for index, zone in enumerate((None, ZoneInfo("Asia/Dubai"))):  # own zones; UTC+04
        path = report.write_report(tmp_path / f"r{index}.html", build_inputs(zone=zone))["html"]
        browser.width = NARROW
        browser.open(path)
        tables = browser.evaluate("""[...document.querySelectorAll(
            '#sec-summary div.scroll, #sec-tonight div.scroll')].map(w => {
            const head = [...w.querySelectorAll('thead th')];
            const last = head[head.length - 1].getBoundingClientRect();
            return [w.closest('section').id, head.map(h => h.textContent).join(' | '),
                    w.scrollWidth, w.clientWidth, last.right, window.innerWidth]; })""")
        assert browser.evaluate("window.innerWidth") == NARROW
        assert any("expected [kbit]" in head for _, head, *_ in tables), tables
        assert any("best pass at" in head for _, head, *_ in tables), tables
        for section, head, scroll_width, client_width, right, inner in tables:
            assert scroll_width <= client_width, (section, head, scroll_width, client_width)
            assert right <= inner, (section, head, right)
        assert browser.problems() == []


def test_no_pass_report_renders_its_message(tmp_path, browser, run):
    path = tmp_path / "empty.html"
    report.write_report(path, report.ReportInputs(
        passes=run["passes"].iloc[:0], stations=run["inputs"].stations,
        provenance=run["provenance"]))
    browser.open(path)
    text = browser.evaluate("document.getElementById('sec-summary').innerText")
    assert "No passes" in text
    assert browser.evaluate("document.querySelectorAll('.plotly-graph-div').length") == 0
    assert browser.evaluate("typeof Plotly") == "object"  # the bundle itself loads cleanly
    assert browser.problems() == []
    print(f"\nempty-report screenshot: {_screenshot(browser, tmp_path / 'empty.png')}")


def _screenshot(browser: Browser, path: Path) -> Path:
    height = int(browser.evaluate("document.documentElement.scrollHeight"))
    browser.resize(height)
    browser.evaluate("new Promise(r => setTimeout(r, 500))")
    shot = browser.command("Page.captureScreenshot", {"format": "png"})
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.stat().st_size > 10_000
    return path
