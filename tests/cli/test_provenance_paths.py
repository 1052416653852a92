"""Provenance names the bundled data ``bundled:NAME`` and a user's files as given.

The operator review found ``station_file`` recorded as the path inside the installed package
(``.../planner/_bundled/ground_stations.yaml``) and the generated orbit's source
ending in a line number (``...(epoch ...Z):2``) although no file holds it.
"""

from __future__ import annotations

import json
import shutil

from planner.io.resources import bundled_path, recorded_path
from tests.conftest import run

PERIOD = ["--start", "2026-12-03T00:00Z", "--days", "1", "--station", "Graz"]


def test_sidecar_and_json_name_the_bundled_stations_and_the_generated_orbit(tmp_path, capsys,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["passes", *PERIOD, "-f", "csv", "-o", "passes.csv"], capsys)
    assert code == 0, err
    sidecar = json.loads((tmp_path / "passes.csv.meta.json").read_text())["provenance"]
    code, out, err = run(["next", *PERIOD, "-f", "json"], capsys)
    assert code == 0, err
    for record in (sidecar, json.loads(out)["provenance"]):
        assert record["station_file"] == "bundled:ground_stations.yaml"
        (element_set,) = record["element_sets"]
        assert element_set["source"] == "generated Jinan-1-class orbit (epoch 2026-12-03T00:00:00Z)"


def test_a_bundled_element_file_is_named_bundled_wherever_it_is_read_from(tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    micius = bundled_path("tle_data/micius.tle")
    code, out, err = run(["passes", "--tle", str(micius), "--start", "2021-04-27", "--days", "1",
                          "--all", "-f", "json"], capsys)
    assert code == 0, err
    (element_set,) = json.loads(out)["provenance"]["element_sets"]
    assert element_set["source"] == "bundled:tle_data/micius.tle:2"


def test_tle_check_and_stations_name_the_bundled_files_as_the_planning_commands_do(
        capsys, monkeypatch):
    # run where the bundled files are below the working directory (a checkout): tle check
    # recorded "tle_data/micius.tle" while passes recorded "bundled:tle_data/micius.tle"
    micius = bundled_path("tle_data/micius.tle")
    monkeypatch.chdir(bundled_path("tle_data").parent)
    code, out, err = run(["tle", "check", str(micius), "-f", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["provenance"]["files"] == ["bundled:tle_data/micius.tle"]
    code, out, err = run(["stations", "-f", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["provenance"]["station_file"] == "bundled:ground_stations.yaml"


def test_user_files_stay_as_given_relative_below_the_working_directory(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site").mkdir()
    shutil.copy(bundled_path("ground_stations.yaml"), tmp_path / "site" / "mine.yaml")
    for given in ("site/mine.yaml", str(tmp_path / "site" / "mine.yaml")):
        code, out, err = run(["next", *PERIOD, "--stations", given, "-f", "json"], capsys)
        assert code == 0, err
        assert json.loads(out)["provenance"]["station_file"] == "site/mine.yaml"
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    assert recorded_path(outside) == str(outside)


def test_the_report_summary_names_the_bundled_stations(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = run(["plan", "--start", "2026-12-03", "--days", "1", "--scenarios", "5",
                          "-o", "plan.html"], capsys)
    assert code == 0, err
    summary = (tmp_path / "plan_summary.json").read_text()
    assert '"station_file": "bundled:ground_stations.yaml"' in summary
    assert "_bundled" not in summary and str(bundled_path("ground_stations.yaml")) not in summary
    assert ":2\"" not in summary
    assert "bundled:ground_stations.yaml" in (tmp_path / "plan.html").read_text()
