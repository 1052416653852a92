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
from typing import Any, NamedTuple

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


class PassSky(NamedTuple):
    """The Sun and the Moon seen from the station of each pass, placed once a pass.

    They move ~0.25 deg a minute across the sky, so between a pass's first and last sample
    their directions are interpolated linearly (an error below ~0.02 deg over a pass).

    Attributes
    ----------
    start_tau, end_tau : (P,) arrays
        Times of each pass's first and last sample [s of the time base].
    sun, moon : (P, 2, 3) arrays
        Earth-fixed unit vectors from the pass's station towards the body at those times.
    moon_phase_deg : (P,) array
        The Moon's phase angle at each pass's first sample [deg].
    """

    start_tau: np.ndarray
    end_tau: np.ndarray
    sun: np.ndarray
    moon: np.ndarray
    moon_phase_deg: np.ndarray

    def take(self, passes: np.ndarray) -> PassSky:
        """The Sun and the Moon over the passes at positions ``passes``."""
        return PassSky(*(values[passes] for values in self))

    def directions(self, sample_pass: np.ndarray, tau: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Directions towards the Sun and the Moon at samples of the passes ``sample_pass``
        (broadcast against ``tau``), shape ``tau.shape + (3,)`` each (not quite unit vectors:
        linear between the ends)."""
        start, end = self.start_tau[sample_pass], self.end_tau[sample_pass]
        fraction = ((tau - start) / np.where(end > start, end - start, 1.0))[..., None]

        def between(ends):
            first, last = ends[sample_pass, 0], ends[sample_pass, 1]
            return first + fraction * (last - first)

        return between(self.sun), between(self.moon)


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
           line_of_sight: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
        """Noise click probability per pulse of each sample, the sky modelled at every one.

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
        """
        tau = np.asarray(tau, dtype=float)
        station = np.broadcast_to(station, tau.shape).ravel()
        sun, moon = self._bodies(timebase, tau)
        position = self.frames.position_km[station]
        flat = tau.ravel()
        y0, _ = self._sky(station, np.reshape(line_of_sight, (-1, 3)), np.ravel(elevation_deg),
                          sun.direction(flat, position), moon.direction(flat, position),
                          moon_phase_angle_deg(sun, moon, flat))
        return y0.reshape(tau.shape)

    def pass_sky(self, timebase: TimeBase, start_tau: np.ndarray, end_tau: np.ndarray,
                 station: np.ndarray) -> PassSky:
        """The Sun and the Moon at the first and last sample of passes (:class:`PassSky`).

        Parameters
        ----------
        timebase : TimeBase
            Time axis of the times.
        start_tau, end_tau : (P,) arrays
            Times of each pass's first and last sample [s].
        station : (P,) int array
            Station code of each pass.
        """
        start_tau = np.asarray(start_tau, dtype=float)
        end_tau = np.asarray(end_tau, dtype=float)
        sun, moon = self._bodies(timebase, np.r_[start_tau, end_tau])
        position = self.frames.position_km[station]

        def at_ends(body):
            return np.stack([body.direction(start_tau, position),
                             body.direction(end_tau, position)], axis=1)

        return PassSky(start_tau, end_tau, at_ends(sun), at_ends(moon),
                       moon_phase_angle_deg(sun, moon, start_tau))

    def grid_y0(self, grid: Any, sky: PassSky, station_of_row: np.ndarray) -> np.ndarray:
        """Noise click probability per pulse of every sample of a track grid, (M, K).

        The sky is modelled every :data:`SKY_STRIDE` samples of each row and at its end and
        interpolated linearly between (the background changes over seconds, not within one),
        except where the line of sight may pass within :data:`NEAR_MOON_DEG` of the Moon:
        there at every sample.

        Parameters
        ----------
        grid : planner.geometry.tracks.TrackGrid
            The samples.
        sky : PassSky
            The Sun and the Moon over the grid's passes (indexed by ``grid.interval_pass``).
        station_of_row : (M,) int array
            Station code of each row.
        """
        k = grid.range_km.shape[1]
        rows = np.arange(grid.range_km.shape[0])[:, None]
        if k <= 2 * SKY_STRIDE:
            return self._grid_sky(grid, sky, station_of_row, rows, np.arange(k)[None, :])[0]
        columns = np.unique(np.r_[np.arange(0, k, SKY_STRIDE), k - 1])
        coarse, moon_separation, line_of_sight = self._grid_sky(
            grid, sky, station_of_row, rows, columns[None, :])
        right = np.clip(np.searchsorted(columns, np.arange(k), side="right"), 1,
                        columns.size - 1)
        weight = (np.arange(k) - columns[right - 1]) / (columns[right] - columns[right - 1])
        y0 = coarse[:, right - 1] + weight * (coarse[:, right] - coarse[:, right - 1])
        row, first = np.nonzero(_near_the_moon(line_of_sight, moon_separation))
        if row.size:
            # the samples from each coarse sample that may pass near the Moon to the next, as
            # rows of their own (the last interval of a row may be shorter: its end repeats)
            sample = np.minimum(columns[first][:, None] + np.arange(SKY_STRIDE + 1), k - 1)
            y0[row[:, None], sample] = self._grid_sky(grid, sky, station_of_row, row[:, None],
                                                      sample)[0]
        return y0

    def _grid_sky(self, grid: Any, sky: PassSky, station_of_row: np.ndarray, rows: np.ndarray,
                  columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``Y0``, the angle from the Moon [deg] and the line of sight of the grid samples at
        ``rows`` and ``columns`` (broadcast together)."""
        rho = grid.rho_km[rows, columns]
        range_km = grid.range_km[rows, columns]
        toward = rho / range_km[..., None]
        elevation = np.degrees(np.arcsin(np.clip(grid.height_km[rows, columns] / range_km,
                                                 -1.0, 1.0)))
        sample_pass = grid.interval_pass[rows]
        tau = grid.aos_tau[sample_pass] + grid.sample_index[rows, columns] * grid.step_s
        sun, moon = sky.directions(sample_pass, tau)
        shape = tau.shape
        y0, moon_separation = self._sky(
            np.broadcast_to(station_of_row[rows], shape).ravel(), toward.reshape(-1, 3),
            elevation.ravel(), sun.reshape(-1, 3), moon.reshape(-1, 3),
            np.broadcast_to(sky.moon_phase_deg[sample_pass], shape).ravel())
        return y0.reshape(shape), moon_separation.reshape(shape), toward

    def _sky(self, station: np.ndarray, line_of_sight: np.ndarray, elevation_deg: np.ndarray,
             sun: np.ndarray, moon: np.ndarray, moon_phase_deg: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """``Y0`` and the angle between the line of sight and the Moon [deg] of samples.

        Every argument is one row per sample: station codes, unit lines of sight (N, 3), their
        elevations [deg], directions towards the Sun and the Moon (N, 3; normalised here) and
        the Moon's phase angle [deg].
        """
        up = self.frames.up[station]

        def elevation(direction):
            sin_el = np.einsum("ij,ij->i", direction, up)
            return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))

        def separation(direction):
            # arccos is coarse within ~1e-6 deg of 0, far below what the sky models resolve
            cos = np.einsum("ij,ij->i", direction, line_of_sight)
            cos /= np.sqrt(np.einsum("ij,ij->i", direction, direction))
            return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

        moon_from_sight = separation(moon)
        counts = background.sky_background_counts_per_s(
            elevation_deg=elevation_deg, sun_elevation_deg=elevation(sun),
            sun_separation_deg=separation(sun), moon_elevation_deg=elevation(moon),
            moon_separation_deg=moon_from_sight, moon_phase_angle_deg=moon_phase_deg,
            night_counts_per_s=self.night[station], wavelength_nm=self.payload.wavelength_nm,
            aperture_m=self.aperture[station], field_of_view_urad=self.field_of_view[station],
            filter_bandwidth_nm=self.filter[station], efficiency=self.efficiency[station],
            zenith_transmittance=self.zenith[station], pressure_hpa=self.pressure[station])
        y0 = noise.extraneous_click_probability(
            self.payload.dark_count_rate_hz, self.payload.detector_count, counts,
            self.payload.gate_width_ns)
        return y0, moon_from_sight
