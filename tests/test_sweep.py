"""Design sweeps: validated axes, physically sensible trends, identical across executors."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from planner.sweep import SWEEP_COLUMNS, load_sweep, run_sweep
from tests.test_cli import _assert_one_line_error, run

SWEEP = """start: 2026-11-24
days: 2
payload: jinan-1
axes:
  aperture_m: [0.2, 0.28, 0.5]
  min_elevation_deg: [15, 20, 30]
  stations: [[Beijing, Stellenbosch], [Jinan]]
"""


@pytest.fixture
def sweep_file(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP)
    return path


def test_trends_follow_the_physics(sweep_file):
    table = run_sweep(load_sweep(sweep_file))
    assert list(table.columns) == SWEEP_COLUMNS
    aperture = table[table["axis"] == "aperture_m"]
    # a larger telescope collects more of the beam: strictly more key, same passes
    assert np.all(np.diff(aperture["secure_bits"].to_numpy()) > 0)
    assert aperture["passes"].nunique() == 1
    elevation = table[table["axis"] == "min_elevation_deg"]
    # a higher threshold keeps fewer passes and fewer seconds of each
    assert np.all(np.diff(elevation["passes"].to_numpy()) < 0)
    assert np.all(np.diff(elevation["secure_bits"].to_numpy()) < 0)
    subsets = table[table["axis"] == "stations"].set_index("value")
    assert subsets.loc["Beijing, Stellenbosch", "passes"] > 0
    assert (table["expected_secure_bits"] <= table["secure_bits"]).all()


def test_processes_give_the_same_table(sweep_file):
    sweep = load_sweep(sweep_file)
    pd.testing.assert_frame_equal(run_sweep(sweep, "processes:2"), run_sweep(sweep))


def test_cli_writes_table_and_offline_plot(sweep_file, tmp_path, capsys):
    plot = tmp_path / "plot.html"
    code, out, err = run(["sweep", sweep_file, "-f", "csv", "--plot", plot], capsys)
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), comment="#")
    assert len(table) == 8
    html = plot.read_text()
    assert "<script src=\"http" not in html and "minimum elevation" in html


@pytest.mark.parametrize("text, field", [
    ("axes:\n  telescope_colour: [1, 2]\n", "axes.telescope_colour"),
    ("axes:\n  aperture_m: [0.2, -1]\n", "axes.aperture_m[1]"),
    ("axes:\n  stations: [Beijing]\n", "axes.stations[0]"),
    ("axes: {}\n", "axes"),
    ("days: 0\naxes:\n  aperture_m: [0.2]\n", "days"),
    ("colour: red\naxes:\n  aperture_m: [0.2]\n", "colour"),
])
def test_bad_sweep_files_exit_2(text, field, tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    code, out, err = run(["sweep", path], capsys)
    message = _assert_one_line_error(code, out, err, str(path), field)
    assert f"{path}:" in message
