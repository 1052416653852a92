"""A demand between stations the run does not have fails before any work or output."""

from __future__ import annotations

import pytest

from tests.conftest import assert_one_line_error, run

DAY = ["--start", "2026-12-03T12:00:00Z", "--days", "1"]


@pytest.mark.parametrize("command", ["plan", "report"])
def test_a_demand_outside_the_selected_stations_fails_up_front(command, tmp_path, capsys):
    report = tmp_path / "r.html"
    code, out, err = run([command, *DAY, "--station", "Graz", "--demand",
                          "Beijing:Stellenbosch", "-o", report], capsys)
    line = assert_one_line_error(code, out, err, "--demand 'Beijing:Stellenbosch'",
                                 "'Beijing'", "--station")
    assert out == "" and "finding passes" not in err, line   # no headline, no stage
    assert list(tmp_path.iterdir()) == []


def test_a_demand_file_names_its_item(tmp_path, capsys):
    demands = tmp_path / "demands.yaml"
    demands.write_text("demands:\n  - Graz:Stellenbosch\n")
    code, out, err = run(["report", *DAY, "--station", "Graz", "--demands", demands,
                          "-o", tmp_path / "r.html"], capsys)
    assert_one_line_error(code, out, err, "demands.yaml: demands[0]", "'Stellenbosch'")
    assert out == ""


def test_selected_stations_plan_as_before(tmp_path, capsys):
    code, out, err = run(["plan", *DAY, "--station", "Graz", "--station", "Stellenbosch",
                          "--demand", "Graz:Stellenbosch", "--scenarios", "2",
                          "-o", tmp_path / "r.html"], capsys)
    assert code == 0, err
    assert "relay Graz:Stellenbosch" in out
