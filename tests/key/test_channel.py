"""The channel formula (detections and errors of weak coherent pulses) by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.key.channel import (
    DecoySettings,
    channel_sums,
    clicks_and_errors,
    compact_terms,
    detection_probability,
    error_probability,
    expand_terms,
    expected_counts,
)
from planner.key.reconciliation import binary_entropy

# ---- channel model --------------------------------------------------------------------------


def test_binary_entropy_values():
    assert binary_entropy(0.0) == 0.0
    assert binary_entropy(1.0) == 0.0
    assert binary_entropy(0.5) == pytest.approx(1.0)
    assert binary_entropy(0.11) == pytest.approx(0.4999, abs=1e-4)


def test_detection_and_error_probability_by_hand():
    # No light: only noise clicks, half of them wrong.
    assert detection_probability(0.0, 0.8, 1e-6) == pytest.approx(1e-6)
    assert error_probability(0.0, 0.8, 1e-6, 0.01) == pytest.approx(0.5e-6)
    # eta mu = 1e-3: D = 1 - (1 - Y0) e^-1e-3.
    assert detection_probability(1e-3, 1.0, 1e-6) == pytest.approx(
        1 - (1 - 1e-6) * math.exp(-1e-3), rel=1e-12)
    # Without noise the QBER is the misalignment error.
    ratio = error_probability(1e-2, 0.8, 0.0, 0.02) / detection_probability(1e-2, 0.8, 0.0)
    assert ratio == pytest.approx(0.02)
    # After-pulsing multiplies the clicks by (1 + p_ap) and adds p_ap D / 2 errors.
    d = detection_probability(1e-3, 0.5, 1e-6)
    assert detection_probability(1e-3, 0.5, 1e-6, 0.04) == pytest.approx(1.04 * d)
    assert error_probability(1e-3, 0.5, 1e-6, 0.0, 0.04) == pytest.approx(0.5e-6 + 0.02 * d)


def test_expected_counts_split_by_basis_and_intensity():
    settings_ = DecoySettings((0.6, 0.2, 0.0), (0.7, 0.2, 0.1), 0.8)
    counts = expected_counts(np.array([1e-3]), 1e9, settings_, 1e-6, 0.01)
    gains = detection_probability(1e-3, settings_.mu, 1e-6)
    np.testing.assert_allclose(counts.n_x[0], 1e9 * 0.64 * settings_.p * gains)
    np.testing.assert_allclose(counts.n_z[0], 1e9 * 0.04 * settings_.p * gains)


def test_decoy_settings_validation():
    with pytest.raises(ValueError, match="signal > decoy > vacuum"):
        DecoySettings((0.1, 0.8, 0.0), (0.5, 0.25, 0.25))
    with pytest.raises(ValueError, match="sum to 1"):
        DecoySettings((0.8, 0.1, 0.0), (0.5, 0.3, 0.3))
    with pytest.raises(ValueError, match="decoy \\+ vacuum"):
        DecoySettings((0.5, 0.3, 0.25), (0.5, 0.25, 0.25))
    with pytest.raises(ValueError, match="basis_bias"):
        DecoySettings((0.8, 0.1, 0.0), (0.5, 0.25, 0.25), 1.0)


def test_channel_sums_with_per_sample_noise_equal_the_sum_of_single_pulses():
    """The summed channel formula against pulse-by-pulse probabilities summed by brute force,
    with a different noise click probability in every sample (e.g. a background that changes
    along the pass)."""
    rng = np.random.default_rng(7)
    eta = 10.0 ** -rng.uniform(2.0, 6.0, size=(3, 50))
    y0 = 10.0 ** -rng.uniform(4.0, 7.0, size=eta.shape)
    weight = rng.uniform(0.0, 1.0, size=eta.shape)
    mu = np.array([0.8, 0.1, 0.0])
    sums = channel_sums(eta, mu, weight, y0)
    clicks, errors = clicks_and_errors(sums, misalignment_error=0.01,
                                       afterpulse_probability=0.02)
    for k, intensity in enumerate(mu):
        d = detection_probability(eta, intensity, y0, 0.02)
        e = error_probability(eta, intensity, y0, 0.01, 0.02)
        # Σw − Σw(1 − Y0)s cancels: relative rounding ~1e-16 / (gain per pulse)
        np.testing.assert_allclose(clicks[:, k], (weight * d).sum(axis=1), rtol=1e-9)
        np.testing.assert_allclose(errors[:, k], (weight * e).sum(axis=1), rtol=1e-9)
    # one noise level per row, given late, is the same as that level in every sample
    constant = np.full(eta.shape, 3e-6)
    late = clicks_and_errors(channel_sums(eta, mu, weight), np.full(3, 3e-6),
                             misalignment_error=0.01)
    early = clicks_and_errors(channel_sums(eta, mu, weight, constant), misalignment_error=0.01)
    np.testing.assert_allclose(late, early, rtol=1e-9)


@pytest.mark.parametrize("mu", [(0.8, 0.1, 0.0), (0.6, 0.2, 0.05)])
@pytest.mark.parametrize("with_noise", [True, False])
def test_compact_terms_summed_and_expanded_equal_the_channel_sums(mu, with_noise):
    """The varying terms alone (a vacuum pulse's s = 1 and (1 - Y0) s = s - Y0 s left out),
    weighted, summed and expanded, give channel_sums' columns."""
    rng = np.random.default_rng(11)
    eta = 10.0 ** -rng.uniform(2.0, 6.0, size=40)
    y0 = 10.0 ** -rng.uniform(2.0, 7.0, size=eta.shape) if with_noise else None
    weight = rng.uniform(0.0, 1.0, size=eta.shape)
    expected = channel_sums(eta, mu, weight, y0).stack()
    terms = compact_terms(eta, mu, y0)
    bright = sum(intensity > 0.0 for intensity in mu)
    assert terms.shape == (1 + 2 * bright if with_noise else bright, eta.size)
    expanded = expand_terms(weight.sum(), terms @ weight, mu)
    np.testing.assert_allclose(expanded, expected, rtol=1e-13)


def test_one_pulse_formula_by_hand_with_noise():
    # η μ = 0.01: D = 1 − (1 − 1e-5) e^−0.01, E = 0.5e-5 + 0.02 (1 − e^−0.01)
    eta, mu, y0 = 0.02, 0.5, 1e-5
    survive = math.exp(-0.01)
    assert detection_probability(eta, mu, y0) == pytest.approx(1 - (1 - y0) * survive, rel=1e-14)
    assert error_probability(eta, mu, y0, 0.02) == pytest.approx(
        0.5 * y0 + 0.02 * (1 - survive), rel=1e-14)
