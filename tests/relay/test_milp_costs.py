"""The tie-break costs of the relay MILP's polish LP, computed by hand on a one-hop model."""

from __future__ import annotations

import numpy as np
import pytest

from planner.relay.milp import _EARLY_BONUS, _RELAY_COST, RelayModel
from planner.relay.problem import DemandSpec, Problem


def one_satellite_problem() -> Problem:
    """S1 over A (LOS 300 s) then B (LOS 900 s), period end 1000 s; demand A:B, weight 2."""
    return Problem(["S1"], ["A", "B"], np.array([0, 0]), np.array([0, 1]),
                   np.array([0.0, 600.0]), np.array([300.0, 900.0]), np.array([0.5, 0.5]),
                   [DemandSpec(0, 1, 2.0, 0.3, norm=0.3)], [], memory=1000.0, gap=120.0,
                   reserve=0.0, telescopes=np.array([1, 1]), end=1000.0)


def polish_hop_costs(objective: str) -> np.ndarray:
    """Objective coefficients of the hop columns in the polish LP (model cost + tie-breaks)."""
    model = RelayModel(one_satellite_problem())
    {"total": model.objective_total, "fair": model.objective_fair,
     "earliest": model.objective_reached}[objective]()
    cost = model.lp.costs()
    cols, bonus = model._early_bonus()
    np.add.at(cost, cols, bonus)
    return np.sort(cost[model.hop_cols])


@pytest.mark.parametrize("objective", ["total", "fair", "earliest"])
def test_the_polish_charges_each_relay_once(objective):
    # one hop A->B at each of the two events (300 s and 900 s of a 1000 s span); each pays
    # the relay cost once, x weight 2, and earns the early bonus 2 x (1 - t / span)
    expected = [-_RELAY_COST * 2 + _EARLY_BONUS * 2 * (1 - 900 / 1000),
                -_RELAY_COST * 2 + _EARLY_BONUS * 2 * (1 - 300 / 1000)]
    assert polish_hop_costs(objective) == pytest.approx(expected, rel=1e-9, abs=0)
