"""Asymptotic (infinitely long key) bound of decoy-state BB84 with a signal and two decoys.

* :func:`decoy_asymptotic_key_rate` — key per signal pulse of a channel of transmittance
  ``η`` after Lo, Ma and Chen (2005) and Ma, Qi, Zhao and Lo (2005), with the gains of the one
  channel formula (:mod:`planner.key.channel`).
* :func:`decoy_asymptotic_key_rate_from_gains` — the estimation step alone, for measured gains.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from planner.key.channel import channel_sums, clicks_and_errors
from planner.key.reconciliation import binary_entropy

__all__ = [
    "decoy_asymptotic_key_rate",
    "decoy_asymptotic_key_rate_from_gains",
]


def decoy_asymptotic_key_rate(transmittance: ArrayLike, signal_intensity: float,
                              decoy_intensity: float, vacuum_intensity: float,
                              extraneous_click_probability: ArrayLike,
                              misalignment_error: float, ec_efficiency: float = 1.16,
                              sifting: float = 0.5,
                              afterpulse_probability: float = 0.0) -> np.ndarray:
    """Asymptotic secure key per signal pulse of decoy-state BB84 (GLLP with two decoys).

    With gains ``Q`` and error gains ``EQ`` of the channel formula
    (:func:`planner.key.channel.clicks_and_errors`) for signal ``μ`` and decoys
    ``ν1 > ν2 ≥ 0``:

    * ``Y0 ≥ max((ν1 Q_ν2 e^ν2 − ν2 Q_ν1 e^ν1) / (ν1 − ν2), 0)`` (``= Q_0`` for a vacuum decoy),
    * ``Y1 ≥ μ / (μν1 − μν2 − ν1² + ν2²) · [Q_ν1 e^ν1 − Q_ν2 e^ν2
      − (ν1² − ν2²)/μ² (Q_μ e^μ − Y0)]``,
    * ``e1 ≤ (EQ_ν1 e^ν1 − EQ_ν2 e^ν2) / ((ν1 − ν2) Y1)``, ``Q1 = μ e^−μ Y1``,
    * ``R = q [Q1 (1 − h(e1)) − f_EC Q_μ h(E_μ)]``, clipped at 0.

    For ``ν2 = 0`` this is the vacuum + weak decoy bound of Lo, Ma and Chen (2005) and Ma et
    al. (2005), eqs. (34)-(37).

    Parameters
    ----------
    transmittance : array_like
        Total transmittance ``η`` [0-1].
    signal_intensity, decoy_intensity, vacuum_intensity : float
        ``μ > ν1 > ν2 ≥ 0``.
    extraneous_click_probability : array_like
        Noise click probability per pulse ``Y0``.
    misalignment_error : float
        Optical error probability ``e_mis`` (``e_detector`` in Ma et al.).
    ec_efficiency : float, default 1.16
        Error-correction inefficiency ``f_EC ≥ 1``.
    sifting : float, default 0.5
        Fraction ``q`` of signal detections kept as key (1/2 for BB84 with key from both bases,
        ``q_X²`` for efficient BB84 with key from X only).
    afterpulse_probability : float, default 0
        After-pulse probability.

    Returns
    -------
    numpy.ndarray
        Secure key per signal pulse sent [bits], ≥ 0 and finite.

    References
    ----------
    .. [1] H.-K. Lo, X. Ma and K. Chen, "Decoy state quantum key distribution", Phys. Rev.
       Lett. 94, 230504 (2005).
    .. [2] X. Ma, B. Qi, Y. Zhao and H.-K. Lo, "Practical decoy state for quantum key
       distribution", Phys. Rev. A 72, 012326 (2005).
    .. [3] D. Gottesman, H.-K. Lo, N. Lütkenhaus and J. Preskill, Quantum Inf. Comput. 4, 325
       (2004) (GLLP).
    """
    mu, nu1, nu2 = float(signal_intensity), float(decoy_intensity), float(vacuum_intensity)
    if not mu > nu1 > nu2 >= 0.0 or not mu > nu1 + nu2:
        raise ValueError("signal_intensity, decoy_intensity, vacuum_intensity: need signal > "
                         "decoy + vacuum and decoy > vacuum >= 0")
    return _rate_of_channel(transmittance, extraneous_click_probability, (mu, nu1, nu2),
                            misalignment_error=misalignment_error,
                            afterpulse_probability=afterpulse_probability,
                            ec_efficiency=ec_efficiency, sifting=sifting)


def _rate_of_channel(transmittance: ArrayLike, extraneous_click_probability: ArrayLike,
                     intensities: tuple[float, float, float], *, misalignment_error: float,
                     afterpulse_probability: float, ec_efficiency: float,
                     sifting: float) -> np.ndarray:
    """The bound for per-sample transmittance and noise, gains from the channel formula."""
    sums = channel_sums(transmittance, intensities, 1.0, extraneous_click_probability,
                        axis=None)
    clicks, errors = clicks_and_errors(sums, misalignment_error=misalignment_error,
                                       afterpulse_probability=afterpulse_probability)
    return decoy_asymptotic_key_rate_from_gains(
        tuple(clicks[..., k] for k in range(3)), tuple(errors[..., k] for k in range(3)),
        intensities, ec_efficiency=ec_efficiency, sifting=sifting)


def decoy_asymptotic_key_rate_from_gains(gains: tuple[ArrayLike, ArrayLike, ArrayLike],
                                         error_gains: tuple[ArrayLike, ArrayLike, ArrayLike],
                                         intensities: tuple[float, float, float], *,
                                         ec_efficiency: float = 1.16,
                                         sifting: float = 0.5) -> np.ndarray:
    """Asymptotic key per signal pulse from observed gains ``Q`` and error gains ``EQ``.

    The estimation step of :func:`decoy_asymptotic_key_rate` on its own, for gains that were
    measured or computed elsewhere (one per intensity ``μ > ν1 > ν2 ≥ 0``).

    Parameters
    ----------
    gains : tuple of 3 array_like
        Detection probabilities per pulse ``Q_μ, Q_ν1, Q_ν2``.
    error_gains : tuple of 3 array_like
        Error probabilities per pulse ``E_μ Q_μ, E_ν1 Q_ν1, E_ν2 Q_ν2``.
    intensities : tuple of 3 float
        ``(μ, ν1, ν2)``.
    ec_efficiency : float, default 1.16
        ``f_EC``.
    sifting : float, default 0.5
        Fraction of signal detections kept as key.

    Returns
    -------
    numpy.ndarray
        Secure key per signal pulse [bits], ≥ 0 and finite.

    References
    ----------
    .. [1] X. Ma, B. Qi, Y. Zhao and H.-K. Lo, Phys. Rev. A 72, 012326 (2005), eqs. (34)-(37)
       and their two-decoy generalisation.
    """
    mu, nu1, nu2 = (float(v) for v in intensities)
    q_mu, q_n1, q_n2 = (np.asarray(g, dtype=float) for g in gains)
    eq_mu, eq_n1, eq_n2 = (np.asarray(g, dtype=float) for g in error_gains)
    exp_mu, exp_n1, exp_n2 = math.exp(mu), math.exp(nu1), math.exp(nu2)
    y0_low = np.maximum((nu1 * q_n2 * exp_n2 - nu2 * q_n1 * exp_n1) / (nu1 - nu2), 0.0)
    denominator = mu * nu1 - mu * nu2 - nu1**2 + nu2**2
    y1_low = mu / denominator * (q_n1 * exp_n1 - q_n2 * exp_n2
                                 - (nu1**2 - nu2**2) / mu**2 * (q_mu * exp_mu - y0_low))
    y1_low = np.maximum(y1_low, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        e1_up = (eq_n1 * exp_n1 - eq_n2 * exp_n2) / ((nu1 - nu2) * y1_low)
        e_mu = eq_mu / q_mu
    e1_up = np.where(np.isfinite(e1_up), np.clip(e1_up, 0.0, 0.5), 0.5)
    e_mu = np.where(np.isfinite(e_mu), e_mu, 0.5)
    q1 = mu * math.exp(-mu) * y1_low
    rate = sifting * (q1 * (1.0 - binary_entropy(e1_up))
                      - ec_efficiency * q_mu * binary_entropy(e_mu))
    return np.where(np.isfinite(rate) & (rate > 0.0), rate, 0.0)


