"""What a warm-started MILP claims when HiGHS reports beating its start but returns the start.

HiGHS (1.16) can finish a warm-started solve reporting an optimum better than its start while
returning the start's point; the planner then solves again without the start
(:meth:`planner.relay.highs.LpBuilder.solve`). When that finds nothing better the start's point
stands, and its status must say what the two solves proved: the reports below are written by
hand, the way HiGHS words them, since the fault cannot be produced on demand.
"""

from __future__ import annotations

import numpy as np
import pytest

from planner.relay.highs import _start_kept
from planner.relay.plan import _gap_note
from planner.relay.problem import UNPROVEN, Solution


def report(status: str, objective: float | None, point: float | None,
           bound: float | None) -> dict:
    """A solve's result as LpBuilder._solve returns it (only the fields that matter here)."""
    return {"status": status, "has_solution": point is not None, "objective": objective,
            "point_objective": point, "bound": bound, "gap": None, "values": None,
            "wall_s": 0.0, "size": {}}


# the warm-started solve: reported 2.0 (bound 2.0) but returned its start's point, worth 1.0
FIRST = report("optimal", 2.0, 1.0, 2.0)


def test_a_finished_retry_that_finds_nothing_better_leaves_the_point_unproven():
    # the retry proved 1.0 optimal; the first solve's 2.0 stands unconfirmed: no time limit
    # was hit (this was reported as "time_limit") and nothing is proven
    kept = _start_kept(FIRST, report("optimal", 1.0, 1.0, 1.0), maximize=True,
                       mip_rel_gap=1e-4)
    assert kept["status"] == UNPROVEN
    assert kept["objective"] == 1.0
    assert kept["gap"] == pytest.approx(0.5)  # (2.0 - 1.0) / 2.0


def test_a_retry_stopped_by_its_time_limit_says_so():
    kept = _start_kept(FIRST, report("time_limit", None, None, 1.5), maximize=True,
                       mip_rel_gap=1e-4)
    assert kept["status"] == "time_limit"
    assert kept["gap"] == pytest.approx(0.5)  # to the most optimistic bound, 2.0


def test_a_point_within_the_gap_of_every_bound_is_optimal():
    # HiGHS's report was 2e-5 above the point, within the 1e-4 asked for, and the retry
    # proved a bound 1e-5 above it
    first = report("optimal", 1.00002, 1.0, 1.00002)
    kept = _start_kept(first, report("optimal", 0.99999, 0.99999, 1.00001), maximize=True,
                       mip_rel_gap=1e-4)
    assert kept["status"] == "optimal"
    assert kept["gap"] == pytest.approx(2e-5, rel=1e-3)


def test_a_minimisation_counts_its_bounds_from_below():
    first = report("optimal", 1.0, 2.0, 1.0)  # reported 1.0, returned a point worth 2.0
    kept = _start_kept(first, report("optimal", 2.0, 2.0, 2.0), maximize=False,
                       mip_rel_gap=1e-4)
    assert kept["status"] == UNPROVEN
    assert kept["gap"] == pytest.approx(1.0)  # (2.0 - 1.0) / 1.0


@pytest.mark.parametrize("status", [UNPROVEN, f"{UNPROVEN} per window"])
def test_an_unproven_plan_is_not_told_to_raise_the_time_limit(status):
    sol = Solution(np.zeros(0, bool), np.zeros(0), [], "milp", status, 0.5)
    note = _gap_note(sol)
    assert "time limit" not in note
    assert "50%" in note


def test_a_plan_stopped_at_its_time_limit_is_told_to_raise_it():
    sol = Solution(np.zeros(0, bool), np.zeros(0), [], "milp", "time_limit", 0.08)
    assert "raise the time limit" in _gap_note(sol)
