"""How a payload's datasheet states its source and beam: decoy settings, divergence conventions.

These describe the spacecraft (what the payload file says), so they belong to the mission; the
link stage (beam divergence) and the key stage (the decoy-state protocol) read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["DIVERGENCE_CONVENTIONS", "DecoySettings", "DivergenceConvention",
           "divergence_half_angle_1e2_urad"]

DivergenceConvention = Literal["half_angle_1e2", "full_angle_1e2", "half_angle_hwhm",
                               "full_angle_fwhm"]

#: Ways papers quote a Gaussian beam's far-field divergence, and the factor that turns each
#: into the 1/e² half-angle used by the diffraction model. For a Gaussian intensity profile
#: ``exp(-2 r²/w²)`` the half width at half maximum is ``w·sqrt(ln 2 / 2) = 0.5887 w``.
DIVERGENCE_CONVENTIONS: dict[str, float] = {
    "half_angle_1e2": 1.0,
    "full_angle_1e2": 0.5,
    "half_angle_hwhm": 1.0 / np.sqrt(np.log(2.0) / 2.0),
    "full_angle_fwhm": 0.5 / np.sqrt(np.log(2.0) / 2.0),
}


def divergence_half_angle_1e2_urad(divergence_urad: ArrayLike,
                                   convention: DivergenceConvention) -> np.ndarray:
    """Convert a quoted beam divergence to the 1/e² half-angle of a Gaussian beam.

    Papers quote divergence as half or full angle, at 1/e² of peak intensity or at half
    maximum. The models here use the far-field 1/e² half-angle ``θ`` with
    ``w(L) ≈ θ L``. Quoting a full-angle figure as a half-angle overstates the received power
    by 6 dB, which is why the convention must be named.

    Parameters
    ----------
    divergence_urad : array_like
        The quoted divergence [µrad].
    convention : {'half_angle_1e2', 'full_angle_1e2', 'half_angle_hwhm', 'full_angle_fwhm'}
        What the quoted figure means.

    Returns
    -------
    numpy.ndarray
        1/e² half-angle divergence [µrad].

    Raises
    ------
    ValueError
        If the convention is unknown.

    References
    ----------
    .. [1] A. E. Siegman, *Lasers* (University Science Books, 1986), ch. 17 (Gaussian beams).
    .. [2] docs/reference.md §4 (conventions differ between papers).
    """
    try:
        factor = DIVERGENCE_CONVENTIONS[convention]
    except KeyError:
        known = ", ".join(DIVERGENCE_CONVENTIONS)
        raise ValueError(f"convention: unknown divergence convention {convention!r}; "
                         f"use one of {known}") from None
    return np.asarray(divergence_urad, dtype=float) * factor


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
            raise ValueError("intensities and probabilities: need exactly three of each")
        if not (mu[0] > mu[1] > mu[2] >= 0.0):
            raise ValueError(f"intensities must satisfy signal > decoy > vacuum >= 0, got {mu}")
        if not mu[0] > mu[1] + mu[2]:
            raise ValueError("intensities: the signal must exceed decoy + vacuum "
                             "(Lim et al. 2014)")
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
