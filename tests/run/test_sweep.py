"""Design sweeps: validated axes, physically sensible trends, identical across executors."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from planner.run.sweep import SWEEP_COLUMNS, load_sweep, run_sweep
from tests.conftest import assert_one_line_error, run

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


def test_weakest_station_bounds_the_totals(sweep_file):
    table = run_sweep(load_sweep(sweep_file)).set_index(["axis", "value"])
    days = 2
    alone = table.loc[("stations", "Jinan")]
    assert alone["weakest_station_expected_bits_per_night"] == pytest.approx(
        alone["expected_secure_bits"] / days)
    pair = table.loc[("stations", "Beijing, Stellenbosch")]
    # the weaker of two stations gets at most half of their total
    assert 0 <= pair["weakest_station_expected_bits_per_night"] <= (
        pair["expected_secure_bits"] / days / 2)


def test_satellites_axis_takes_the_first_n_of_a_walker_file(tmp_path):
    from planner.elements.walker import walker_delta, walker_tle_text

    records = walker_delta(3, 2, 1, 500.0, "sso", "2026-11-23")
    (tmp_path / "walker.tle").write_text(walker_tle_text(records))
    path = tmp_path / "sweep.yaml"
    path.write_text("start: 2026-11-24\ndays: 2\npayload: jinan-1\ntle: walker.tle\n"
                    "stations: [Beijing, Stellenbosch, Jinan]\n"
                    "axes:\n  satellites: [1, 3, 6]\n")
    table = run_sweep(load_sweep(path))
    assert table["value"].tolist() == [1, 3, 6]
    # each case adds satellites to the one before: more passes and more key, never less for
    # the weakest station
    assert np.all(np.diff(table["passes"].to_numpy()) > 0)
    assert np.all(np.diff(table["secure_bits"].to_numpy()) > 0)
    weakest = table["weakest_station_expected_bits_per_night"].to_numpy()
    assert np.all(np.diff(weakest) >= 0) and weakest[-1] > weakest[0]


def test_satellites_axis_beyond_the_file_exits_2(tmp_path, capsys):
    from planner.elements.walker import walker_delta, walker_tle_text

    (tmp_path / "walker.tle").write_text(walker_tle_text(walker_delta(1, 2, 0, 500.0, "sso")))
    path = tmp_path / "sweep.yaml"
    path.write_text("tle: walker.tle\npayload: jinan-1\naxes:\n  satellites:\n    - 1\n"
                    "    - 5\n")
    code, out, err = run(["sweep", path], capsys)
    message = assert_one_line_error(code, out, err, str(path), "axes.satellites[1]")
    assert f"{path}:6:" in message and "has 2" in message


def test_processes_give_the_same_table(sweep_file):
    sweep = load_sweep(sweep_file)
    pd.testing.assert_frame_equal(run_sweep(sweep, "processes:2"), run_sweep(sweep))


def test_a_small_sweep_runs_in_process_and_says_why(sweep_file, capsys):
    """8 cases of 2 days: starting 2 worker processes would cost more than the whole sweep."""
    code, out, err = run(["sweep", sweep_file, "--processes", "2", "-f", "csv"], capsys)
    assert code == 0, err
    assert "running in-process" in err and "--always-parallel" in err
    assert len(pd.read_csv(io.StringIO(out))) == 8


def test_cli_writes_table_and_offline_plot(sweep_file, tmp_path, capsys):
    plot = tmp_path / "plot.html"
    code, out, err = run(["sweep", sweep_file, "-f", "csv", "--plot", plot], capsys)
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert len(table) == 8
    html = plot.read_text()
    assert "<script src=\"http" not in html and "minimum elevation" in html


@pytest.mark.parametrize("text, field", [
    ("axes:\n  telescope_colour: [1, 2]\n", "axes.telescope_colour"),
    ("axes:\n  aperture_m: [0.2, -1]\n", "axes.aperture_m[1]"),
    ("axes:\n  stations: [Beijing]\n", "axes.stations[0]"),
    ("axes:\n  satellites: [0]\n", "axes.satellites[0]"),
    ("axes:\n  satellites: [2, 1.5]\n", "axes.satellites[1]"),
    ("axes: {}\n", "axes"),
    ("days: 0\naxes:\n  aperture_m: [0.2]\n", "days"),
    ("colour: red\naxes:\n  aperture_m: [0.2]\n", "colour"),
])
def test_bad_sweep_files_exit_2(text, field, tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    code, out, err = run(["sweep", path], capsys)
    message = assert_one_line_error(code, out, err, str(path), field)
    assert f"{path}:" in message
