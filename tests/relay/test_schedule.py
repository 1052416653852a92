"""Trusted-relay scheduler: hand-built cases, brute-force optimality, input errors.

Every plan produced here is verified by the independent checker (planner.relay.check). The MILP is
compared against a brute force written separately below: every feasible subset of passes, each
with its relay LP (cumulative-sum form, scipy's linprog) solved exactly.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import ScheduleInputError
from planner.relay.demands import Demand, load_demands, parse_demand
from planner.relay.fibre import FibreLink
from planner.relay.nightsheet import station_night_sheet
from planner.relay.plan import plan_to_json
from planner.relay.problem import TOL, Solution, maximal_cliques
from planner.relay.schedule import plan_schedule
from planner.relay.weather import evaluate_plan
from tests.conftest import (
    TINY_STATIONS,
    brute_force,
    delivered,
    demand_texts,
    plan_ok,
    synthetic_key_table,
    tiny_relay_instances,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "schedule"


def key_table(rows, clear=1.0) -> pd.DataFrame:
    """Key table from ``(satellite, station, night, minute, duration_s, expected bits)``."""
    return synthetic_key_table(rows, clear=clear, first_id=10)


# --------------------------------------------------------------------------------------------
# Demands and input errors
# --------------------------------------------------------------------------------------------

KNOWN = ["Beijing", "Stellenbosch", "Jinan", "Hefei"]


def test_parse_demand_forms():
    assert parse_demand("beijing:STELLENBOSCH", KNOWN) == Demand("Beijing", "Stellenbosch")
    d = parse_demand("Beijing:Hefei:2.5:1e6", KNOWN)
    assert (d.weight, d.target_bits) == (2.5, 1e6)
    assert parse_demand("Beijing:Hefei::3e5", KNOWN).weight == 1.0


@pytest.mark.parametrize("text, message", [
    ("Beijing:Beijing", "demands: 'Beijing:Beijing': the two stations must differ"),
    ("Bejing:Hefei", "did you mean 'Beijing'"),
    ("Beijing:Hefei:-1", "weight -1 must be positive"),
    ("Beijing:Hefei:1:-5", "target -5 bits must be positive"),
    ("Beijing:Hefei:x", "weight 'x' is not a number"),
    ("Beijing", "expected STATION_A:STATION_B"),
])
def test_parse_demand_errors(text, message):
    with pytest.raises(ScheduleInputError) as err:
        parse_demand(text, KNOWN)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_load_demands_yaml():
    demands = load_demands(DATA / "demands.yaml", KNOWN)
    assert [d.label for d in demands] == ["Beijing:Stellenbosch", "Jinan:Hefei", "Beijing:Hefei"]
    assert demands[0].target_bits == 2e6 and demands[2].weight == 3.0


def test_load_demands_yaml_error_names_line():
    with pytest.raises(ScheduleInputError) as err:
        load_demands(DATA / "demands_bad.yaml", KNOWN)
    text = str(err.value)
    assert "demands_bad.yaml:4" in text and "demands[1]" in text and "Hefie" in text


def test_a_bad_text_item_of_a_demands_file_is_named_by_its_place(tmp_path):
    path = tmp_path / "demands.yaml"
    path.write_text("demands:\n  - Beijing:Stellenbosch\n  - Beijing:Hefie\n")
    with pytest.raises(ScheduleInputError) as err:
        load_demands(path, KNOWN)
    assert (err.value.line, err.value.field) == (3, "demands[1]")
    assert "Hefie" in err.value.message


TWO_NIGHTS = [("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 1, 0, 300, 300_000)]


@pytest.mark.parametrize("kwargs, message", [
    ({"memory_bits": 0}, "memory_bits: 0: must be positive"),
    ({"memory_bits": -5}, "memory_bits"),
    ({"fibre_links": ["A:Z:100"]}, "unknown station 'Z'"),
    ({"fibre_links": ["A:B:-3bps"]}, "key rate -3.0 bit/s must be a non-negative number"),
    ({"fibre_links": [FibreLink("A", "C", -1.0)]}, "must be a non-negative number"),
    ({"objective": "fastest"}, "objective: 'fastest'"),
    ({"reserve_bits": -1}, "reserve_bits"),
    ({"telescopes": {"Q": 2}}, "unknown station 'Q'"),
    ({"unavailable": [("A", "not a date")]}, "cannot read 'not a date' as a date"),
])
def test_input_errors(kwargs, message):
    with pytest.raises(ScheduleInputError) as err:
        plan_schedule(key_table(TWO_NIGHTS), ["A:B"], known_stations=["A", "B", "C"], **kwargs)
    assert message in str(err.value)


def test_unknown_demand_station_in_plan():
    with pytest.raises(ScheduleInputError, match="unknown station 'Q'"):
        plan_schedule(key_table(TWO_NIGHTS), ["A:Q"])


def test_pair_given_twice():
    with pytest.raises(ScheduleInputError, match="given twice"):
        plan_schedule(key_table(TWO_NIGHTS), ["A:B", "b:a"])


def test_earliest_unreachable_target_is_reported_at_once():
    with pytest.raises(ScheduleInputError) as err:
        plan_schedule(key_table(TWO_NIGHTS), ["A:B:1:400000"], objective="earliest")
    assert "A:B: target 400000 bits is unreachable: at most 300000 bits" in str(err.value)
    assert err.value.field == "demands"


def test_earliest_jointly_infeasible_targets():
    # each target alone is reachable; both together need 300 kbit of B's 300 kbit twice
    rows = [("S1", "A", 0, 0, 300, 300_000), ("S1", "C", 0, 30, 300, 300_000),
            ("S1", "B", 1, 0, 300, 300_000)]
    with pytest.raises(ScheduleInputError, match="cannot all be met together"):
        plan_schedule(key_table(rows), ["A:B:1:200000", "C:B:1:200000"], objective="earliest")


def test_earliest_met_is_the_final_plans_own_delivery():
    """By hand: S1 keeps 10 Gbit; its pass over A then its pass over B (10 Gbit each) leave
    uA + uB <= 10 Gbit on board at B's pass, so A:B gets at most 5 Gbit, at B's LOS. A target
    250 bits above that (5e-8 of it, within the MILP's tolerance on its met fraction) was
    reported met ("optimal") by a plan delivering 5 Gbit, 250 bits unmet."""
    rows = [("S1", "A", 0, 0, 300, 1e10), ("S1", "B", 1, 0, 300, 1e10)]
    table = key_table(rows)
    plan = plan_ok(table, ["A:B:1:5e9"], objective="earliest", memory_bits=1e10)
    assert delivered(plan, "A:B") == pytest.approx(5e9, abs=1.0)
    assert plan.delivered.loc["A:B", "unmet_bits"] == 0
    assert plan.delivered.loc["A:B", "completion_utc"] == table.loc[11, "los_utc"]
    with pytest.raises(ScheduleInputError, match="cannot all be met together"):
        plan_schedule(table, ["A:B:1:5000000250"], objective="earliest", memory_bits=1e10)


# Found by a random search against the brute force: keys of 5 Gbit a few hundred bits apart,
# the target exactly what the passes allow by a time t (the brute force's optimum there).
NEAR_TIES = {
    # a MILP proven optimal on the met fraction stopped 219 bits short (HiGHS prunes within
    # 1e-6 of the objective), read as "no" at every time: "cannot all be met together"
    "pruned": ([("S1", "C", 0, 5, 284, 5000000395.0), ("S1", "A", 0, 5, 290, 5000000743.0),
                ("S1", "A", 1, 15, 264, 5000000606.0), ("S1", "C", 0, 20, 210, 5000000387.0),
                ("S1", "B", 1, 35, 167, 5000000912.0)], "A:C", 5000000606.0),
    # a binary at 5.5e-8 let 275 bits of a pass not flown meet the target, and the polished
    # plan fell short
    "leaked": ([("S1", "C", 2, 45, 131, 5000000617.0), ("S1", "A", 1, 35, 210, 5000000321.0),
                ("S1", "C", 1, 5, 220, 5000000407.0), ("S1", "A", 2, 40, 253, 5000000683.0),
                ("S1", "C", 1, 30, 277, 5000001121.0), ("S1", "A", 2, 45, 191, 5000000445.0)],
               "A:C", 5000000683.0),
}


@pytest.mark.parametrize("case", sorted(NEAR_TIES))
def test_earliest_rules_a_time_out_only_when_no_plan_meets_the_targets(case):
    rows, pair, target = NEAR_TIES[case]
    table = key_table(rows)
    a, b = pair.split(":")
    memory = 2e10
    first = next(t for t in sorted(set(table["los_utc"]))
                 if brute_force(table[table["los_utc"] <= t], [(a, b, 1.0, None)], memory, 0.0,
                                120.0, {}, "total", intermediates=False) >= target - 1.0)
    plan = plan_ok(table, [f"{pair}:1:{target:.0f}"], objective="earliest", memory_bits=memory)
    assert plan.delivered.loc[pair, "completion_utc"] == first
    assert plan.delivered.loc[pair, "unmet_bits"] == 0
    assert plan.status == "optimal"


def test_earliest_targets_met_counts_the_plans_relays():
    from planner.relay.earliest import targets_met
    from planner.relay.problem import DemandSpec, Hop, Problem

    problem = Problem(["S1"], ["A", "B"], np.array([0, 0]), np.array([0, 1]),
                      np.array([0.0, 100.0]), np.array([10.0, 110.0]), np.array([3.0, 3.0]),
                      [DemandSpec(0, 1, 1.0, 2.0)], [], 10.0, 0.0, 0.0, np.array([1, 1]),
                      200.0)
    hops = [Hop(0, 110.0, 0, 1, 1.5, 0, 1), Hop(0, 110.0, 0, 1, 0.5 - 2e-6, 0, 1)]
    short = Solution(np.ones(2, bool), np.full(2, 2.0), hops, "milp", "optimal", 0.0, 0.0)
    assert not targets_met(problem, short)  # 2 Mbit less 2 bits
    short.hops[1] = Hop(0, 110.0, 0, 1, 0.5 - 5e-7, 0, 1)
    assert targets_met(problem, short)  # within a bit


def test_earliest_needs_targets():
    with pytest.raises(ScheduleInputError, match="needs a target for every demand"):
        plan_schedule(key_table(TWO_NIGHTS), ["A:B"], objective="earliest")


# --------------------------------------------------------------------------------------------
# Hand-built cases
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["milp", "greedy", "rolling"])
def test_relay_at_second_pass_delivers_min(method):
    table = key_table(TWO_NIGHTS)
    plan = plan_ok(table, ["A:B"], solver=method)
    assert delivered(plan, "A:B") == pytest.approx(300_000)
    (relay,) = plan.relays.itertuples()
    assert relay.time_utc == table.loc[11, "los_utc"] and relay.pass_id == 11
    assert (relay.satellite, relay.from_station, relay.to_station) == ("S1", "A", "B")


def test_memory_smaller_than_first_pass_caps_relay():
    # deposit, then relay: the B deposit must fit beside the A key before the XOR, so
    # kept A + kept B <= 200 kbit and the relay is at most 100 kbit (hand count)
    plan = plan_ok(key_table(TWO_NIGHTS), ["A:B"], memory_bits=200_000)
    assert delivered(plan, "A:B") == pytest.approx(100_000)
    assert plan.passes["used_bits"].sum() == pytest.approx(200_000)


@pytest.mark.parametrize("method", ["milp", "greedy", "rolling"])
def test_deposit_then_relay_memory_rule(method):
    # 500 kbit over A, then 500 kbit over B, memory 600 kbit. Relaying during the B pass
    # before storing it would deliver 500 kbit; the key must be stored before it is XORed, so
    # kept A + kept B <= 600 kbit and at most 300 kbit is relayed (the MILP keeps 300 + 300).
    rows = [("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 0, 30, 300, 500_000)]
    table = key_table(rows)
    plan = plan_ok(table, ["A:B"], memory_bits=600_000, solver=method)
    got = delivered(plan, "A:B")
    if method == "greedy":  # keeps all of A first, so only 100 kbit of B fits
        assert got == pytest.approx(100_000)
    else:
        assert got == pytest.approx(300_000)
    before_relay = plan.passes["used_bits"].sum()
    assert before_relay <= 600_000 + 1


def test_reserve_reduces_relay():
    plan = plan_ok(key_table(TWO_NIGHTS), ["A:B"], reserve_bits=20_000)
    assert delivered(plan, "A:B") == pytest.approx(280_000)
    levels = plan.buffers.set_index(["time_utc", "station"])["bits"]
    assert levels.min() >= 20_000 - 1


def test_fibre_edge_extends_demand_to_third_station():
    table = key_table(TWO_NIGHTS)
    link = "B:C:1bps"  # 1 bit/s over the ~1-day period: ~86 kbit by the relay
    plan = plan_ok(table, ["A:C"], fibre_links=[link], known_stations=["A", "B", "C"])
    elapsed = (table.loc[11, "los_utc"] - table.loc[10, "aos_utc"]).total_seconds()
    assert delivered(plan, "A:C") == pytest.approx(min(300_000, elapsed * 1.0), rel=1e-6)
    vias = set(plan.relays["via"])
    assert vias == {"S1", "B~C"}


def test_fibre_from_length_uses_the_anchored_model():
    from planner.relay.fibre import fibre_key_rate_bps

    assert fibre_key_rate_bps(10.0) == pytest.approx(115.8e6)
    assert fibre_key_rate_bps(328.0) == pytest.approx(200.0)
    table = key_table(TWO_NIGHTS)
    plan = plan_ok(table, ["B:C"], fibre_links=["B:C:300km"], known_stations=["A", "B", "C"])
    period = (table["los_utc"].max() - table["aos_utc"].min()).total_seconds()
    assert delivered(plan, "B:C") == pytest.approx(float(fibre_key_rate_bps(300.0)) * period,
                                                   rel=1e-6)


def test_two_satellites_relay_through_a_ground_station():
    # S1 sees A and B, S2 sees B and C: key for A:C must be relayed on the ground at B
    rows = [("S1", "A", 0, 0, 300, 400_000), ("S1", "B", 0, 40, 300, 300_000),
            ("S2", "B", 1, 0, 300, 250_000), ("S2", "C", 1, 40, 300, 500_000)]
    plan = plan_ok(key_table(rows), ["A:C"])
    assert delivered(plan, "A:C") == pytest.approx(250_000)
    assert set(zip(plan.relays["from_station"], plan.relays["to_station"], strict=True)) == \
        {("A", "B"), ("B", "C")}


def test_non_overlap_and_gap():
    # two passes of one satellite 60 s apart (< 120 s gap): only one can be flown
    rows = [("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 0, 6, 300, 500_000)]
    plan = plan_ok(key_table(rows), ["A:B"])
    assert delivered(plan, "A:B") == 0.0
    plan = plan_ok(key_table(rows), ["A:B"], gap_s=30)
    assert delivered(plan, "A:B") == pytest.approx(500_000)


def test_telescopes_limit_simultaneous_satellites():
    rows = [("S1", "A", 0, 0, 300, 100_000), ("S2", "A", 0, 2, 300, 200_000),
            ("S1", "B", 1, 0, 300, 900_000), ("S2", "B", 1, 0, 300, 900_000)]
    plan = plan_ok(key_table(rows), ["A:B"], telescopes={"b": 2})
    assert delivered(plan, "A:B") == pytest.approx(200_000)  # one telescope at A
    plan = plan_ok(key_table(rows), ["A:B"], telescopes={"A": 2, "B": 2})
    assert delivered(plan, "A:B") == pytest.approx(300_000)


def test_unavailable_night_and_day_passes_are_skipped():
    rows = [*TWO_NIGHTS, ("S1", "B", 2, 0, 300, 450_000)]
    table = key_table(rows)
    plan = plan_ok(table, ["A:B"], unavailable=[("b", "2025-03-02")])
    assert delivered(plan, "A:B") == pytest.approx(450_000)
    table.loc[12, "night"] = False
    plan = plan_ok(table, ["A:B"], unavailable=[("B", "2025-03-02")])
    assert delivered(plan, "A:B") == 0.0


def test_total_weights_and_targets():
    # one A-key shared by two demands: weight decides, target caps
    rows = [("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 1, 0, 300, 400_000),
            ("S1", "C", 2, 0, 300, 400_000)]
    table = key_table(rows)
    plan = plan_ok(table, ["A:B:1", "A:C:2"])
    assert delivered(plan, "A:C") == pytest.approx(400_000)
    assert delivered(plan, "A:B") == pytest.approx(100_000)
    plan = plan_ok(table, ["A:B:1", "A:C:2:150000"])
    assert delivered(plan, "A:C") == pytest.approx(150_000)
    assert delivered(plan, "A:B") == pytest.approx(350_000)
    assert plan.delivered.loc["A:C", "unmet_bits"] == 0.0


def test_fair_splits_shared_key():
    rows = [("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 1, 0, 300, 400_000),
            ("S1", "C", 2, 0, 300, 400_000)]
    plan = plan_ok(key_table(rows), ["A:B:1", "A:C:3"], objective="fair")
    # key per unit weight equalised: 500k split 1:3
    assert delivered(plan, "A:B") == pytest.approx(125_000, rel=1e-6)
    assert delivered(plan, "A:C") == pytest.approx(375_000, rel=1e-6)
    assert plan.objective_value == pytest.approx(125_000, rel=1e-6)


def test_earliest_finds_first_night_all_targets_are_met():
    rows = [("S1", "A", 0, 0, 300, 300_000), ("S1", "B", 1, 0, 300, 300_000),
            ("S1", "A", 2, 0, 300, 300_000), ("S1", "B", 3, 0, 300, 300_000)]
    table = key_table(rows)
    plan = plan_ok(table, ["A:B:1:250000"], objective="earliest")
    assert plan.delivered.loc["A:B", "completion_utc"] == table.loc[11, "los_utc"]
    assert plan.objective_value == (table.loc[11, "los_utc"] - table["aos_utc"].min()
                                    ).total_seconds()
    plan = plan_ok(table, ["A:B:1:450000"], objective="earliest")
    assert plan.delivered.loc["A:B", "completion_utc"] == table.loc[13, "los_utc"]
    assert plan.status == "optimal"


def test_plan_outputs_json_and_night_sheet():
    rows = [*TWO_NIGHTS, ("S1", "B", 1, 200, 300, 100_000)]
    table = key_table(rows)
    plan = plan_ok(table, ["A:B"])
    plan.weather, plan.weather_info = evaluate_plan(plan, table, n_scenarios=5, seed=7)
    doc = json.loads(json.dumps(plan_to_json(plan)))
    assert doc["solver"]["name"] == "milp" and "method" not in doc  # the --solver that ran
    assert doc["solver"]["status"] == "optimal" and doc["solver"]["gap"] <= 1e-4
    assert doc["weather"]["info"]["seed"] == 7
    assert doc["passes"][0]["aos_utc"].endswith("Z")
    assert doc["relays"][0]["demand"] == "A:B"
    assert set(doc["delivered_by_night"]) == {"2025-03-02"}
    assert doc["provenance"] == {}
    sheet = station_night_sheet(plan, table, "b")
    assert list(sheet.index) == [11, 12]
    assert list(sheet.columns[:6]) == ["night_date", "satellite", "aos_utc", "tca_utc",
                                       "los_utc", "aos_azimuth_deg"]
    assert plan.wall_time_s >= 0


def test_milp_without_incumbent_falls_back_on_greedy(monkeypatch):
    import planner.relay.schedule as schedule

    def no_solution(problem, objective, **kwargs):
        n = problem.n_pass
        return Solution(np.zeros(n, bool), np.zeros(n), [], "milp", "time_limit", None, 1.0)

    monkeypatch.setattr(schedule, "solve_milp", no_solution)
    plan = plan_ok(key_table(TWO_NIGHTS), ["A:B"])
    assert plan.status == "time_limit: no MILP solution, greedy plan"
    assert delivered(plan, "A:B") == pytest.approx(300_000)


# --------------------------------------------------------------------------------------------
# Interval cliques
# --------------------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 10)), min_size=1, max_size=9))
@settings(max_examples=60, deadline=None)
def test_maximal_cliques_of_intervals(spans):
    start = np.array([s for s, _ in spans], float)
    end = start + np.array([w for _, w in spans], float)
    n = start.size

    def overlap(i, j):
        return start[i] < end[j] and start[j] < end[i]

    cliques = {tuple(c) for c in maximal_cliques(start, end)}
    brute = set()
    for r in range(1, n + 1):
        for combo in itertools.combinations(range(n), r):
            if all(overlap(i, j) for i, j in itertools.combinations(combo, 2)):
                brute.add(combo)
    maximal = {c for c in brute if not any(set(c) < set(o) for o in brute)}
    assert cliques == maximal


@given(tiny_relay_instances(), st.sampled_from(["total", "fair"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_milp_matches_brute_force_and_beats_greedy(instance, objective):
    table, demands, memory, reserve, scopes, n_sat = instance
    common = {"memory_bits": memory, "reserve_bits": reserve, "telescopes": scopes,
              "known_stations": TINY_STATIONS, "objective": objective,
              "ground_relays": n_sat == 2}
    plan = plan_ok(table, demand_texts(demands), mip_rel_gap=1e-9, **common)
    assert plan.status == "optimal"
    best = brute_force(table, demands, memory, reserve, 120.0, scopes, objective,
                       intermediates=n_sat == 2)
    assert plan.objective_value == pytest.approx(best, rel=1e-6, abs=1e-3)
    greedy = plan_ok(table, demand_texts(demands), solver="greedy", **common)
    assert greedy.objective_value <= plan.objective_value * (1 + 1e-9) + 1e-3


def test_rolling_stays_within_the_tolerance_of_its_hops():
    # a rolling plan (two windows) relayed 100000.501 bits of a 100000-bit pass in five hops,
    # through A and the A~C fibre: 0.5 bit above the MILP, within its hops' LP tolerance
    table = key_table([("S1", "A", 0, 5, 60, 100_000), ("S1", "B", 1, 0, 60, 100_000),
                       ("S1", "A", 0, 0, 60, 100_000), ("S1", "C", 0, 0, 60, 100_000)])
    common = {"memory_bits": 300_000.0, "telescopes": {"A": 1},
              "known_stations": TINY_STATIONS, "fibre_links": ["A:C:1bps"]}
    best = plan_ok(table, ["B:C:2"], mip_rel_gap=1e-9, **common)
    rolling = plan_ok(table, ["B:C:2"], solver="rolling", **common)
    assert best.objective_value == pytest.approx(200_000.0, abs=1e-3)   # B's 100 kbit, x2
    hops = len(rolling.relays)
    assert rolling.objective_value <= best.objective_value + 2 * 1e6 * TOL * (1 + hops)


@given(tiny_relay_instances())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_earliest_matches_brute_force(instance):
    table, demands, memory, _, scopes, n_sat = instance
    demands = [(a, b, w, t if t is not None else 200_000.0) for a, b, w, t in demands]
    common = {"memory_bits": memory, "telescopes": scopes, "known_stations": TINY_STATIONS,
              "ground_relays": n_sat == 2}
    first = None
    for t in sorted(set(table["los_utc"])):
        part = table[table["los_utc"] <= t]
        got = brute_force(part, demands, memory, 0.0, 120.0, scopes, "total",
                          intermediates=n_sat == 2)
        weighted_need = sum(w * tb for _, _, w, tb in demands)
        if got >= weighted_need - 1e-3:
            first = t
            break
    if first is None:
        with pytest.raises(ScheduleInputError, match="objective earliest"):
            plan_schedule(table, demand_texts(demands), objective="earliest", **common)
        return
    plan = plan_ok(table, demand_texts(demands), objective="earliest", mip_rel_gap=1e-9, **common)
    assert plan.delivered["completion_utc"].max() == first
    assert (plan.delivered["unmet_bits"] == 0).all()


def test_the_milp_is_not_held_at_its_warm_start():
    # found by the test below: HiGHS (1.16), given the greedy plan as its first incumbent,
    # reported the optimum (200 kbit) but returned the incumbent's point (100 kbit)
    rows = [("S1", "A", 0, 10, 60, 100_000), ("S1", "B", 0, 0, 60, 100_000),
            ("S1", "B", 0, 10, 60, 200_000), ("S2", "A", 0, 0, 60, 100_000),
            ("S2", "A", 1, 0, 60, 200_000), ("S2", "B", 0, 5, 60, 100_000)]
    common = {"memory_bits": 3e5, "telescopes": {"A": 1}, "known_stations": TINY_STATIONS}
    plan = plan_ok(key_table(rows), ["A:B"], mip_rel_gap=1e-9, **common)
    # hand count: S2 relays A's 100 kbit (14:00) at B (14:05); S1 B's 100 kbit (14:00) at
    # A (14:10), which rules out its B pass at 14:10; night 2 has no B pass
    assert delivered(plan, "A:B") == pytest.approx(200_000, abs=0.5)


def test_no_relay_rests_on_the_lps_tolerance():
    # found by the test below: the fair plan relayed 0.11 bit of A:C key with S1's key with
    # C, though C's pass had deposited nothing: a buffer negative within the LP's 0.1-bit
    # tolerance; the independent checker (plan_ok) refused it
    rows = [("S1", "A", 2, 5, 60, 100_000), ("S1", "A", 1, 0, 60, 200_000),
            ("S1", "A", 1, 0, 60, 200_000), ("S1", "C", 2, 0, 60, 200_000),
            ("S1", "C", 0, 0, 60, 100_000), ("S1", "B", 0, 5, 60, 300_000)]
    plan = plan_ok(key_table(rows), ["A:B:1:300000", "A:C:1:100000"], mip_rel_gap=1e-9,
                   memory_bits=3e5, telescopes={"A": 1}, known_stations=TINY_STATIONS,
                   objective="fair", fibre_links=["A:B:2bps"])
    assert (plan.relays["bits"] >= 1.0).all()


def test_rolling_does_not_trade_a_bit_between_demands_to_beat_the_milp():
    # found by the test below: re-optimising the rolling plan's relays let each demand fall
    # 1 bit below what it had, and a bit moved from A:C (weight 1) to A:B (weight 2) by
    # drawing B's buffer 1 bit under the reserve
    rows = [("S1", "A", 2, 0, 60, 800_000), ("S1", "A", 0, 0, 60, 100_000),
            ("S1", "A", 1, 0, 60, 400_000), ("S1", "A", 0, 5, 60, 100_000),
            ("S1", "B", 0, 0, 60, 900_000), ("S1", "C", 0, 10, 60, 500_000),
            ("S1", "A", 0, 0, 60, 100_000), ("S1", "A", 0, 5, 60, 100_000)]
    table = key_table(rows)
    common = {"memory_bits": 5e6, "reserve_bits": 5e4, "telescopes": {"A": 1},
              "known_stations": TINY_STATIONS}
    best = plan_ok(table, ["A:B:2", "A:C:1"], mip_rel_gap=1e-9, **common)
    rolling = plan_ok(table, ["A:B:2", "A:C:1"], solver="rolling", **common)
    # B holds 900 kbit and keeps a 50 kbit reserve: A:B gets at most 850 kbit (hand count)
    assert delivered(best, "A:B") == pytest.approx(850_000, abs=0.5)
    assert rolling.objective_value <= best.objective_value * (1 + 1e-7) + 1e-3


@given(tiny_relay_instances(), st.sampled_from([None, "A:B:2bps", "B:C:5bps", "A:C:1bps"]),
       st.sampled_from(["total", "fair"]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_method_gives_valid_plans_and_none_beats_the_milp(instance, fibre, objective):
    table, demands, memory, reserve, scopes, _ = instance
    common = {"memory_bits": memory, "reserve_bits": reserve, "telescopes": scopes,
              "known_stations": TINY_STATIONS, "objective": objective,
              "fibre_links": [fibre] if fibre else []}
    best = plan_ok(table, demand_texts(demands), mip_rel_gap=1e-9, **common)
    for method in ("greedy", "rolling"):
        other = plan_ok(table, demand_texts(demands), solver=method, **common)
        # every hop is exact to the LP's feasibility tolerance (TOL, 0.1 bit), so a demand's
        # delivery may exceed what its buffers allow by that much per hop, which a heuristic
        # may turn into a hair more objective: 101805.1 against the MILP's 101805.0 was one
        # case; a rolling plan relaying 100000.501 bits of a 100000-bit pass in five hops
        # (two windows) another
        hops = other.relays["demand"].value_counts()
        slack = 1e6 * TOL * sum(weight * (1 + hops.get(f"{a}:{b}", 0))
                                for a, b, weight, _ in demands)
        assert other.objective_value <= best.objective_value * (1 + 1e-7) + slack


# --------------------------------------------------------------------------------------------
# Rolling horizon
# --------------------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(1, 9), st.integers(1, 9)), min_size=1, max_size=5))
@settings(max_examples=15, deadline=None)
def test_rolling_matches_full_horizon_single_demand(keys):
    # one pass over A and one over B each night, memory ample: the optimum is
    # min(sum A, sum B) and windows lose nothing because buffers carry over
    rows = []
    for night, (ka, kb) in enumerate(keys):
        rows += [("S1", "A", night, 0, 300, ka * 100_000), ("S1", "B", night, 30, 300,
                                                            kb * 100_000)]
    table = key_table(rows)
    full = plan_ok(table, ["A:B"])
    rolling = plan_ok(table, ["A:B"], solver="rolling")
    expect = min(sum(a for a, _ in keys), sum(b for _, b in keys)) * 100_000
    assert delivered(full, "A:B") == pytest.approx(expect)
    assert delivered(rolling, "A:B") == pytest.approx(expect)
    assert rolling.parameters["solver_stats"]["windows"] == len(keys)


def test_rolling_matches_full_when_nights_decouple():
    # every night: B relays its own A and C key completely (C and A passes balance B)
    rows = []
    for night in range(4):
        k = (night + 2) * 100_000
        rows += [("S1", "A", night, 0, 300, k), ("S1", "C", night, 20, 300, k),
                 ("S1", "B", night, 40, 300, 2 * k)]
    table = key_table(rows)
    full = plan_ok(table, ["A:B", "C:B:2"])
    rolling = plan_ok(table, ["A:B", "C:B:2"], solver="rolling", window_nights=2)
    for label in ("A:B", "C:B"):
        assert delivered(rolling, label) == pytest.approx(delivered(full, label))
    assert rolling.objective_value == pytest.approx(full.objective_value)


def test_rolling_respects_the_gap_across_a_window_cut():
    # BASE is 14:00 UTC; cut at 14:05: pass 10 (night 0) ends 14:05, pass 11 starts 14:06
    rows = [("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 0, 6, 300, 500_000),
            ("S1", "B", 1, 0, 300, 200_000)]
    table = key_table(rows)
    plan = plan_ok(table, ["A:B"], solver="rolling", night_cut_hour_utc=14 + 4 / 60)
    assert plan.parameters["solver_stats"]["windows"] == 2  # {10} and {11, 12}
    assert not {10, 11} <= set(plan.passes.index)
    assert delivered(plan, "A:B") == pytest.approx(200_000)


def test_scenario_seed_recorded_and_reproducible():
    table = key_table(TWO_NIGHTS, clear=0.5)
    plan = plan_ok(table, ["A:B"])
    first, info = evaluate_plan(plan, table, n_scenarios=20, seed=3)
    again, _ = evaluate_plan(plan_ok(table, ["A:B"]), table, n_scenarios=20, seed=3)
    assert info["seed"] == 3
    pd.testing.assert_frame_equal(first, again)
    q = first.loc["A:B"]
    assert q["p10_bits"] <= q["p50_bits"] <= q["p90_bits"]
    assert math.isfinite(q["mean_bits"])
