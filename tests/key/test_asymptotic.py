"""The asymptotic decoy-state bound against published results (Lo-Ma-Chen 2005, Ma
et al. 2005)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.key.asymptotic import decoy_asymptotic_key_rate
from planner.key.channel import detection_probability, error_probability
from planner.key.reconciliation import binary_entropy

# ---- asymptotic bound: Lo-Ma-Chen 2005 / Ma et al. 2005 -------------------------------------

# GYS (Gobby, Yuan, Shields 2004) parameters as tabulated by Ma et al., PRA 72, 012326 (2005):
# fibre 0.21 dB/km, Bob's efficiency 4.5 %, Y0 = 1.7e-6, e_detector = 3.3 %, f(e) = 1.22,
# BB84 sifting 1/2.
GYS = dict(alpha_db_km=0.21, eta_bob=0.045, y0=1.7e-6, e_det=0.033, f_ec=1.22)
DISTANCE_KM = np.arange(0.0, 200.0, 0.5)
GYS_ETA = 10 ** (-GYS["alpha_db_km"] * DISTANCE_KM / 10) * GYS["eta_bob"]


def gys_infinite_decoy_rate(mu):
    """GLLP key with the exact single-photon yield and error (infinitely many decoys)."""
    y0, e_det, eta = GYS["y0"], GYS["e_det"], GYS_ETA
    y1 = y0 + eta - y0 * eta
    e1 = (0.5 * y0 + e_det * eta) / y1
    q_mu = detection_probability(eta, mu, y0)
    e_mu = error_probability(eta, mu, y0, e_det) / q_mu
    return 0.5 * (mu * math.exp(-mu) * y1 * (1 - binary_entropy(e1))
                  - GYS["f_ec"] * q_mu * binary_entropy(e_mu))


def max_distance(rate):
    return DISTANCE_KM[rate > 0].max()


def test_infinite_decoy_limit_reproduces_142_km():
    # Ma et al. 2005: with the GYS data the (infinite-decoy) limit of decoy BB84 reaches
    # 142 km. The best mu is searched here on a 0.01 grid; 0.5 km distance grid.
    best = max(max_distance(gys_infinite_decoy_rate(mu)) for mu in np.arange(0.3, 0.7, 0.01))
    assert best == pytest.approx(142.0, abs=1.0)


def test_vacuum_weak_decoy_reaches_over_140_km_with_gys():
    # Lo, Ma, Chen, PRL 94, 230504 (2005): "over 140 km"; Ma et al. 2005: vacuum + weak decoy
    # with a weak decoy nu -> 0 approaches the infinite-decoy 142 km. With mu = 0.48 and
    # nu = 0.05 the bound must end within 2 km of the infinite-decoy limit.
    rate = decoy_asymptotic_key_rate(GYS_ETA, 0.48, 0.05, 0.0, GYS["y0"], GYS["e_det"],
                                        GYS["f_ec"], 0.5)
    assert 139.5 <= max_distance(rate) <= 142.0
    assert np.all(rate <= np.maximum(gys_infinite_decoy_rate(0.48), 0) + 1e-15)  # a bound
    assert np.all(rate >= 0) and np.all(np.isfinite(rate))


def test_weak_plus_weak_decoy_is_below_vacuum_plus_weak():
    vacuum = decoy_asymptotic_key_rate(GYS_ETA, 0.48, 0.1, 0.0, GYS["y0"], GYS["e_det"],
                                          1.22, 0.5)
    weak = decoy_asymptotic_key_rate(GYS_ETA, 0.48, 0.1, 0.02, GYS["y0"], GYS["e_det"],
                                        1.22, 0.5)
    assert np.all(weak <= vacuum + 1e-15)
    assert max_distance(weak) > 100.0


def test_asymptotic_rate_zero_without_light():
    rate = decoy_asymptotic_key_rate(np.array([0.0, 1e-12]), 0.8, 0.1, 0.0, 1e-6, 0.01)
    np.testing.assert_array_equal(rate, [0.0, 0.0])
