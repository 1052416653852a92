"""The tie-break costs of the relay MILP's polish LP, computed by hand on a one-hop model, and
the polish never trading a delivery for a tie-break, however large the targets."""

from __future__ import annotations

import numpy as np
import pytest

from planner.relay.milp import _EARLY_BONUS, _RELAY_COST, RelayModel
from planner.relay.problem import DemandSpec, Problem
from tests.conftest import delivered, plan_ok, synthetic_key_table


def one_satellite_problem(key: float = 0.5, target: float = 0.3) -> Problem:
    """S1 over A (LOS 300 s) then B (LOS 900 s), period end 1000 s; demand A:B, weight 2,
    ``key`` Mbit per pass, target (and fair norm) ``target`` Mbit."""
    return Problem(["S1"], ["A", "B"], np.array([0, 0]), np.array([0, 1]),
                   np.array([0.0, 600.0]), np.array([300.0, 900.0]), np.array([key, key]),
                   [DemandSpec(0, 1, 2.0, target, norm=target)], [], memory=4 * key,
                   gap=120.0, reserve=0.0, telescopes=np.array([1, 1]), end=1000.0)


OBJECTIVES = {"total": RelayModel.objective_total, "fair": RelayModel.objective_fair,
              "earliest": RelayModel.objective_reached}


def polish_hop_costs(objective: str) -> np.ndarray:
    """The tie-break costs of the hop columns: the objective the polish's second LP optimises
    alone, with the model's own objective held as a row (planner.relay.highs._tie_breaks)."""
    model = RelayModel(one_satellite_problem())
    OBJECTIVES[objective](model)
    cols, bonus, *_held = model._early_bonus()
    tie = np.zeros(model.lp.n_col)
    np.add.at(tie, cols, bonus)
    return np.sort(tie[model.hop_cols])


# what a Mbit delivered to A:B is worth: its weight 2 (total), 1 / its norm 0.3 (fair's
# level), 1 / its target 0.3 (earliest's met fraction)
VALUE = {"total": 2.0, "fair": 1 / 0.3, "earliest": 1 / 0.3}


@pytest.mark.parametrize("objective", ["total", "fair", "earliest"])
def test_the_tie_breaks_charge_each_relay(objective):
    # one hop A->B at each of the two events (300 s and 900 s of a 1000 s span); each pays
    # the relay cost once, x the value of a delivered Mbit, and earns the early bonus
    # value x (1 - t / span)
    v = VALUE[objective]
    expected = [-_RELAY_COST * v + _EARLY_BONUS * v * (1 - 900 / 1000),
                -_RELAY_COST * v + _EARLY_BONUS * v * (1 - 300 / 1000)]
    assert polish_hop_costs(objective) == pytest.approx(expected, rel=1e-9, abs=0)


@pytest.mark.parametrize("objective", ["fair", "earliest"])
@pytest.mark.parametrize("target", [0.3, 3e4, 3e5, 3e7])
def test_the_polish_keeps_what_the_milp_delivers_whatever_the_target(objective, target):
    # the polish LP re-solves the relays of the MILP's passes with the tie-breaks added; each
    # target's Mbit is worth 1 / target there, so a relay cost charged per weight (1e-5 x 2)
    # outweighed it from 5e4 Mbit and the polish relayed nothing at all (and from 1e7 Mbit
    # the MILP's own 1/T per Mbit fell below the LP's tolerance)
    # (fair: all of A's key reaches B, level 1 / 0.6; earliest: the target, met fraction 1)
    model = RelayModel(one_satellite_problem(key=target / 0.6, target=target))
    OBJECTIVES[objective](model)
    result = model.solve(mip_rel_gap=1e-9)
    assert result["status"] == "optimal"
    best = {"fair": 1 / 0.6, "earliest": 1.0}[objective]
    assert result["objective"] == pytest.approx(best, rel=1e-6)  # the MILP's
    polished = float(result["values"][model.D[0]])
    assert polished == pytest.approx(best * target, rel=1e-6)


@pytest.mark.parametrize("target", [0.3, 100.0, 1e6])
def test_total_delivers_its_target_and_not_more(target):
    # A's and B's passes hold 10x the target: the MILP delivers the target (key beyond it is
    # worth nothing and costs a relay); a tie-break LP that saw the early bonus without the
    # relay cost relayed about 1e-4 more of everything (100,009,999 bits for 1e8)
    model = RelayModel(one_satellite_problem(key=10 * target, target=target))
    model.objective_total()
    result = model.solve(mip_rel_gap=1e-9)
    assert result["status"] == "optimal"
    assert float(result["values"][model.D[0]]) == pytest.approx(target, rel=1e-9, abs=1e-7)


def earliest_plan(scale: float, weight: float):
    """Two nights S1 over A then B, 300 kbit x ``scale`` a pass; A:B needs 450 kbit x ``scale``
    (both nights)."""
    rows = [("S1", "A", 0, 0, 300, 3e5 * scale), ("S1", "B", 1, 0, 300, 3e5 * scale),
            ("S1", "A", 2, 0, 300, 3e5 * scale), ("S1", "B", 3, 0, 300, 3e5 * scale)]
    table = synthetic_key_table(rows, first_id=10)
    return table, plan_ok(table, [f"A:B:{weight:g}:{4.5e5 * scale:g}"], objective="earliest",
                          memory_bits=2e6 * scale)


@pytest.mark.parametrize(("scale", "weight"), [(1e6, 1.0), (3e3, 100.0), (3e7, 3.0)])
def test_earliest_with_a_very_large_target_delivers_as_the_same_plan_scaled_down(scale, weight):
    # a year's budget over fibre or a big payload: a 450 Gbit target (or 1.35 Gbit at weight
    # 100) left the earliest plan empty ("optimal", nothing delivered, no completion); a
    # 13.5 Tbit target was "cannot be met", its 1/T per Mbit below the LP's tolerance
    _, small = earliest_plan(1.0, 1.0)
    table, plan = earliest_plan(scale, weight)
    assert delivered(small, "A:B") == pytest.approx(4.5e5, rel=1e-6)
    assert delivered(plan, "A:B") == pytest.approx(4.5e5 * scale, rel=1e-6)
    assert plan.delivered.loc["A:B", "unmet_bits"] == 0
    assert plan.delivered.loc["A:B", "completion_utc"] == table.loc[13, "los_utc"]
    assert list(plan.passes.index) == list(small.passes.index) == [10, 11, 12, 13]
    assert plan.objective_value == small.objective_value
    # and the same relays, scaled: the tie-breaks (no needless relay, key as early as
    # possible) hold whatever the targets' size
    assert list(plan.relays["time_utc"]) == list(small.relays["time_utc"])
    np.testing.assert_allclose(plan.relays["bits"], small.relays["bits"] * scale, rtol=1e-6)
