"""A payload's link to one ground station: transmittance and noise of each sample.

The key model uses stations through their attributes only (``aperture_m``,
``zenith_transmittance``, ``background_counts_per_s``, ``altitude_m``/``pressure_hpa``,
``clear_sky_probability``, ``receiver_efficiency``), so any object with those works
(:class:`StationLike`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from planner.errors import StationError
from planner.link import atmosphere, budget, noise
from planner.mission.payloads import Payload

__all__ = [
    "StationConstants",
    "StationLike",
    "extraneous_probability",
    "receiver_efficiency",
    "sample_transmittance",
]


class StationLike(Protocol):
    """What the key model needs from a ground station (see
    :class:`planner.mission.stations.Station`)."""

    aperture_m: float
    zenith_transmittance: float
    background_counts_per_s: float
    altitude_m: float
    clear_sky_probability: Sequence[float]
    receiver_efficiency: float | None


def receiver_efficiency(payload: Payload, station: Any | None) -> float:
    """The station's receiver efficiency if it states one, else the payload's [0-1]."""
    override = None if station is None else getattr(station, "receiver_efficiency", None)
    return float(payload.receiver_efficiency if override is None else override)


def extraneous_probability(payload: Payload, station: Any | None = None) -> float:
    """Noise click probability per pulse ``Y0`` for a payload's receiver at a station.

    Dark counts of all the payload's detectors plus the station's sky background (none without
    a station) within the detection gate; see
    :func:`planner.link.noise.extraneous_click_probability`.
    """
    background = 0.0 if station is None else float(getattr(station, "background_counts_per_s",
                                                           0.0) or 0.0)
    return float(noise.extraneous_click_probability(payload.dark_count_rate_hz,
                                                    payload.detector_count, background,
                                                    payload.gate_width_ns))


def sample_transmittance(range_km: np.ndarray, elevation_deg: np.ndarray, payload: Payload,
                         station: Any) -> np.ndarray:
    """Total transmittance of each sample of a pass for a payload and one station.

    Parameters
    ----------
    range_km, elevation_deg : numpy.ndarray
        Slant range [km] and elevation [deg] of each sample.
    payload : Payload
        Transmitter and receiver-chain parameters.
    station : StationLike
        Aperture, zenith transmittance, pressure and optional receiver efficiency.

    Returns
    -------
    numpy.ndarray
        Transmittance [0-1]; see :func:`planner.link.budget.link_transmittance`.
    """
    return _payload_transmittance(
        range_km, elevation_deg, payload, aperture_m=float(station.aperture_m),
        zenith_transmittance=float(station.zenith_transmittance),
        pressure_hpa=atmosphere.station_pressure_hpa(station),
        receiver_efficiency=receiver_efficiency(payload, station))


def _payload_transmittance(range_km: np.ndarray, elevation_deg: np.ndarray, payload: Payload, *,
                           aperture_m: Any, zenith_transmittance: Any, pressure_hpa: Any,
                           receiver_efficiency: Any, sin_elevation: np.ndarray | None = None
                           ) -> np.ndarray:
    """:func:`planner.link.budget.link_transmittance` with the payload's parameters filled in."""
    return budget.link_transmittance(
        range_km, elevation_deg,
        receiver_aperture_m=aperture_m,
        divergence_half_angle_urad=payload.divergence_half_angle_urad,
        beam_waist_m=payload.transmitter_waist_m,
        pointing_jitter_urad=payload.pointing_jitter_urad,
        zenith_transmittance=zenith_transmittance, pressure_hpa=pressure_hpa,
        transmitter_efficiency=payload.transmitter_efficiency,
        receiver_efficiency=receiver_efficiency,
        detector_efficiency=payload.detector_efficiency,
        sin_elevation=sin_elevation,
    )


class StationConstants:
    """Per-station link and noise constants of the stations a pass table uses.

    Parameters
    ----------
    passes : pandas.DataFrame
        Pass table with a ``station`` column.
    stations : mapping of str to StationLike
        Stations by name.
    payload : Payload
        The payload flying the passes.

    Raises
    ------
    StationError
        If a pass names a station not in ``stations``.
    """

    def __init__(self, passes: pd.DataFrame, stations: Mapping[str, Any], payload: Payload):
        unknown = sorted(set(passes["station"].unique()) - set(stations))
        if unknown:
            raise StationError(f"no parameters for station {unknown[0]!r} (known: "
                               f"{', '.join(sorted(stations))})", field="station")
        names = passes["station"].astype(str).to_numpy()
        self.names = sorted(set(names))
        self.code_of_pass = np.searchsorted(self.names, names)
        self.objects = [stations[name] for name in self.names]

        def per_station(getter: Any) -> np.ndarray:
            return np.asarray([getter(s) for s in self.objects], dtype=float)

        self.payload = payload
        self.aperture = per_station(lambda s: s.aperture_m)
        self.zenith = per_station(lambda s: s.zenith_transmittance)
        self.pressure = per_station(atmosphere.station_pressure_hpa)
        self.receiver = per_station(lambda s: receiver_efficiency(payload, s))
        self.noise = per_station(lambda s: extraneous_probability(payload, s))

    def transmittance(self, range_km: np.ndarray, elevation_deg: np.ndarray,
                      station: np.ndarray, sin_elevation: np.ndarray | None = None
                      ) -> np.ndarray:
        """:func:`sample_transmittance` of samples whose stations are the codes ``station``
        (broadcast against the samples)."""
        def local(values: np.ndarray) -> Any:
            return float(values[0]) if np.all(values == values[0]) else values[station]

        return _payload_transmittance(
            range_km, elevation_deg, self.payload, aperture_m=local(self.aperture),
            zenith_transmittance=local(self.zenith), pressure_hpa=local(self.pressure),
            receiver_efficiency=local(self.receiver), sin_elevation=sin_elevation)
