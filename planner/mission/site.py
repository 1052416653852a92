"""A station site's air pressure: the ICAO standard atmosphere at its altitude.

The pressure scales the optical depth of the atmosphere above a station (the link stage's
clear-sky transmittance) and the refraction of its line of sight (the pass finder), so it is a
property of the site, defined here with the stations rather than in either stage.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["STANDARD_PRESSURE_HPA", "standard_pressure_hpa", "station_pressure_hpa"]

#: Standard sea-level pressure [hPa] (ICAO standard atmosphere).
STANDARD_PRESSURE_HPA = 1013.25

# ICAO / U.S. Standard Atmosphere 1976, troposphere (0-11 km).
_SEA_LEVEL_TEMPERATURE_K = 288.15
_LAPSE_K_PER_M = 0.0065
_PRESSURE_EXPONENT = 9.80665 * 0.0289644 / (8.3144598 * _LAPSE_K_PER_M)  # g0 M / (R L) = 5.25588
_GEOPOTENTIAL_RADIUS_M = 6356766.0


def standard_pressure_hpa(altitude_m: ArrayLike) -> np.ndarray:
    """Air pressure of the ICAO standard atmosphere at a given height.

    Barometric formula for the troposphere (constant lapse rate),
    ``p = p0 (1 - L H / T0) ** (g0 M / (R L))`` with p0 = 1013.25 hPa, T0 = 288.15 K,
    L = 6.5 K/km, g0 M / (R L) = 5.25588, where the geopotential height is
    ``H = r0 h / (r0 + h)``, r0 = 6,356,766 m, for the geometric height h.

    Parameters
    ----------
    altitude_m : array_like
        Geometric height above mean sea level [m]; valid in the troposphere (-500 to 11,000 m).

    Returns
    -------
    numpy.ndarray
        Pressure [hPa], same shape as ``altitude_m``.

    References
    ----------
    .. [1] ICAO, "Manual of the ICAO Standard Atmosphere", Doc 7488/3 (1993).
    .. [2] NOAA/NASA/USAF, "U.S. Standard Atmosphere, 1976", NOAA-S/T 76-1562 (1976).
    """
    height = np.asarray(altitude_m, dtype=float)
    geopotential = _GEOPOTENTIAL_RADIUS_M * height / (_GEOPOTENTIAL_RADIUS_M + height)
    ratio = 1.0 - _LAPSE_K_PER_M * geopotential / _SEA_LEVEL_TEMPERATURE_K
    return STANDARD_PRESSURE_HPA * ratio**_PRESSURE_EXPONENT


def station_pressure_hpa(station: Any) -> float:
    """Air pressure at a station [hPa]: its ``pressure_hpa`` if it has one, else the standard
    atmosphere at its ``altitude_m`` (sea level without one)."""
    pressure = getattr(station, "pressure_hpa", None)
    if callable(pressure):
        pressure = pressure()
    if pressure is None:
        pressure = standard_pressure_hpa(getattr(station, "altitude_m", 0.0) or 0.0)
    return float(pressure)
