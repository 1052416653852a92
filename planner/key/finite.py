"""Finite-key length of decoy-state BB84 with a signal and two decoys (Lim et al. 2014).

* :func:`finite_key_length` — the bound of Lim, Curty, Walenta, Xu and Zbinden (2014) for
  efficient BB84 with key from X, with Hoeffding (their choice) or Chernoff-type (Yin et al.
  2020) fluctuation bounds and the error-correction leakage of
  :mod:`planner.key.reconciliation`.
* :func:`secure_key_length` — the same with key from one or both bases.
* :func:`hoeffding_deviation`, :func:`chernoff_expectation_bounds` — the fluctuation bounds.

Counts arrive as :class:`planner.key.channel.BasisCounts` (leading axes = blocks, last axis =
intensity). Where the statistics cannot certify any key the length is exactly 0 — never
negative, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from planner.key.channel import BasisCounts, DecoySettings
from planner.key.reconciliation import EcLeakage, binary_entropy, error_correction_leakage

__all__ = [
    "FLUCTUATIONS",
    "FiniteKeyResult",
    "Fluctuation",
    "chernoff_expectation_bounds",
    "finite_key_length",
    "hoeffding_deviation",
    "secure_key_length",
]

Fluctuation = Literal["chernoff", "hoeffding", "none"]
FLUCTUATIONS: tuple[str, ...] = ("chernoff", "hoeffding", "none")

# Lim et al. (2014) split the secrecy parameter into 21 equal parts (their eq. B4).
_EPS_PARTS = 21.0
_TINY = 1e-300


class FiniteKeyResult(NamedTuple):
    """Finite-key length and the bounds it is made of (arrays over the leading dimensions).

    ``secure_bits`` is ``⌊ℓ⌋`` clipped at 0; ``raw_length`` is ℓ before flooring and clipping
    (useful as a smooth objective). Counts are events in the key basis X unless named Z.
    """

    secure_bits: np.ndarray
    raw_length: np.ndarray
    vacuum_events: np.ndarray  # s_X,0 lower bound
    single_photon_events: np.ndarray  # s_X,1 lower bound
    single_photon_events_z: np.ndarray  # s_Z,1 lower bound
    single_photon_errors_z: np.ndarray  # v_Z,1 upper bound
    phase_error: np.ndarray  # φ_X upper bound
    qber: np.ndarray  # observed bit error rate in X
    ec_leakage_bits: np.ndarray  # λ_EC
    detections_x: np.ndarray  # n_X



def hoeffding_deviation(total: ArrayLike, epsilon: float) -> np.ndarray:
    """Hoeffding deviation ``δ(n, ε) = sqrt(n/2 · ln(1/ε))`` between observed and expected counts.

    Parameters
    ----------
    total : array_like
        Number of events ``n`` the deviation is spread over.
    epsilon : float
        Failure probability of one side.

    Returns
    -------
    numpy.ndarray
        Deviation [events].

    References
    ----------
    .. [1] W. Hoeffding, J. Am. Stat. Assoc. 58, 13 (1963).
    .. [2] C. C. W. Lim et al., Phys. Rev. A 89, 022307 (2014), eq. (A1).
    """
    n = np.maximum(np.asarray(total, dtype=float), 0.0)
    return np.sqrt(0.5 * n * math.log(1.0 / epsilon))


def chernoff_expectation_bounds(observed: ArrayLike, epsilon: float
                                ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds on an expected count from the observed count (Chernoff type).

    With ``β = ln(1/ε)`` and observed ``x``:
    ``E_L = x − β/2 − sqrt(2βx + β²/4)`` and ``E_U = x + β + sqrt(2βx + β²)``, each failing
    with probability at most ``ε``. The bounds are much tighter than Hoeffding's for rare
    events (the decoy and vacuum counts of a satellite pass).

    Parameters
    ----------
    observed : array_like
        Observed count ``x ≥ 0``.
    epsilon : float
        Failure probability of each bound.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper bound on the expectation [events].

    References
    ----------
    .. [1] H.-L. Yin, M.-G. Zhou, J. Gu, Y.-M. Xie, Y.-S. Lu and Z.-B. Chen, "Tight security
       bounds for decoy-state quantum key distribution", Sci. Rep. 10, 14312 (2020).
    .. [2] The SatQuMA implementation (github.com/cnqo-qcomms/SatQuMA, MIT licence) uses the
       same closed forms.
    """
    x = np.maximum(np.asarray(observed, dtype=float), 0.0)
    beta = math.log(1.0 / epsilon)
    lower = x - 0.5 * beta - np.sqrt(2.0 * beta * x + 0.25 * beta**2)
    upper = x + beta + np.sqrt(2.0 * beta * x + beta**2)
    return lower, upper


def over_intensities(counts: np.ndarray) -> np.ndarray:
    """Sum over the last axis, the three intensities, written out: numpy's reduction over an
    axis of three costs ten times more (the finite key of every window of a year of passes
    takes several of them).

    Parameters
    ----------
    counts : array, shape (..., 3)
        Counts per intensity.
    """
    return counts[..., 0] + counts[..., 1] + counts[..., 2]


def _tau(n: int, mu: np.ndarray, p: np.ndarray) -> float:
    """Probability that the source sends an ``n``-photon state (Lim et al., after eq. 2)."""
    return float(np.sum(np.exp(-mu) * mu**n * p) / math.factorial(n))


def _expectation_bounds(observed: np.ndarray, total: np.ndarray, epsilon: float,
                        fluctuation: str) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on the expected per-intensity counts (before the e^μ/p scaling)."""
    if fluctuation == "chernoff":
        return chernoff_expectation_bounds(observed, epsilon)
    if fluctuation == "hoeffding":
        delta = hoeffding_deviation(total, epsilon)[..., None]
        return observed - delta, observed + delta
    if fluctuation == "none":
        return observed, observed
    raise ValueError(f"fluctuation: unknown fluctuation bound {fluctuation!r}; "
                     f"use one of {', '.join(FLUCTUATIONS)}")


def _vacuum_and_single_photon(n: np.ndarray, mu: np.ndarray, p: np.ndarray, epsilon: float,
                              fluctuation: str) -> tuple[np.ndarray, np.ndarray]:
    """Lower bounds on vacuum (eq. 2) and single-photon (eq. 3) events in one basis."""
    lower, upper = _expectation_bounds(n, over_intensities(n), epsilon, fluctuation)
    scale = np.exp(mu) / p
    n_minus = lower * scale
    n_plus = upper * scale
    mu1, mu2, mu3 = mu
    tau0, tau1 = _tau(0, mu, p), _tau(1, mu, p)
    s0 = tau0 * (mu2 * n_minus[..., 2] - mu3 * n_plus[..., 1]) / (mu2 - mu3)
    s0 = np.maximum(s0, 0.0)
    s1 = (tau1 * mu1 * (n_minus[..., 1] - n_plus[..., 2]
                        - (mu2**2 - mu3**2) / mu1**2 * (n_plus[..., 0] - s0 / tau0))
          / (mu1 * (mu2 - mu3) - mu2**2 + mu3**2))
    return s0, np.maximum(s1, 0.0)


def _gamma(epsilon_sec: float, rate: np.ndarray, s_z1: np.ndarray,
           s_x1: np.ndarray) -> np.ndarray:
    """Random-sampling correction of the phase-error rate (Lim et al., after eq. 5)."""
    b = np.clip(rate, 1e-15, 0.5)
    c = np.maximum(s_z1, 1.0)
    d = np.maximum(s_x1, 1.0)
    arg = (c + d) / (c * d * (1.0 - b) * b) * (_EPS_PARTS**2 / epsilon_sec**2)
    value = (c + d) * (1.0 - b) * b / (c * d * math.log(2.0)) * np.log2(np.maximum(arg, 1.0))
    return np.sqrt(np.maximum(value, 0.0))


def finite_key_length(counts: BasisCounts, settings: DecoySettings, *, epsilon_sec: float,
                      epsilon_cor: float, ec_efficiency: float = 1.16,
                      fluctuation: Fluctuation = "chernoff",
                      ec_leakage: EcLeakage = "fixed",
                      cap_phase_errors: bool = True) -> FiniteKeyResult:
    """Finite-key length of efficient decoy-state BB84 after Lim et al. (2014).

    Key from the X basis, phase error estimated from Z:

    ``ℓ = ⌊s_X,0 + s_X,1 (1 − h(φ_X)) − λ_EC − 6 log2(21/ε_sec) − log2(2/ε_cor)⌋``

    with the lower bounds on vacuum events ``s_X,0`` (eq. 2) and single-photon events
    ``s_X,1`` (eq. 3), the upper bound on single-photon errors in Z ``v_Z,1`` (eq. 4) and the
    phase-error bound ``φ_X ≤ v_Z,1/s_Z,1 + γ(ε_sec, v_Z,1/s_Z,1, s_Z,1, s_X,1)`` (eq. 5). The
    per-intensity counts enter through ``n±_k = e^μk / p_k · (bound on E[n_k])``: Hoeffding's
    ``n_k ± sqrt(n/2 ln(21/ε_sec))`` (Lim et al.), Chernoff-type bounds on each count (Yin
    et al. 2020), or no fluctuation at all (the infinite-block limit of the same protocol).

    Parameters
    ----------
    counts : BasisCounts
        Observed (or expected) detections and errors per basis, last axis = intensity; leading
        axes (e.g. passes) are evaluated independently.
    settings : DecoySettings
        Intensities and probabilities used to produce the counts.
    epsilon_sec, epsilon_cor : float
        Secrecy and correctness parameters, in (0, 1).
    ec_efficiency : float, default 1.16
        Error-correction inefficiency ``f_EC`` for ``ec_leakage="fixed"``.
    fluctuation : {'chernoff', 'hoeffding', 'none'}
        Statistical bound on the decoy counts.
    ec_leakage : {'fixed', 'finite'}
        Error-correction leakage model, see :func:`error_correction_leakage`.
    cap_phase_errors : bool, default True
        Cap ``v_Z,1`` at the errors observed in Z, ``m_Z``: single-photon errors are a subset
        of all errors, so the cap is always valid, and it matters at high loss where the decoy
        bound on ``v_Z,1`` is loose (SatQuMA applies it; docs/reference.md §5). ``False`` gives
        Lim et al.'s bound as published.

    Returns
    -------
    FiniteKeyResult
        ``secure_bits`` ≥ 0 (exactly 0 where no key can be certified) and its ingredients.

    References
    ----------
    .. [1] C. C. W. Lim, M. Curty, N. Walenta, F. Xu and H. Zbinden, "Concise security bounds
       for practical decoy-state quantum key distribution", Phys. Rev. A 89, 022307 (2014),
       eqs. (1)-(5), arXiv:1311.7129.
    .. [2] H.-L. Yin et al., Sci. Rep. 10, 14312 (2020) (Chernoff-type bounds).
    .. [3] M. Tomamichel et al., Quantum Inf. Process. 16, 280 (2017) (finite-size λ_EC).
    .. [4] J. S. Sidhu et al., npj Quantum Inf. 8, 18 (2022), and its code SatQuMA
       (github.com/cnqo-qcomms/SatQuMA, MIT licence) (the cap ``v_Z,1 ≤ m_Z``).
    """
    if not (0.0 < epsilon_sec < 1.0 and 0.0 < epsilon_cor < 1.0):
        raise ValueError("epsilon_sec and epsilon_cor must lie in (0, 1)")
    mu, p = settings.mu, settings.p
    epsilon = epsilon_sec / _EPS_PARTS
    bounds_x = _vacuum_and_single_photon(np.asarray(counts.n_x, dtype=float), mu, p, epsilon,
                                         fluctuation)
    bounds_z = _vacuum_and_single_photon(np.asarray(counts.n_z, dtype=float), mu, p, epsilon,
                                         fluctuation)
    return _key_from_bounds(counts, settings, bounds_x, bounds_z, epsilon_sec=epsilon_sec,
                            epsilon_cor=epsilon_cor, ec_efficiency=ec_efficiency,
                            fluctuation=fluctuation, ec_leakage=ec_leakage,
                            cap_phase_errors=cap_phase_errors)


def _key_from_bounds(counts: BasisCounts, settings: DecoySettings,
                     bounds_x: tuple[np.ndarray, np.ndarray],
                     bounds_z: tuple[np.ndarray, np.ndarray], *, epsilon_sec: float,
                     epsilon_cor: float, ec_efficiency: float, fluctuation: str,
                     ec_leakage: str, cap_phase_errors: bool) -> FiniteKeyResult:
    """:func:`finite_key_length` from the vacuum and single-photon bounds of each basis."""
    mu, p = settings.mu, settings.p
    epsilon = epsilon_sec / _EPS_PARTS
    n_x = np.asarray(counts.n_x, dtype=float)
    m_x = np.asarray(counts.m_x, dtype=float)
    m_z = np.asarray(counts.m_z, dtype=float)
    s_x0, s_x1 = bounds_x
    s_z1 = bounds_z[1]

    errors_z = over_intensities(m_z)
    m_lower, m_upper = _expectation_bounds(m_z, errors_z, epsilon, fluctuation)
    scale = np.exp(mu) / p
    mu2, mu3 = mu[1], mu[2]
    v_z1 = _tau(1, mu, p) * (m_upper[..., 1] * scale[1] - m_lower[..., 2] * scale[2]) / (mu2 - mu3)
    # Single-photon errors are a subset of all errors observed in Z (SatQuMA applies the same cap)
    v_z1 = np.clip(v_z1, 0.0, errors_z if cap_phase_errors else None)

    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(s_z1 > 0.0, v_z1 / np.maximum(s_z1, _TINY), 0.5)
    rate = np.clip(rate, 0.0, 0.5)
    if fluctuation == "none":
        phase = rate
    else:
        phase = np.minimum(rate + _gamma(epsilon_sec, rate, s_z1, s_x1), 0.5)

    total_x = over_intensities(n_x)
    with np.errstate(divide="ignore", invalid="ignore"):
        qber = np.where(total_x > 0.0, over_intensities(m_x) / np.maximum(total_x, _TINY),
                        np.nan)
    leak = error_correction_leakage(total_x, np.nan_to_num(qber, nan=0.5),
                                    ec_efficiency=ec_efficiency, epsilon_cor=epsilon_cor,
                                    method=ec_leakage)
    if fluctuation == "none":
        overhead = 0.0
    else:
        overhead = (6.0 * math.log2(_EPS_PARTS / epsilon_sec) + math.log2(2.0 / epsilon_cor))
    raw = s_x0 + s_x1 * (1.0 - binary_entropy(phase)) - leak - overhead
    usable = (s_x1 > 0.0) & (s_z1 > 0.0) & np.isfinite(raw)
    raw = np.where(np.isfinite(raw), raw, -overhead - 1.0)
    secure = np.where(usable & (raw > 0.0), np.floor(np.maximum(raw, 0.0)), 0.0)
    return FiniteKeyResult(
        secure_bits=secure, raw_length=raw, vacuum_events=s_x0, single_photon_events=s_x1,
        single_photon_events_z=s_z1, single_photon_errors_z=v_z1, phase_error=phase,
        qber=qber, ec_leakage_bits=leak, detections_x=total_x,
    )


def secure_key_length(counts: BasisCounts, settings: DecoySettings, *, epsilon_sec: float,
                      epsilon_cor: float, ec_efficiency: float = 1.16,
                      fluctuation: Fluctuation = "chernoff", ec_leakage: EcLeakage = "fixed",
                      key_from_both_bases: bool = False) -> np.ndarray:
    """Finite-key length from one or both bases.

    With ``key_from_both_bases`` the bound of :func:`finite_key_length` is applied twice —
    key from X with the phase error estimated in Z, and key from Z with the phase error
    estimated in X — each with half of ``ε_sec`` and ``ε_cor`` so that the composed key keeps
    the requested security (the usual treatment of symmetric BB84 with a passive 50:50 basis
    choice, as flown on Micius). Otherwise only the X basis yields key (Lim et al. 2014).

    Parameters
    ----------
    counts : BasisCounts
        Block statistics, last axis = intensity.
    settings : DecoySettings
        Protocol settings.
    epsilon_sec, epsilon_cor : float
        Total secrecy and correctness parameters.
    ec_efficiency : float, default 1.16
        ``f_EC``.
    fluctuation : {'chernoff', 'hoeffding', 'none'}
        Fluctuation bound.
    ec_leakage : {'fixed', 'finite'}
        Error-correction leakage model.
    key_from_both_bases : bool, default False
        Extract key from both bases.

    Returns
    -------
    numpy.ndarray
        Secure key [bits], ≥ 0.

    References
    ----------
    .. [1] C. C. W. Lim et al., Phys. Rev. A 89, 022307 (2014).
    """
    if not key_from_both_bases:
        return finite_key_length(counts, settings, epsilon_sec=epsilon_sec,
                                 epsilon_cor=epsilon_cor, ec_efficiency=ec_efficiency,
                                 fluctuation=fluctuation, ec_leakage=ec_leakage).secure_bits
    if not (0.0 < epsilon_sec < 1.0 and 0.0 < epsilon_cor < 1.0):
        raise ValueError("epsilon_sec and epsilon_cor must lie in (0, 1)")
    kwargs = dict(epsilon_sec=0.5 * epsilon_sec, epsilon_cor=0.5 * epsilon_cor,
                  ec_efficiency=ec_efficiency, fluctuation=fluctuation, ec_leakage=ec_leakage,
                  cap_phase_errors=True)
    # the bounds on each basis's vacuum and single-photon events serve both directions
    epsilon = 0.5 * epsilon_sec / _EPS_PARTS
    bounds_x = _vacuum_and_single_photon(np.asarray(counts.n_x, dtype=float), settings.mu,
                                         settings.p, epsilon, fluctuation)
    if settings.basis_bias == 0.5 and _same_in_both_bases(counts):
        # a symmetric receiver's two directions are one computation: the key from Z is the
        # key from X
        return 2.0 * _key_from_bounds(counts, settings, bounds_x, bounds_x,
                                      **kwargs).secure_bits
    bounds_z = _vacuum_and_single_photon(np.asarray(counts.n_z, dtype=float), settings.mu,
                                         settings.p, epsilon, fluctuation)
    from_x = _key_from_bounds(counts, settings, bounds_x, bounds_z, **kwargs).secure_bits
    swapped = replace(settings, basis_bias=1.0 - settings.basis_bias)
    from_z = _key_from_bounds(counts.swap_bases(), swapped, bounds_z, bounds_x,
                              **kwargs).secure_bits
    return from_x + from_z


def _same_in_both_bases(counts: BasisCounts) -> bool:
    """Whether the detections and errors of X and Z are the same (a 50:50 basis choice)."""
    return bool(np.array_equal(counts.n_x, counts.n_z) and np.array_equal(counts.m_x, counts.m_z))
