"""The configuration file: defaults for the options, its places, and its errors."""

from __future__ import annotations

import io
import json
import shutil
import typing
from pathlib import Path

import pandas as pd
import pytest
import typer

from planner.cli import root
from planner.cli.numbers import RANGES, number_params
from planner.cli.optiontypes import value_types
from planner.io.config import config_model, holds_list, load_config
from tests.conftest import MICIUS_TLE, assert_one_line_error, run

PERIOD = ["--start", "2021-04-27T12:00:00Z", "--days", "2", "-f", "csv", "--all"]


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    """No configuration unless a test writes one (a developer's own file must not leak in)."""
    monkeypatch.delenv("QKDPLAN_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def setup(tmp_path):
    (tmp_path / "micius.tle").write_text(MICIUS_TLE)
    config = tmp_path / "config.toml"
    config.write_text('tle = ["micius.tle"]\nstation = ["Graz", "Ngari"]\n')
    return config


def _stations(out: str) -> set[str]:
    return set(pd.read_csv(io.StringIO(out))["station"])


def test_config_file_supplies_defaults_and_options_win(setup, capsys):
    code, out, err = run(["--config", setup, "passes", *PERIOD], capsys)
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert set(table["station"]) == {"Graz", "Ngari"}          # station list from the file
    assert set(table["norad"]) == {41731}                       # relative tle path resolved
    code, out, err = run(["--config", setup, "passes", *PERIOD, "--station", "Jinan"], capsys)
    assert code == 0, err
    assert _stations(out) == {"Jinan"}


def test_environment_and_user_directory(setup, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("QKDPLAN_CONFIG", str(setup))
    code, out, _ = run(["passes", *PERIOD], capsys)
    assert code == 0 and _stations(out) == {"Graz", "Ngari"}
    monkeypatch.delenv("QKDPLAN_CONFIG")
    user = tmp_path / "xdg" / "qkdplan" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text(f'tle = ["{tmp_path / "micius.tle"}"]\nstation = ["Graz"]\n')
    code, out, _ = run(["passes", *PERIOD], capsys)
    assert code == 0 and _stations(out) == {"Graz"}
    assert load_config()[1] == user


@pytest.mark.parametrize(("text", "needles"), [
    ('station = ["Graz"]\nwarn_age_days = -1\n', [":2:", "warn_age_days"]),
    ('station = ["Graz"]\ncolour = "blue"\n', [":2:", "colour", "unknown setting"]),
    ('station = ["Graz"\n', ["not valid TOML"]),
    ('tz = 5\nmin_elevation = "high"\n', [":1:", "tz"]),
])
def test_bad_configuration_is_one_line_with_file_line_and_key(text, needles, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    code, out, err = run(["--config", config, "passes", "--days", "1"], capsys)
    assert_one_line_error(code, out, err, "bad.toml", *needles)
    assert out == ""


def test_a_named_file_must_exist(tmp_path, capsys):
    code, out, err = run(["--config", tmp_path / "missing.toml", "stations"], capsys)
    assert_one_line_error(code, out, err, "missing.toml", "no such configuration file")


def test_config_command_shows_the_file_and_its_settings(setup, tmp_path, capsys):
    code, out, err = run(["--config", setup, "config"], capsys)
    assert code == 0, err
    assert f"configuration file: {setup}" in out
    assert "station = ['Graz', 'Ngari']" in out
    assert f"tle = ['{tmp_path / 'micius.tle'}']" in out
    code, out, _ = run(["config"], capsys)
    assert code == 0 and "no configuration file" in out
    assert str(tmp_path / "xdg" / "qkdplan" / "config.toml") in out


# --- the satellite, stations and thresholds of the file reach every planning command --------

FETCHED = Path(__file__).parents[1] / "data" / "fetch" / "gp_catnr_41731.json"
DAY = ["--start", "2021-04-27T12:00:00Z", "--days", "1"]

#: Each planning command, with options that make it quick; "REPORT" is its report's path.
PLANNING = {
    "next": ["next", "--all", "-f", "json", "--days", "1", "--start", "2021-04-27T12:00:00Z"],
    "track": ["track", "--station", "Graz", "--all", "-f", "json", "--days", "1",
              "--start", "2021-04-27T12:00:00Z"],
    "passes": ["passes", *DAY, "--all", "-f", "json"],
    "keys": ["keys", *DAY, "--all", "-f", "json", "--station", "Graz"],
    "schedule": ["schedule", *DAY, "-f", "json", "--demand", "Graz:Stellenbosch"],
    "plan": ["plan", *DAY, "--station", "Graz", "--station", "Stellenbosch", "--scenarios",
             "2", "-o", "REPORT"],
    "report": ["report", *DAY, "--station", "Graz", "--scenarios", "2", "-o", "REPORT"],
    "constellation passes": ["constellation", "passes", *DAY, "--all", "-f", "json"],
}


@pytest.fixture
def fetched(tmp_path, monkeypatch):
    """A fetch cache holding what ``qkdplan tle fetch --catnr 41731`` wrote."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(FETCHED, cache / "catnr-41731.json")
    monkeypatch.setenv("QKDPLAN_CACHE_DIR", str(cache))
    return cache


def _flown(args, tmp_path, capsys, config=None) -> str:
    """Run a planning command; its output and report (if any) as one text."""
    report = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.html"
    argv = [str(report) if a == "REPORT" else a for a in args]
    code, out, err = run([*(["--config", config] if config else []), *argv], capsys)
    assert code == 0, err
    return out + (report.read_text() if report.exists() else "")


@pytest.mark.parametrize("command", list(PLANNING))
def test_norad_of_the_file_and_of_the_option_fly_the_same_satellite(command, fetched, tmp_path,
                                                                     capsys):
    config = tmp_path / "norad.toml"
    config.write_text("norad = [41731]\n")
    args = PLANNING[command]
    for text in (_flown([*args, "--norad", "41731"], tmp_path, capsys),
                 _flown(args, tmp_path, capsys, config)):
        assert "MICIUS" in text and "REPRESENTATIVE" not in text


@pytest.mark.parametrize("command", ["next", "track"])
def test_min_elevation_of_the_file_and_of_the_option_agree(command, tmp_path, capsys):
    (tmp_path / "micius.tle").write_text(MICIUS_TLE)
    config = tmp_path / "high.toml"
    config.write_text('tle = "micius.tle"\nmin_elevation = 40\n')
    args = [a for a in PLANNING[command] if a != "--all"] + ["--all", "--tle",
                                                                 tmp_path / "micius.tle"]
    low = json.loads(_flown(args, tmp_path, capsys))
    option = json.loads(_flown([*args, "--min-elevation", "40"], tmp_path, capsys))
    from_file = json.loads(_flown(args, tmp_path, capsys, config))
    key = "next_passes" if command == "next" else "track"
    assert option[key] == from_file[key] != low[key]
    if command == "next":
        assert min(p["max_elevation_deg"] for p in from_file[key]) >= 40
    else:
        assert min(p["elevation_deg"] for p in from_file[key]) >= 40 - 0.01


def test_a_setting_a_planning_command_cannot_use_is_warned_about_once(tmp_path, capsys):
    (tmp_path / "micius.tle").write_text(MICIUS_TLE)
    config = tmp_path / "site.toml"
    config.write_text('tle = "micius.tle"\nmin_elevation = 40\nwarn_age_days = 7\n'
                      'demand = "Graz:Ngari"\n')
    code, _out, err = run(["--config", config, "constellation", "passes", *DAY, "-f", "csv"],
                          capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "site.toml" in line]
    assert len(warnings) == 1 and "has no option for warn_age_days;" in warnings[0], err
    assert "demand" not in err              # a relay setting means nothing to pass tables
    # keys, plan, report and schedule take min_elevation (tests/cli/test_min_elevation.py)
    for command in (["keys", "--station", "Graz", "-f", "csv"], ["passes", "-f", "csv"]):
        code, _out, err = run(["--config", config, *command, *DAY], capsys)
        assert code == 0 and "site.toml" not in err, err


# --- a bad value is blamed on where it came from ----------------------------------------------

@pytest.mark.parametrize(("text", "option", "value", "needle"), [
    ('station = ["Graz"]\ntz = "Mars/Olympus"\n', "--tz", "Mars/Olympus", "time zone"),
    ('tz = "utc"\n\nstation = ["Grazz"]\n', "--station", "Grazz", "unknown station"),
    ('norad = [41731]\n', "--norad", "41731", "fetch cache"),
])
def test_a_bad_value_of_the_file_names_the_file_line_and_key(text, option, value, needle,
                                                             tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QKDPLAN_CACHE_DIR", str(tmp_path / "empty-cache"))
    config = tmp_path / "site.toml"
    config.write_text(text)
    key = option.removeprefix("--")
    line = 1 + text.splitlines().index(next(x for x in text.splitlines()
                                            if x.startswith(key)))
    for words in (["--config", config, "next"], ["next", "--config", config]):
        code, out, err = run([*words, *DAY], capsys)
        first = assert_one_line_error(code, out, err, needle)
        assert f"site.toml:{line}: {key}" in first and option not in first, first
        assert out == ""
    code, out, err = run(["--config", config, "next", *DAY, option, value], capsys)
    first = assert_one_line_error(code, out, err, needle)
    assert first.startswith(f"qkdplan: error: {option}"), first   # typed: the option's fault


# --- a number out of its range: the same words from the file and from the command line -------

@pytest.mark.parametrize(("command", "key", "value", "message"), [
    (["passes"], "warn_age_days", "-5", "expected a number > 0, found -5"),
    (["next"], "min_elevation", "90", "expected a number >= 0 and < 90, found 90"),
    (["next"], "min_elevation", "nan", "expected a number >= 0 and < 90, found nan"),
    (["schedule"], "scenarios", "0", "expected a whole number >= 1, found 0"),
])
def test_a_number_out_of_range_is_refused_in_the_same_words_from_both_places(
        command, key, value, message, tmp_path, capsys):
    config = tmp_path / "site.toml"
    config.write_text(f'tz = "utc"\n{key} = {value}\n')
    flag = "--" + key.replace("_", "-")
    for words in (["--config", config, *command], [*command, "--config", config]):
        code, out, err = run([*words, *DAY], capsys)
        line = assert_one_line_error(code, out, err)
        assert line.endswith(f"site.toml:2: {key}: {message}"), line
        assert flag not in line and out == ""
    code, out, err = run([*command, *DAY, flag, value], capsys)
    assert assert_one_line_error(code, out, err) == f"qkdplan: error: {flag}: {message}"
    assert out == ""


def _out_of_range(low, low_in, high, high_in, whole: bool) -> str:
    """A value just outside a range of RANGES, as TOML and the command line both write it."""
    step = 1 if whole else 1.0
    bad = (low - step if low_in else low) if low is not None else (
        high + step if high_in else high)
    return str(int(bad)) if whole else repr(float(bad))


def test_every_ranged_setting_of_the_file_is_checked_as_its_option_is(tmp_path, capsys):
    # a limit of the file's own model (pydantic's Field(gt=0)) would refuse in other words
    root.register_commands(None)
    group = typer.main.get_command(root.app)
    keys = [key for key in config_model().model_fields if key in RANGES]
    assert {"warn_age_days", "min_elevation", "scenarios"} <= set(keys)
    for key in keys:
        name, command = next((name, c) for name, c in group.commands.items()
                             if key in {p.name for p in number_params(c)})
        value = _out_of_range(*RANGES[key], whole=value_types(command)[key] is int)
        config = tmp_path / f"{key}.toml"
        config.write_text(f"{key} = {value}\n")
        flag = "--" + key.replace("_", "-")
        code, out, err = run(["--config", config, name, *DAY], capsys)
        from_file = assert_one_line_error(code, out, err).partition(f"{key}.toml:1: {key}: ")[2]
        code, out, err = run([name, *DAY, flag, value], capsys)
        typed = assert_one_line_error(code, out, err).partition(f"{flag}: ")[2]
        assert from_file == typed != "", (key, value)


# --- the file's form ---------------------------------------------------------------------------

def test_one_value_for_a_list_key_is_a_list_of_one(fetched, tmp_path, capsys):
    config = tmp_path / "one.toml"
    config.write_text('station = "Graz"\nnorad = 41731\n')
    settings, _ = load_config(config)
    assert settings.station == ["Graz"] and settings.norad == [41731]
    code, out, err = run(["--config", config, "passes", *PERIOD], capsys)
    assert code == 0 and _stations(out) == {"Graz"}, err
    assert set(pd.read_csv(io.StringIO(out))["norad"]) == {41731}
    code, out, err = run(["--config", config, "config"], capsys)
    assert code == 0 and "norad = [41731]" in out and "station = ['Graz']" in out, out


@pytest.mark.parametrize(("annotation", "is_list"), [
    (list[Path] | None, True),
    (typing.Optional[typing.List[str]], True),   # noqa: UP006, UP045 (the older spelling)
    (list, True),
    (int | None, False),
    (dict[str, list[int]] | None, False),        # a list inside is not a list
    (str, False),
])
def test_a_list_setting_is_known_by_its_annotation_not_its_text(annotation, is_list):
    # the text test ("list[" in str(annotation)) missed typing.List and took a mapping of
    # lists for a list
    assert holds_list(annotation) is is_list


@pytest.mark.parametrize(("text", "line", "needle"), [
    ('station = ["Graz"]\n\nnorad = [41731\n', 3, "not valid TOML"),   # at the end of the file
    ('station = ["Graz"]\ntz = = "utc"\n', 2, "not valid TOML"),
    ('station = ["Graz"]\n\n[passes]\ndays = 2\n', 3, "passes: unknown setting"),
])
def test_syntax_errors_and_tables_have_their_line(text, line, needle, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    code, out, err = run(["--config", config, "passes", "--days", "1"], capsys)
    assert_one_line_error(code, out, err, f"bad.toml:{line}: {needle}")


def test_config_after_the_command_word(setup, capsys):
    code, out, err = run(["passes", "--config", setup, *PERIOD], capsys)
    assert code == 0, err
    assert _stations(out) == {"Graz", "Ngari"}
    code, out, err = run(["config", "--config", setup], capsys)
    assert code == 0 and f"configuration file: {setup}" in out, err
    code, out, err = run(["--config", setup, "passes", "--config", setup, *PERIOD,
                          "--station", "Jinan"], capsys)
    assert code == 0 and _stations(out) == {"Jinan"}, err
