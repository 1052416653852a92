"""The configuration file: defaults for the options, its places, and its errors."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from planner.io.config import load_config
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
