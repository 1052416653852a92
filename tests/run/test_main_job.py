"""`qkdplan plan`, `report` and `schedule` end to end, and their bad inputs."""

from __future__ import annotations

import json
import os
import re

import pytest

from planner.relay.check import check_plan
from tests.conftest import assert_one_line_error, run

WEEK = ["--start", "2026-11-24", "--days", "3"]


def test_plan_prints_tonight_and_the_relay_and_writes_the_report(tmp_path, capsys):
    report = tmp_path / "budget.html"
    code, out, err = run(["plan", *WEEK, "--scenarios", "50", "-o", report], capsys)
    assert code == 0, err
    assert "Tonight's passes" in out and "Relay key per demand" in out
    assert "Beijing:Stellenbosch" in out
    assert f"report: {report}" in out
    # stage times read as seconds, never a clock face rounded to 0:00:00
    assert "0:00:00" not in err
    assert re.search(r"finding passes\s+\d+(\.\d)? s", err), err
    # the tonight table gives each row its local date, time and zone
    assert re.search(r"\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d (CST|SAST|CET)", out), out
    html = report.read_text()
    assert "<html" in html.lower() and "Beijing" in html
    summary = json.loads((tmp_path / "budget_summary.json").read_text())
    assert summary["provenance"]["seed"] == 0
    # --scenarios reaches the monthly band as well as the relay plan: one count on the page
    assert summary["provenance"]["monthly_weather_band"]["scenarios"] == 50
    assert summary["plan"]["weather"]["info"]["scenarios"] == 50
    assert set(re.findall(r"([\d,]+) weather scenarios", html)) == {"50"}
    assert (tmp_path / "budget_passes.csv").exists() and (tmp_path / "budget_keys.csv").exists()
    assert not list(tmp_path.glob(".*.part"))


# standard error as a pipe, a dumb terminal (TERM=dumb: Rich shows no live display there) and
# an interactive terminal (the live display's frames are in the captured text)
TERMINALS = {"pipe": {}, "dumb": {"TTY_COMPATIBLE": "1", "TERM": "dumb"},
             "xterm": {"TTY_COMPATIBLE": "1", "TERM": "xterm"}}
STAGE = re.compile(r"  (\S.*?) +(\d+(\.\d)? s|\d+ min \d\d s)")     # as _elapsed writes it


def _shown_lines(text: str) -> list[str]:
    """``text`` as lines, without terminal control sequences, each as its last carriage return
    leaves it."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    return [line.rsplit("\r", 1)[-1] for line in plain.split("\n")]


@pytest.mark.parametrize("terminal", TERMINALS)
@pytest.mark.parametrize(("extra", "needle", "done"), [
    (["--payload", "BAD"], "aperture_m", ["finding passes"]),
    # a night of the period (the day after its start) without night passes: known only once
    # the passes are found (a malformed date is refused before any work, below)
    (["--night", "2026-11-25"], "--night",
     ["finding passes", "computing the key of each pass", "planning trusted relays (milp)"]),
], ids=["payload", "night"])
def test_an_error_after_progress_started_is_one_line_after_the_finished_stages(
        extra, needle, done, terminal, tmp_path, capsys, monkeypatch):
    """An error found by a stage leaves the stages that finished, then its one line: no blank
    line (Rich's final render gave one on a dumb terminal) and no line for the stage it cut
    short, shown as if done."""
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in TERMINALS[terminal].items():
        monkeypatch.setenv(name, value)
    bad = tmp_path / "payloads.yaml"
    bad.write_text("payloads:\n  - name: x\n    aperture_m: banana\n")
    argv = [bad if a == "BAD" else a for a in extra]
    code, _, err = run(["plan", "--start", "2026-11-24", "--days", "1", "--solver", "milp",
                        "-o", tmp_path / "r.html", *argv], capsys)
    assert code == 2, err
    lines = _shown_lines(err)
    assert lines[-1] == "" and lines[-2].startswith("qkdplan: error: "), err
    assert needle in lines[-2] and "Traceback" not in err
    before = lines[:-2] if terminal != "xterm" else lines[-2 - len(done):-2]
    stages = [STAGE.fullmatch(line) for line in before]
    assert all(stages), err
    assert [stage.group(1) for stage in stages] == done, err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("command", ["plan", "report"])
@pytest.mark.parametrize(("night", "needle"), [
    ("2026-13-45", "'2026-13-45' is not an ISO 8601 date"),
    ("yesterday-ish", "'yesterday-ish' is not an ISO 8601 date"),
    ("2026-12-25", "2026-12-25 is not a night of the planning period 2026-11-24 00:00 to "
                   "2026-11-25 00:00 UTC (nights starting 2026-11-23 to 2026-11-25)"),
    ("2026-11-22", "2026-11-22 is not a night of the planning period"),
])
def test_a_bad_night_is_refused_before_any_work(command, night, needle, tmp_path, capsys):
    """A malformed ``--night``, or a date none of the period's nights start on, is refused at
    once: no stage ran (their lines would be on standard error), nothing on standard output,
    no report, and a payload file that the key stage would refuse is never read."""
    bad = tmp_path / "payloads.yaml"
    bad.write_text("payloads:\n  - name: x\n    aperture_m: banana\n")
    code, out, err = run([command, "--start", "2026-11-24", "--days", "1", "--demand",
                          "Beijing:Stellenbosch", "--payload", bad, "--night", night,
                          "-o", tmp_path / "r.html"], capsys)
    line = assert_one_line_error(code, out, err, "--night", needle)
    assert line.startswith("qkdplan: error: --night: ")
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["payloads.yaml"]


def test_report_for_a_selection_without_passes_says_so(tmp_path, capsys):
    report = tmp_path / "empty.html"
    code, _, err = run(["report", "--start", "2026-11-24T02:00:00Z", "--days", "0.02",
                          "--station", "Graz", "-o", report], capsys)
    assert code == 0, err
    assert "no passes" in report.read_text().lower()


@pytest.mark.parametrize("args, needle", [
    (["--days", "0"], "--days"),
    (["-o", "no/such/dir/report.html"], "--output"),
])
def test_report_bad_input(args, needle, tmp_path, capsys):
    code, out, err = run(["report", "--start", "2026-11-24", *args], capsys)
    assert_one_line_error(code, out, err, needle)
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_report_read_only_directory(tmp_path, capsys):
    tmp_path.chmod(0o555)
    try:
        code, out, err = run(["report", *WEEK, "-o", tmp_path / "r.html"], capsys)
    finally:
        tmp_path.chmod(0o755)
    assert_one_line_error(code, out, err, "--output")


def test_schedule_json_plan_is_valid(tmp_path, capsys):
    from planner.run.pipeline import demands_for, keys_for, load_inputs, passes_for, schedule_for

    path = tmp_path / "plan.json"
    code, _, err = run(["schedule", *WEEK, "--demand", "Beijing:Stellenbosch",
                        "--demand", "Jinan:Stellenbosch:2", "--scenarios", "20", "--seed", "3",
                        "-f", "json", "-o", path], capsys)
    assert code == 0, err
    document = json.loads(path.read_text())
    assert document["provenance"]["seed"] == 3
    assert {"passes", "relays", "buffers", "delivered"} <= set(document)
    # the same plan, rebuilt through the library, passes the independent checker
    inputs = load_inputs(start="2026-11-24", days=3)
    keys = keys_for(inputs, passes_for(inputs)).table
    plan = schedule_for(inputs, keys, demands_for(inputs, ["Beijing:Stellenbosch",
                                                           "Jinan:Stellenbosch:2"]))
    assert check_plan(plan, keys) == []
    delivered = {d["demand"]: d["delivered_bits"] for d in document["delivered"]}
    # the total objective gives Stellenbosch's scarce key to the heavier demand
    assert delivered["Jinan:Stellenbosch"] > 0
    assert delivered == {row.Index: row.delivered_bits for row in plan.delivered.itertuples()}


def test_schedule_tonight_and_ics_per_station(tmp_path, capsys):
    code, out, err = run(["schedule", *WEEK, "--demand", "Beijing:Stellenbosch", "--tonight",
                          "--station", "Beijing"], capsys)
    assert code == 0, err
    assert "Beijing tonight: passes to take" in out and "Stellenbosch tonight" not in out
    ics = tmp_path / "beijing.ics"
    code, _, err = run(["schedule", *WEEK, "--demand", "Beijing:Stellenbosch", "--station",
                        "Beijing", "-f", "ics", "-o", ics], capsys)
    assert code == 0, err
    text = ics.read_text()
    assert text.count("BEGIN:VEVENT") >= 1 and "Point at azimuth" in text


@pytest.mark.parametrize("args, needle", [
    (["--demand", "Beijing:Atlantis"], "Atlantis"),
    (["--demand", "Beijing:Beijing"], "differ"),
    (["--demand", "Beijing:Stellenbosch:-1"], "weight"),
    (["--demand", "Beijing:Stellenbosch:1:-5"], "target"),
    (["--demand", "Beijing:Stellenbosch", "--memory-bits", "0"], "memory"),
    (["--demand", "Beijing:Stellenbosch", "--fibre", "Beijing:Atlantis:100bps"], "Atlantis"),
    (["--demand", "Beijing:Stellenbosch", "--fibre", "Beijing:Jinan:-5bps"], "rate"),
    (["--demand", "Beijing:Stellenbosch", "--scenarios", "0"], "scenarios"),
    (["--demand", "Beijing:Stellenbosch:1:1e12", "--objective", "earliest"], "target"),
])
def test_schedule_bad_input(args, needle, tmp_path, capsys):
    output = tmp_path / "plan.json"
    code, out, err = run(["schedule", *WEEK, *args, "-f", "json", "-o", output], capsys)
    assert_one_line_error(code, out, err, needle)
    assert not output.exists()


def test_thirty_nights_of_bundled_jinan1_relay_beijing_stellenbosch(tmp_path):
    """The mission's headline: over 30 nights Beijing and Stellenbosch share key, and the
    report says on which nights and how much."""
    from planner.report import page as report
    from planner.run.pipeline import demands_for, keys_for, load_inputs, passes_for, schedule_for

    inputs = load_inputs(start="2026-11-24", days=30)
    keys = keys_for(inputs, passes_for(inputs)).table
    plan = schedule_for(inputs, keys, demands_for(inputs, ["Beijing:Stellenbosch"]))
    assert check_plan(plan, keys) == []
    assert plan.status == "optimal"
    by_night = plan.delivered_by_night["Beijing:Stellenbosch"]
    assert by_night.sum() > 1e6 and (by_night > 0).sum() >= 10
    assert plan.delivered.loc["Beijing:Stellenbosch", "delivered_bits"] == pytest.approx(
        by_night.sum())
    files = report.write_report(tmp_path / "r.html", report.ReportInputs(
        passes=keys, stations=inputs.stations, keys=keys, plan=plan))
    summary = json.loads(files["summary"].read_text())
    text = json.dumps(summary)
    best_night = str(by_night.idxmax())[:10]
    assert best_night in text


def test_report_shows_local_times_in_the_zone_tz_names(tmp_path, capsys):
    path = tmp_path / "tokyo.html"
    code, _, err = run(["report", *WEEK, "--tz", "Asia/Tokyo", "-o", path], capsys)
    assert code == 0, err
    html = path.read_text()
    tonight = html[html.index('<section id="sec-tonight">'):]
    tonight = tonight[:tonight.index("</section>")]
    assert "rise–set (Asia/Tokyo)" in tonight
    assert re.search(r"\d\d:\d\d–\d\d:\d\d( \(\+1 d\))? JST<", tonight), tonight[:2000]
    assert not re.search(r" (CST|SAST)<", tonight)
