"""Why a demand gets less key than it asked for: the notes of a plan.

Every demand that misses its target (or, without a target, gets nothing) is explained by the
causes that apply, each checked on the plan's own inputs:

* **no common visibility** — no usable pass over one of its stations in the period (night,
  key > 0, station available), or no satellite, fibre link or chain of trusted stations joins
  the two;
* **period too short** — the key that reaches its stations in the whole period (passes,
  carried buffers, fibre) is below the target, whatever the plan;
* **memory** — flown passes over its stations kept less key than they yielded because the
  satellite's memory was full (deposit, then relay);
* **reserve** — each link keeps the authentication reserve, and links that never built it
  relay nothing;
* **weather** — the plan meets the target on expected key but sampled weather does not in every
  scenario (added by :func:`planner.relay.weather.evaluate_plan`).

When none applies, the note says the passes that fit the satellites' and telescopes' timelines
and the other demands deliver no more.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from planner.relay.problem import MBIT, ONE_BIT_BITS, Problem, reachable_upper_bound


def _short(row: pd.Series) -> float | None:
    """Missing bits of a demand (``None``: no shortfall)."""
    target, got = row["target_bits"], float(row["delivered_bits"])
    if target is None or (isinstance(target, float) and math.isnan(target)):
        return math.inf if got < ONE_BIT_BITS else None
    missing = float(target) - got - float(row.get("already_delivered_bits", 0.0) or 0.0)
    return missing if missing >= ONE_BIT_BITS else None


def _joined(problem: Problem, a: int, b: int) -> bool:
    """True if a satellite, a fibre link or a chain of trusted stations joins ``a`` and ``b``."""
    links: dict[int, set[int]] = {g: set() for g in range(len(problem.stations))}
    for s in range(len(problem.satellites)):
        seen = set(problem.sta[problem.sat == s].tolist())
        seen |= set(np.flatnonzero(problem.state.buffers[s] > 0).tolist())
        for g in seen:
            links[g] |= seen - {g}
    for link in problem.fibre:
        links[link.v].add(link.w)
        links[link.w].add(link.v)
    if not problem.ground_relays:
        return b in links[a]
    reached, todo = {a}, [a]
    while todo:
        for h in links[todo.pop()] - reached:
            reached.add(h)
            todo.append(h)
    return b in reached


def explain(problem: Problem, passes: pd.DataFrame, delivered: pd.DataFrame) -> list[str]:
    """One note per cause of each demand's shortfall (see the module docstring).

    Parameters
    ----------
    problem
        The model problem the plan was made on (candidate passes only).
    passes
        The plan's chosen passes (``station, expected_secure_bits, used_bits``).
    delivered
        The plan's delivered table (index ``demand``).
    """
    notes = []
    bound = reachable_upper_bound(problem) * MBIT
    memory, reserve = problem.memory * MBIT, problem.reserve * MBIT
    for d, (label, row) in enumerate(delivered.iterrows()):
        missing = _short(row)
        if missing is None:
            continue
        what = ("gets no key" if math.isinf(missing) else
                f"misses its target by {missing:.6g} bits")
        dem = problem.demands[d]
        a, b = problem.stations[dem.a], problem.stations[dem.b]
        causes = []
        unseen = []  # one cause, naming both stations when neither has a usable pass
        for g, name in ((dem.a, a), (dem.b, b)):
            fibre_here = any(g in (f.v, f.w) for f in problem.fibre)
            if not (problem.sta == g).any() and not fibre_here \
                    and problem.state.buffers[:, g].sum() <= 0:
                unseen.append(name)
        if unseen:
            causes.append(f"no common visibility: no usable pass over {' or '.join(unseen)} in "
                          "the period (night passes with key on nights the station is "
                          "available)")
        if not causes and not _joined(problem, dem.a, dem.b):
            causes.append(f"no common visibility: no satellite passes over both {a} and {b}, "
                          "and no fibre link or chain of trusted stations joins them")
        unreachable = bool(causes)
        target = row["target_bits"]
        if not causes and target is not None and not pd.isna(target) \
                and bound[d] < float(target) - ONE_BIT_BITS:
            causes.append(f"period too short: at most {bound[d]:.6g} bits of key reach {a} "
                          f"and {b} in the period, below the target {float(target):.6g}; "
                          "lengthen the period")
        mine = passes[passes["station"].isin([a, b])]
        dropped = (mine["expected_secure_bits"] - mine["used_bits"]).clip(lower=0.0)
        if (dropped > ONE_BIT_BITS).any():
            causes.append(f"memory: the satellites' memory ({memory:.6g} bits) was full, so "
                          f"{int((dropped > ONE_BIT_BITS).sum())} flown passes over {a} or {b} "
                          f"kept {dropped.sum():.6g} bits less than they yielded")
        if reserve > 0 and not unreachable:
            causes.append(f"reserve: every link to {a} and {b} keeps {reserve:.6g} bits for "
                          "authentication, and a link relays only once its key exceeds that")
        if not causes:
            causes.append("the passes that fit the satellites' re-pointing gaps, the stations' "
                          "telescopes and the other demands deliver no more")
        notes.extend(f"{label} {what}: {cause}" for cause in causes)
    return notes


def weather_notes(plan, summary: pd.DataFrame) -> list[str]:
    """Notes for demands whose target the plan meets but sampled weather does not always."""
    notes = []
    for label, row in summary.iterrows():
        target = plan.delivered.loc[label, "target_bits"]
        p_met = row.get("p_target_met", math.nan)
        if target is None or pd.isna(target) or pd.isna(p_met) or p_met >= 1.0:
            continue
        notes.append(f"{label}: weather: the target is met in {100 * p_met:.0f}% of the "
                     f"weather scenarios (P10 {row['p10_bits']:.6g} bits, P50 "
                     f"{row['p50_bits']:.6g} bits)")
    return notes
