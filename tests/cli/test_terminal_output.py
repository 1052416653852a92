"""What the command line shows: units in help, tables that fit 80 columns, local dates and zones,
terminal-safe names, one warning per cause, plain CSV beside its provenance."""

from __future__ import annotations

import io
import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.cli.terminal import clean, collapse_warnings, plural
from tests.conftest import MICIUS_TLE, assert_one_line_error, run

MICIUS_LINES = MICIUS_TLE.splitlines()[1:]
MICIUS_PERIOD = ["--start", "2021-04-27T12:00:00Z", "--days", "2"]
EVIL_NAMES = ["EVIL\x1b[2J\x1b[31m", "[/yellow]EVIL", "OWN\x1b]0;owned\x07ED :b: [bold]X"]
ESCAPE_OR_BELL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture
def micius_file(tmp_path):
    path = tmp_path / "micius.tle"
    path.write_text(MICIUS_TLE)
    return path


def assert_fits(out: str, width: int = 80) -> None:
    lines = out.splitlines()
    assert lines
    assert max(len(line.rstrip()) for line in lines) <= width, out
    assert "…" not in out and "..." not in out


# ------------------------------------------------------------------ help


@pytest.mark.parametrize(("command", "needles"), [
    (["passes"], ["[days]", "[deg]"]),
    (["keys"], ["[days]"]),
    (["schedule"], ["A:B:RATEbps or A:B:LENGTHkm", "[days]"]),
    (["constellation", "walker"], ["[km]", "[deg]", "[1/earth radii]"]),
])
def test_help_keeps_units_and_colons(command, needles, capsys):
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0
    text = " ".join(out.split())
    for needle in needles:
        assert needle in text, needle
    assert "🅱" not in out


HELP_COMMANDS = [[], ["stations"], ["config"], ["next"], ["track"], ["passes"], ["keys"],
                 ["schedule"], ["plan"], ["report"], ["sweep"], ["tle"], ["tle", "check"],
                 ["tle", "fetch"], ["constellation"], ["constellation", "walker"],
                 ["constellation", "passes"]]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=" ".join)
def test_help_fits_80_columns_with_whole_summaries_and_no_python_types(command, narrow,
                                                                       capsys):
    """Command summaries are whole sentences (no '...' cut), option and argument values are
    named (``--tle FILE``, not ``--tle <list[Path]>``), and nothing is wider than 80 columns."""
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80, out
    assert "..." not in out.replace("COMMAND [ARGS]...", "").replace("}...", ""), out
    listed = out[out.index("Arguments:") if "Arguments:" in out else out.index("Options:"):]
    assert "list[" not in listed and "[Path]" not in listed and "<path>" not in listed, listed
    assert "in seconds" not in out


def test_tle_check_help_shows_the_argument_by_its_metavar_alone(narrow, capsys):
    """Typer writes an argument's type beside its metavar (``FILE <list[Path]>``)."""
    code, out, _ = run(["tle", "check", "--help"], capsys)
    assert code == 0
    arguments = out[out.index("Arguments:"):out.index("Options:")].split("\n")
    assert arguments[1].split() == ["FILE", "Element-set", "files", "to", "validate.",
                                    "[required]"], arguments


# ------------------------------------------------------------------ widths and times


def test_tables_fit_80_columns_without_ellipses(narrow, micius_file, capsys):
    for args in (["passes", "--tle", micius_file, *MICIUS_PERIOD, "--all"],
                 ["keys", "--start", "2026-11-24", "--days", "1"],
                 ["stations"],
                 ["tle", "check", micius_file]):
        code, out, err = run(args, capsys)
        assert code == 0, err
        assert_fits(out)


def test_wide_terminal_keeps_rows_on_one_line(monkeypatch, micius_file, capsys):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(["passes", "--tle", micius_file, *MICIUS_PERIOD, "--all",
                        "--station", "Graz"], capsys)
    assert code == 0
    rows = [line for line in out.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert rows and all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", r) for r in rows)


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]


def test_local_date_and_zone_of_a_pass_across_utc_midnight(narrow, capsys):
    """A Stellenbosch pass after 22:00 UTC is after midnight SAST, on the next local date (with the
    default orbit, 5 December at 22:11 UTC): the table shows the local date of the local time
    (checked against zoneinfo from the CSV's UTC)."""
    args = ["passes", "--station", "Stellenbosch", "--start", "2026-12-03T12:00Z", "--days",
            "4", "--all"]
    code, out, err = run([*args, "-f", "csv"], capsys)
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    zone = ZoneInfo("Africa/Johannesburg")
    aos = pd.to_datetime(table["aos_utc"], utc=True)
    local = [t.to_pydatetime().astimezone(zone) for t in aos]
    crossing = [k for k, t in enumerate(local) if t.date() != aos[k].date()]
    assert crossing, "the period should hold a pass across UTC midnight"
    code, out, _ = run(args, capsys)
    assert "SAST (Africa/Johannesburg)" in " ".join(out.split())
    rows = _rows(out)
    assert [r[:2] for r in rows] == [[f"{t:%Y-%m-%d}", f"{t:%H:%M:%S}"] for t in local]
    code, out, _ = run([*args, "--tz", "utc"], capsys)
    utc_rows = _rows(out)
    assert [r[:2] for r in utc_rows] == [
        [f"{t:%Y-%m-%d}", f"{t:%H:%M:%S}"] for t in (a.to_pydatetime().astimezone(UTC)
                                                     for a in aos)]


def test_pass_table_across_the_end_of_summer_time_marks_each_pass(narrow, capsys):
    """Vienna leaves summer time on 2026-10-25: each pass's AOS carries its own abbreviation
    (checked against zoneinfo from the CSV's UTC) and the title names the zone."""
    args = ["passes", "--station", "Graz", "--start", "2026-10-23T12:00Z", "--days", "4",
            "--all", "--tz", "Europe/Vienna"]
    code, out, err = run([*args, "-f", "csv"], capsys)
    assert code == 0, err
    zone = ZoneInfo("Europe/Vienna")
    local = [t.to_pydatetime().astimezone(zone)
             for t in pd.to_datetime(pd.read_csv(io.StringIO(out))["aos_utc"], utc=True)]
    assert {t.tzname() for t in local} == {"CEST", "CET"}
    code, out, _ = run(args, capsys)
    assert "times Europe/Vienna (CEST/CET" in " ".join(out.split())
    assert [r[:3] for r in _rows(out)] == [[f"{t:%Y-%m-%d}", f"{t:%H:%M:%S}", t.tzname()]
                                           for t in local]


@pytest.mark.parametrize(("args", "zone"), [
    # the default orbit rises over Stellenbosch at 23:58 SAST on 4 December, sets after 00:00
    (["--station", "Stellenbosch", "--start", "2026-12-04T12:00Z", "--days", "1"],
     ZoneInfo("Africa/Johannesburg")),
    # Micius over Graz from 23:59 UTC on 28 April 2021, shown in UTC
    (["--station", "Graz", *MICIUS_PERIOD, "--tz", "utc"], UTC),
], ids=["local-midnight", "utc-midnight"])
def test_pass_table_dates_the_times_of_a_pass_past_midnight(args, zone, micius_file,
                                                            monkeypatch, capsys):
    """A row is dated by its AOS: a TCA or LOS on the next day says ``+1d``, as the report's
    tonight table does (the LOS was shown as a bare time under the AOS's date)."""
    monkeypatch.setenv("COLUMNS", "200")
    args = ["passes", "--all", *(["--tle", micius_file] if zone is UTC else []), *args]
    code, out, err = run([*args, "-f", "csv"], capsys)
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    passes = [[pd.Timestamp(t).tz_convert(zone) for t in row]
              for row in table[["aos_utc", "tca_utc", "los_utc"]].itertuples(index=False)]
    crossing = [p for p in passes if p[-1].date() > p[0].date()]
    assert crossing, "the period should hold a pass across midnight"
    code, out, _ = run(args, capsys)
    shown = [" ".join(r) for r in _rows(out)]
    for aos, tca, los in crossing:
        later = [f"{t:%H:%M:%S}" + (" +1d" if t.date() > aos.date() else "")
                 for t in (tca, los)]
        expected = " ".join([f"{aos:%Y-%m-%d}", f"{aos:%H:%M:%S}", *later])
        assert any(row.startswith(expected + " ") for row in shown), (expected, out)


def test_unknown_time_zone_is_one_line_naming_tz(capsys):
    code, out, err = run(["passes", "--tz", "Mars/Olympus_Mons", "--days", "1"], capsys)
    assert_one_line_error(code, out, err, "--tz", "Mars/Olympus_Mons")
    assert out == ""


# ------------------------------------------------------------------ terminal safety


@pytest.mark.parametrize("name", EVIL_NAMES)
def test_hostile_satellite_names_are_shown_inert(name, tmp_path, narrow, capsys):
    path = tmp_path / "evil.tle"
    path.write_text(f"{name}\n{MICIUS_LINES[0]}\n{MICIUS_LINES[1]}\n")
    for args in (["tle", "check", path],
                 ["passes", "--tle", path, *MICIUS_PERIOD, "--all", "--station", "Graz"],
                 ["passes", "--tle", path, *MICIUS_PERIOD, "--allow-stale",
                  "--warn-age-days", "0.1", "--station", "Graz"]):
        code, out, err = run(args, capsys)
        assert code == 0, err
        assert not ESCAPE_OR_BELL.search(out + err), repr(out + err)
        assert "EVIL" in out or "OWN" in out
        if "[/yellow]" in name:
            assert "[/yellow]EVIL" in out
        assert "Traceback" not in err


def test_hostile_station_name_is_shown_inert(tmp_path, micius_file, narrow, capsys):
    stations = tmp_path / "stations.yaml"
    stations.write_text("stations:\n"
                        "  - name: \"[/yellow]EVIL\\e[2J\\e[31m\"\n"
                        "    latitude_deg: 47.067\n    longitude_deg: 15.493\n"
                        "    altitude_m: 539\n    timezone: Europe/Vienna\n"
                        "    clear_sky_probability: [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, "
                        "0.3, 0.3, 0.3, 0.3]\n    source: test\n")
    for args in (["stations", "--stations", stations],
                 ["passes", "--tle", micius_file, "--stations", stations, *MICIUS_PERIOD,
                  "--all"]):
        code, out, err = run(args, capsys)
        assert code == 0, err
        assert not ESCAPE_OR_BELL.search(out + err), repr(out + err)
        assert "[/yellow]EVIL\\x1b[2J" in "".join(out.split())


@given(st.text())
def test_clean_leaves_no_control_character(text):
    shown = clean(text)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown)
    if not re.search(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\\]",
                     text):
        assert shown == text


# (fit_widths and the table layout: tests/cli/test_table_widths.py)


# ------------------------------------------------------------------ warnings


def test_one_warning_per_cause():
    messages = [f"SAT-{k} ({90000 + k}): element set epoch 2026-10-01 is {20 + k:.1f} days from "
                "2026-11-01; positions degrade by roughly 1-3 km per day of age" for k in range(24)]
    shown = collapse_warnings([*messages, "another cause", "another cause"])
    assert len(shown) == 2
    assert shown[0].startswith(messages[0]) and "23 more" in shown[0]
    assert shown[1] == "another cause"


def test_a_stale_constellation_warns_once(tmp_path, capsys):
    walker = tmp_path / "walker.tle"
    code, _, err = run(["constellation", "walker", "--planes", "2", "--per-plane", "3",
                        "--altitude-km", "500", "--inclination-deg", "97.4",
                        "--epoch", "2026-10-01T00:00:00Z", "-o", walker], capsys)
    assert code == 0, err
    code, _, err = run(["passes", "--tle", walker, "--start", "2026-11-01", "--days", "1",
                        "--station", "Graz", "-f", "csv"], capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "5 more" in warnings[0], err
    assert str(tmp_path) not in err or "walker.tle" in err


def test_tle_check_flags_a_stale_set(micius_file, capsys):
    code, out, err = run(["tle", "check", micius_file], capsys)
    assert code == 0, err
    assert "STALE" in out and "all element sets valid" not in out
    assert "STALE" in err
    code, out, _ = run(["tle", "check", micius_file, "-f", "csv"], capsys)
    table = pd.read_csv(io.StringIO(out))
    assert table["stale"].all() and (table["age_days"] > 1000).all()


# ------------------------------------------------------------------ sweep example


def test_sweep_example_is_a_valid_sweep_file(tmp_path, capsys):
    from planner.run.sweep import AXES, load_sweep

    code, out, err = run(["sweep", "--example"], capsys)
    assert code == 0, err
    path = tmp_path / "sweep.yaml"
    path.write_text(out)
    sweep = load_sweep(path)
    assert set(sweep.axes) <= set(AXES) and len(sweep.axes) >= 3
    code, out, err = run(["sweep"], capsys)
    assert_one_line_error(code, out, err, "--example")


def test_fetched_object_name_is_shown_inert(tmp_path, capsys):
    """An OMM OBJECT_NAME carrying an OSC title sequence reaches the terminal made visible."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from pathlib import Path

    record = json.loads((Path(__file__).parents[1] / "data" / "fetch" /
                         "gp_catnr_41731.json").read_text())
    record[0]["OBJECT_NAME"] = "MICIUS\x1b]0;owned\x07 [/yellow]X"
    body = json.dumps(record).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code, out, err = run(["tle", "fetch", "--catnr", "41731", "--base-url",
                              f"http://127.0.0.1:{server.server_address[1]}/gp.php",
                              "--cache-dir", tmp_path], capsys)
    finally:
        server.shutdown()
        server.server_close()
    assert code in (0, 2), err
    assert not ESCAPE_OR_BELL.search(out + err), repr(out + err)
    if code == 0:
        assert "MICIUS\\x1b]0;owned\\x07 [/yellow]X" in out


@pytest.mark.parametrize(("count", "text"), [
    (1, "1 day"), (1.0, "1 day"), (2, "2 days"), (0.5, "0.5 days"), (1.0000001, "1 day"),
    (0.01, "0.01 days"), (1234567, "1,234,567 days"), (7.25, "7.25 days")])
def test_plural_reads_as_written(count, text):
    assert plural(count, "day") == text
