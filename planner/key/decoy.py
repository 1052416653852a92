"""Secure key from decoy-state BB84 with weak coherent pulses: asymptotic and finite-key bounds.

The source sends phase-randomised weak coherent pulses with three intensities
``μ1 > μ2 > μ3 ≥ 0`` (signal, decoy, vacuum or weak decoy) chosen with probabilities
``p1, p2, p3``, in the key basis X with probability ``q_X`` and in Z otherwise; the receiver
picks its basis with the same bias (docs/reference.md §5).

* :func:`detection_probability`, :func:`error_probability` — the standard channel model
  (Ma et al. 2005; Lim et al. 2014 §IV) of what one pulse of intensity ``μ`` produces through a
  channel of transmittance ``η``.
* :func:`expected_counts` — detections and errors per basis and intensity for a set of samples
  (seconds of a pass); summed over a pass they are the block statistics of the finite-key bound.
* :func:`decoy_asymptotic_key_rate` — the asymptotic (infinitely long key) bound for a signal
  and two decoys (vacuum + weak decoy when ``ν2 = 0``) after Lo, Ma and Chen (2005) and
  Ma, Qi, Zhao and Lo (2005). An upper bound on what one pass really gives.
* :func:`finite_key_length` — the finite-key length of Lim, Curty, Walenta, Xu and Zbinden
  (2014) for efficient BB84 with two decoys, with Hoeffding (their choice) or Chernoff-type
  (Yin et al. 2020) fluctuation bounds, and error-correction leakage ``f_EC·n·h(Q)`` or the
  finite-size form of Tomamichel et al. (2017).
* :func:`optimise_decoy_settings` — a bounded, deterministic search of intensities,
  probabilities and basis bias for design studies (a real satellite flies fixed settings).

Everything is vectorised: leading array dimensions are samples or passes, the last dimension of
count arrays is the intensity (signal, decoy, vacuum). Where the statistics cannot certify any
key the length is exactly 0 — never negative, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

__all__ = [
    "BasisCounts",
    "DecoySettings",
    "FiniteKeyResult",
    "OptimisedSettings",
    "binary_entropy",
    "chernoff_expectation_bounds",
    "decoy_asymptotic_key_rate",
    "decoy_asymptotic_key_rate_from_gains",
    "detection_probability",
    "error_correction_leakage",
    "error_probability",
    "expected_counts",
    "finite_key_length",
    "hoeffding_deviation",
    "optimise_decoy_settings",
    "secure_key_length",
]

Fluctuation = Literal["chernoff", "hoeffding", "none"]
EcLeakage = Literal["fixed", "finite"]
FLUCTUATIONS: tuple[str, ...] = ("chernoff", "hoeffding", "none")
EC_LEAKAGES: tuple[str, ...] = ("fixed", "finite")

# Lim et al. (2014) split the secrecy parameter into 21 equal parts (their eq. B4).
_EPS_PARTS = 21.0
_TINY = 1e-300


@dataclass(frozen=True)
class DecoySettings:
    """Protocol settings of decoy-state BB84 with a signal and two decoys.

    Parameters
    ----------
    intensities : tuple of 3 float
        Mean photon numbers ``(μ1, μ2, μ3)`` of signal, decoy and vacuum (or weak) decoy;
        Lim et al. (2014) require ``μ1 > μ2 + μ3`` and ``μ2 > μ3 ≥ 0``.
    probabilities : tuple of 3 float
        Probabilities ``(p1, p2, p3)`` of sending each intensity; they sum to 1.
    basis_bias : float
        Probability ``q_X`` that the transmitter (and, independently, the receiver) uses the
        key basis X.
    """

    intensities: tuple[float, float, float]
    probabilities: tuple[float, float, float]
    basis_bias: float = 0.5

    def __post_init__(self) -> None:
        mu = tuple(float(v) for v in self.intensities)
        p = tuple(float(v) for v in self.probabilities)
        object.__setattr__(self, "intensities", mu)
        object.__setattr__(self, "probabilities", p)
        object.__setattr__(self, "basis_bias", float(self.basis_bias))
        if len(mu) != 3 or len(p) != 3:
            raise ValueError("need exactly three intensities and three probabilities")
        if not (mu[0] > mu[1] > mu[2] >= 0.0):
            raise ValueError(f"intensities must satisfy signal > decoy > vacuum >= 0, got {mu}")
        if not mu[0] > mu[1] + mu[2]:
            raise ValueError("the signal intensity must exceed decoy + vacuum (Lim et al. 2014)")
        if any(not 0.0 < v < 1.0 for v in p) or abs(sum(p) - 1.0) > 1e-9:
            raise ValueError(f"probabilities must lie in (0, 1) and sum to 1, got {p}")
        if not 0.0 < self.basis_bias < 1.0:
            raise ValueError(f"basis_bias must lie in (0, 1), got {self.basis_bias}")

    @property
    def mu(self) -> np.ndarray:
        """Intensities as an array [photons per pulse]."""
        return np.asarray(self.intensities, dtype=float)

    @property
    def p(self) -> np.ndarray:
        """Intensity probabilities as an array."""
        return np.asarray(self.probabilities, dtype=float)


class BasisCounts(NamedTuple):
    """Detections ``n`` and bit errors ``m`` per basis; last axis = intensity (μ1, μ2, μ3)."""

    n_x: np.ndarray
    n_z: np.ndarray
    m_x: np.ndarray
    m_z: np.ndarray

    def sum(self, axis: int = 0) -> BasisCounts:
        """Sum over a leading axis (e.g. the samples of a pass)."""
        return BasisCounts(*(np.sum(a, axis=axis) for a in self))

    def swap_bases(self) -> BasisCounts:
        """The same statistics with the roles of X and Z exchanged."""
        return BasisCounts(self.n_z, self.n_x, self.m_z, self.m_x)


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


# --------------------------------------------------------------------------------------------
# Channel model
# --------------------------------------------------------------------------------------------

def binary_entropy(probability: ArrayLike) -> np.ndarray:
    """Binary entropy ``h(x) = −x log2 x − (1 − x) log2(1 − x)`` with ``h(0) = h(1) = 0``.

    Parameters
    ----------
    probability : array_like
        Probability [0-1]; values outside are clipped.

    Returns
    -------
    numpy.ndarray
        Entropy [bits].

    References
    ----------
    .. [1] C. E. Shannon, "A mathematical theory of communication", Bell Syst. Tech. J. 27,
       379 (1948).
    """
    x = np.clip(np.asarray(probability, dtype=float), 0.0, 1.0)
    inside = (x > 0.0) & (x < 1.0)
    safe = np.where(inside, x, 0.5)
    out = -(safe * np.log2(safe) + (1.0 - safe) * np.log2(1.0 - safe))
    return np.where(inside, out, 0.0)


def detection_probability(transmittance: ArrayLike, intensity: ArrayLike,
                          extraneous_click_probability: ArrayLike,
                          afterpulse_probability: ArrayLike = 0.0) -> np.ndarray:
    """Probability that a pulse of mean photon number ``μ`` gives a click (the gain ``Q_μ``).

    ``D = 1 − (1 − Y0) e^(−η μ)``; after-pulsing multiplies it by ``1 + p_ap``.

    Parameters
    ----------
    transmittance : array_like
        Total transmittance ``η`` from source to detector click [0-1].
    intensity : array_like
        Mean photon number per pulse ``μ``.
    extraneous_click_probability : array_like
        Per-pulse probability ``Y0`` of a noise click (dark counts and background).
    afterpulse_probability : array_like, default 0
        After-pulse probability ``p_ap``.

    Returns
    -------
    numpy.ndarray
        Detection probability per pulse.

    References
    ----------
    .. [1] X. Ma, B. Qi, Y. Zhao and H.-K. Lo, Phys. Rev. A 72, 012326 (2005), eq. (10).
    .. [2] C. C. W. Lim, M. Curty, N. Walenta, F. Xu and H. Zbinden, Phys. Rev. A 89, 022307
       (2014), §IV (``R_k = D_k (1 + p_ap)``).
    """
    eta = np.asarray(transmittance, dtype=float)
    mu = np.asarray(intensity, dtype=float)
    y0 = np.asarray(extraneous_click_probability, dtype=float)
    gain = 1.0 - (1.0 - y0) * np.exp(-eta * mu)
    return gain * (1.0 + np.asarray(afterpulse_probability, dtype=float))


def error_probability(transmittance: ArrayLike, intensity: ArrayLike,
                      extraneous_click_probability: ArrayLike, misalignment_error: ArrayLike,
                      afterpulse_probability: ArrayLike = 0.0) -> np.ndarray:
    """Probability per pulse of a click with the wrong bit value (``E_μ Q_μ``).

    ``e = Y0/2 + e_mis (1 − e^(−η μ)) + p_ap D / 2``: noise clicks are random, signal clicks
    are wrong with the optical misalignment probability, after-pulses are random.

    Parameters
    ----------
    transmittance : array_like
        Total transmittance ``η`` [0-1].
    intensity : array_like
        Mean photon number ``μ``.
    extraneous_click_probability : array_like
        Noise click probability ``Y0`` per pulse.
    misalignment_error : array_like
        Probability ``e_mis`` that a signal photon hits the wrong detector.
    afterpulse_probability : array_like, default 0
        After-pulse probability ``p_ap``.

    Returns
    -------
    numpy.ndarray
        Error probability per pulse.

    References
    ----------
    .. [1] X. Ma et al., Phys. Rev. A 72, 012326 (2005), eq. (11).
    .. [2] C. C. W. Lim et al., Phys. Rev. A 89, 022307 (2014), §IV. (The paper writes the
       misalignment term with the channel transmittance alone; it is taken here with the
       total transmittance, as for the detections, so that QBER → e_mis at high signal.)
    """
    eta = np.asarray(transmittance, dtype=float)
    mu = np.asarray(intensity, dtype=float)
    y0 = np.asarray(extraneous_click_probability, dtype=float)
    p_ap = np.asarray(afterpulse_probability, dtype=float)
    gain = 1.0 - (1.0 - y0) * np.exp(-eta * mu)
    signal = -np.expm1(-eta * mu)
    return 0.5 * y0 + np.asarray(misalignment_error, dtype=float) * signal + 0.5 * p_ap * gain


def expected_counts(transmittance: ArrayLike, pulses: ArrayLike, settings: DecoySettings,
                    extraneous_click_probability: ArrayLike, misalignment_error: float,
                    afterpulse_probability: float = 0.0) -> BasisCounts:
    """Expected detections and errors per basis and intensity for each sample.

    ``n_X,k = N q_X² p_k R_k``, ``n_Z,k = N (1 − q_X)² p_k R_k`` and likewise for errors
    with :func:`error_probability`: both ends choose their basis independently, only matching
    bases are kept.

    Parameters
    ----------
    transmittance : array_like, shape (S,)
        Total transmittance of each sample [0-1].
    pulses : array_like, shape (S,) or scalar
        Pulses sent during each sample (repetition rate × duration).
    settings : DecoySettings
        Intensities, probabilities and basis bias.
    extraneous_click_probability : array_like, shape (S,) or scalar
        Noise click probability per pulse ``Y0``.
    misalignment_error : float
        Optical error probability ``e_mis``.
    afterpulse_probability : float, default 0
        After-pulse probability.

    Returns
    -------
    BasisCounts
        Arrays of shape (S, 3).

    References
    ----------
    .. [1] C. C. W. Lim et al., Phys. Rev. A 89, 022307 (2014), §IV.
    """
    eta = np.asarray(transmittance, dtype=float)[..., None]
    y0 = np.asarray(extraneous_click_probability, dtype=float)
    y0 = y0[..., None] if y0.ndim else y0
    sent = np.asarray(pulses, dtype=float)
    sent = sent[..., None] if sent.ndim else sent
    mu = settings.mu
    detect = detection_probability(eta, mu, y0, afterpulse_probability)
    err = error_probability(eta, mu, y0, misalignment_error, afterpulse_probability)
    per_intensity = sent * settings.p
    q_x = settings.basis_bias
    q_z = 1.0 - q_x
    return BasisCounts(
        n_x=per_intensity * q_x**2 * detect,
        n_z=per_intensity * q_z**2 * detect,
        m_x=per_intensity * q_x**2 * err,
        m_z=per_intensity * q_z**2 * err,
    )


# --------------------------------------------------------------------------------------------
# Asymptotic bound
# --------------------------------------------------------------------------------------------

def decoy_asymptotic_key_rate(transmittance: ArrayLike, signal_intensity: float,
                              decoy_intensity: float, vacuum_intensity: float,
                              extraneous_click_probability: ArrayLike,
                              misalignment_error: float, ec_efficiency: float = 1.16,
                              sifting: float = 0.5,
                              afterpulse_probability: float = 0.0) -> np.ndarray:
    """Asymptotic secure key per signal pulse of decoy-state BB84 (GLLP with two decoys).

    With gains ``Q`` and error gains ``EQ`` from :func:`detection_probability` and
    :func:`error_probability` for signal ``μ`` and decoys ``ν1 > ν2 ≥ 0``:

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
        raise ValueError("need signal > decoy + vacuum and decoy > vacuum >= 0")
    eta = np.asarray(transmittance, dtype=float)
    y0 = np.asarray(extraneous_click_probability, dtype=float)

    def gains(intensity: float) -> tuple[np.ndarray, np.ndarray]:
        return (detection_probability(eta, intensity, y0, afterpulse_probability),
                error_probability(eta, intensity, y0, misalignment_error,
                                  afterpulse_probability))

    q_mu, eq_mu = gains(mu)
    q_n1, eq_n1 = gains(nu1)
    q_n2, eq_n2 = gains(nu2)
    return decoy_asymptotic_key_rate_from_gains(
        (q_mu, q_n1, q_n2), (eq_mu, eq_n1, eq_n2), (mu, nu1, nu2),
        ec_efficiency=ec_efficiency, sifting=sifting)


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


# --------------------------------------------------------------------------------------------
# Finite key (Lim et al. 2014)
# --------------------------------------------------------------------------------------------

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


def error_correction_leakage(detections: ArrayLike, qber: ArrayLike, *, ec_efficiency: float,
                             epsilon_cor: float, method: EcLeakage = "fixed") -> np.ndarray:
    """Bits revealed by error correction of a block of ``n`` bits with error rate ``Q``.

    * ``"fixed"``: ``λ = f_EC · n · h(Q)``.
    * ``"finite"``: the finite-size estimate of Tomamichel et al. (2017),
      ``λ = n h(Q) + (n(1 − Q) − F⁻¹(ε_cor; n, 1 − Q) − 1) log2((1 − Q)/Q)
      − ½ log2 n − log2(1/ε_cor)``, with ``F⁻¹`` the binomial quantile function.

    Parameters
    ----------
    detections : array_like
        Block length ``n`` (sifted key-basis detections).
    qber : array_like
        Bit error rate ``Q`` of the block.
    ec_efficiency : float
        ``f_EC`` (used by ``"fixed"``).
    epsilon_cor : float
        Correctness parameter (used by ``"finite"``).
    method : {'fixed', 'finite'}
        Which model.

    Returns
    -------
    numpy.ndarray
        Leakage [bits], ≥ 0.

    References
    ----------
    .. [1] M. Tomamichel, J. Martinez-Mateo, C. Pacher and D. Elkouss, "Fundamental finite key
       limits for one-way information reconciliation in quantum key distribution", Quantum Inf.
       Process. 16, 280 (2017).
    .. [2] C. C. W. Lim et al., Phys. Rev. A 89, 022307 (2014), §IV (``f_EC h(e_obs)``).
    """
    n = np.maximum(np.asarray(detections, dtype=float), 0.0)
    q = np.clip(np.nan_to_num(np.asarray(qber, dtype=float), nan=0.5), 0.0, 0.5)
    if method == "fixed":
        return ec_efficiency * n * binary_entropy(q)
    if method != "finite":
        raise ValueError(f"unknown error-correction leakage model {method!r}; "
                         f"use one of {', '.join(EC_LEAKAGES)}")
    n_int = np.floor(n)
    q_safe = np.clip(q, 1e-12, 0.5)
    quantile = stats.binom.ppf(epsilon_cor, n_int.astype(np.int64), 1.0 - q_safe)
    quantile = np.nan_to_num(quantile, nan=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        leak = (n_int * binary_entropy(q_safe)
                + (n_int * (1.0 - q_safe) - quantile - 1.0) * np.log2((1.0 - q_safe) / q_safe)
                - 0.5 * np.log2(np.maximum(n_int, 1.0)) - math.log2(1.0 / epsilon_cor))
    return np.where(n_int > 0, np.maximum(np.nan_to_num(leak, nan=0.0), 0.0), 0.0)


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
    raise ValueError(f"unknown fluctuation bound {fluctuation!r}; "
                     f"use one of {', '.join(FLUCTUATIONS)}")


def _vacuum_and_single_photon(n: np.ndarray, mu: np.ndarray, p: np.ndarray, epsilon: float,
                              fluctuation: str) -> tuple[np.ndarray, np.ndarray]:
    """Lower bounds on vacuum (eq. 2) and single-photon (eq. 3) events in one basis."""
    lower, upper = _expectation_bounds(n, np.sum(n, axis=-1), epsilon, fluctuation)
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
                      ec_leakage: EcLeakage = "fixed") -> FiniteKeyResult:
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
    """
    if not (0.0 < epsilon_sec < 1.0 and 0.0 < epsilon_cor < 1.0):
        raise ValueError("epsilon_sec and epsilon_cor must lie in (0, 1)")
    mu, p = settings.mu, settings.p
    epsilon = epsilon_sec / _EPS_PARTS
    n_x = np.asarray(counts.n_x, dtype=float)
    n_z = np.asarray(counts.n_z, dtype=float)
    m_x = np.asarray(counts.m_x, dtype=float)
    m_z = np.asarray(counts.m_z, dtype=float)

    s_x0, s_x1 = _vacuum_and_single_photon(n_x, mu, p, epsilon, fluctuation)
    _, s_z1 = _vacuum_and_single_photon(n_z, mu, p, epsilon, fluctuation)

    m_lower, m_upper = _expectation_bounds(m_z, np.sum(m_z, axis=-1), epsilon, fluctuation)
    scale = np.exp(mu) / p
    mu2, mu3 = mu[1], mu[2]
    v_z1 = _tau(1, mu, p) * (m_upper[..., 1] * scale[1] - m_lower[..., 2] * scale[2]) / (mu2 - mu3)
    v_z1 = np.clip(v_z1, 0.0, None)

    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(s_z1 > 0.0, v_z1 / np.maximum(s_z1, _TINY), 0.5)
    rate = np.clip(rate, 0.0, 0.5)
    if fluctuation == "none":
        phase = rate
    else:
        phase = np.minimum(rate + _gamma(epsilon_sec, rate, s_z1, s_x1), 0.5)

    total_x = np.sum(n_x, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        qber = np.where(total_x > 0.0, np.sum(m_x, axis=-1) / np.maximum(total_x, _TINY), np.nan)
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
    kwargs = dict(epsilon_sec=0.5 * epsilon_sec, epsilon_cor=0.5 * epsilon_cor,
                  ec_efficiency=ec_efficiency, fluctuation=fluctuation, ec_leakage=ec_leakage)
    from_x = finite_key_length(counts, settings, **kwargs).secure_bits
    swapped = replace(settings, basis_bias=1.0 - settings.basis_bias)
    from_z = finite_key_length(counts.swap_bases(), swapped, **kwargs).secure_bits
    return from_x + from_z


# --------------------------------------------------------------------------------------------
# Optimiser for design studies
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OptimisedSettings:
    """Result of :func:`optimise_decoy_settings`."""

    settings: DecoySettings
    secure_bits: float
    pulses: float
    bits_per_pulse: float
    evaluations: int
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)


_DEFAULT_BOUNDS: dict[str, tuple[float, float]] = {
    "basis_bias": (0.5, 0.99),
    "signal_probability": (0.2, 0.95),
    "decoy_share": (0.05, 0.95),
    "signal_intensity": (0.2, 1.0),
    "decoy_fraction": (0.02, 0.9),
}


def _settings_from_vector(x: np.ndarray, vacuum_intensity: float) -> DecoySettings:
    """Map the box-bounded search vector to valid settings.

    ``x = (q_X, p1, share, μ1, frac)``: ``p2 = share (1 − p1)``, ``p3 = 1 − p1 − p2``,
    ``μ2 = μ3 + frac (μ1 − 2 μ3)``, so every point satisfies Lim et al.'s constraints.
    """
    q_x, p1, share, mu1, frac = (float(v) for v in x)
    p2 = share * (1.0 - p1)
    mu3 = vacuum_intensity
    mu2 = mu3 + frac * (mu1 - 2.0 * mu3)
    return DecoySettings((mu1, mu2, mu3), (p1, p2, 1.0 - p1 - p2), q_x)


def optimise_decoy_settings(transmittance: ArrayLike, pulses: ArrayLike, *,
                            extraneous_click_probability: ArrayLike, misalignment_error: float,
                            epsilon_sec: float, epsilon_cor: float, ec_efficiency: float = 1.16,
                            afterpulse_probability: float = 0.0, vacuum_intensity: float = 0.0,
                            fluctuation: Fluctuation = "chernoff",
                            ec_leakage: EcLeakage = "fixed",
                            key_basis_block_size: float | None = None,
                            bounds: dict[str, tuple[float, float]] | None = None,
                            seed: int = 0, maxiter: int = 60) -> OptimisedSettings:
    """Search the decoy settings that maximise the finite key of one block.

    Free parameters (box-bounded, see ``bounds``): basis bias ``q_X``, signal probability
    ``p1``, the decoy's share of the remaining probability, signal intensity ``μ1`` and the
    decoy intensity as a fraction of ``μ1 − 2μ3``; the vacuum intensity is fixed. The search is
    scipy's differential evolution with a fixed seed followed by a bounded local polish, so the
    same inputs give the same answer.

    Parameters
    ----------
    transmittance : array_like, shape (S,)
        Transmittance of each sample of the block [0-1].
    pulses : array_like, shape (S,) or scalar
        Pulses sent per sample.
    extraneous_click_probability : array_like
        Noise click probability per pulse.
    misalignment_error : float
        Optical error probability.
    epsilon_sec, epsilon_cor : float
        Security parameters.
    ec_efficiency : float, default 1.16
        ``f_EC``.
    afterpulse_probability : float, default 0
        After-pulse probability.
    vacuum_intensity : float, default 0
        Fixed intensity ``μ3``.
    fluctuation, ec_leakage : str
        As in :func:`finite_key_length`.
    key_basis_block_size : float, optional
        If given, the block is fixed by its number of key-basis detections ``n_X`` (as in Lim
        et al. 2014, Fig. 1) instead of by the pulses sent: the pulses are rescaled for every
        candidate and the objective becomes key per pulse.
    bounds : dict, optional
        Override of the default bounds, keys ``basis_bias``, ``signal_probability``,
        ``decoy_share``, ``signal_intensity``, ``decoy_fraction``.
    seed : int, default 0
        Seed of the (deterministic) search.
    maxiter : int, default 60
        Generations of differential evolution.

    Returns
    -------
    OptimisedSettings
        Best settings, their key and key per pulse.

    References
    ----------
    .. [1] C. C. W. Lim et al., Phys. Rev. A 89, 022307 (2014), §IV (optimisation over
       ``q_x, p_μ1, p_μ2, μ1, μ2``).
    .. [2] R. Storn and K. Price, J. Global Optim. 11, 341 (1997) (differential evolution).
    """
    box = dict(_DEFAULT_BOUNDS)
    if bounds:
        unknown = set(bounds) - set(box)
        if unknown:
            raise ValueError(f"unknown bound(s) {sorted(unknown)}; use {sorted(box)}")
        box.update(bounds)
    eta = np.asarray(transmittance, dtype=float).reshape(-1)
    sent = np.broadcast_to(np.asarray(pulses, dtype=float), eta.shape)
    y0 = np.broadcast_to(np.asarray(extraneous_click_probability, dtype=float), eta.shape)
    names = list(_DEFAULT_BOUNDS)
    limits = [box[name] for name in names]
    evaluations = 0

    def evaluate(x: np.ndarray) -> tuple[float, float, float, DecoySettings]:
        nonlocal evaluations
        evaluations += 1
        settings = _settings_from_vector(x, vacuum_intensity)
        scaled = sent
        if key_basis_block_size is not None:
            unit = expected_counts(eta, sent, settings, y0, misalignment_error,
                                   afterpulse_probability).n_x.sum()
            scaled = sent * (key_basis_block_size / max(unit, _TINY))
        counts = expected_counts(eta, scaled, settings, y0, misalignment_error,
                                 afterpulse_probability).sum(axis=0)
        result = finite_key_length(counts, settings, epsilon_sec=epsilon_sec,
                                   epsilon_cor=epsilon_cor, ec_efficiency=ec_efficiency,
                                   fluctuation=fluctuation, ec_leakage=ec_leakage)
        total_pulses = float(np.sum(scaled))
        return float(result.raw_length), float(result.secure_bits), total_pulses, settings

    def objective(x: np.ndarray) -> float:
        raw, _, total_pulses, _ = evaluate(x)
        if key_basis_block_size is not None:
            return -raw / total_pulses
        return -raw

    found = optimize.differential_evolution(objective, limits, seed=seed, maxiter=maxiter,
                                            tol=1e-8, polish=True, init="sobol",
                                            updating="immediate")
    _, secure, total_pulses, settings = evaluate(found.x)
    return OptimisedSettings(settings=settings, secure_bits=secure, pulses=total_pulses,
                             bits_per_pulse=secure / total_pulses if total_pulses else 0.0,
                             evaluations=evaluations, bounds=box)
