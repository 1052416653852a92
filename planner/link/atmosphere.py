"""The clear atmosphere along the line of sight, station pressure and cloud climatology.

* :func:`air_mass_kasten_young`, :func:`atmospheric_transmittance` — Beer–Lambert extinction
  along a slant path;
* :func:`standard_pressure_hpa`, :func:`station_pressure_hpa` — the pressure that scales the
  optical depth above a station;
* :func:`monthly_clear_sky_probability` — a station's cloud climatology.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from planner.mission.site import (
    STANDARD_PRESSURE_HPA,
    standard_pressure_hpa,
    station_pressure_hpa,
)

__all__ = [
    "STANDARD_PRESSURE_HPA",
    "air_mass_kasten_young",
    "atmospheric_transmittance",
    "monthly_clear_sky_probability",
    "standard_pressure_hpa",
    "station_pressure_hpa",
]

# Kasten & Young (1989) coefficients.
_KY_A = 0.50572
_KY_B = 96.07995  # [deg]
_KY_C = 1.6364


def air_mass_kasten_young(zenith_deg: ArrayLike, cos_zenith: ArrayLike | None = None
                          ) -> np.ndarray:
    """Relative optical air mass after Kasten and Young (1989).

    ``AM = 1 / (cos z + 0.50572 (96.07995° − z)^−1.6364)``; 1 at the zenith, about 38 at the
    horizon. Zenith angles beyond 90° are clipped to 90°.

    Parameters
    ----------
    zenith_deg : array_like
        Zenith angle ``z = 90° − elevation`` [deg].
    cos_zenith : array_like, optional
        ``cos z`` (the sine of the elevation) where the caller already has it: a cosine costs
        more than the rest of the formula.

    Returns
    -------
    numpy.ndarray
        Relative air mass (sea level) [-].

    References
    ----------
    .. [1] F. Kasten and A. T. Young, "Revised optical air mass tables and approximation
       formula", Appl. Opt. 28, 4735-4738 (1989).
    """
    zenith = np.clip(np.asarray(zenith_deg, dtype=float), 0.0, 90.0)
    if cos_zenith is None:
        cos_zenith = np.cos(np.radians(zenith))
    else:
        cos_zenith = np.clip(cos_zenith, 0.0, 1.0)
    return 1.0 / (cos_zenith + _KY_A * np.exp(-_KY_C * np.log(_KY_B - zenith)))


def atmospheric_transmittance(elevation_deg: ArrayLike, zenith_transmittance: ArrayLike,
                              pressure_hpa: ArrayLike = STANDARD_PRESSURE_HPA, *,
                              sin_elevation: ArrayLike | None = None) -> np.ndarray:
    """Clear-sky transmittance of the atmosphere along a slant path.

    ``η_atm = T_zen ^ (AM(z) · p / p0)``: Beer–Lambert extinction scaled by the Kasten–Young
    air mass (:func:`air_mass_kasten_young`), with the optical depth above the station reduced
    in proportion to its pressure. ``T_zen`` is the sea-level zenith transmittance at the link
    wavelength (0.895 at 850 nm reproduces a MODTRAN table to 0.01 above 10° elevation).

    Parameters
    ----------
    elevation_deg : array_like
        Elevation of the line of sight [deg].
    zenith_transmittance : array_like
        Sea-level zenith transmittance at the wavelength [0-1].
    pressure_hpa : array_like, default 1013.25
        Station air pressure [hPa]; see :func:`standard_pressure_hpa`.
    sin_elevation : array_like, optional
        The sine of ``elevation_deg``, where the caller already has it (saves a cosine).

    Returns
    -------
    numpy.ndarray
        Transmittance [0-1].

    References
    ----------
    .. [1] F. Kasten and A. T. Young, Appl. Opt. 28, 4735 (1989).
    .. [2] docs/reference.md §4 (T_zen ≈ 0.895 at 850 nm; altitude correction by pressure).
    """
    zenith = 90.0 - np.asarray(elevation_deg, dtype=float)
    pressure_ratio = np.asarray(pressure_hpa, dtype=float) / STANDARD_PRESSURE_HPA
    # T^(m p/p0) as exp(m p/p0 ln T): the same number, several times faster than a power
    return np.exp(air_mass_kasten_young(zenith, sin_elevation)
                  * (pressure_ratio * np.log(np.asarray(zenith_transmittance, dtype=float))))


def monthly_clear_sky_probability(monthly_values: ArrayLike, month: ArrayLike) -> np.ndarray:
    """Probability of a cloud-free line of sight for the given calendar months.

    Parameters
    ----------
    monthly_values : array_like, shape (12,)
        Clear-sky probabilities for January..December [0-1] (a station's climatology).
    month : array_like of int
        Calendar month numbers 1..12.

    Returns
    -------
    numpy.ndarray
        Clear-sky probability for each month [0-1].

    Raises
    ------
    ValueError
        If there are not 12 values or a month is outside 1..12.

    References
    ----------
    .. [1] docs/reference.md §4 (weather); M. Anipeddi et al., EPJ Quantum Technol. (2025)
       (monthly cloud climatology for optical ground stations).
    """
    values = np.asarray(monthly_values, dtype=float)
    if values.shape != (12,):
        raise ValueError(f"monthly_values: expected 12 monthly values, got shape {values.shape}")
    months = np.asarray(month)
    if months.size and (np.min(months) < 1 or np.max(months) > 12):
        raise ValueError("month: months must be in 1..12")
    return values[months.astype(int) - 1]
