"""No relay without value, and a MILP never below the greedy plan (issue 14).

Delivery is re-derived independently of the planner: the key a demand can hold given a set of
hops is the maximum flow from its first to its second station through them (trusted-node XORs
commute, so hop order does not matter), solved here as a small linear program. A plan wastes
nothing when removing any one relay lowers its demand's delivery by that relay's bits.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from benchmarks.relay_scale import CASES, case_keys
from planner.relay.check import assert_plan_valid
from planner.relay.schedule import plan_schedule
from tests.conftest import (
    TINY_STATIONS,
    demand_texts,
    synthetic_key_table,
    tiny_relay_instances,
)


def flow_value(hops, source, sink) -> float:
    """Maximum ``source -> sink`` flow through ``(from, to, bits)`` hops (an LP)."""
    hops = [h for h in hops if h[2] > 0]
    if not hops:
        return 0.0
    nodes = sorted(({h[0] for h in hops} | {h[1] for h in hops}) - {source, sink})
    a_eq = np.zeros((len(nodes), len(hops)))
    for j, (src, dst, _) in enumerate(hops):
        if src in nodes:
            a_eq[nodes.index(src), j] -= 1.0
        if dst in nodes:
            a_eq[nodes.index(dst), j] += 1.0
    cost = np.array([-1.0 if dst == sink else 0.0 for _, dst, _ in hops])
    cost += np.array([1.0 if src == sink else 0.0 for src, _, _ in hops])
    res = linprog(cost, A_eq=a_eq if nodes else None, b_eq=np.zeros(len(nodes)) if nodes else None,
                  bounds=[(0, b) for *_, b in hops], method="highs")
    assert res.status == 0, res.message
    return -res.fun


def assert_every_relay_raises_delivery(plan) -> None:
    for demand in plan.demands:
        mine = plan.relays[plan.relays["demand"] == demand.label]
        hops = list(zip(mine["from_station"], mine["to_station"], mine["bits"].astype(float),
                        strict=True))
        whole = flow_value(hops, demand.station_a, demand.station_b)
        claimed = float(plan.delivered.loc[demand.label, "delivered_bits"])
        assert whole == pytest.approx(claimed, abs=2.0)
        for j, (src, dst, bits) in enumerate(hops):
            without = flow_value(hops[:j] + hops[j + 1:], demand.station_a, demand.station_b)
            assert whole - without >= bits * (1 - 1e-6) - 2.0, (
                f"{demand.label}: the relay {src}->{dst} of {bits:.0f} bits raises delivery by "
                f"only {whole - without:.0f} bits")


@given(tiny_relay_instances(), st.sampled_from([None, "A:B:2bps", "B:C:5bps", "A:C:1bps"]),
       st.sampled_from(["milp", "rolling", "greedy"]), st.sampled_from(["total", "fair"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_relay_on_random_instances_is_without_value(instance, fibre, solver, objective):
    table, demands, memory, reserve, scopes, _ = instance
    plan = plan_schedule(table, demand_texts(demands), memory_bits=memory, reserve_bits=reserve,
                         telescopes=scopes, known_stations=TINY_STATIONS, objective=objective,
                         fibre_links=[fibre] if fibre else [], solver=solver)
    assert_plan_valid(plan, table)
    assert_every_relay_raises_delivery(plan)


def test_rolling_relays_nothing_over_a_fibre_when_no_pass_can_finish_the_chain():
    # A:C with an A~B fibre; S2 sees only B and S1 only C, so no key can cross from B to C. A
    # rolling window stored 86460 bits at B for later (a window values partial key), and the
    # tidy-up that removes such relays was skipped because no pass was flown
    table = synthetic_key_table([("S1", "C", 1, 0, 60, 100_000), ("S2", "B", 0, 0, 60, 100_000)],
                                first_id=10)
    for solver in ("rolling", "milp", "greedy"):
        plan = plan_schedule(table, ["A:C:2"], memory_bits=300_000.0, telescopes={"A": 1},
                             known_stations=TINY_STATIONS, fibre_links=["A:B:2bps"],
                             solver=solver)
        assert_plan_valid(plan, table)
        assert plan.relays.empty, solver


@pytest.fixture(scope="module")
def benchmark_plans():
    """The relay_scale week and fibre cases planned by every solver (10 s limit each)."""
    plans = {}
    for name in ("week", "fibre"):
        keys, demands, kwargs = case_keys(CASES[name])
        for solver in ("milp", "rolling", "greedy"):
            plan = plan_schedule(keys, demands, solver=solver, time_limit_s=10.0, **kwargs)
            assert_plan_valid(plan, keys)
            plans[(name, solver)] = plan
        tiny = plan_schedule(keys, demands, solver="milp", time_limit_s=0.01, **kwargs)
        assert_plan_valid(tiny, keys)
        plans[(name, "milp-tiny-limit")] = tiny
    return plans


@pytest.mark.parametrize("name", ["week", "fibre"])
@pytest.mark.parametrize("solver", ["milp", "rolling", "greedy", "milp-tiny-limit"])
def test_no_relay_in_the_benchmark_is_without_value(benchmark_plans, name, solver):
    assert_every_relay_raises_delivery(benchmark_plans[(name, solver)])


@pytest.mark.parametrize("name", ["week", "fibre"])
@pytest.mark.parametrize("milp", ["milp", "milp-tiny-limit"])
def test_milp_is_never_below_greedy_on_the_benchmark(benchmark_plans, name, milp):
    exact, greedy = benchmark_plans[(name, milp)], benchmark_plans[(name, "greedy")]
    assert exact.objective_value >= greedy.objective_value * (1 - 1e-6)


@pytest.mark.parametrize("name", ["week", "fibre"])
def test_rolling_leaves_no_key_stranded_in_ground_storage(benchmark_plans, name):
    # every bit relayed into an intermediate station is passed on (nothing is pushed into
    # storage that is never delivered)
    plan = benchmark_plans[(name, "rolling")]
    for demand in plan.demands:
        mine = plan.relays[plan.relays["demand"] == demand.label]
        inner = set(mine["from_station"]) | set(mine["to_station"])
        for station in inner - {demand.station_a, demand.station_b}:
            into = mine.loc[mine["to_station"] == station, "bits"].sum()
            out = mine.loc[mine["from_station"] == station, "bits"].sum()
            assert into == pytest.approx(out, abs=2.0)
