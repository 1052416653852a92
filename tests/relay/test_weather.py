"""Weather scenarios: the Markov model's statistics, determinism, and plan replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.errors import ScheduleInputError
from planner.relay.check import assert_plan_valid
from planner.relay.schedule import plan_schedule
from planner.relay.weather import (
    auto_night_cut_hour,
    evaluate_plan,
    night_dates,
    resolve_seed,
    sample_clear_sky,
)
from tests.conftest import synthetic_key_table


def key_table(rows, clear) -> pd.DataFrame:
    """Key table from ``(satellite, station, night, minute, duration_s, clear-sky bits)``."""
    return synthetic_key_table(rows, clear=clear, bits_are_expected=False)


def station_nights(n_nights, stations=("A",), per_night=1):
    st, nights = [], []
    for s in stations:
        for k in range(n_nights):
            st += [s] * per_night
            nights += [np.datetime64("2025-03-01") + k] * per_night
    return np.array(st), np.array(nights, "datetime64[D]")


def test_stationary_probability_and_persistence():
    stations, nights = station_nights(400)
    p = np.full(stations.size, 0.3)
    clear = sample_clear_sky(stations, nights, p, n_scenarios=400, seed=11, persistence=0.6)
    assert clear.mean() == pytest.approx(0.3, abs=0.01)
    x = clear[:, :-1].astype(float).ravel()
    y = clear[:, 1:].astype(float).ravel()
    assert np.corrcoef(x, y)[0, 1] == pytest.approx(0.6, abs=0.02)
    lag2 = np.corrcoef(clear[:, :-2].ravel(), clear[:, 2:].ravel())[0, 1]
    assert lag2 == pytest.approx(0.36, abs=0.03)


def test_independent_when_persistence_zero_and_stations_independent():
    stations, nights = station_nights(200, stations=("A", "B"))
    p = np.full(stations.size, 0.5)
    clear = sample_clear_sky(stations, nights, p, n_scenarios=300, seed=5, persistence=0.0)
    a, b = clear[:, :200], clear[:, 200:]
    assert abs(np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]) < 0.03
    assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.03


def test_one_draw_per_station_night_and_gaps_decorrelate():
    stations, nights = station_nights(50, per_night=3)
    clear = sample_clear_sky(stations, nights, np.full(stations.size, 0.5), n_scenarios=50,
                             seed=1)
    same = clear.reshape(50, 50, 3)
    assert (same == same[:, :, :1]).all()
    # nights three apart are correlated by rho ** 3
    st2 = np.array(["A"] * 400)
    nt2 = np.datetime64("2025-01-01") + 3 * np.arange(400)
    clear2 = sample_clear_sky(st2, nt2, np.full(400, 0.5), n_scenarios=400, seed=2,
                              persistence=0.8)
    r = np.corrcoef(clear2[:, :-1].ravel(), clear2[:, 1:].ravel())[0, 1]
    assert r == pytest.approx(0.8**3, abs=0.03)


def test_seeded_and_reproducible():
    stations, nights = station_nights(30, stations=("A", "B"))
    p = np.full(stations.size, 0.4)
    one = sample_clear_sky(stations, nights, p, n_scenarios=20, seed=9)
    two = sample_clear_sky(stations, nights, p, n_scenarios=20, seed=9)
    other = sample_clear_sky(stations, nights, p, n_scenarios=20, seed=10)
    assert (one == two).all() and (one != other).any()
    assert isinstance(resolve_seed(None), int)
    with pytest.raises(ScheduleInputError, match="seed: -1"):
        resolve_seed(-1)


@pytest.mark.parametrize("n, rho, field", [(0, 0.5, "n_scenarios"), (5, 1.5, "persistence")])
def test_bad_settings(n, rho, field):
    stations, nights = station_nights(3)
    with pytest.raises(ScheduleInputError, match=field):
        sample_clear_sky(stations, nights, np.full(3, 0.5), n_scenarios=n, seed=1,
                         persistence=rho)


def test_night_cut_falls_in_the_daytime_gap():
    # China passes around 14:00 UTC, South Africa around 20:00 and 02:00 UTC
    times = pd.to_datetime(["2025-03-01T14:00Z", "2025-03-01T15:30Z", "2025-03-01T20:00Z",
                            "2025-03-02T02:00Z"], utc=True)
    cut = auto_night_cut_hour(times)
    assert 2.0 < cut < 14.0
    dates = night_dates(times, cut)
    assert (dates == np.datetime64("2025-03-01")).all()


ROWS = [("S1", "A", 0, 0, 300, 600_000), ("S1", "B", 1, 0, 300, 400_000),
        ("S1", "A", 2, 0, 300, 600_000), ("S1", "B", 3, 0, 300, 400_000)]


def test_replay_of_a_clear_sky_plan_reproduces_it():
    table = key_table(ROWS, clear=1.0)
    plan = plan_schedule(table, ["A:B"])
    assert_plan_valid(plan, table)
    plan.weather, plan.weather_info = evaluate_plan(plan, table, n_scenarios=10, seed=4)
    q = plan.weather.loc["A:B"]
    assert q["planned_bits"] == pytest.approx(800_000)
    for col in ("mean_bits", "p10_bits", "p50_bits", "p90_bits"):
        assert q[col] == pytest.approx(800_000)
    assert plan.weather_info == {"seed": 4, "scenarios": 10, "persistence": 0.5,
                                 "clear_fraction": 1.0}


def test_replay_under_clouds_matches_a_hand_count():
    # independent nights (rho = 0), clear-sky probability 1/2 at both stations: the relay at
    # night 1 delivers min(600k * cA0, 400k * cB1) with carry-over to nights 2-3
    table = key_table(ROWS, clear=0.5)
    plan = plan_schedule(table, ["A:B"])
    summary, info = evaluate_plan(plan, table, n_scenarios=20000, seed=8, persistence=0.0)
    assert info["seed"] == 8 and info["clear_fraction"] == pytest.approx(0.5, abs=0.02)
    # exact expectation by enumerating the 16 weather outcomes with the replay's rules
    expect = []
    for bits in range(16):
        c = [(bits >> i) & 1 for i in range(4)]
        a = 600_000 * c[0]
        b = 400_000 * c[1]
        first = min(a, b)
        a, b = a - first + 600_000 * c[2], b - first + 400_000 * c[3]
        expect.append(first + min(a, b))
    q = summary.loc["A:B"]
    assert q["mean_bits"] == pytest.approx(np.mean(expect), rel=0.025)  # 4 SE
    assert q["p10_bits"] <= q["p50_bits"] <= q["p90_bits"] <= max(expect) + 1
    assert q["p_target_met"] != q["p_target_met"]  # NaN: no target


def test_scenarios_need_the_clear_sky_columns():
    table = key_table(ROWS, clear=1.0).drop(columns=["clear_sky_probability"])
    with pytest.raises(ScheduleInputError, match=r"need column\(s\) clear_sky_probability"):
        evaluate_plan(plan_schedule(table, ["A:B"]), table, n_scenarios=3, seed=1)


# --------------------------------------------------------------------------------------------
# Chains through a ground station under weather
# --------------------------------------------------------------------------------------------


def fixed_weather(table, cloudy=()) -> pd.DataFrame:
    """``table`` with clear-sky probability 1 (0 for the pass ids ``cloudy``): with persistence
    0 every scenario then has exactly this weather."""
    weather = table.copy()
    weather["clear_sky_probability"] = 1.0
    weather.loc[list(cloudy), "clear_sky_probability"] = 0.0
    return weather


def chain_plan(rows):
    """Plan of A:C (target 500 kbit) over clear-sky ``rows`` at clear-sky probability 1/2: S3
    joins A and C directly (400 kbit expected), S1 (A, B) and S2 (B, C) chain 100 kbit via B."""
    table = key_table(rows, clear=0.5)
    plan = plan_schedule(table, ["A:C:1:500000"], ground_relays=True)
    assert_plan_valid(plan, table)
    hops = {(r.via, r.from_station, r.to_station): r.bits for r in plan.relays.itertuples()}
    assert hops == pytest.approx({("S3", "A", "C"): 400_000, ("S1", "A", "B"): 100_000,
                                  ("S2", "B", "C"): 100_000})
    return table, plan


def test_a_broken_chain_leaves_room_for_direct_relays():
    # clear-sky key (bits): S3 has 800k with A and with C, twice what the plan relays; the
    # chain's source segment A-B (S1, night 1) is clouded over and never made again, while its
    # sink segment B-C (S2) is made. Hand count: the chain delivers nothing; S3's 400k beyond
    # the plan is relayed directly up to the target, so A:C gets 400k + 100k = 500k.
    rows = [("S3", "A", 0, 0, 300, 800_000), ("S1", "A", 1, 0, 300, 200_000),
            ("S1", "B", 1, 10, 300, 200_000), ("S2", "B", 1, 20, 300, 200_000),
            ("S2", "C", 1, 30, 300, 200_000), ("S3", "C", 2, 0, 300, 800_000)]
    table, plan = chain_plan(rows)
    cloudy = table.index[(table["satellite"] == "S1") & (table["station"] == "A")]
    summary, _ = evaluate_plan(plan, fixed_weather(table, cloudy), n_scenarios=4, seed=1,
                               persistence=0.0)
    for col in ("p10_bits", "p50_bits", "p90_bits"):
        assert summary.loc["A:C", col] == pytest.approx(500_000)
    assert summary.loc["A:C", "p_target_met"] == 1.0


def test_a_chain_completed_later_is_not_relayed_again():
    # the sink segment B-C is made on night 0, its source segment A-B only on night 2 (order-
    # free chains); S3's key beyond the plan on night 1 must not replace the chain's 100k, which
    # is still to come: the clear-sky replay delivers the target, not 600k
    rows = [("S2", "B", 0, 0, 300, 200_000), ("S2", "C", 0, 10, 300, 200_000),
            ("S3", "A", 1, 0, 300, 800_000), ("S3", "C", 1, 10, 300, 800_000),
            ("S1", "A", 2, 0, 300, 200_000), ("S1", "B", 2, 10, 300, 200_000)]
    table, plan = chain_plan(rows)
    summary, _ = evaluate_plan(plan, fixed_weather(table), n_scenarios=2, seed=1,
                               persistence=0.0)
    assert summary.loc["A:C", "p50_bits"] == pytest.approx(500_000)
    assert summary.loc["A:C", "mean_bits"] == pytest.approx(500_000)


def test_key_delivered_before_the_plan_counts_towards_the_target():
    # a measured state holds 400 kbit of A:B (target 600 kbit), so the plan relays 200 kbit of
    # the 300 kbit expected per pass. Clear skies give 600 kbit per pass: direct relays stop at
    # the target (200 kbit, not 600); a cloudy A leaves the demand at its 400 kbit, short
    from planner.relay.state import state_from_data

    rows = [("S1", "A", 0, 0, 300, 600_000), ("S1", "B", 0, 30, 300, 600_000)]
    table = key_table(rows, clear=0.5)
    state = state_from_data({"as_of_utc": "2025-03-01T00:00:00Z",
                             "delivered": [{"demand": "A:B", "bits": 400_000}]})
    plan = plan_schedule(table, ["A:B::6e5"], state=state, known_stations=["A", "B"])
    assert_plan_valid(plan, table)
    clear, _ = evaluate_plan(plan, fixed_weather(table), n_scenarios=2, seed=1,
                             persistence=0.0)
    assert clear.loc["A:B", "p50_bits"] == pytest.approx(200_000)
    assert clear.loc["A:B", "p_target_met"] == 1.0
    cloudy, _ = evaluate_plan(plan, fixed_weather(table, [table.index[0]]), n_scenarios=2,
                              seed=1, persistence=0.0)
    assert cloudy.loc["A:B", "p50_bits"] == 0.0
    assert cloudy.loc["A:B", "p_target_met"] == 0.0
