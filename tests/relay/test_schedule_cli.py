"""``qkdplan schedule``: every flag's bad value is one line naming that flag, exit 2, no output.

The relay library names its parameters (``gap_s``, ``memory_bits``, ...); the command maps
them to its flags. A message naming a flag that does not exist (``--gap``, ``--memory``,
``--method``) would send the user looking for it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from planner.errors import ScheduleInputError
from planner.relay.schedule import plan_schedule
from tests.conftest import assert_one_line_error, run, synthetic_key_table

DAY = ["--start", "2026-12-01T00:00Z", "--days", "1"]
PAIR = ["--demand", "Beijing:Stellenbosch"]


@pytest.mark.parametrize("args, flag", [
    (["--memory-bits", "0"], "--memory-bits"),
    (["--gap-s", "-5"], "--gap-s"),
    (["--reserve-bits", "-1"], "--reserve-bits"),
    (["--time-limit", "0"], "--time-limit"),
    (["--scenarios", "0"], "--scenarios"),
    (["--seed", "-1"], "--seed"),
    (["--objective", "fastest"], "--objective"),
    (["--solver", "simplex"], "--solver"),
    (["--station", "Nowhere"], "--station"),
    (["--fibre", "Beijing:Nowhere:1bps"], "--fibre"),
    (["--start", "yesterday-ish"], "--start"),
    (["--days", "-1"], "--days"),
    (["--format", "xml"], "--format"),
    (["--unavailable", "Beijing:notadate"], "--unavailable"),
])
def test_bad_flag_value_names_the_flag(args, flag, capsys, tmp_path):
    out_file = tmp_path / "plan.json"
    code, out, err = run(["schedule", *DAY, *PAIR, *args, "--output", out_file], capsys)
    line = assert_one_line_error(code, out, err, flag)
    for wrong in ("--memory:", "--gap:", "--reserve:", "--method", "--window-nights",
                  "gap_s", "memory_bits", "reserve_bits", "time_limit_s", "n_scenarios"):
        assert wrong not in line
    assert out == "" and not out_file.exists()


@pytest.mark.parametrize("kwargs, parameter", [
    ({"memory_bits": 0}, "memory_bits"), ({"gap_s": -5}, "gap_s"),
    ({"reserve_bits": -1}, "reserve_bits"), ({"time_limit_s": 0}, "time_limit_s"),
    ({"solver": "simplex"}, "solver"), ({"window_nights": 0}, "window_nights"),
    ({"carry_value": 0.7}, "carry_value"), ({"mip_rel_gap": -1}, "mip_rel_gap"),
])
def test_library_errors_name_the_parameter(kwargs, parameter):
    table = synthetic_key_table([("S1", "A", 0, 0, 300, 500_000),
                                 ("S1", "B", 1, 0, 300, 300_000)])
    with pytest.raises(ScheduleInputError) as err:
        plan_schedule(table, ["A:B"], **kwargs)
    assert err.value.field == parameter
    assert "--" not in str(err.value)


@pytest.mark.parametrize("kwargs, parameter", [
    ({"demands": ["A:A"]}, "demands"), ({"demands": ["A:Q"]}, "demands"),
    ({"fibre_links": ["A:B:fast"]}, "fibre_links"), ({"fibre_links": ["A:Q:1bps"]}, "fibre_links"),
])
def test_demand_and_fibre_errors_name_the_parameter(kwargs, parameter):
    table = synthetic_key_table([("S1", "A", 0, 0, 300, 500_000),
                                 ("S1", "B", 1, 0, 300, 300_000)])
    kwargs = {"demands": ["A:B"], **kwargs}
    with pytest.raises(ScheduleInputError) as err:
        plan_schedule(table, **kwargs)
    assert err.value.field == parameter
    assert "--" not in str(err.value)


@pytest.mark.parametrize("args, flag", [
    (["--demand", "Beijing:Beijing"], "--demand: 'Beijing:Beijing'"),
    (["--demand", "Beijing:Nowhere"], "--demand: 'Beijing:Nowhere'"),
    (["--fibre", "Beijing:Xinglong:fast"], "--fibre: 'Beijing:Xinglong:fast'"),
])
def test_demand_and_fibre_errors_name_the_flag(args, flag, capsys):
    code, out, err = run(["schedule", *DAY, *args], capsys)
    line = assert_one_line_error(code, out, err, flag)
    assert "demands" not in line and "fibre_links" not in line


def test_highs_prints_nothing():
    # a fresh process: HiGHS logs its banner once per process, at the first instance
    script = ("from tests.conftest import synthetic_key_table\n"
              "from planner.relay.schedule import plan_schedule\n"
              "t = synthetic_key_table([('S1', 'A', 0, 0, 300, 5e5),\n"
              "                         ('S1', 'B', 1, 0, 300, 3e5)])\n"
              "plan_schedule(t, ['A:B'])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], check=True)
    assert done.stdout == "" and done.stderr == ""
