"""The key model has no detector dead time; the bundled payloads and stations stay where it
needs none (docs/reference.md §4, "Detector dead time").

A detector of non-paralysable dead time τ records ``R / (1 + R τ)`` of a true click rate ``R``,
so it loses the fraction ``R τ / (1 + R τ)``. Si single-photon avalanche diode modules have
dead times of 20-50 ns. The clicks of a passive-basis BB84 receiver are shared by its
detectors, so each sees ``R / n_det``. The tests below bound the click rate from above by
``f · (Y0 + η Σ p_k μ_k)`` (``1 − e^(−x) ≤ x``) at the lowest loss a 500 km orbit can give
(the zenith) and check that the dead time would remove less than 4 % of it, at every bundled
station with every bundled payload. A payload or station that breaks this needs a dead-time
model in the key chain, not a wider tolerance here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.key.receiver import extraneous_probability, sample_transmittance
from planner.mission.payloads import load_payloads
from planner.mission.stations import load_stations

#: Upper end of the dead times of Si SPAD modules (docs/reference.md §4) [s].
DEAD_TIME_S = 50e-9
#: Largest fraction of clicks the omitted dead time may cost at the best second of a pass.
MAX_LOST = 0.04
ZENITH_RANGE_KM = 500.0

PAYLOADS = load_payloads()
STATIONS = {s.name: s for s in load_stations()}


def lost_fraction(rate_per_s: float, dead_time_s: float) -> float:
    """Fraction of the clicks a non-paralysable detector misses at a true rate ``rate_per_s``."""
    return rate_per_s * dead_time_s / (1.0 + rate_per_s * dead_time_s)


def zenith_click_rate(payload, station) -> float:
    """Upper bound of the clicks per second of the whole receiver at the zenith (night sky)."""
    eta = float(sample_transmittance(np.array([ZENITH_RANGE_KM]), np.array([90.0]), payload,
                                     station)[0])
    i, p = payload.intensities, payload.probabilities
    photons = p.signal * i.signal + p.decoy * i.decoy + p.vacuum * i.vacuum
    return payload.repetition_rate_hz * (extraneous_probability(payload, station)
                                         + eta * photons)


def test_lost_fraction_at_hand_computed_rates():
    # at R = 1/τ the detector is dead half of the time; at 0.67 Mcps and 50 ns, 3.24 %
    assert lost_fraction(1.0 / DEAD_TIME_S, DEAD_TIME_S) == pytest.approx(0.5)
    assert lost_fraction(0.67e6, 50e-9) == pytest.approx(0.0335 / 1.0335)
    assert lost_fraction(1e6, 0.0) == 0.0


@pytest.mark.parametrize("station_name", sorted(STATIONS))
@pytest.mark.parametrize("payload_name", sorted(PAYLOADS))
def test_dead_time_would_cost_little_at_the_zenith(payload_name, station_name):
    payload, station = PAYLOADS[payload_name], STATIONS[station_name]
    per_detector = zenith_click_rate(payload, station) / payload.detector_count
    # far below what a Si SPAD counts at all (tens of Mcps) ...
    assert per_detector < 0.05 / DEAD_TIME_S
    # ... so the non-paralysable dead time of 50 ns would remove under 4 % of the clicks
    assert lost_fraction(per_detector, DEAD_TIME_S) < MAX_LOST, (
        f"{payload_name} at {station_name}: {per_detector / 1e6:.2f} Mcps per detector")


def test_small_stations_are_far_from_saturation():
    """The Jinan-1 calibration (0.28 m stations) is untouched by any dead time up to 50 ns."""
    payload = PAYLOADS["jinan-1"]
    for name in ("Jinan", "Hefei", "Nanshan", "Wuhan", "Beijing", "Shanghai", "Stellenbosch"):
        per_detector = zenith_click_rate(payload, STATIONS[name]) / payload.detector_count
        assert lost_fraction(per_detector, DEAD_TIME_S) < 1e-3, name


def test_big_telescopes_gain_the_aperture_area_in_the_far_field():
    """Why Lijiang gets ~40x the detections of a 0.28 m station: the Gaussian beam is about
    5 m in radius at 500 km, so a receiver of radius a collects ``1 − exp(−2a²/w²) ≈ 2a²/w²``,
    proportional to its area (docs/reference.md §4)."""
    payload = PAYLOADS["jinan-1"]
    lijiang = STATIONS["Lijiang"]
    small = lijiang.model_copy(update={"aperture_m": 0.28})
    eta_big, eta_small = (float(sample_transmittance(np.array([ZENITH_RANGE_KM]),
                                                     np.array([90.0]), payload, s)[0])
                          for s in (lijiang, small))
    theta = payload.divergence_half_angle_urad * 1e-6
    w2 = payload.transmitter_waist_m**2 + (theta * ZENITH_RANGE_KM * 1e3) ** 2
    expected = -math.expm1(-2 * 0.9**2 / w2) / -math.expm1(-2 * 0.14**2 / w2)
    assert expected == pytest.approx(40.047, abs=1e-3)  # by hand: w = 5.00007 m
    assert eta_big / eta_small == pytest.approx(expected, rel=1e-9)
