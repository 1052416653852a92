"""Same inputs and seed give byte-identical CSV/JSON; inputs cannot run code or steer paths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from planner.elements.elementsets import Catalogue, format_tle, parse_tle_text
from planner.errors import StationError
from planner.mission.stations import load_stations
from tests.conftest import assert_one_line_error, run

WEEK = ["--start", "2026-11-24", "--days", "3"]


@pytest.mark.parametrize("args", [
    ["passes", *WEEK, "--all", "-f", "csv"],
    ["passes", *WEEK, "-f", "json"],
    ["keys", *WEEK, "-f", "json"],
    ["schedule", *WEEK, "--demand", "Beijing:Stellenbosch", "--scenarios", "30", "--seed",
     "5", "-f", "json"],
], ids=["passes-csv", "passes-json", "keys-json", "schedule-json"])
def test_same_inputs_and_seed_give_identical_bytes(args, tmp_path, capsys):
    outputs = []
    for attempt in range(2):
        path = tmp_path / f"out{attempt}"
        code, _, err = run([*args, "-o", path], capsys)
        assert code == 0, err
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) > 200


def test_report_tables_are_reproducible(tmp_path, capsys):
    texts = []
    for attempt in range(2):
        report = tmp_path / f"r{attempt}.html"
        code, _, err = run(["report", *WEEK, "--demand", "Beijing:Stellenbosch",
                            "--scenarios", "20", "-o", report], capsys)
        assert code == 0, err
        texts.append([(tmp_path / f"r{attempt}{suffix}").read_bytes()
                      for suffix in ("_passes.csv", "_keys.csv", "_summary.json")])
    assert texts[0] == texts[1]


def test_yaml_cannot_construct_python_objects(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "stations.yaml"
    path.write_text(f'stations: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(StationError):
        load_stations(path)
    assert not marker.exists()


def test_names_from_inputs_never_leave_the_output_directory(tmp_path):
    pytest.importorskip("pyarrow")
    from planner.run.executors import find_passes_parallel, write_passes_parquet

    lines = format_tle("../../escape", 99998, "", datetime(2026, 11, 20, tzinfo=UTC), 97.4,
                       36.5, 0.001, 90.0, 0.0, 15.22, bstar=1e-4)
    catalogue = Catalogue(parse_tle_text("\n".join(lines) + "\n"))
    table = find_passes_parallel(catalogue, load_stations()[:3], "2026-11-24", "2026-11-26")
    assert len(table) > 0
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    write_passes_parquet([table], out, partition_cols=["satellite"])
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(out in p.parents for p in written)
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize(("args", "flag"), [
    (["--start", "9999-12-31T12:00", "--days", "1"], "--start"),     # OverflowError before
    (["--start", "0001-01-01T00:00+14:00"], "--start"),              # OverflowError before
    (["--start", "2026-11-24", "--end", "9999-12-31T23:59:59-05:00"], "--end"),
    (["--start", "2053-09-25", "--days", "30"], "--days"),            # past the ephemeris
    (["--start", "1850-01-01", "--days", "1"], "--start"),
])
def test_dates_outside_the_supported_span_exit_2(args, flag, capsys):
    code, out, err = run(["passes", *args, "--allow-stale"], capsys)
    assert_one_line_error(code, out, err, flag, "outside the dates the planner supports")
