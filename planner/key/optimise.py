"""Decoy settings that maximise the finite key: a design-study tool.

A real satellite flies fixed settings (docs/reference.md §5); these searches tell which
settings a mission should fly. :func:`optimise_decoy_settings` optimises one block of samples;
:func:`optimise_for_pass` does it for a payload on one pass at one station.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from planner.key.blocks import check_key_options
from planner.key.channel import DecoySettings, expected_counts
from planner.key.finite import Fluctuation, finite_key_length
from planner.key.receiver import extraneous_probability, sample_transmittance
from planner.key.reconciliation import EcLeakage
from planner.mission.payloads import Payload

__all__ = ["OptimisedSettings", "optimise_decoy_settings", "optimise_for_pass"]

_TINY = 1e-300


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
            raise ValueError(f"bounds: unknown bound(s) {sorted(unknown)}; use {sorted(box)}")
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

def optimise_for_pass(range_km: np.ndarray, elevation_deg: np.ndarray, payload: Payload,
                      station: Any, *, step_s: float = 1.0, fluctuation: str = "chernoff",
                      ec_leakage: str = "fixed", seed: int = 0
                      ) -> tuple[Payload, OptimisedSettings]:
    """Decoy settings (intensities, their probabilities, basis bias) best for one pass.

    A design-study tool: a real satellite cannot retune per pass (docs/reference.md §5), so the
    result is meant to be applied to the whole mission, e.g. optimised on a typical pass.

    Parameters
    ----------
    range_km, elevation_deg : numpy.ndarray
        The pass, sampled every ``step_s`` seconds.
    payload : Payload
        Everything but the decoy settings is kept.
    station : StationLike
        The receiving station.
    step_s : float
        Sample spacing [s].
    fluctuation, ec_leakage : str
        As in :func:`planner.key.perpass.pass_key_table`.
    seed : int
        Seed of the (stochastic, here deterministic) global search.

    Returns
    -------
    (Payload, OptimisedSettings)
        The payload with the optimised settings, and the optimiser's result.
    """
    check_key_options(1, fluctuation, ec_leakage)
    range_km = np.asarray(range_km, dtype=float)
    elevation_deg = np.asarray(elevation_deg, dtype=float)
    used = elevation_deg >= payload.min_key_elevation_deg
    eta = sample_transmittance(range_km[used], elevation_deg[used], payload, station)
    pulses = np.full(eta.shape, payload.repetition_rate_hz * step_s)
    result = optimise_decoy_settings(
        eta, pulses, extraneous_click_probability=extraneous_probability(payload, station),
        misalignment_error=payload.misalignment_error, epsilon_sec=payload.epsilon_sec,
        epsilon_cor=payload.epsilon_cor, ec_efficiency=payload.ec_efficiency,
        afterpulse_probability=payload.afterpulse_probability,
        vacuum_intensity=payload.intensities.vacuum, fluctuation=fluctuation,
        ec_leakage=ec_leakage, seed=seed)
    mu, p = result.settings.intensities, result.settings.probabilities
    tuned = payload.model_copy(update={
        "intensities": type(payload.intensities)(signal=mu[0], decoy=mu[1], vacuum=mu[2]),
        "probabilities": type(payload.probabilities)(signal=p[0], decoy=p[1], vacuum=p[2]),
        "basis_bias": result.settings.basis_bias,
    })
    return tuned, result
