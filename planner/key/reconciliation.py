"""Information reconciliation: binary entropy and the bits error correction reveals.

* :func:`binary_entropy` — Shannon's ``h(x)``.
* :func:`error_correction_leakage` — bits revealed correcting a sifted block, as a fixed
  multiple of the Shannon limit or with the finite-size estimate of Tomamichel et al. (2017).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["EC_LEAKAGES", "EcLeakage", "binary_entropy", "error_correction_leakage"]

EcLeakage = Literal["fixed", "finite"]
EC_LEAKAGES: tuple[str, ...] = ("fixed", "finite")


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



def error_correction_leakage(detections: ArrayLike, qber: ArrayLike, *, ec_efficiency: float,
                             epsilon_cor: float, method: EcLeakage = "fixed") -> np.ndarray:
    """Bits revealed by error correction of a block of ``n`` bits with error rate ``Q``.

    * ``"fixed"``: ``λ = f_EC · n · h(Q)``.
    * ``"finite"``: the finite-size estimate of Tomamichel et al. (2017),
      ``λ = n h(Q) + (n(1 − Q) − F⁻¹(ε_cor; n, 1 − Q) − 1) log2((1 − Q)/Q)
      − ½ log2 n − log2(1/ε_cor)``, with ``F⁻¹`` the binomial quantile function, and never
      below the Shannon limit ``n h(Q)``.

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
        raise ValueError(f"method: unknown error-correction leakage model {method!r}; "
                         f"use one of {', '.join(EC_LEAKAGES)}")
    # here, not at the module's top: scipy.stats costs 0.3-1.6 s of every plan's start-up,
    # and only this model needs it
    from scipy import stats

    n_int = np.floor(n)
    q_safe = np.clip(q, 1e-12, 0.5)
    quantile = stats.binom.ppf(epsilon_cor, n_int.astype(np.int64), 1.0 - q_safe)
    quantile = np.nan_to_num(quantile, nan=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        leak = (n_int * binary_entropy(q_safe)
                + (n_int * (1.0 - q_safe) - quantile - 1.0) * np.log2((1.0 - q_safe) / q_safe)
                - 0.5 * np.log2(np.maximum(n_int, 1.0)) - math.log2(1.0 / epsilon_cor))
    # never below the Shannon limit n h(Q): no code reveals less (and the asymptotic bound of
    # the key, planner.key.blocks.asymptotic_block_key, relies on it)
    shannon = n_int * binary_entropy(q)
    return np.where(n_int > 0, np.maximum(np.nan_to_num(leak, nan=0.0), shannon), 0.0)

