"""Atmospheric refraction of elevation angles (Skyfield's model), for thresholds and reports.

Elevations in the planner are geometric unless a caller asks for apparent (refracted) ones; the
conversions here use Skyfield's refraction formula at the station's standard-atmosphere
pressure and :data:`REFRACTION_TEMPERATURE_C`.
"""

from __future__ import annotations

import numpy as np
from skyfield.earthlib import refract
from skyfield.earthlib import refraction as skyfield_refraction

REFRACTION_TEMPERATURE_C = 10.0
"""Air temperature assumed for refraction [degC] (Skyfield's and the almanacs' usual value)."""


def geometric_threshold_deg(threshold_deg, pressure_hpa, refraction: bool) -> np.ndarray:
    """Geometric elevation at which a satellite appears at ``threshold_deg``.

    With refraction the apparent elevation exceeds the geometric one by R(apparent), so the
    geometric threshold is ``threshold - R(threshold)`` (Skyfield's ``refraction`` takes the
    observed altitude).

    Parameters
    ----------
    threshold_deg : array_like
        Apparent (or, without refraction, geometric) minimum elevation [deg].
    pressure_hpa : array_like
        Station air pressure [hPa].
    refraction : bool
        Whether thresholds are apparent elevations.
    """
    threshold_deg = np.asarray(threshold_deg, dtype=float)
    if not refraction:
        return threshold_deg
    return threshold_deg - skyfield_refraction(threshold_deg, REFRACTION_TEMPERATURE_C,
                                               np.asarray(pressure_hpa, dtype=float))


def apparent_elevation_deg(geometric_deg, pressure_hpa) -> np.ndarray:
    """Apparent elevation [deg] of a geometric elevation (Skyfield's ``refract``)."""
    return refract(np.asarray(geometric_deg, dtype=float), REFRACTION_TEMPERATURE_C,
                   np.asarray(pressure_hpa, dtype=float))

