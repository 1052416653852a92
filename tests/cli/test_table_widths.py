"""Terminal tables at any width: no internal error, nothing wider than the terminal, and no
number, time, word or identifier broken across lines (cells wrap only at spaces; columns are
dropped, or rows shown one field a line, when the terminal is too narrow)."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.cli.terminal import Column, fit_widths, table_layout
from tests.conftest import MICIUS_TLE, run

WIDTHS = [40, 61, 79]
NOTE_WORDS = {"left", "out", "for", "the", "terminal's", "width:"}
SWEEP = """start: 2026-11-24
days: 1
payload: jinan-1
stations: [Beijing, Stellenbosch]
axes:
  aperture_m: [0.2, 1.0]
  stations: [[Beijing, Stellenbosch], [Jinan, Hefei, Shanghai]]
"""

COMMANDS = {
    "passes": ["passes", "--start", "2026-12-03T12:00Z", "--days", "1"],
    "keys": ["keys", "--start", "2026-12-03T12:00Z", "--days", "1", "--station", "Beijing",
             "--station", "Stellenbosch"],
    "next": ["next", "--start", "2026-12-04T14:00Z", "--days", "1"],
    "track": ["track", "--station", "Ngari", "--start", "2026-12-04T14:00Z", "--step", "30"],
    "stations": ["stations"],
    "tle check": ["tle", "check", "sub/old.tle"],
    "schedule": ["schedule", "--tonight", "--station", "Beijing", "--start",
                 "2026-12-03T12:00Z"],
    "sweep": ["sweep", "sweep.yaml"],
}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A working directory with an element file below it and a small sweep file."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "old.tle").write_text(MICIUS_TLE)
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _words(text: str) -> set[str]:
    text = re.sub(r"gap\s+\S+,\s+\d+\.\d\s+s\)", "", text)  # the solver's wall time varies
    return {w.strip(",()") for w in text.split()} - {""}


def _shown(args, width, monkeypatch, capsys) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert "internal error" not in err
    return out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_tables_fit_any_width_without_breaking_a_token(command, workdir, monkeypatch, capsys):
    """At 200 columns nothing wraps but titles (at spaces): its words are the whole tokens.
    At every narrower width each word shown must be one of them, never a fragment such as
    ``21:43:`` or ``2016-051``, and no line may pass the width."""
    whole = _words(_shown(COMMANDS[command], 200, monkeypatch, capsys)) | NOTE_WORDS
    for width in WIDTHS:
        out = _shown(COMMANDS[command], width, monkeypatch, capsys)
        assert max(len(line.rstrip()) for line in out.splitlines()) <= width, (width, out)
        broken = _words(out) - whole
        assert not broken, (width, broken, out)


@given(st.lists(st.tuples(st.integers(1, 40), st.integers(0, 40)), max_size=12),
       st.integers(-50, 200))
def test_fit_widths_never_fails_and_fits_when_it_can(columns, available):
    natural = [n for n, _ in columns]
    minimum = [min(n, m) or 1 for n, m in columns]
    widths = fit_widths(natural, minimum, available)
    assert len(widths) == len(natural)
    assert all(1 <= w <= n for w, n in zip(widths, natural, strict=True))
    if sum(natural) <= available:
        assert widths == natural
    elif sum(minimum) <= available:
        assert sum(widths) == available
        assert all(w >= m for w, m in zip(widths, minimum, strict=True))


_WORD = st.text("ab1:.-/°", min_size=1, max_size=14)
_CELL = st.lists(_WORD, min_size=1, max_size=3).map(" ".join)


@given(st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.lists(st.tuples(_CELL, st.sampled_from(["left", "right"]), st.none() | st.integers(1, 12),
                       st.none() | st.integers(0, 5), st.booleans()), min_size=n, max_size=n),
    st.lists(st.lists(_CELL, min_size=n, max_size=n), max_size=6))),
    st.integers(1, 200))
def test_table_layout_keeps_every_word_whole(table, width):
    specs, rows = table
    columns = [Column(*spec) for spec in specs]

    def least(k: int) -> int:      # the longest word; for a nowrap column the longest cell
        texts = [columns[k].header, *(r[k] for r in rows)]
        words = max(len(word) for t in texts for word in t.split())
        return max([words, *(len(r[k]) for r in rows)]) if columns[k].nowrap else words

    layout = table_layout(columns, rows, width)
    if layout is None:      # too narrow even without the droppable columns: one field a line
        kept = [k for k, c in enumerate(columns) if c.drop is None]
        assert kept and len(kept) - 1 + sum(least(k) for k in kept) > width
        return
    kept, widths = layout
    assert sum(widths) + len(kept) - 1 <= width
    assert all(columns[k].drop is not None for k in set(range(len(columns))) - set(kept))
    assert all(w >= least(k) for k, w in zip(kept, widths, strict=True))


# ------------------------------------------------------------------ next


def test_next_shows_local_date_time_and_zone_together_and_utc_with_its_date(monkeypatch,
                                                                            capsys):
    """An Ngari pass after 16:00 UTC is on the next local day (CST, UTC+8): the local cell
    keeps its date, time and zone on one line, and the UTC cell has the UTC date."""
    args = ["next", "--station", "Ngari", "--start", "2026-12-04T14:00Z"]
    code, out, err = run([*args, "-f", "csv"], capsys)
    assert code == 0, err
    aos = pd.Timestamp(pd.read_csv(io.StringIO(out))["aos_utc"].iloc[0])
    local = aos.tz_convert("Asia/Shanghai")
    for width in (80, 140):
        out = _shown(args, width, monkeypatch, capsys)
        assert f"{local:%Y-%m-%d %H:%M:%S} CST" in out, out
        row = next(line for line in out.splitlines() if line.startswith("Ngari"))
        assert f"{local:%Y-%m-%d %H:%M:%S} CST" in row
        assert f"{aos:%Y-%m-%d}" in out and f"{aos:%H:%M:%S}" in out
    assert f"{aos:%Y-%m-%d %H:%M:%S}" in _shown(args, 140, monkeypatch, capsys)
    out = _shown([*args, "--tz", "utc"], 80, monkeypatch, capsys)
    assert "AOS local" not in out and f"{aos:%Y-%m-%d %H:%M:%S}" in out
    assert "within 3 days" in " ".join(out.split())


def test_next_without_a_pass_says_so_in_words(monkeypatch, capsys):
    out = _shown(["next", "--station", "Stellenbosch", "--start", "2026-12-04T14:00Z",
                  "--days", "0.01"], 80, monkeypatch, capsys)
    text = " ".join(out.split())
    assert text.startswith("No night pass of JINAN-1")
    assert text.endswith("(within 0.01 days).") and "none" not in text
    out = _shown(["next", "--station", "Ngari", "--start", "2026-12-04T14:00Z", "--days", "1"],
                 200, monkeypatch, capsys)
    assert "(within 1 day)" in out


# ------------------------------------------------------------------ track


def test_track_with_utc_drops_the_local_column(monkeypatch, capsys):
    args = ["track", "--station", "Ngari", "--start", "2026-12-04T14:00Z", "--step", "30"]
    code, out, err = run([*args, "-f", "csv"], capsys)
    assert code == 0, err
    times = pd.to_datetime(pd.read_csv(io.StringIO(out))["time_utc"])
    aos, los = times.iloc[0], times.iloc[-1]
    out = _shown(args, 80, monkeypatch, capsys)
    assert "local time" in out and f"= {aos:%Y-%m-%d %H:%M:%S} UTC" in " ".join(out.split())
    out = _shown([*args, "--tz", "utc"], 80, monkeypatch, capsys)
    assert "local time" not in out and "CST" not in out
    assert re.search(rf"^{los:%Y-%m-%d %H:%M:%S} ", out, re.M), out   # the LOS row, dated


# ------------------------------------------------------------------ relay night sheet


def test_tonight_sheet_shows_tonights_key_beside_the_period_total(monkeypatch, capsys):
    """Tonight's delivered key is the plan's delivered key of tonight's night (from the JSON
    plan's delivered_by_night), not the week's total, which is shown labelled as the period's."""
    args = ["schedule", "--start", "2026-12-03T12:00Z"]
    code, out, err = run([*args, "-f", "json"], capsys)
    assert code == 0, err
    plan = json.loads(out)
    tonight = plan["delivered_by_night"].get("2026-12-03", {}).get("Beijing:Stellenbosch", 0.0)
    total = plan["delivered"][0]["delivered_bits"]
    assert abs(total - tonight) > 1e5
    out = _shown([*args, "--tonight", "--station", "Beijing"], 200, monkeypatch, capsys)
    header = next(line for line in out.splitlines() if line.startswith("demand"))
    row = next(line for line in out.splitlines() if line.startswith("Beijing:Stellenbosch"))
    assert header.split()[:5] == ["demand", "tonight", "kbit", "period", "kbit"], out
    assert row.split()[1:3] == [f"{tonight / 1e3:.1f}", f"{total / 1e3:.1f}"], out


def test_schedule_takes_tz(monkeypatch, capsys):
    args = ["schedule", "--tonight", "--station", "Beijing", "--start", "2026-12-03T12:00Z"]
    code, out, err = run(["schedule", "--start", "2026-12-03T12:00Z", "-f", "json"], capsys)
    assert code == 0, err
    aos = min(pd.Timestamp(p["aos_utc"]) for p in json.loads(out)["passes"]
              if p["station"] == "Beijing")
    assert aos < pd.Timestamp("2026-12-04T00:00Z")                     # tonight's pass
    beijing, utc = aos.tz_convert("Asia/Shanghai"), aos.tz_convert("UTC")
    cape = aos.tz_convert("Africa/Johannesburg")
    out = _shown(args, 120, monkeypatch, capsys)
    assert "AOS local" in out and f"{beijing:%H:%M:%S}" in out
    assert "AOS local in CST (Asia/Shanghai)" in " ".join(out.split())
    out = _shown([*args, "--tz", "utc"], 120, monkeypatch, capsys)
    assert "AOS local" not in out and f"{beijing:%H:%M:%S}" not in out
    assert f"{utc:%H:%M:%S}" in out
    out = _shown([*args, "--tz", "Africa/Johannesburg"], 120, monkeypatch, capsys)
    assert f"{cape:%H:%M:%S}" in out and "SAST" in out


def test_night_sheet_across_the_end_of_summer_time_marks_each_local_time(monkeypatch, capsys):
    """Graz passes on both sides of 2026-10-25 (Vienna leaves summer time): each AOS local time
    carries its own abbreviation (it was the first pass's, CEST, for all of them)."""
    args = ["schedule", "--demand", "Graz:Stellenbosch", "--demand", "Graz:Beijing",
            "--station", "Graz", "--start", "2026-10-22T12:00Z", "--days", "8"]
    code, out, err = run([*args, "-f", "json"], capsys)
    assert code == 0, err
    aos = sorted(pd.Timestamp(p["aos_utc"]) for p in json.loads(out)["passes"]
                 if p["station"] == "Graz")
    local = [t.tz_convert("Europe/Vienna") for t in aos]
    assert {t.tzname() for t in local} == {"CEST", "CET"}, "passes on both sides wanted"
    out = _shown(args, 200, monkeypatch, capsys)
    assert "AOS local in Europe/Vienna (CEST/CET" in " ".join(out.split())
    sheet = out[out.index("Graz: passes to take"):]
    rows = [line for line in sheet.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert [r.split()[1:3] for r in rows] == [[f"{t:%H:%M:%S}", t.tzname()] for t in local]
    out = _shown([*args, "--days", "2"], 200, monkeypatch, capsys)   # before the change only
    assert "AOS local in CEST (Europe/Vienna)" in " ".join(out.split())


def _graz_sheet(stations):
    """A night sheet of Graz for the night of 3 December 2026 (CET, UTC+1): a pass at 21:00
    CET, and one rising at 23:58 UTC, which is 00:58 CET on the 4th and sets at 00:04 UTC."""
    graz = next(s for s in stations if s.name == "Graz")
    aos = pd.to_datetime(["2026-12-03T20:00Z", "2026-12-03T23:58Z"])
    sheet = pd.DataFrame({
        "night_date": pd.to_datetime(["2026-12-03", "2026-12-03"]), "satellite": "SAT",
        "aos_utc": aos, "tca_utc": aos + pd.Timedelta(minutes=3),
        "los_utc": aos + pd.Timedelta(minutes=6), "aos_azimuth_deg": [200.0, 210.0],
        "aos_elevation_deg": [15.0, 15.0], "max_elevation_deg": [40.0, 50.0],
        "demands": ["", ""], "clear_sky_probability": [0.5, 0.5],
        "expected_secure_bits": [1e5, 2e5], "used_bits": [1e5, 2e5]})
    return graz, sheet


@pytest.mark.parametrize(("zone", "expected"), [
    (None, [["21:00:00", "20:00:00", "20:06:00"],
            ["00:58:00 +1d", "23:58:00", "00:04:00 +1d"]]),
    ("utc", [["20:00:00", "20:06:00"], ["23:58:00", "00:04:00 +1d"]]),
])
def test_night_sheet_times_past_midnight_say_so(zone, expected, stations, monkeypatch, capsys):
    """A night runs past midnight: a time on the day after the night's date says +1d, as a
    pass table's time after its AOS's date does (they were bare times under the night)."""
    from planner.cli.schedule import _print_sheet
    from planner.cli.terminal import resolve_zone

    monkeypatch.setenv("COLUMNS", "200")
    _print_sheet(*_graz_sheet(stations), resolve_zone(zone), tonight=True)
    out = capsys.readouterr().out
    assert "night of 2026-12-03" in out
    rows = [line for line in out.splitlines() if re.match(r"\d\d:\d\d:\d\d ", line)]
    assert [re.findall(r"\d\d:\d\d:\d\d(?: \+\dd)?", row) for row in rows] == expected, out


def test_a_station_kept_in_utc_shows_utc_once(stations, tmp_path, monkeypatch, capsys):
    """A station whose own zone is UTC gets no local-time column beside the UTC one, in track
    and in its night sheet (as with --tz utc); the column repeated the UTC times."""
    from planner.cli.schedule import _print_sheet

    graz, sheet = _graz_sheet(stations)
    monkeypatch.setenv("COLUMNS", "200")
    _print_sheet(graz.model_copy(update={"timezone": "UTC"}), sheet, None, tonight=True)
    out = capsys.readouterr().out
    assert "AOS local" not in out and "times UTC" in out, out
    path = tmp_path / "stations.yaml"
    path.write_text("stations:\n"
                    "  - name: Greenwich\n"
                    "    latitude_deg: 51.477\n    longitude_deg: 0.0\n"
                    "    altitude_m: 46\n    timezone: UTC\n"
                    "    clear_sky_probability: [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, "
                    "0.3, 0.3, 0.3, 0.3]\n    source: test\n")
    args = ["track", "--stations", path, "--station", "Greenwich", "--start",
            "2026-12-04T12:00Z", "--step", "30", "--all"]
    code, out, err = run([*args, "-f", "csv"], capsys)
    assert code == 0, err
    los = pd.to_datetime(pd.read_csv(io.StringIO(out))["time_utc"]).iloc[-1]
    out = _shown(args, 80, monkeypatch, capsys)
    assert "local time" not in out
    assert re.search(rf"^{los:%Y-%m-%d %H:%M:%S} ", out, re.M), out   # the LOS row, dated


# ------------------------------------------------------------------ sweep, tle check, wording


def test_sweep_columns_have_one_number_format(workdir, monkeypatch, capsys):
    out = _shown(["sweep", "sweep.yaml"], 200, monkeypatch, capsys)
    rows = [line.split() for line in out.splitlines() if line.startswith(("aperture_m",))]
    assert len(rows) == 2
    for k in range(2, len(rows[0])):
        decimals = {len(r[k].partition(".")[2]) for r in rows}
        assert len(decimals) == 1, (k, rows)
    assert "e+" not in out and "_" not in out.split("\n", 1)[1].replace("aperture_m", "")


def test_tle_check_shows_the_path_as_given(workdir, monkeypatch, capsys):
    out = _shown(["tle", "check", "sub/old.tle"], 120, monkeypatch, capsys)
    assert "sub/old.tle" in out and "2016-051A" in out
    assert out.startswith("1 satellite:")


def test_passes_in_utc_name_the_zone_once(monkeypatch, capsys):
    out = _shown(["passes", "--station", "Beijing", "--start", "2026-12-03T12:00Z", "--days",
                  "1", "--tz", "utc"], 200, monkeypatch, capsys)
    assert "times UTC;" in out and "UTC (UTC)" not in out


def test_tonight_csv_without_a_chosen_pass_is_the_header_alone(capsys):
    # on the night of 3 December the two-day plan takes no Beijing pass
    code, out, err = run(["schedule", "--tonight", "--station", "Beijing", "--start",
                          "2026-12-03T12:00Z", "--days", "2", "-f", "csv"], capsys)
    assert code == 0, err
    # the columns docs/data-contracts.md gives for schedule's CSV
    assert out.splitlines() == ["pass_id,night_date,satellite,aos_utc,tca_utc,los_utc,"
                                "aos_azimuth_deg,aos_elevation_deg,max_elevation_deg,demands,"
                                "clear_sky_probability,expected_secure_bits,used_bits,station"]


def test_a_pass_past_local_midnight_keeps_every_column_at_80(monkeypatch, capsys):
    """A Stellenbosch pass from 23:58 SAST: its TCA and LOS say +1d, and at 80 columns the
    marks still leave room for every column (a wider mark, ``(+1 d)``, pushed out two)."""
    out = _shown(["passes", "--station", "Stellenbosch", "--start", "2026-12-04T12:00Z",
                  "--days", "1"], 80, monkeypatch, capsys)
    row = next(line for line in out.splitlines() if line.startswith("2026-12-04 23:5"))
    assert len(re.findall(r"\d\d:\d\d:\d\d \+1d", row)) == 2, out
    assert "left out for the terminal's width" not in out, out
