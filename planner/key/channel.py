"""What weak coherent pulses produce through a lossy, noisy channel: the one channel formula.

The source of decoy-state BB84 sends phase-randomised weak coherent pulses with three
intensities ``μ1 > μ2 > μ3 ≥ 0`` (signal, decoy, vacuum or weak decoy) chosen with
probabilities ``p1, p2, p3``, in the key basis X with probability ``q_X`` and in Z otherwise;
the receiver picks its basis with the same bias (docs/reference.md §5).

A pulse of intensity ``μ_k`` through a channel of total transmittance ``η`` with a per-pulse
extraneous-click probability ``Y0`` (dark counts and sky background) clicks with probability

    D_k = (1 + p_ap) (1 − (1 − Y0) s_k),   s_k = e^(−η μ_k)

and gives a wrong bit with probability

    E_k = Y0/2 + e_mis (1 − s_k) + p_ap/2 · (1 − (1 − Y0) s_k)

(Ma et al. 2005, eqs. 10-11; Lim et al. 2014 §IV). Both are linear in the four sample terms
``w``, ``w·s_k``, ``w·Y0`` and ``w·(1 − Y0)·s_k``, so the expected clicks and errors of a
whole pass (samples weighted by the time ``w`` each stands for) follow from the sums of those
terms alone: :func:`channel_sums` makes them (per sample, or summed along an axis; ``Y0`` may
differ from sample to sample), :func:`clicks_and_errors` turns them into ``Σ w·D_k`` and
``Σ w·E_k``. Every key path of the planner (asymptotic bound, finite-key block statistics,
optimiser, loss curves, the pass table) goes through these two functions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from planner.mission.source import DecoySettings

__all__ = [
    "BasisCounts",
    "ChannelSums",
    "DecoySettings",
    "basis_counts",
    "channel_sums",
    "clicks_and_errors",
    "compact_terms",
    "detection_probability",
    "error_probability",
    "expand_terms",
    "expected_counts",
]


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


class ChannelSums(NamedTuple):
    """The sample terms the channel formula is linear in, per sample or summed over samples.

    ``noise`` and ``transmitted`` are ``None`` when ``Y0`` is not yet known (one value per
    row, given later to :func:`clicks_and_errors`).

    Attributes
    ----------
    weight : numpy.ndarray, shape (...)
        ``Σ w`` (the time or pulses the samples stand for).
    survival : numpy.ndarray, shape (..., K)
        ``Σ w·s_k`` with ``s_k = e^(−η μ_k)``: the weight of pulses that bring no photon.
    noise : numpy.ndarray, shape (...), or None
        ``Σ w·Y0``.
    transmitted : numpy.ndarray, shape (..., K), or None
        ``Σ w·(1 − Y0)·s_k``: the weight of pulses that give no click at all.
    """

    weight: np.ndarray
    survival: np.ndarray
    noise: np.ndarray | None = None
    transmitted: np.ndarray | None = None

    @property
    def columns(self) -> int:
        """Number of columns of :meth:`stack`."""
        k = self.survival.shape[-1]
        return 1 + k if self.noise is None else 2 + 2 * k

    def stack(self) -> np.ndarray:
        """The terms side by side in one (..., C) array (to add them up with numpy)."""
        parts = [self.weight[..., None], self.survival]
        if self.noise is not None:
            parts += [self.noise[..., None], self.transmitted]
        return np.concatenate(parts, axis=-1)

    @classmethod
    def unstack(cls, columns: np.ndarray, intensities: int = 3) -> ChannelSums:
        """The inverse of :meth:`stack` for ``intensities`` intensities."""
        k = intensities
        if columns.shape[-1] == 1 + k:
            return cls(columns[..., 0], columns[..., 1:1 + k])
        return cls(columns[..., 0], columns[..., 1:1 + k], columns[..., 1 + k],
                   columns[..., 2 + k:])


def _survival(transmittance: np.ndarray, intensities: np.ndarray) -> list[np.ndarray]:
    """``e^(−η μ_k)`` per intensity: the probability that a pulse brings no photon."""
    return [np.exp(-transmittance * mu) if mu > 0.0 else np.ones_like(transmittance)
            for mu in intensities]


def compact_terms(transmittance: ArrayLike, intensities: ArrayLike,
                  extraneous_click_probability: ArrayLike | None = None) -> np.ndarray:
    """The sample terms of the channel formula that vary, one row per term, samples along.

    The terms of :meth:`ChannelSums.stack` of a sample are ``1``, ``s_k`` and, with ``Y0``,
    ``Y0`` and ``(1 − Y0) s_k``; a vacuum intensity (``μ_k = 0``) has ``s_k = 1``, and
    ``(1 − Y0) s_k = s_k − Y0 s_k``. So only ``s_k`` of the intensities above zero and, with
    ``Y0``, ``Y0`` and ``Y0 s_k`` of those vary: the rows returned here. Weighted and added up
    (e.g. over the pieces of a pass, :func:`planner.key.blocks.segment_sums`),
    :func:`expand_terms` turns them and the summed weight into the columns of
    :meth:`ChannelSums.stack`, which :func:`clicks_and_errors` takes.

    Parameters
    ----------
    transmittance : array_like, shape (S,)
        Total transmittance ``η`` of each sample [0-1].
    intensities : array_like, shape (K,)
        Mean photon numbers ``μ_k``.
    extraneous_click_probability : array_like, broadcastable to ``transmittance``, optional
        Per-sample ``Y0``.

    Returns
    -------
    numpy.ndarray
        Shape (B, S) without ``Y0`` or (1 + 2B, S) with it, for the B intensities above zero:
        ``s_k`` of each, then ``Y0``, then ``Y0 s_k`` of each.
    """
    eta = np.asarray(transmittance, dtype=float).reshape(-1)
    bright = _bright(intensities)
    rows = bright.size if extraneous_click_probability is None else 1 + 2 * bright.size
    out = np.empty((rows, eta.size))
    for row, intensity in enumerate(bright):
        np.multiply(eta, -intensity, out=out[row])
        np.exp(out[row], out=out[row])
    if extraneous_click_probability is not None:
        y0 = out[bright.size]
        y0[...] = extraneous_click_probability
        np.multiply(out[:bright.size], y0, out=out[bright.size + 1:])
    return out


def expand_terms(weight: np.ndarray, summed: np.ndarray, intensities: ArrayLike) -> np.ndarray:
    """The columns of :meth:`ChannelSums.stack` from sums of :func:`compact_terms`.

    Parameters
    ----------
    weight : array, shape (...)
        ``Σ w``.
    summed : array, shape (..., R)
        ``Σ w·t`` of each row ``t`` of :func:`compact_terms`, along the last axis.
    intensities : array_like, shape (K,)
        The intensities :func:`compact_terms` was given.

    Returns
    -------
    numpy.ndarray
        Shape (..., 1 + K) or, with ``Y0``, (..., 2 + 2K).
    """
    mu = np.asarray(intensities, dtype=float).reshape(-1)
    k, b = mu.size, int(np.count_nonzero(mu > 0.0))
    with_noise = summed.shape[-1] > b
    out = np.empty((*np.shape(weight), 2 + 2 * k if with_noise else 1 + k))
    out[..., 0] = weight
    if with_noise:
        out[..., 1 + k] = summed[..., b]
    row = 0  # the row of summed of the next intensity above zero
    # column by column: a vacuum intensity's s = 1, so its sums are the weight's (and Y0's)
    for index, intensity in enumerate(mu):
        if intensity > 0.0:
            survival = summed[..., row]
            noise_survival = summed[..., b + 1 + row] if with_noise else None
            row += 1
        else:
            survival = weight
            noise_survival = summed[..., b] if with_noise else None
        out[..., 1 + index] = survival
        if with_noise:
            out[..., 2 + k + index] = survival - noise_survival
    return out


def _bright(intensities: ArrayLike) -> np.ndarray:
    """The intensities above zero (a vacuum pulse never brings a photon: ``s = 1``)."""
    mu = np.asarray(intensities, dtype=float).reshape(-1)
    return mu[mu > 0.0]


def channel_sums(transmittance: ArrayLike, intensities: ArrayLike, weight: ArrayLike = 1.0,
                 extraneous_click_probability: ArrayLike | None = None, *,
                 axis: int | None = -1) -> ChannelSums:
    """The sample terms of the channel formula, summed over ``axis`` (or per sample).

    Parameters
    ----------
    transmittance : array_like, shape (..., S)
        Total transmittance ``η`` of each sample, source to detector click [0-1].
    intensities : array_like, shape (K,)
        Mean photon numbers ``μ_k`` per pulse.
    weight : array_like, broadcastable to ``transmittance``, default 1
        What each sample stands for (its duration [s] or its pulses; 0 for samples not used).
    extraneous_click_probability : array_like, broadcastable to ``transmittance``, optional
        Per-pulse noise click probability ``Y0`` of each sample (dark counts plus background,
        see :func:`planner.link.noise.extraneous_click_probability`). Without it the noise
        terms are left to :func:`clicks_and_errors` (one ``Y0`` per row).
    axis : int or None, default -1
        Sample axis to sum over; ``None`` keeps every sample.

    Returns
    -------
    ChannelSums
        ``Σ w``, ``Σ w·s_k`` and, with ``Y0``, ``Σ w·Y0`` and ``Σ w·(1 − Y0)·s_k``.

    References
    ----------
    .. [1] X. Ma, B. Qi, Y. Zhao and H.-K. Lo, Phys. Rev. A 72, 012326 (2005), eqs. (10)-(11).
    """
    eta = np.asarray(transmittance, dtype=float)
    mu = np.asarray(intensities, dtype=float).reshape(-1)
    w = np.asarray(weight, dtype=float)
    y0 = (None if extraneous_click_probability is None
          else np.asarray(extraneous_click_probability, dtype=float))
    shape = np.broadcast_shapes(eta.shape, w.shape, () if y0 is None else y0.shape)
    eta = np.broadcast_to(eta, shape)
    w = np.broadcast_to(w, shape)
    y0 = None if y0 is None else np.broadcast_to(y0, shape)
    survival = _survival(eta, mu)
    if axis is None:
        weighted = [w * s for s in survival]
        noise = None if y0 is None else w * y0
        transmitted = None if y0 is None else [(w * (1.0 - y0)) * s for s in survival]
        total = np.array(w)
    else:
        eta = np.moveaxis(eta, axis, -1)
        w = np.moveaxis(w, axis, -1)
        survival = [np.moveaxis(s, axis, -1) for s in survival]
        weighted = [np.einsum("...k,...k->...", w, s) for s in survival]
        total = w.sum(axis=-1)
        noise = transmitted = None
        if y0 is not None:
            y0 = np.moveaxis(y0, axis, -1)
            noise = np.einsum("...k,...k->...", w, y0)
            clear = w * (1.0 - y0)
            transmitted = [np.einsum("...k,...k->...", clear, s) for s in survival]
    return ChannelSums(total, np.stack(weighted, axis=-1), noise,
                       None if transmitted is None else np.stack(transmitted, axis=-1))


def clicks_and_errors(sums: ChannelSums, extraneous_click_probability: ArrayLike | None = None,
                      *, misalignment_error: ArrayLike,
                      afterpulse_probability: ArrayLike = 0.0
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Expected clicks ``Σ w·D_k`` and errors ``Σ w·E_k`` from the channel terms.

    ``D_k = (1 + p_ap)(1 − (1 − Y0) s_k)`` and ``E_k = Y0/2 + e_mis (1 − s_k) + p_ap/2 ·
    (1 − (1 − Y0) s_k)``, summed with the weights of :func:`channel_sums`.

    Parameters
    ----------
    sums : ChannelSums
        From :func:`channel_sums`.
    extraneous_click_probability : array_like, shape (...), optional
        ``Y0`` of each row, needed (only) when ``sums`` was made without it.
    misalignment_error : array_like
        Probability ``e_mis`` that a signal photon hits the wrong detector.
    afterpulse_probability : array_like, default 0
        After-pulse probability ``p_ap``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Clicks and errors, shape (..., K), in the unit of the weights (× probability).

    References
    ----------
    .. [1] X. Ma, B. Qi, Y. Zhao and H.-K. Lo, Phys. Rev. A 72, 012326 (2005), eqs. (10)-(11).
    .. [2] C. C. W. Lim, M. Curty, N. Walenta, F. Xu and H. Zbinden, Phys. Rev. A 89, 022307
       (2014), §IV (``R_k = D_k (1 + p_ap)``). (The paper writes the misalignment term with the
       channel transmittance alone; it is taken here with the total transmittance, as for the
       detections, so that QBER → e_mis at high signal.)
    """
    total = sums.weight[..., None]
    if sums.noise is None:
        if extraneous_click_probability is None:
            raise ValueError("extraneous_click_probability is needed: the channel sums were "
                             "made without it")
        y0 = np.asarray(extraneous_click_probability, dtype=float)
        y0 = y0[..., None] if y0.ndim else y0
        noise = y0 * total
        transmitted = (1.0 - y0) * sums.survival
    else:
        noise = sums.noise[..., None]
        transmitted = sums.transmitted
    p_ap = np.asarray(afterpulse_probability, dtype=float)
    gain = total - transmitted
    clicks = gain * (1.0 + p_ap)
    errors = 0.5 * noise + misalignment_error * (total - sums.survival) + 0.5 * p_ap * gain
    return clicks, errors


def detection_probability(transmittance: ArrayLike, intensity: ArrayLike,
                          extraneous_click_probability: ArrayLike,
                          afterpulse_probability: ArrayLike = 0.0) -> np.ndarray:
    """Probability that a pulse of mean photon number ``μ`` gives a click (the gain ``Q_μ``).

    ``D = (1 + p_ap)(1 − (1 − Y0) e^(−η μ))``, :func:`clicks_and_errors` for one pulse.

    Parameters
    ----------
    transmittance : array_like
        Total transmittance ``η`` from source to detector click [0-1].
    intensity : float
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
    """
    return _one_pulse(transmittance, intensity, extraneous_click_probability, 0.0,
                      afterpulse_probability)[0]


def error_probability(transmittance: ArrayLike, intensity: ArrayLike,
                      extraneous_click_probability: ArrayLike, misalignment_error: ArrayLike,
                      afterpulse_probability: ArrayLike = 0.0) -> np.ndarray:
    """Probability per pulse of a click with the wrong bit value (``E_μ Q_μ``).

    ``e = Y0/2 + e_mis (1 − e^(−η μ)) + p_ap D / 2``, :func:`clicks_and_errors` for one pulse:
    noise clicks are random, signal clicks are wrong with the optical misalignment
    probability, after-pulses are random.

    Parameters
    ----------
    transmittance : array_like
        Total transmittance ``η`` [0-1].
    intensity : float
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
    """
    return _one_pulse(transmittance, intensity, extraneous_click_probability,
                      misalignment_error, afterpulse_probability)[1]


def _one_pulse(transmittance: ArrayLike, intensity: ArrayLike, y0: ArrayLike,
               misalignment_error: ArrayLike, afterpulse_probability: ArrayLike
               ) -> tuple[np.ndarray, np.ndarray]:
    # η μ photons arrive on average: the formula with a unit intensity, element by element
    arriving = np.asarray(transmittance, dtype=float) * np.asarray(intensity, dtype=float)
    sums = channel_sums(arriving, (1.0,), 1.0, y0, axis=None)
    clicks, errors = clicks_and_errors(sums, misalignment_error=misalignment_error,
                                       afterpulse_probability=afterpulse_probability)
    return clicks[..., 0], errors[..., 0]


def basis_counts(clicks: ArrayLike, errors: ArrayLike, settings: DecoySettings) -> BasisCounts:
    """Detections and errors per basis and intensity from clicks and errors per pulse sent.

    ``n_X,k = q_X² p_k C_k``, ``n_Z,k = (1 − q_X)² p_k C_k`` and likewise for errors: both ends
    choose their basis independently, only matching bases are kept.

    Parameters
    ----------
    clicks, errors : array_like, shape (..., 3)
        Expected clicks and errors if every pulse had intensity k (pulses × probability).
    settings : DecoySettings
        Intensity probabilities and basis bias.

    Returns
    -------
    BasisCounts
        Arrays of shape (..., 3).

    References
    ----------
    .. [1] C. C. W. Lim et al., Phys. Rev. A 89, 022307 (2014), §IV.
    """
    p, q_x = settings.p, settings.basis_bias
    q_z = 1.0 - q_x
    clicks = np.asarray(clicks, dtype=float)
    errors = np.asarray(errors, dtype=float)
    return BasisCounts(n_x=q_x**2 * p * clicks, n_z=q_z**2 * p * clicks,
                       m_x=q_x**2 * p * errors, m_z=q_z**2 * p * errors)


def expected_counts(transmittance: ArrayLike, pulses: ArrayLike, settings: DecoySettings,
                    extraneous_click_probability: ArrayLike, misalignment_error: float,
                    afterpulse_probability: float = 0.0) -> BasisCounts:
    """Expected detections and errors per basis and intensity for each sample.

    :func:`clicks_and_errors` with each sample weighted by its pulses, split by
    :func:`basis_counts`.

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
    eta = np.asarray(transmittance, dtype=float)
    sums = channel_sums(eta, settings.mu, pulses,
                        np.broadcast_to(np.asarray(extraneous_click_probability, dtype=float),
                                        eta.shape), axis=None)
    clicks, errors = clicks_and_errors(sums, misalignment_error=misalignment_error,
                                       afterpulse_probability=afterpulse_probability)
    return basis_counts(clicks, errors, settings)
