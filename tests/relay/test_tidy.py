"""The rolling plan's whole-period tidy-up (planner.relay.tidy), on hand-counted cases."""

from __future__ import annotations

import numpy as np
import pytest

from planner.relay.problem import (
    ONE_BIT,
    TOL,
    DemandSpec,
    FibreSpec,
    Hop,
    Problem,
    Solution,
    delivered_by,
)
from planner.relay.tidy import tidy_relays


def a_then_b(end: float = 1000.0) -> Problem:
    """S1 over A (LOS 300 s) then over B (LOS 900 s), 1 Mbit each; demand A:B: at most
    1 Mbit, relayed at B's pass."""
    return Problem(["S1"], ["A", "B"], np.array([0, 0]), np.array([0, 1]),
                   np.array([0.0, 600.0]), np.array([300.0, 900.0]), np.array([1.0, 1.0]),
                   [DemandSpec(0, 1, 1.0, None)], [], memory=4.0, gap=120.0, reserve=0.0,
                   telescopes=np.array([1, 1]), end=end)


def test_floors_half_a_bit_above_the_passes_are_lowered_by_a_millionth():
    # the windows relayed 1 Mbit + 0.5 bit (their LPs' tolerances, carried): held to that
    # less 0.1 bit the tidy-up is infeasible; with floors a millionth lower it keeps 1 Mbit
    problem = a_then_b()
    windows = Solution(np.ones(2, bool), np.ones(2), [Hop(0, 900.0, 0, 1, 1.0 + 5e-7, 0, 1)],
                       "rolling", "optimal per window")
    tidy = tidy_relays(problem, windows, "total", time_limit=10.0, mip_rel_gap=1e-9)
    assert tidy.stats.get("relays_tidied")
    # to one bit, the least a plan counts: HiGHS before 1.16 keeps 0.4 bit over the pass
    assert delivered_by(problem, tidy)[0] == pytest.approx(1.0, abs=ONE_BIT)
    assert [(h.src, h.dst, h.event) for h in tidy.hops] == [(0, 1, 1)]


def test_fibre_key_relayed_at_a_pass_not_flown_is_kept():
    # A~B fibre at 1 kbit/s; S1 over C (LOS 300 s, not flown), B (900 s), C (1500 s). The
    # windows sent 0.3 Mbit A->B by fibre at 300 s, the time of the pass not flown, which is
    # no time point of the tidy-up's model; 0.7 Mbit at 1500 s; S1 took 1 Mbit B->C at
    # 1500 s. The fibre holds 0.9 Mbit by 900 s and 1.5 Mbit by 1500 s, so A:C keeps 1 Mbit.
    problem = Problem(["S1"], ["A", "B", "C"], np.array([0, 0, 0]), np.array([2, 1, 2]),
                      np.array([0.0, 600.0, 1200.0]), np.array([300.0, 900.0, 1500.0]),
                      np.ones(3), [DemandSpec(0, 2, 1.0, None)], [FibreSpec(0, 1, 1e-3)],
                      memory=4.0, gap=120.0, reserve=0.0, telescopes=np.ones(3, int),
                      end=2000.0, ground_relays=True)
    hops = [Hop(0, 300.0, 0, 1, 0.3, fibre=0), Hop(0, 1500.0, 0, 1, 0.7, fibre=0),
            Hop(0, 1500.0, 1, 2, 1.0, satellite=0, event=2)]
    windows = Solution(np.array([False, True, True]), np.array([0.0, 1.0, 1.0]), hops,
                       "rolling", "optimal per window")
    tidy = tidy_relays(problem, windows, "total", time_limit=10.0, mip_rel_gap=1e-9)
    assert tidy.stats.get("relays_tidied")
    assert delivered_by(problem, tidy)[0] == pytest.approx(1.0, abs=TOL)
    fibre = [h for h in tidy.hops if h.fibre is not None]
    assert sum(h.amount for h in fibre) == pytest.approx(1.0, abs=TOL)
    assert all(h.time in (900.0, 1500.0, 2000.0) for h in fibre)
