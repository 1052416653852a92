"""Key window per pass and the asymptotic column as an upper bound of the finite key.

The window is checked by brute force (every cut's samples as a block of their own), the bound
across regimes with hypothesis, and the budget's response to a lower acquisition elevation
on an exact sample subset and on the planner's own passes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.key.blocks import (
    asymptotic_block_key,
    block_key,
    block_statistics,
    cut_elevations,
)
from planner.key.channel import channel_sums
from planner.key.losscurve import key_from_loss_curve
from planner.key.perpass import pass_key_table
from planner.key.receiver import extraneous_probability, sample_transmittance
from planner.link.budget import slant_range_km, transmittance_to_loss_db
from planner.mission.payloads import load_payloads
from tests.conftest import assert_one_line_error, run

DATA_KEYS = "tests/data/keys"


@pytest.fixture(scope="module")
def jinan():
    return load_payloads()["jinan-1"].model_copy(update={"min_key_elevation_deg": 10.0})


def pass_profile(max_elevation_deg: float, horizon_deg: float = 10.0, duration_s: float = 400.0):
    """Times and elevations of a symmetric pass rising from ``horizon_deg`` (1 s samples)."""
    t = np.arange(0.0, duration_s + 0.5)
    phase = (t - duration_s / 2) / (duration_s / 2)            # -1 .. 1
    elevation = horizon_deg + (max_elevation_deg - horizon_deg) * np.cos(0.5 * np.pi * phase)
    return t, elevation


def pass_losses(elevation, payload, station):
    range_km = slant_range_km(elevation, 500.0)
    return transmittance_to_loss_db(sample_transmittance(range_km, elevation, payload, station))


def noisy(station, background):
    return station.model_copy(update={"background_counts_per_s": background})


@pytest.mark.parametrize("background", [0.0, 500.0, 5e3])
def test_key_window_is_the_best_cut_by_brute_force(jinan, stations, background):
    station = noisy(stations[0], background)
    t, elevation = pass_profile(55.0)
    loss = pass_losses(elevation, jinan, station)
    result = key_from_loss_curve(t, loss, jinan, station, elevation)
    brute = {}
    for cut in cut_elevations(jinan):
        inside = elevation >= cut
        if inside.sum() >= 2:   # the cut's samples alone, as one block
            brute[cut] = key_from_loss_curve(t[inside], loss[inside], jinan, station)
    best = max(brute.values(), key=lambda r: r["secure_bits"])
    assert result["secure_bits"] == pytest.approx(best["secure_bits"], rel=1e-9, abs=2.0)
    assert result["duration_s"] == pytest.approx(best["duration_s"])
    if best["secure_bits"] > 0:
        chosen = min(c for c, r in brute.items() if r["secure_bits"] == best["secure_bits"])
        assert result["key_min_elevation_deg"] == pytest.approx(chosen)
    whole = brute[cut_elevations(jinan)[0]]
    assert result["secure_bits"] >= whole["secure_bits"]
    if background >= 500.0:   # the noisy low seconds cost more than they bring
        assert result["key_min_elevation_deg"] > 10.0
        assert result["secure_bits"] > whole["secure_bits"]


@settings(max_examples=30, deadline=None)
@given(max_elevation=st.floats(16.0, 89.0), background=st.sampled_from([0.0, 500.0, 5e3, 5e4]),
       both_bases=st.booleans())
def test_acquiring_lower_never_lowers_the_key(jinan, stations, max_elevation, background,
                                             both_bases):
    """A station that acquires at 10° instead of 15° sees the same samples plus the low ones."""
    payload = jinan.model_copy(update={"key_from_both_bases": both_bases})
    station = noisy(stations[0], background)
    t, elevation = pass_profile(max_elevation)
    loss = pass_losses(elevation, payload, station)
    high = elevation >= 15.0
    from_10 = key_from_loss_curve(t, loss, payload, station, elevation)
    from_15 = key_from_loss_curve(t[high], loss[high], payload, station, elevation[high])
    assert from_10["secure_bits"] >= from_15["secure_bits"]


def test_planner_passes_from_a_lower_elevation_keep_their_key(micius_catalogue,
                                                             jinan1_stations, jinan):
    """The same passes found from 10° and from 15°: the key never drops, up to the sampling
    phase, which moves with the AOS (1 % or 1 kbit on a marginal pass, 1e-4 of the total)."""
    from planner.geometry.passes import find_passes

    tables = {}
    for horizon in (10.0, 15.0):
        passes = find_passes(micius_catalogue, jinan1_stations[:4], "2024-03-01", "2024-03-04",
                             min_elevation_deg=horizon)
        tables[horizon] = pass_key_table(passes, micius_catalogue, jinan1_stations, jinan)
    low, high = (t.assign(tca=t["tca_utc"].dt.round("min")).set_index(["station", "tca"])
                 for t in (tables[10.0], tables[15.0]))
    common = high.index.intersection(low.index)
    assert len(common) >= 5 and (high.loc[common, "secure_bits"] > 0).any()
    np.testing.assert_array_less(high.loc[common, "secure_bits"] * 0.99 - 1e3,
                                 low.loc[common, "secure_bits"])
    total = (low.loc[common, "secure_bits"].sum(), high.loc[common, "secure_bits"].sum())
    assert total[0] >= total[1] * (1.0 - 1e-4)


def block_counts(payload, losses_db, durations_s, background):
    """Channel terms of blocks of constant loss, summed into one pooled block."""
    eta = 10.0 ** (-np.asarray(losses_db) / 10.0)
    sums = channel_sums(eta, payload.decoy_settings.mu, np.asarray(durations_s), axis=-1)
    y0 = extraneous_probability(payload, type("Sky", (), {"background_counts_per_s":
                                                          background})())
    return block_statistics(sums.stack()[None, :], payload, y0).counts


@settings(max_examples=200, deadline=None)
@given(losses=st.lists(st.floats(20.0, 60.0), min_size=1, max_size=4),
       durations=st.lists(st.floats(1.0, 2000.0), min_size=4, max_size=4),
       background=st.sampled_from([0.0, 500.0, 5e3, 1e5]),
       both_bases=st.booleans(), fluctuation=st.sampled_from(["chernoff", "hoeffding"]),
       ec_leakage=st.sampled_from(["fixed", "finite"]), name=st.sampled_from(["jinan-1",
                                                                               "micius"]))
def test_finite_key_never_exceeds_the_asymptotic_column(losses, durations, background,
                                                        both_bases, fluctuation, ec_leakage,
                                                        name):
    """Across loss, block size, pooling (several blocks of different loss in one), key from one
    or both bases, fluctuation bound and leakage model."""
    payload = load_payloads()[name].model_copy(update={"key_from_both_bases": both_bases})
    counts = block_counts(payload, losses, durations[:len(losses)], background)
    finite = block_key(counts, payload, fluctuation, ec_leakage)
    bound = asymptotic_block_key(counts, payload, ec_leakage)
    assert np.all(finite <= bound)


@pytest.mark.parametrize(("pool", "both_bases", "ec_leakage"),
                         [(1, True, "fixed"), (3, True, "finite"), (2, False, "fixed")])
def test_key_table_secure_bits_within_asymptotic_column(micius_catalogue, jinan1_stations,
                                                        jinan, pool, both_bases, ec_leakage):
    from planner.geometry.passes import find_passes

    payload = jinan.model_copy(update={"key_from_both_bases": both_bases})
    passes = find_passes(micius_catalogue, jinan1_stations[:4], "2024-03-01", "2024-03-04",
                         min_elevation_deg=10.0)
    table = pass_key_table(passes, micius_catalogue, jinan1_stations, payload, pool=pool,
                           ec_leakage=ec_leakage)
    assert (table["secure_bits"] > 0).any()
    assert (table["secure_bits"] <= table["secure_bits_asymptotic"]).all()
    windowed = table.dropna(subset=["key_min_elevation_deg"])
    assert (windowed["key_min_elevation_deg"] >= 10.0).all()
    assert (windowed["key_window_s"] <= pd.to_numeric(windowed["duration_s"]) + 1e-9).all()


def test_optimise_with_a_loss_curve_is_refused(capsys):
    code, out, err = run(["keys", "--loss-csv", f"{DATA_KEYS}/loss_good.csv", "--optimise"],
                         capsys)
    assert_one_line_error(code, out, err, "--optimise", "--loss-csv")
    assert out == ""


def test_per_sample_noise_through_the_windows_equals_one_noise_per_pass(jinan, stations):
    """The hook for a background that changes along a pass: Y0 given per sample (here the
    same in every sample) gives the windows and key of Y0 given per pass."""
    from planner.key.blocks import choose_windows, segment_sums, window_sums

    station = noisy(stations[0], 2e3)
    t, elevation = pass_profile(62.0)
    eta = sample_transmittance(slant_range_km(elevation, 500.0), elevation, jinan, station)
    y0 = extraneous_probability(jinan, station)
    codes = np.zeros(t.size, dtype=np.intp)
    cuts = cut_elevations(jinan)
    per_pass = choose_windows(window_sums(segment_sums(codes, t, elevation, eta, jinan, 1)),
                              cuts, jinan, np.array([y0]), "chernoff", "fixed")
    per_sample = choose_windows(
        window_sums(segment_sums(codes, t, elevation, eta, jinan, 1, np.full(t.size, y0))),
        cuts, jinan, None, "chernoff", "fixed")
    assert per_pass.secure_bits[0] > 0
    assert per_sample.secure_bits[0] == pytest.approx(per_pass.secure_bits[0], rel=1e-9)
    assert per_sample.cut_deg[0] == per_pass.cut_deg[0]


@pytest.mark.parametrize("regular", [True, False])
def test_segment_sums_equal_the_pieces_added_one_by_one(jinan, monkeypatch, regular):
    """Every pair of neighbours of a pass, both at or above the minimum key elevation, adds
    half its gap times the two samples' channel terms to the cut at or below its lower end:
    added here pair by pair (three passes, one dipping below the minimum in its middle, a
    per-sample Y0, sample blocks of 7 so passes and runs cross them)."""
    from planner.key import blocks

    rng = np.random.default_rng(5)
    profiles = [pass_profile(m, horizon_deg=5.0, duration_s=60.0)[1] for m in (24.0, 47.0)]
    dip = pass_profile(40.0, horizon_deg=5.0, duration_s=60.0)[1]
    dip[25:33] = 8.0
    elevation = np.concatenate([*profiles, dip])
    codes = np.repeat([0, 1, 2], [p.size for p in (*profiles, dip)])
    step = 1.0 if regular else rng.uniform(0.5, 1.5, size=elevation.size).cumsum()
    eta = 10.0 ** -rng.uniform(3.0, 5.0, size=elevation.size)
    y0 = 10.0 ** -rng.uniform(4.0, 6.0, size=elevation.size)
    terms = channel_sums(eta, jinan.decoy_settings.mu, 1.0, y0, axis=None).stack()
    t = step * np.arange(elevation.size) if regular else step
    cuts = cut_elevations(jinan)
    expected = np.zeros((3, cuts.size, terms.shape[1]))
    for i in range(elevation.size - 1):
        lower = min(elevation[i], elevation[i + 1])
        if codes[i] == codes[i + 1] and lower >= jinan.min_key_elevation_deg:
            cut = np.flatnonzero(cuts <= lower)[-1]
            expected[codes[i], cut] += 0.5 * (t[i + 1] - t[i]) * (terms[i] + terms[i + 1])
    monkeypatch.setattr(blocks, "CHUNK", 7)
    pieces = blocks.segment_sums(codes, 1.0 if regular else t, elevation, eta, jinan, 3, y0)
    assert expected[..., 0].any(axis=1).all()
    np.testing.assert_allclose(pieces, expected, rtol=1e-12, atol=1e-15)
