"""Every float option of every command refuses NaN, infinities and values out of its range,
and so does every integer option with a range.

Typer reads ``nan``, ``inf`` and ``-5`` as floats and comparisons with NaN are false, so
``--warn-age-days nan`` once called a 2047-day-old set fresh. The options are found from the
commands themselves, so a new number option is covered as it is added.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli import root
from planner.cli.numbers import RANGES, number_params
from planner.cli.optiontypes import value_types
from tests.conftest import assert_one_line_error, run

MICIUS = str(Path(__file__).parents[2] / "tle_data" / "micius.tle")

#: Arguments a command needs before its options are even read (required options, files).
REQUIRED = {
    "tle check": [MICIUS],
    "constellation walker": ["--planes", "2", "--per-plane", "2", "--altitude-km", "500",
                             "--inclination-deg", "97", "--epoch", "2026-01-01T00:00:00Z"],
    "track": ["--station", "Graz"],
}


def _commands():
    root.register_commands(None)
    group = typer.main.get_command(root.app)
    out = []

    def walk(node, words):
        for name, command in node.commands.items():
            if hasattr(command, "commands"):
                walk(command, [*words, name])
            else:
                types = value_types(command)
                out.extend(([*words, name], param, types[param.name] is int)
                           for param in number_params(command))

    walk(group, [])
    return out


#: (command words, flag, parameter name, whether the option takes integers)
CASES = [(words, max(param.opts, key=len), param.name, whole)
         for words, param, whole in _commands()]


def test_the_number_options_are_found():
    flags = {(" ".join(words), flag) for words, flag, _, _ in CASES}
    assert {("tle check", "--warn-age-days"), ("passes", "--warn-age-days"),
            ("next", "--min-elevation"), ("track", "--step"), ("schedule", "--gap-s"),
            ("tle fetch", "--read-timeout"), ("constellation passes", "--chunk-days"),
            ("constellation walker", "--eccentricity"), ("plan", "--scenarios"),
            ("schedule", "--scenarios")} <= flags
    assert ("next", "--count") not in flags           # an integer option without a range
    assert {name for _, _, name, _ in CASES if name in RANGES} == set(RANGES)


def _outside(name: str, whole: bool):
    """Values outside the option's range: never finite-and-inside (integers for an integer
    option: the parser refuses anything else before the range is checked)."""
    low, low_in, high, high_in = RANGES.get(name, (None, False, None, False))
    if whole:
        bad = st.nothing()
        if low is not None:
            bad |= st.integers(max_value=low if not low_in else low - 1, min_value=-10**9)
        if high is not None:
            bad |= st.integers(min_value=high if not high_in else high + 1, max_value=10**9)
        return bad
    bad = st.sampled_from([math.nan, math.inf, -math.inf])
    if low is not None:
        bad |= st.floats(max_value=low, exclude_max=low_in, allow_nan=False,
                         allow_infinity=False, min_value=-1e9)
    if high is not None:
        bad |= st.floats(min_value=high, exclude_min=high_in, allow_nan=False,
                         allow_infinity=False, max_value=1e9)
    return bad


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_bad_number_is_one_line_naming_the_option(data, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("QKDPLAN_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    words, flag, name, whole = data.draw(st.sampled_from(CASES))
    value = data.draw(_outside(name, whole))
    args = [*words, *REQUIRED.get(" ".join(words), []), f"{flag}={value!r}"]
    code, out, err = run(args, capsys)
    line = assert_one_line_error(code, out, err, flag)
    assert line.startswith(f"qkdplan: error: {flag}:"), line
    assert out == ""


@pytest.mark.parametrize("args", [
    ["tle", "check", MICIUS, "--warn-age-days", "nan"],
    ["tle", "check", MICIUS, "--warn-age-days", "-5"],
    ["passes", "--warn-age-days", "-5"],
    ["next", "--min-elevation", "inf"],
])
def test_the_reported_holes_are_closed(args, capsys):
    code, out, err = run(args, capsys)
    assert_one_line_error(code, out, err, args[-2])
    assert out == ""

