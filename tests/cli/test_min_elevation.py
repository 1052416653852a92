"""``--min-elevation`` on the commands that compute key: ``keys``, ``plan``, ``report``,
``schedule``.

It had reached ``passes``, ``next``, ``track`` and ``constellation passes`` only: the key, the
report and the relay plan were always those of each station's own minimum, and a configuration
file's ``min_elevation`` was only warned about for them. Each command is run through the real
CLI on the generated Jinan-1-class orbit, and the passes it writes are checked against Skyfield:
every one culminates above the override and is acquired (AOS) at it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from skyfield.api import EarthSatellite, wgs84

from tests.conftest import assert_one_line_error, run, skyfield_times

START = "2026-11-24"

#: Each command writing its passes to OUT (a fresh directory per run). The schedule's period
#: is longer: its JSON lists only the passes the plan chose, and over three days the override
#: removes none of those.
COMMANDS = {
    "keys": ["keys", "--start", START, "--days", "3", "-f", "csv", "-o", "OUT/keys.csv"],
    "plan": ["plan", "--start", START, "--days", "3", "--station", "Beijing", "--station",
             "Stellenbosch", "--scenarios", "2", "-o", "OUT/budget.html"],
    "report": ["report", "--start", START, "--days", "3", "--station", "Graz", "--station",
               "Stellenbosch", "--scenarios", "2", "-o", "OUT/budget.html"],
    "schedule": ["schedule", "--start", START, "--days", "5", "-f", "json", "-o",
                 "OUT/plan.json"],
}


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    """No configuration unless a test writes one (a developer's own file must not leak in)."""
    monkeypatch.delenv("QKDPLAN_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def _written(command: str, out) -> tuple[pd.DataFrame, dict]:
    """The passes a run wrote (with their expected key) and its provenance."""
    if command == "keys":
        table = pd.read_csv(out / "keys.csv")
        provenance = json.loads((out / "keys.csv.meta.json").read_text())["provenance"]
    elif command == "schedule":
        document = json.loads((out / "plan.json").read_text())
        table = pd.DataFrame(document["passes"])
        provenance = document["provenance"]
    else:
        table = pd.read_csv(out / "budget_keys.csv")
        summary = json.loads((out / "budget_summary.json").read_text())
        assert summary["totals"]["passes"] == len(table)
        provenance = summary["provenance"]
    return table, provenance


def _run(command: str, tmp_path, capsys, *extra, config=None):
    """Run ``command`` with ``extra`` options; (passes written, provenance, stderr)."""
    out = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}"
    out.mkdir()
    args = [str(out / a[4:]) if a.startswith("OUT/") else a for a in COMMANDS[command]]
    code, _, err = run([*(["--config", config] if config else []), *args, *extra], capsys)
    assert code == 0, err
    return (*_written(command, out), err)


def _elevation_deg(passes: pd.DataFrame, column: str) -> np.ndarray:
    """Skyfield's geometric elevation of the satellite at each pass's ``column`` time."""
    from skyfield.api import load

    from planner.elements.default_orbit import default_catalogue
    from planner.mission.stations import load_stations

    ts = load.timescale(builtin=True)
    catalogue = default_catalogue(datetime.fromisoformat(START).replace(tzinfo=UTC))
    (key,) = catalogue.satellites
    (elements,) = catalogue.sets(key)
    satellite = EarthSatellite.from_satrec(elements.satrec, ts)
    stations = {s.name: s for s in load_stations()}
    out = []
    for station, when in zip(passes["station"], passes[column], strict=True):
        s = stations[station]
        place = wgs84.latlon(s.latitude_deg, s.longitude_deg, elevation_m=s.altitude_m)
        out.append((satellite - place).at(skyfield_times(ts, [when])).altaz()[0].degrees[0])
    return np.array(out)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_option_keeps_only_the_passes_above_it_and_their_key_above_it(command, tmp_path,
                                                                         capsys):
    low, low_provenance, _ = _run(command, tmp_path, capsys)
    high, provenance, _ = _run(command, tmp_path, capsys, "--min-elevation", "40")
    assert 0 < len(high) < len(low)
    assert (high["max_elevation_deg"] >= 40).all()
    assert (low["max_elevation_deg"] < 40).any()
    # acquired at the override, and set at it, as Skyfield computes the elevation
    for column in ("aos_utc", "los_utc"):
        np.testing.assert_allclose(_elevation_deg(high, column), 40.0, atol=0.01)
    assert provenance["options"]["min_elevation_deg"] == 40
    assert low_provenance["options"]["min_elevation_deg"] is None
    # the key of a pass is that of its part above the override: never more, less in all
    both = high.merge(low, on=["station", "tca_utc"], suffixes=("_high", "_low"))
    assert len(both) == len(high)
    assert (both["expected_secure_bits_high"] <= both["expected_secure_bits_low"]).all()
    assert both["expected_secure_bits_high"].sum() < both["expected_secure_bits_low"].sum()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_file_s_min_elevation_is_the_option_s(command, tmp_path, capsys):
    config = tmp_path / "high.toml"
    config.write_text("min_elevation = 40\n")
    option, option_provenance, _ = _run(command, tmp_path, capsys, "--min-elevation", "40")
    from_file, provenance, err = _run(command, tmp_path, capsys, config=config)
    pd.testing.assert_frame_equal(from_file, option)
    assert provenance["options"] == option_provenance["options"]
    assert "has no option" not in err and "high.toml" not in err, err


@pytest.mark.parametrize("value", ["95", "nan", "-1"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_elevation_out_of_range_is_refused_naming_the_option(command, value, tmp_path,
                                                               capsys):
    args = [str(tmp_path / a[4:]) if a.startswith("OUT/") else a for a in COMMANDS[command]]
    code, out, err = run([*args, "--min-elevation", value], capsys)
    line = assert_one_line_error(code, out, err, "--min-elevation")
    assert line.startswith("qkdplan: error: --min-elevation"), line
    assert not any(p.is_file() for p in tmp_path.rglob("*"))     # refused before any work


def test_the_night_sheet_points_at_the_override(tmp_path, capsys):
    sheet = tmp_path / "sheet.csv"
    code, _, err = run(["schedule", "--start", START, "--days", "3", "--min-elevation", "40",
                        "-f", "csv", "-o", sheet], capsys)
    assert code == 0, err
    rows = pd.read_csv(sheet)
    assert len(rows) and (rows["aos_elevation_deg"] == 40).all()


def test_the_report_draws_the_footprints_at_the_override(tmp_path, capsys):
    report = tmp_path / "budget.html"
    code, _, err = run(["report", "--start", START, "--days", "1", "--station", "Graz",
                        "--min-elevation", "40", "-o", report], capsys)
    assert code == 0, err
    assert re.search(r"footprints \(40(°|\\u00b0) minimum elevation", report.read_text())
