"""The finite-key bound of Lim et al. (2014) against hand-computed cases and its limits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.key.asymptotic import decoy_asymptotic_key_rate
from planner.key.channel import BasisCounts, DecoySettings, expected_counts
from planner.key.finite import (
    chernoff_expectation_bounds,
    finite_key_length,
    hoeffding_deviation,
    secure_key_length,
)
from planner.key.reconciliation import binary_entropy, error_correction_leakage

MICIUS_LIKE = DecoySettings((0.8, 0.1, 0.0), (0.5, 0.25, 0.25), 0.5)
SECURITY = dict(epsilon_sec=1e-10, epsilon_cor=1e-15, ec_efficiency=1.16)


def block(eta, pulses, y0=1e-6, e_mis=0.01, settings_=MICIUS_LIKE, p_ap=0.0):
    """Expected counts of one block of constant transmittance, shaped (1, 3)."""
    counts = expected_counts(np.atleast_1d(eta), pulses, settings_, y0, e_mis, p_ap)
    return counts.sum(axis=0)



# ---- finite key: Lim et al. 2014 ------------------------------------------------------------


def test_key_zero_not_negative_not_nan_below_threshold():
    for eta, pulses in [(0.0, 1e9), (1e-6, 1e9), (1e-3, 1e3), (1e-4, 0.0)]:
        result = finite_key_length(block(eta, pulses), MICIUS_LIKE, **SECURITY)
        assert result.secure_bits == 0.0
        assert np.isfinite(result.secure_bits)
    assert secure_key_length(block(0.0, 1e9), MICIUS_LIKE, key_from_both_bases=True,
                                **SECURITY) == 0.0


def test_finite_key_by_hand_without_fluctuations():
    # With fluctuation="none" and the vacuum decoy at mu3 = 0, eq. (2) reduces to
    # s_X0 = tau0 * e^0 / p3 * n_X,vac and the bound is the infinite-block limit.
    counts = block(1e-4, 1e11)
    result = finite_key_length(counts, MICIUS_LIKE, fluctuation="none", **SECURITY)
    tau0 = 0.5 * math.exp(-0.8) + 0.25 * math.exp(-0.1) + 0.25
    assert result.vacuum_events == pytest.approx(tau0 * counts.n_x[2] / 0.25, rel=1e-12)
    expected = (result.vacuum_events
                + result.single_photon_events * (1 - binary_entropy(result.phase_error))
                - 1.16 * counts.n_x.sum() * binary_entropy(result.qber))
    assert result.raw_length == pytest.approx(expected, rel=1e-12)


def test_finite_key_rises_toward_asymptotic_limit_with_block_size():
    eta = 10 ** (-3.5)  # 35 dB
    fractions = []
    for pulses in (1e8, 1e9, 1e10, 1e11, 1e12, 1e13):
        counts = block(eta, pulses)
        finite = finite_key_length(counts, MICIUS_LIKE, **SECURITY).secure_bits
        limit = finite_key_length(counts, MICIUS_LIKE, fluctuation="none",
                                     **SECURITY).secure_bits
        assert finite <= limit
        fractions.append(finite / limit)
    assert fractions[0] == 0.0  # too short to certify anything
    assert all(b > a for a, b in itertools.pairwise(fractions[1:]))
    assert fractions[-1] > 0.97


def test_finite_key_limit_close_to_ma_bound():
    # The infinite-block limit of the Lim et al. protocol and the Ma et al. asymptotic bound
    # describe the same physics: per signal pulse they agree to within 15 % (Lim et al. also
    # count decoy and vacuum events and the vacuum term s_X0).
    eta, pulses = 1e-4, 1e12
    limit = finite_key_length(block(eta, pulses), MICIUS_LIKE, fluctuation="none",
                                 **SECURITY).secure_bits
    ma = decoy_asymptotic_key_rate(eta, 0.8, 0.1, 0.0, 1e-6, 0.01, 1.16, 0.25)
    assert limit / (ma * pulses * 0.5) == pytest.approx(1.0, abs=0.15)


def test_chernoff_bounds_by_hand_and_tighter_for_satellite_blocks():
    lower, upper = chernoff_expectation_bounds(np.array([0.0, 1e4]), 1e-10)
    beta = math.log(1e10)
    assert lower[0] == pytest.approx(-beta)
    assert upper[1] == pytest.approx(1e4 + beta + math.sqrt(2 * beta * 1e4 + beta**2))
    assert hoeffding_deviation(2e4, 1e-10) == pytest.approx(math.sqrt(1e4 * beta))
    # A pass-sized block (3e11 pulses at 38 dB): Chernoff certifies more key than Hoeffding.
    counts = block(10 ** -3.8, 3e11)
    chernoff = finite_key_length(counts, MICIUS_LIKE, **SECURITY).secure_bits
    hoeffding = finite_key_length(counts, MICIUS_LIKE, fluctuation="hoeffding",
                                     **SECURITY).secure_bits
    assert chernoff > hoeffding > 0


def test_key_from_both_bases_roughly_doubles_symmetric_key():
    counts = block(1e-4, 1e12)
    one = secure_key_length(counts, MICIUS_LIKE, **SECURITY)
    both = secure_key_length(counts, MICIUS_LIKE, key_from_both_bases=True, **SECURITY)
    assert both == pytest.approx(2 * one, rel=0.02)


@pytest.mark.parametrize("z_scale", [1.0, 0.7])
def test_key_from_both_bases_is_the_key_from_x_plus_the_key_from_z(z_scale):
    """Each direction with half of each epsilon (Z's by the one-basis bound with the bases
    swapped), for counts the same in both bases and for counts that differ."""
    from dataclasses import replace

    counts = expected_counts(np.array([1e-4, 5e-5, 3e-5]), 3e12, MICIUS_LIKE, 1e-6, 0.01)
    counts = counts._replace(n_z=counts.n_z * z_scale, m_z=counts.m_z * z_scale)
    half = dict(epsilon_sec=0.5e-10, epsilon_cor=0.5e-15, ec_efficiency=1.16)
    from_x = finite_key_length(counts, MICIUS_LIKE, **half).secure_bits
    from_z = finite_key_length(counts.swap_bases(), replace(MICIUS_LIKE, basis_bias=0.5),
                               **half).secure_bits
    both = secure_key_length(counts, MICIUS_LIKE, key_from_both_bases=True, **SECURITY)
    assert (from_x > 0).all() and ((from_z == from_x) == (z_scale == 1.0)).all()
    np.testing.assert_array_equal(both, from_x + from_z)


def test_vectorised_over_leading_axes():
    counts = expected_counts(np.array([1e-4, 3e-5, 0.0]), 3e11, MICIUS_LIKE, 1e-6, 0.01)
    together = finite_key_length(counts, MICIUS_LIKE, **SECURITY).secure_bits
    alone = [finite_key_length(BasisCounts(*(a[i] for a in counts)), MICIUS_LIKE,
                                  **SECURITY).secure_bits for i in range(3)]
    np.testing.assert_array_equal(together, alone)


@settings(max_examples=60, deadline=None)
@given(st.floats(25.0, 50.0), st.floats(0.0, 5.0), st.floats(1e-8, 1e-5),
       st.floats(0.0, 0.05), st.floats(0.0, 0.02), st.sampled_from(["chernoff", "hoeffding"]))
def test_key_falls_as_loss_noise_or_misalignment_rise(loss, extra_db, y0, e_mis, extra_err,
                                                       fluctuation):
    def key(loss_db, y0_, e_mis_):
        counts = block(10 ** (-loss_db / 10), 3e11, y0=y0_, e_mis=e_mis_)
        bits = finite_key_length(counts, MICIUS_LIKE, fluctuation=fluctuation,
                                    **SECURITY).secure_bits
        assert bits >= 0.0 and np.isfinite(bits)
        return float(bits)

    base = key(loss, y0, e_mis)
    assert key(loss + extra_db, y0, e_mis) <= base
    assert key(loss, y0 * (1 + extra_db), e_mis) <= base
    assert key(loss, y0, e_mis + extra_err) <= base


def test_tomamichel_leakage_by_hand():
    n, q, eps = 1e6, 0.02, 1e-15
    from scipy import stats
    quantile = stats.binom.ppf(eps, int(n), 1 - q)
    expected = (n * binary_entropy(q) + (n * (1 - q) - quantile - 1) * math.log2((1 - q) / q)
                - 0.5 * math.log2(n) - math.log2(1 / eps))
    got = error_correction_leakage(n, q, ec_efficiency=1.16, epsilon_cor=eps,
                                      method="finite")
    assert got == pytest.approx(expected, rel=1e-12)
    # Finite-size leakage exceeds the Shannon limit n h(Q), by less as n grows.
    overhead = [error_correction_leakage(m, q, ec_efficiency=1.0, epsilon_cor=eps,
                                            method="finite") / (m * binary_entropy(q))
                for m in (1e4, 1e6, 1e8)]
    assert overhead[0] > overhead[1] > overhead[2] > 1.0
    assert overhead[2] < 1.01
    assert error_correction_leakage(0.0, 0.02, ec_efficiency=1.16, epsilon_cor=eps,
                                       method="finite") == 0.0


def test_unknown_model_names_raise():
    with pytest.raises(ValueError, match="fluctuation"):
        finite_key_length(block(1e-4, 1e10), MICIUS_LIKE, fluctuation="gauss", **SECURITY)
    with pytest.raises(ValueError, match="leakage"):
        error_correction_leakage(1e6, 0.02, ec_efficiency=1.16, epsilon_cor=1e-15,
                                    method="cascade")


def test_phase_error_cap_by_hand_without_fluctuations():
    """v_Z1 <= m_Z (single-photon errors are a subset of all Z errors), by hand from Lim et al.
    (2014) eqs. (2)-(5) with the observed counts as expectations."""
    settings_ = DecoySettings((0.8, 0.1, 0.0), (0.5, 0.25, 0.25), 0.5)
    n = np.array([1e6, 3e4, 1e3])
    counts = BasisCounts(n_x=n, n_z=n, m_x=np.array([1e4, 600.0, 500.0]),
                         m_z=np.array([50.0, 100.0, 10.0]))
    mu, p = (0.8, 0.1, 0.0), (0.5, 0.25, 0.25)
    tau0 = sum(pk * math.exp(-m) for m, pk in zip(mu, p, strict=True))
    tau1 = sum(pk * m * math.exp(-m) for m, pk in zip(mu, p, strict=True))
    scaled = [nk * math.exp(m) / pk for nk, m, pk in zip(n, mu, p, strict=True)]
    s0 = tau0 * scaled[2]                                               # eq. (2), μ3 = 0
    s1 = (tau1 * mu[0] * (scaled[1] - scaled[2] - mu[1] ** 2 / mu[0] ** 2 * (scaled[0] - s0 / tau0))
          / (mu[0] * mu[1] - mu[1] ** 2))                               # eq. (3)
    v1 = tau1 * (100.0 * math.exp(0.1) / 0.25 - 10.0 / 0.25) / 0.1      # eq. (4): 813.6
    assert v1 > 160.0                                                   # above m_Z: capped
    qber = 11100.0 / n.sum()
    leak = 1.16 * n.sum() * binary_entropy(qber)
    for cap, errors in ((True, 160.0), (False, v1)):
        expected = s0 + s1 * (1.0 - binary_entropy(errors / s1)) - leak
        result = finite_key_length(counts, settings_, epsilon_sec=1e-10, epsilon_cor=1e-15,
                                   fluctuation="none", cap_phase_errors=cap)
        assert float(result.single_photon_errors_z) == pytest.approx(errors, rel=1e-12)
        assert float(result.raw_length) == pytest.approx(expected, rel=1e-9)


def test_phase_error_cap_certifies_key_of_a_short_block_at_40_db():
    """A 30 s block of Micius-like pulses at 40 dB: Lim et al.'s v_Z1 bound alone certifies
    nothing, the cap at the observed Z errors certifies a few kbit (Chernoff bounds)."""
    counts = block(10 ** -4.0, 1e8 * 30.0, y0=4e-7, e_mis=0.01)
    kwargs = dict(SECURITY, key_from_both_bases=True)
    capped = secure_key_length(counts, MICIUS_LIKE, **kwargs)
    plain = finite_key_length(counts, MICIUS_LIKE, epsilon_sec=5e-11, epsilon_cor=5e-16,
                              cap_phase_errors=False)
    assert float(plain.secure_bits) == 0.0
    assert 1e3 < float(capped) < 1e4
    uncapped = finite_key_length(counts, MICIUS_LIKE, epsilon_sec=5e-11, epsilon_cor=5e-16)
    assert float(uncapped.single_photon_errors_z) <= float(np.sum(counts.m_z))
