"""The beam from the satellite to the ground aperture: divergence, diffraction, pointing.

One physical model per function, numpy in and numpy out (docs/reference.md §4). Angles are
microradians (``_urad``) at the interface.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from planner.mission.source import (
    DIVERGENCE_CONVENTIONS,
    DivergenceConvention,
    divergence_half_angle_1e2_urad,
)

__all__ = [
    "DIVERGENCE_CONVENTIONS",
    "DivergenceConvention",
    "beam_radius_m",
    "diffraction_efficiency",
    "divergence_half_angle_1e2_urad",
    "pointing_efficiency",
]


def beam_radius_m(range_km: ArrayLike, divergence_half_angle_urad: ArrayLike,
                  beam_waist_m: ArrayLike = 0.0) -> np.ndarray:
    """1/e² radius of a Gaussian beam after a given propagation distance.

    ``w(L)² = w0² + (θ L)²`` with the far-field 1/e² half-angle ``θ``; exact for a Gaussian
    beam whose waist sits at the transmitter when ``θ = λ / (π w0)``, and the usual
    engineering form when ``θ`` is a measured (not diffraction-limited) divergence.

    Parameters
    ----------
    range_km : array_like
        Propagation distance [km].
    divergence_half_angle_urad : array_like
        Far-field 1/e² half-angle divergence [µrad].
    beam_waist_m : array_like, default 0.0
        1/e² beam radius at the transmitter [m].

    Returns
    -------
    numpy.ndarray
        Beam 1/e² radius at the receiver [m].

    References
    ----------
    .. [1] A. E. Siegman, *Lasers* (1986), eq. 17.5; docs/reference.md §4.
    """
    return np.sqrt(_beam_radius_squared_m2(range_km, divergence_half_angle_urad, beam_waist_m))


def _beam_radius_squared_m2(range_km: ArrayLike, divergence_half_angle_urad: ArrayLike,
                            beam_waist_m: ArrayLike) -> np.ndarray:
    """``w(L)²`` of :func:`beam_radius_m` [m²] (µrad × km = mm, hence the 1e-3)."""
    far_field_m = (np.asarray(divergence_half_angle_urad, dtype=float) * 1e-3
                   * np.asarray(range_km, dtype=float))
    return np.asarray(beam_waist_m, dtype=float) ** 2 + far_field_m**2


def diffraction_efficiency(range_km: ArrayLike, receiver_aperture_m: ArrayLike,
                           divergence_half_angle_urad: ArrayLike,
                           beam_waist_m: ArrayLike = 0.0) -> np.ndarray:
    """Fraction of a Gaussian beam's power collected by a circular receiver aperture.

    ``η_diff = 1 − exp(−2 a² / w(L)²)`` with the receiver radius ``a`` (half the diameter)
    and the beam radius ``w(L)`` of :func:`beam_radius_m`, the aperture centred on the beam.
    Small beams (``w ≪ a``) give 1; large beams give ``2 a² / w²``, the far-field limit.

    Parameters
    ----------
    range_km : array_like
        Slant range [km].
    receiver_aperture_m : array_like
        Receiver telescope diameter [m].
    divergence_half_angle_urad : array_like
        Far-field 1/e² half-angle divergence [µrad].
    beam_waist_m : array_like, default 0.0
        1/e² beam radius at the transmitter [m].

    Returns
    -------
    numpy.ndarray
        Collected fraction [0-1].

    References
    ----------
    .. [1] A. E. Siegman, *Lasers* (1986), §17.1 (power through a circular aperture).
    .. [2] docs/reference.md §4; the top-hat form ``(D_R / (D_T + θ_full L))²`` is about 3 dB more
       pessimistic.
    """
    radius_m = 0.5 * np.asarray(receiver_aperture_m, dtype=float)
    beam_squared = _beam_radius_squared_m2(range_km, divergence_half_angle_urad, beam_waist_m)
    return -np.expm1(-2.0 * radius_m**2 / beam_squared)


def pointing_efficiency(jitter_urad: ArrayLike,
                        divergence_half_angle_urad: ArrayLike) -> np.ndarray:
    """Mean fraction of on-axis power kept under random pointing jitter.

    With a Gaussian far-field pattern ``exp(−2 φ²/θ²)`` and a pointing error whose two
    orthogonal components are independent normal with standard deviation ``σ`` (a Rayleigh
    distributed radial error), the mean of the pattern is ``1 / (1 + 4 σ² / θ²)``.

    Parameters
    ----------
    jitter_urad : array_like
        Pointing jitter, standard deviation per axis [µrad].
    divergence_half_angle_urad : array_like
        Far-field 1/e² half-angle divergence [µrad].

    Returns
    -------
    numpy.ndarray
        Mean pointing efficiency [0-1]; 1 at zero jitter.

    References
    ----------
    .. [1] docs/reference.md §4; e.g. P. Toyoshima et al., "Long-term statistics of laser beam
       propagation in an optical ground-to-geostationary satellite communications link",
       IEEE Trans. Antennas Propag. 53, 842 (2005) (Rayleigh pointing-error loss).
    """
    sigma = np.asarray(jitter_urad, dtype=float)
    theta = np.asarray(divergence_half_angle_urad, dtype=float)
    return 1.0 / (1.0 + 4.0 * sigma**2 / theta**2)
