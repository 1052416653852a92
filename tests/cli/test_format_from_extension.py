"""``-o FILE`` without ``--format``: the format follows the file's extension, for every command.

The operator review found ``qkdplan passes -o passes.csv`` refused (``--format table prints to
the terminal``), and that refusal hid a typo'd station in the same command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import pytest
import typer

from planner.cli.root import PlannerCommand
from planner.io.resources import bundled_path
from tests.conftest import assert_one_line_error, run

DAY = ["--start", "2026-12-03T00:00Z"]
GRAZ = ["--station", "Graz"]


def _csv(path):
    return pd.read_csv(path)


def _json(path):
    return json.loads(path.read_text())


def _ics(path):
    text = path.read_text()
    assert text.startswith("BEGIN:VCALENDAR")
    return text


@pytest.mark.parametrize(("command", "name", "read"), [
    (["passes", *GRAZ, *DAY, "--days", "1", "--all"], "p.csv", _csv),
    (["passes", *GRAZ, *DAY, "--days", "1", "--all"], "p.json", _json),
    (["passes", *GRAZ, *DAY, "--days", "1", "--all"], "p.ics", _ics),
    (["next", *GRAZ, *DAY], "n.CSV", _csv),
    (["track", *GRAZ, *DAY, "--step", "30"], "t.json", _json),
    (["keys", *GRAZ, *DAY, "--days", "1"], "k.csv", _csv),
    (["stations"], "s.json", _json),
    (["schedule", *DAY, "--days", "2", "--scenarios", "5"], "r.ics", _ics),
    (["tle", "check", str(bundled_path("tle_data/jinan1_representative.tle"))], "c.csv",
     _csv),
])
def test_the_extension_chooses_the_format(command, name, read, tmp_path, capsys):
    path = tmp_path / name
    code, _out, err = run([*command, "-o", path], capsys)
    assert code == 0, err
    read(path)


def test_walker_json_is_omm(tmp_path, capsys):
    path = tmp_path / "walker.json"
    code, _out, err = run(["constellation", "walker", "--planes", "2", "--per-plane", "2",
                          "--altitude-km", "500", "--inclination-deg", "sso", "--epoch",
                          "2026-12-03", "-o", path], capsys)
    assert code == 0, err
    assert {"OBJECT_NAME", "MEAN_MOTION"} <= set(_json(path)[0])


def test_an_explicit_format_wins_over_the_extension(tmp_path, capsys):
    path = tmp_path / "passes.csv"
    code, _out, err = run(["passes", *GRAZ, *DAY, "--days", "1", "--all", "-f", "json", "-o",
                          path], capsys)
    assert code == 0, err
    assert "passes" in _json(path)


def test_a_typo_is_reported_not_hidden_by_the_format(tmp_path, capsys):
    code, out, err = run(["passes", "--station", "Grz", *DAY, "-o", tmp_path / "p.csv"], capsys)
    assert_one_line_error(code, out, err, "--station", "Grz")
    assert not (tmp_path / "p.csv").exists()


def test_an_extension_of_no_format_still_needs_one(tmp_path, capsys):
    code, out, err = run(["next", *GRAZ, *DAY, "-o", tmp_path / "n.txt"], capsys)
    assert_one_line_error(code, out, err, "--format", ".csv or .json")
    assert not (tmp_path / "n.txt").exists()


def test_schedule_refuses_a_table_file_before_planning(tmp_path, capsys):
    # a payload file that the key stage would refuse: the --format error must come first
    payload = tmp_path / "payload.yaml"
    payload.write_text("not: [a payload\n")
    code, out, err = run(["schedule", *DAY, "--payload", payload, "-o", tmp_path / "plan.txt"],
                         capsys)
    assert_one_line_error(code, out, err, "--format", ".csv, .json or .ics")
    assert not (tmp_path / "plan.txt").exists()


def test_the_refusal_names_the_extensions_that_choose_each_format(tmp_path):
    # the extensions come from the table format_from_output reads, not from the words of the
    # message: a hyphenated format once came out as ".omm-.json", and .txt (TLE) was missing
    from planner.cli.root import check_output
    from planner.errors import OptionError

    with pytest.raises(OptionError) as refused:
        check_output(tmp_path / "walker.txt", True, ("tle", "omm-json"))
    assert refused.value.message == ("--format table prints to the terminal; use tle or "
                                     "omm-json with --output (a file named .tle, .txt or .json "
                                     "gets that format)")


def test_a_literal_format_option_follows_the_extension_too(tmp_path):
    # the formats a command offers are read from its function's annotation, so a --format
    # declared as a Literal (not an enum) works as well; reading Typer's own parameter
    # attributes failed on it with an internal error. (The annotations name module-level
    # imports, as a command module's do: typing.get_type_hints resolves them there.)
    app = typer.Typer()
    written = []

    @app.command(cls=PlannerCommand)
    def write(output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
              output_format: Annotated[Literal["table", "csv", "json"],
                                       typer.Option("--format", "-f")] = "table") -> None:
        written.append(output_format)

    @app.command(cls=PlannerCommand)
    def other() -> None:
        """(a second command, so that ``write`` is a sub-command)"""

    for args in (["-o", "w.csv"], ["-o", "w.JSON"], ["-o", "w.txt"], ["-f", "json", "-o",
                                                                         "w.csv"]):
        app(["write", *args], standalone_mode=False)
    assert written == ["csv", "json", "table", "json"]
