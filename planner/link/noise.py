"""Noise of the quantum channel: clicks not caused by the signal.

:func:`extraneous_click_probability` turns detector dark counts and sky background counts
into the per-pulse extraneous-click probability ``Y0`` the key model's channel formula takes
(:mod:`planner.key.channel`); it works per sample, so a background that changes along a pass
can feed it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "extraneous_click_probability",
]


def extraneous_click_probability(dark_count_rate_hz: ArrayLike, detector_count: ArrayLike,
                                 background_counts_per_s: ArrayLike,
                                 gate_width_ns: ArrayLike) -> np.ndarray:
    """Probability per pulse of a click not caused by the signal (Y0, or p_ec).

    ``Y0 = 1 − exp(−(n_det · dark + background) · gate)`` — Poisson noise counts in the
    detection gate, summed over all detectors; ``≈ (n_det · dark + background) · gate`` for
    the small values met in practice. Moonlight and city light raise the background.

    Parameters
    ----------
    dark_count_rate_hz : array_like
        Dark-count rate of one detector [counts/s].
    detector_count : array_like
        Number of detectors in the receiver (4 for a passive-basis BB84 receiver).
    background_counts_per_s : array_like
        Sky-background count rate summed over the detectors [counts/s].
    gate_width_ns : array_like
        Coincidence (detection) window per pulse [ns].

    Returns
    -------
    numpy.ndarray
        Extraneous click probability per pulse [0-1].

    References
    ----------
    .. [1] X. Ma, B. Qi, Y. Zhao and H.-K. Lo, "Practical decoy state for quantum key
       distribution", Phys. Rev. A 72, 012326 (2005) (Y0, the vacuum yield).
    .. [2] docs/reference.md §4 (noise).
    """
    rate = (np.asarray(dark_count_rate_hz, dtype=float) * np.asarray(detector_count, dtype=float)
            + np.asarray(background_counts_per_s, dtype=float))
    return -np.expm1(-rate * np.asarray(gate_width_ns, dtype=float) * 1e-9)
