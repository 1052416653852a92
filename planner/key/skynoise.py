"""Noise of each sample from the sky: the link stage's background model on a pass's samples.

For every sample of a pass the Sun and the Moon are placed in the station's sky (Skyfield DE421,
:mod:`planner.geometry.sky`), the sky's radiance along the line of sight is modelled
(:func:`planner.link.background.sky_background_counts_per_s`: the station's moonless-night
rate scaled along the line of sight, plus moonlight, twilight and daylight) and, with the
payload's dark counts, turned into the per-pulse noise click probability ``Y0`` of that sample
(:func:`planner.link.noise.extraneous_click_probability`). ``Y0`` then enters the one channel
formula per sample (:func:`planner.key.blocks.sample_sums`), so a daylight pass gets the key
the daytime sky allows -- for an 850 nm night receiver, none -- and a pass beside a full Moon
gets less than a dark one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from planner.geometry.frames import station_frames
from planner.geometry.sky import (
    MoonTrack,
    SunTrack,
    moon_phase_angle_deg,
)
from planner.key.receiver import receiver_efficiency
from planner.link import atmosphere, background, noise
from planner.mission.payloads import Payload
from planner.timebase import TimeBase

SKY_STRIDE = 20
"""On track grids the sky is modelled every this many samples and interpolated between."""

_PAD_S = 3600.0
_AHEAD_S = 30 * 86400.0


def has_sky_geometry(stations: Sequence[Any]) -> bool:
    """Whether there are stations and every one has a position (so its sky can be modelled)."""
    return len(stations) > 0 and all(hasattr(s, name) for s in stations
               for name in ("latitude_deg", "longitude_deg", "altitude_m"))


def line_of_sight(frames: Any, station: np.ndarray, azimuth_deg: np.ndarray,
                  elevation_deg: np.ndarray) -> np.ndarray:
    """Earth-fixed unit vectors of directions given by azimuth and elevation at stations.

    ``frames`` is a :class:`planner.geometry.frames.StationFrames`; ``station`` indexes it.
    """
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    cos_el = np.cos(el)
    return ((cos_el * np.sin(az))[..., None] * frames.east[station]
            + (cos_el * np.cos(az))[..., None] * frames.north[station]
            + np.sin(el)[..., None] * frames.up[station])


NEAR_MOON_DEG = 10.0
"""Where the line of sight of a track grid's row may come this close to the Moon [deg], the
sky is modelled at every sample: moonlight scattered by aerosols grows as 1/separation^2
within 10 deg of the Moon (Krisciunas & Schaefer 1991), far too sharply to interpolate over
:data:`SKY_STRIDE` samples (a pass crossing a bright Moon got 5.8 times its key)."""


def _near_the_moon(line_of_sight: np.ndarray, moon_separation_deg: np.ndarray) -> np.ndarray:
    """Which intervals between consecutive samples of rows of (M, C) samples may bring the line
    of sight within :data:`NEAR_MOON_DEG` of the Moon: (M, C - 1) booleans.

    Between two samples the line of sight stays within half their angle of one of them, so by
    the triangle inequality its separation from the Moon is at least the smaller of the two
    separations less half that angle.
    """
    cos_turn = np.einsum("mcj,mcj->mc", line_of_sight[:, 1:], line_of_sight[:, :-1])
    turn = np.degrees(np.arccos(np.clip(cos_turn, -1.0, 1.0)))
    closest = np.minimum(moon_separation_deg[:, 1:], moon_separation_deg[:, :-1]) - turn / 2
    return closest < NEAR_MOON_DEG


class SampleNoise:
    """Per-sample ``Y0`` for a payload at the stations ``stations``.

    Parameters
    ----------
    stations : sequence of Station
        The stations, indexed by the station codes later passed in.
    payload : Payload
        Wavelength, detector efficiency, dark counts, detectors and gate.
    span_s : float, optional
        How long the samples to come span [s]: the Sun and Moon are then tabulated once.
    """

    def __init__(self, stations: Sequence[Any], payload: Payload, span_s: float = 0.0):
        self.payload = payload
        self.span_s = float(span_s)
        self.frames = station_frames([s.latitude_deg for s in stations],
                                     [s.longitude_deg for s in stations],
                                     [s.altitude_m for s in stations])

        def per_station(getter: Any) -> np.ndarray:
            return np.asarray([getter(s) for s in stations], dtype=float)

        self.night = per_station(lambda s: s.background_counts_per_s)
        self.aperture = per_station(lambda s: s.aperture_m)
        self.field_of_view = per_station(lambda s: getattr(s, "field_of_view_urad", 100.0))
        self.filter = per_station(lambda s: getattr(s, "filter_bandwidth_nm", 1.0))
        self.efficiency = per_station(lambda s: receiver_efficiency(payload, s)
                                      * payload.detector_efficiency)
        self.zenith = per_station(lambda s: s.zenith_transmittance)
        self.pressure = per_station(atmosphere.station_pressure_hpa)
        self._tracks: tuple[int, float, float, SunTrack, MoonTrack] | None = None

    def _bodies(self, timebase: TimeBase, tau: np.ndarray) -> tuple[SunTrack, MoonTrack]:
        lo, hi = float(tau.min()), float(tau.max())
        cached = self._tracks
        if cached is None or cached[0] != id(timebase) or lo < cached[1] or hi > cached[2]:
            # a month ahead at once: chunks of passes come in time order
            lo, hi = lo - _PAD_S, max(hi, lo + max(self.span_s, _AHEAD_S)) + _PAD_S
            cached = (id(timebase), lo, hi, SunTrack(timebase, lo, hi),
                      MoonTrack(timebase, lo, hi))
            self._tracks = cached
        return cached[3], cached[4]

    def y0(self, timebase: TimeBase, tau: np.ndarray, station: np.ndarray,
           line_of_sight: np.ndarray, elevation_deg: np.ndarray,
           row_span: np.ndarray | None = None) -> np.ndarray:
        """Noise click probability per pulse of each sample.

        On a track grid's rows (2-D ``tau``) the sky is modelled every
        :data:`SKY_STRIDE` samples and at each row's end and interpolated linearly between
        (the background changes over seconds, not within one), except where the line of
        sight may pass within :data:`NEAR_MOON_DEG` of the Moon: there at every sample.

        Parameters
        ----------
        timebase : TimeBase
            Time axis of ``tau``.
        tau : array, shape S
            Sample times [s].
        station : int array, broadcast to S
            Station codes.
        line_of_sight : array, shape S + (3,)
            Earth-fixed unit vectors from the station to the satellite.
        elevation_deg : array, shape S
            Elevation of the line of sight [deg].
        row_span : (M, 2) array, optional
            For 2-D ``tau``: the start and end times of the pass each row belongs to; the Sun
            and Moon are then placed once per pass (at its ends, interpolated linearly: they
            move ~0.25 deg a minute across the sky, so the error stays below ~0.02 deg).
        """
        tau = np.asarray(tau, dtype=float)
        if tau.ndim != 2 or tau.shape[1] <= 2 * SKY_STRIDE:
            return self._y0_exact(timebase, tau, station, line_of_sight, elevation_deg,
                                  row_span)
        k = tau.shape[1]
        columns = np.unique(np.r_[np.arange(0, k, SKY_STRIDE), k - 1])
        station = np.broadcast_to(station, tau.shape)
        line_of_sight = np.reshape(line_of_sight, (*tau.shape, 3))
        elevation_deg = np.broadcast_to(elevation_deg, tau.shape)
        coarse, moon_separation = self._y0_exact(
            timebase, tau[:, columns], station[:, columns], line_of_sight[:, columns],
            elevation_deg[:, columns], row_span, moon_separation=True)
        right = np.clip(np.searchsorted(columns, np.arange(k), side="right"), 1,
                        columns.size - 1)
        weight = (np.arange(k) - columns[right - 1]) / (columns[right] - columns[right - 1])
        y0 = coarse[:, right - 1] + weight * (coarse[:, right] - coarse[:, right - 1])
        row, first = np.nonzero(_near_the_moon(line_of_sight[:, columns], moon_separation))
        if row.size:
            # the samples from each coarse sample that may pass near the Moon to the next, as
            # rows of their own (the last interval of a row may be shorter: its end repeats)
            sample = np.minimum(columns[first][:, None] + np.arange(SKY_STRIDE + 1), k - 1)
            at = (row[:, None], sample)
            y0[at] = self._y0_exact(timebase, tau[at], station[at], line_of_sight[at],
                                    elevation_deg[at], None if row_span is None else row_span[row])
        return y0

    def _y0_exact(self, timebase: TimeBase, tau: np.ndarray, station: np.ndarray,
                  line_of_sight: np.ndarray, elevation_deg: np.ndarray,
                  row_span: np.ndarray | None = None, *,
                  moon_separation: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """:meth:`y0` with the sky modelled at every sample (and, with ``moon_separation``,
        each sample's angle from the Moon [deg])."""
        shape = np.shape(tau)
        tau = np.asarray(tau, dtype=float)
        station = np.broadcast_to(station, shape)
        line_of_sight = np.reshape(line_of_sight, (-1, 3))
        sun, moon = self._bodies(timebase, tau)
        position = self.frames.position_km[station.ravel()]
        up = self.frames.up[station.ravel()]
        if tau.ndim == 2 and shape[1] > 2:
            # the Sun and Moon move ~0.25 deg a minute: placed at the ends of each row (or of
            # each row's pass) and interpolated linearly; the phase angle taken at the start
            ends = tau[:, [0, -1]] if row_span is None else np.asarray(row_span, dtype=float)
            key = np.column_stack([ends, station[:, 0]])
            # a pass's rows are consecutive: one body position per run of equal rows (a
            # sort-free np.unique(axis=0), which cost more than the bodies themselves)
            new = np.r_[True, np.any(key[1:] != key[:-1], axis=1)]
            unique, inverse = key[new], np.cumsum(new) - 1
            unique_position = self.frames.position_km[unique[:, 2].astype(np.intp)]
            fraction = ((tau - ends[:, :1]) / np.where(ends[:, 1:] > ends[:, :1],
                                                       ends[:, 1:] - ends[:, :1], 1.0))

            def body_direction(body):
                first = body.direction(unique[:, 0], unique_position)[inverse][:, None, :]
                last = body.direction(unique[:, 1], unique_position)[inverse][:, None, :]
                return (first + fraction[..., None] * (last - first)).reshape(-1, 3)

            sun_dir, moon_dir = body_direction(sun), body_direction(moon)
            phase = np.repeat(moon_phase_angle_deg(sun, moon, unique[:, 0])[inverse], shape[1])
        else:
            sun_dir = sun.direction(tau.ravel(), position)
            moon_dir = moon.direction(tau.ravel(), position)
            phase = moon_phase_angle_deg(sun, moon, tau.ravel())
        station = station.ravel()

        def elevation(direction):
            sin_el = np.einsum("ij,ij->i", direction, up)
            return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))

        def separation(direction):
            # arccos is coarse within ~1e-6 deg of 0, far below what the sky models resolve
            cos = np.einsum("ij,ij->i", direction, line_of_sight)
            cos /= np.sqrt(np.einsum("ij,ij->i", direction, direction))
            return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

        moon_from_sight = separation(moon_dir)
        counts = background.sky_background_counts_per_s(
            elevation_deg=np.ravel(elevation_deg), sun_elevation_deg=elevation(sun_dir),
            sun_separation_deg=separation(sun_dir),
            moon_elevation_deg=elevation(moon_dir),
            moon_separation_deg=moon_from_sight,
            moon_phase_angle_deg=phase,
            night_counts_per_s=self.night[station], wavelength_nm=self.payload.wavelength_nm,
            aperture_m=self.aperture[station], field_of_view_urad=self.field_of_view[station],
            filter_bandwidth_nm=self.filter[station], efficiency=self.efficiency[station],
            zenith_transmittance=self.zenith[station], pressure_hpa=self.pressure[station])
        y0 = noise.extraneous_click_probability(
            self.payload.dark_count_rate_hz, self.payload.detector_count, counts,
            self.payload.gate_width_ns).reshape(shape)
        return (y0, moon_from_sight.reshape(shape)) if moon_separation else y0
