"""The independent plan checker: accepts valid plans, names every broken rule.

Plans here are written by hand (no solver), so each rule is exercised on its own.
"""

from __future__ import annotations

import pandas as pd
import pytest

from planner.relay.check import assert_plan_valid, check_plan
from planner.relay.demands import Demand
from planner.relay.plan import Plan
from planner.relay.schedule import plan_schedule
from tests.conftest import synthetic_key_table


def key_table(rows) -> pd.DataFrame:
    """Key table from ``(satellite, station, night, minute, duration_s, bits)`` tuples."""
    return synthetic_key_table(rows)


ROWS = [("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 1, 0, 300, 300_000),
        ("S1", "C", 1, 30, 300, 200_000), ("S2", "A", 0, 1, 300, 400_000),
        ("S1", "B", 1, 6, 300, 100_000)]


def hand_plan(table, used: dict, relays: list, demands: list[Demand], *, delivered=None,
              memory=1e9, reserve=0.0, telescopes=None, fibre=(), unavailable=(),
              buffers=None) -> Plan:
    """A plan written by hand: ``relays`` as (pass_id or (time, link), demand, src, dst, bits)."""
    chosen = table.loc[list(used)].copy()
    chosen["used_bits"] = [float(v) for v in used.values()]
    chosen["night_date"] = (chosen["tca_utc"] - pd.Timedelta(hours=6)).dt.date
    rows = []
    for where, demand, src, dst, bits in relays:
        if isinstance(where, tuple):
            when, via, sat, pid = where[0], where[1], None, -1
        else:
            when, via, sat, pid = table.at[where, "los_utc"], table.at[where, "satellite"], \
                table.at[where, "satellite"], where
        rows.append({"time_utc": when, "night_date": None, "demand": demand, "satellite": sat,
                     "via": via, "from_station": src, "to_station": dst, "bits": float(bits),
                     "pass_id": pid})
    relay_frame = pd.DataFrame(rows, columns=["time_utc", "night_date", "demand", "satellite",
                                              "via", "from_station", "to_station", "bits",
                                              "pass_id"])
    got = {}
    for d in demands:
        mine = relay_frame[(relay_frame["demand"] == d.label)
                           & (relay_frame["to_station"] == d.station_b)]
        got[d.label] = float(mine["bits"].sum())
    got.update(delivered or {})
    deliv = pd.DataFrame([{"demand": d.label, "delivered_bits": got[d.label],
                           "unmet_bits": (None if d.target_bits is None
                                          else max(d.target_bits - got[d.label], 0.0))}
                          for d in demands]).set_index("demand")
    params = {"memory_bits": memory, "gap_s": 120.0, "reserve_bits": reserve,
              "telescopes": telescopes or {"A": 1, "B": 1, "C": 1}, "night_cut_hour_utc": 6.0,
              "start_utc": table["aos_utc"].min(), "unavailable": list(unavailable),
              "fibre_links": [{"label": f"{a}~{b}", "station_a": a, "station_b": b,
                               "rate_bps": r, "length_km": None} for a, b, r in fibre]}
    buffers = buffers if buffers is not None else pd.DataFrame(
        columns=["time_utc", "satellite", "station", "bits"])
    return Plan("total", "hand", "n/a", None, 0.0, None, demands, [], chosen, relay_frame,
                buffers, deliv, pd.DataFrame(), params)


AB = [Demand("A", "B")]


def test_valid_hand_plan_passes():
    table = key_table(ROWS)
    plan = hand_plan(table, {0: 500_000, 1: 300_000}, [(1, "A:B", "A", "B", 300_000)], AB)
    assert check_plan(plan, table) == []


@pytest.mark.parametrize("method", ["milp", "greedy", "rolling"])
def test_solver_plans_pass(method):
    table = key_table(ROWS)
    plan = plan_schedule(table, ["A:B", "A:C:2"], solver=method, memory_bits=600_000,
                         reserve_bits=10_000)
    assert_plan_valid(plan, table)
    assert plan.delivered["delivered_bits"].sum() > 0


def errors_of(plan, table):
    errors = check_plan(plan, table)
    assert errors, "the checker accepted a broken plan"
    return " | ".join(errors)


def test_day_pass_and_too_much_key():
    table = key_table(ROWS)
    plan = hand_plan(table, {0: 600_000, 1: 300_000}, [(1, "A:B", "A", "B", 300_000)], AB)
    table.loc[1, "night"] = False
    text = errors_of(plan, table)
    assert "pass 1 is not a night pass" in text
    assert "pass 0 keeps 600000.0 bits of 500000.0" in text


def test_unavailable_night():
    table = key_table(ROWS)
    plan = hand_plan(table, {0: 500_000}, [], AB, unavailable=[("A", "2025-03-01")])
    assert "A is unavailable on the night of 2025-03-01" in errors_of(plan, table)


def test_satellite_gap_and_telescopes():
    table = key_table(ROWS)
    plan = hand_plan(table, {1: 300_000, 4: 100_000}, [], AB)  # S1 over B at +0 and +6 min
    assert "passes 1 and 4 overlap or leave less than the 120 s gap" in errors_of(plan, table)
    plan = hand_plan(table, {0: 500_000, 3: 400_000}, [], AB)  # two satellites over A
    assert "station A: 2 passes at once, 1 telescope(s)" in errors_of(plan, table)
    plan = hand_plan(table, {0: 500_000, 3: 400_000}, [], AB,
                     telescopes={"A": 2, "B": 1, "C": 1})
    assert check_plan(plan, table) == []


def test_memory_and_negative_buffers():
    table = key_table(ROWS)
    plan = hand_plan(table, {0: 500_000, 1: 300_000}, [(1, "A:B", "A", "B", 300_000)], AB,
                     memory=400_000)
    assert "at pass 0: 500000.0 bits stored before relaying, memory 400000" in \
        errors_of(plan, table)
    plan = hand_plan(table, {0: 500_000, 1: 300_000}, [(1, "A:B", "A", "B", 350_000)], AB)
    assert "buffer B is -50000.0 bits" in errors_of(plan, table)


def test_a_relay_must_carry_key():
    table = key_table(ROWS)
    plan = hand_plan(table, {0: 500_000, 1: 300_000}, [(1, "A:B", "A", "B", -100_000)], AB)
    assert "relay of -100000.0 bits for A:B" in errors_of(plan, table)


def test_memory_is_checked_after_the_deposit_before_the_relays():
    # 500 kbit A, then 300 kbit B, relay 300 kbit: 200 kbit after the relay, but 800 kbit
    # held once the B key is stored, which a 700 kbit memory cannot hold
    table = key_table(ROWS)
    plan = hand_plan(table, {0: 500_000, 1: 300_000}, [(1, "A:B", "A", "B", 300_000)], AB,
                     memory=700_000)
    assert "at pass 1: 800000.0 bits stored before relaying, memory 700000" in \
        errors_of(plan, table)
    plan = hand_plan(table, {0: 400_000, 1: 300_000}, [(1, "A:B", "A", "B", 300_000)], AB,
                     memory=700_000)
    assert check_plan(plan, table) == []


def test_relay_before_both_keys_exist_or_outside_its_pass():
    table = key_table(ROWS)
    plan = hand_plan(table, {0: 500_000, 1: 300_000}, [(0, "A:B", "A", "B", 100_000)], AB)
    text = errors_of(plan, table)
    assert "uses S1's key with B before any arrived" in text
    plan = hand_plan(table, {0: 500_000, 1: 300_000, 2: 200_000},
                     [(2, "A:B", "A", "B", 100_000)], AB)
    assert "relay A->B during a pass over C" in errors_of(plan, table)
    plan = hand_plan(table, {0: 500_000}, [(1, "A:B", "A", "B", 100_000)], AB)
    assert "relay during pass 1, which is not a chosen pass" in errors_of(plan, table)


def test_reserve():
    table = key_table(ROWS)
    plan = hand_plan(table, {0: 500_000, 1: 300_000}, [(1, "A:B", "A", "B", 290_000)], AB,
                     reserve=20_000)
    assert "relays drew buffer B to 10000.0 bits, below the reserve 20000" in \
        errors_of(plan, table)


def test_delivered_must_equal_relays():
    table = key_table(ROWS)
    demands = [Demand("A", "B", target_bits=400_000)]
    plan = hand_plan(table, {0: 500_000, 1: 300_000}, [(1, "A:B", "A", "B", 300_000)],
                     demands, delivered={"A:B": 350_000})
    text = errors_of(plan, table)
    assert "delivered 350000.0 bits claimed, relays sum to 300000.0" in text
    assert "unmet 50000.0 bits, expected 100000.0" in text


def test_reported_buffers_must_match_replay():
    table = key_table(ROWS)
    buffers = pd.DataFrame({"time_utc": [table.at[0, "los_utc"]], "satellite": ["S1"],
                            "station": ["A"], "bits": [123.0]})
    plan = hand_plan(table, {0: 500_000}, [], AB, buffers=buffers)
    assert "reported buffer A = 123.0 bits, replay gives 500000.0" in errors_of(plan, table)


def test_fibre_and_ground_storage():
    table = key_table(ROWS)
    demands = [Demand("A", "C")]
    t = table.at[1, "los_utc"]
    elapsed = (t - table["aos_utc"].min()).total_seconds()
    fibre = [("B", "C", 1.0)]
    ok = hand_plan(table, {0: 500_000, 1: 300_000},
                   [(1, "A:C", "A", "B", 50_000), ((t, "B~C"), "A:C", "B", "C", 50_000)],
                   demands, fibre=fibre)
    assert check_plan(ok, table) == []
    over = hand_plan(table, {0: 500_000, 1: 300_000},
                     [(1, "A:C", "A", "B", 200_000), ((t, "B~C"), "A:C", "B", "C", 200_000)],
                     demands, fibre=fibre)
    assert f"only {elapsed:.1f} produced" in errors_of(over, table)
    leak = hand_plan(table, {0: 500_000, 1: 300_000},
                     [(1, "A:C", "A", "B", 10_000), ((t, "B~C"), "A:C", "B", "C", 40_000)],
                     demands, fibre=fibre)
    assert "A:C: B passes on 30000.0 bits more than it ever received" in errors_of(leak, table)
    backwards = hand_plan(table, {0: 500_000, 1: 300_000}, [(1, "A:C", "B", "A", 10_000)],
                          demands, fibre=fibre)
    assert "runs backwards" in errors_of(backwards, table)
