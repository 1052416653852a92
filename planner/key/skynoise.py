"""Noise of each sample from the sky: the link stage's background model on a pass's samples.

For every sample of a pass the Sun and the Moon are placed in the station's sky (Skyfield DE421,
:mod:`planner.geometry.sky`), the sky's radiance along the line of sight is modelled
(:func:`planner.link.background.sky_background_counts_per_s`: the station's moonless-night
rate scaled along the line of sight, plus moonlight, twilight and daylight) and, with the
payload's dark counts, turned into the per-pulse noise click probability ``Y0`` of that sample
(:func:`planner.link.noise.extraneous_click_probability`). ``Y0`` then enters the one channel
formula per sample (:func:`planner.key.blocks.segment_sums`), so a daylight pass gets the key
the daytime sky allows -- for an 850 nm night receiver, none -- and a pass beside a full Moon
gets less than a dark one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from planner.geometry.frames import station_frames
from planner.geometry.sky import BodyTrack, moon_phase_angle_deg, sun_and_moon
from planner.geometry.tracks import DEGREES_PER_RADIAN, row_dot
from planner.key.receiver import receiver_efficiency
from planner.link import atmosphere, background, noise
from planner.mission.payloads import Payload
from planner.timebase import TimeBase

SKY_STRIDE = 20
"""On track grids the sky is modelled every this many samples of a row (and at each pass's
last sample) and interpolated between along parabolas (:meth:`SampleNoise.grid_y0`)."""

_PAD_S = 3600.0
_AHEAD_S = 30 * 86400.0

SKY_MOON_NODE_STEP_S = 12 * 3600.0
"""Spline node spacing of the Moon for the sky [s]: over a year its directions stay within
2e-5 deg of :class:`planner.geometry.sky.MoonTrack`'s 3-hour nodes, far below what the sky
models resolve, for half the cost of placing the Moon."""

SKY_FRAME_NODE_STEP_S = 8 * 86400.0
"""Node spacing of the precession-nutation frame of the sky's Sun and Moon [s] (the tracks'
own: two days): within 1e-4 deg of :class:`planner.geometry.sky.SunTrack` and
:class:`~planner.geometry.sky.MoonTrack` over a year with the Moon's 12-hour nodes (tested),
for a quarter of the nutation series' cost."""


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
    cos_turn = row_dot(line_of_sight[:, 1:], line_of_sight[:, :-1])
    turn = np.arccos(np.clip(cos_turn, -1.0, 1.0)) * DEGREES_PER_RADIAN
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
        (1-D, paired with the times ``tau``), (N, 3) each (not quite unit vectors: linear
        between the ends)."""
        start, end = self.start_tau, self.end_tau
        first = np.concatenate([self.sun[:, 0], self.moon[:, 0]], axis=1)   # (P, 6)
        last = np.concatenate([self.sun[:, 1], self.moon[:, 1]], axis=1)
        rate = (last - first) / np.where(end > start, end - start, 1.0)[:, None]
        both = first[sample_pass]
        both += (tau - start[sample_pass])[:, None] * rate[sample_pass]
        return both[:, :3], both[:, 3:]


class SkyGeometry(NamedTuple):
    """Where the Sun, the Moon and the line of sight of samples are: one row per sample.

    Attributes
    ----------
    station : (N,) int array
        Station codes.
    line_of_sight : (N, 3) array
        Earth-fixed unit vectors from the station to the satellite.
    elevation_deg : (N,) array
        Elevation of the line of sight [deg].
    sun, moon : (N, 3) arrays
        Earth-fixed directions from the station towards the Sun and the Moon (normalised where
        they are used).
    moon_phase_deg : (N,) array
        The Moon's phase angle [deg].
    """

    station: np.ndarray
    line_of_sight: np.ndarray
    elevation_deg: np.ndarray
    sun: np.ndarray
    moon: np.ndarray
    moon_phase_deg: np.ndarray

    def moon_separation_deg(self) -> np.ndarray:
        """Angle between the line of sight and the Moon [deg]."""
        return _separation_deg(self.moon, self.line_of_sight)

    def extend(self, other: SkyGeometry) -> SkyGeometry:
        """These samples followed by ``other``'s."""
        return SkyGeometry(*(np.concatenate(pair) for pair in zip(self, other, strict=True)))


def _separation_deg(direction: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Angle between rows of ``direction`` and the unit vectors ``unit`` [deg]."""
    # arccos is coarse within ~1e-6 deg of 0, far below what the sky models resolve
    cos = row_dot(direction, unit)
    cos /= np.sqrt(row_dot(direction, direction))
    return np.arccos(np.clip(cos, -1.0, 1.0)) * DEGREES_PER_RADIAN


class _RowKnots:
    """Where the sky of a track grid's rows is modelled: every ``columns`` of each row, and the
    end of each row, which is the next row's first sample or, on a pass's last row, the pass's
    last sample.

    :meth:`samples` lists the samples to model (the columns of every row, then each pass's
    last sample); :meth:`close` turns values at them into (M, G + 1) knots, whose columns
    are :attr:`position` (on a pass's last row the knot after its last sample is that sample,
    and the knots past it sit on it too: padding, whose values do not matter).
    """

    def __init__(self, grid: Any, columns: np.ndarray):
        m, k = grid.range_km.shape
        self.columns = columns
        pass_of_row = grid.interval_pass
        self.last_row = np.flatnonzero(np.r_[pass_of_row[1:] != pass_of_row[:-1], True])
        self.last_column = ((grid.n_samples - 1)[pass_of_row[self.last_row]]
                            - grid.sample_index[self.last_row, 0])
        self.end_knot = np.searchsorted(columns, self.last_column, side="right")
        position = np.broadcast_to(np.r_[columns, k].astype(float), (m, columns.size + 1))
        self.position = position.copy()
        self.position[self.last_row] = np.minimum(position[self.last_row],
                                                  self.last_column[:, None])

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns of the samples to model."""
        m = self.position.shape[0]
        return (np.r_[np.repeat(np.arange(m), self.columns.size), self.last_row],
                np.r_[np.tile(self.columns, m), self.last_column])

    def close(self, values: np.ndarray) -> np.ndarray:
        """(M, G + 1, ...) knots from values at :meth:`samples` (M G + P, ...)."""
        m, g = self.position.shape[0], self.columns.size
        part, end = values[:m * g].reshape(m, g, *values.shape[1:]), values[m * g:]
        knots = np.concatenate([part, part[:, :1]], axis=1)
        knots[:-1, -1] = part[1:, 0]
        # a pass's last sample closes the piece it falls in (knots past it are padding)
        knots[self.last_row, self.end_knot] = end
        return knots


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
        self._tracks: tuple[int, float, float, BodyTrack, BodyTrack] | None = None

    def _bodies(self, timebase: TimeBase, tau: np.ndarray) -> tuple[BodyTrack, BodyTrack]:
        lo, hi = float(tau.min()), float(tau.max())
        cached = self._tracks
        if cached is None or cached[0] != id(timebase) or lo < cached[1] or hi > cached[2]:
            # a month ahead at once: chunks of passes come in time order
            lo, hi = lo - _PAD_S, max(hi, lo + max(self.span_s, _AHEAD_S)) + _PAD_S
            cached = (id(timebase), lo, hi,
                      *sun_and_moon(timebase, lo, hi, SKY_MOON_NODE_STEP_S,
                                    SKY_FRAME_NODE_STEP_S))
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
        geometry = SkyGeometry(station, np.reshape(line_of_sight, (-1, 3)),
                               np.ravel(elevation_deg), sun.direction(flat, position),
                               moon.direction(flat, position),
                               moon_phase_angle_deg(sun, moon, flat))
        return self._sky(geometry, geometry.moon_separation_deg()).reshape(tau.shape)

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

        The sky is modelled every :data:`SKY_STRIDE` samples from the start of each row and at
        each pass's last sample, and interpolated between along parabolas through three knots
        (:func:`_row_parabolas`; the background changes over seconds, not within one), except
        where the line of sight may pass within :data:`NEAR_MOON_DEG` of the Moon: there at
        every sample. Rows of one-second samples (60 to an SGP4 interval) hold three strides,
        so the sky is modelled every 20 s of a pass. Against the sky at every sample a year of
        Jinan-1 passes keeps its key to 4 kbit of 872 Mbit, each pass to ~60 bits.

        Parameters
        ----------
        grid : planner.geometry.tracks.TrackGrid
            The samples.
        sky : PassSky
            The Sun and the Moon over the grid's passes (indexed by ``grid.interval_pass``).
        station_of_row : (M,) int array
            Station code of each row.
        """
        m, k = grid.range_km.shape
        if k <= 2 * SKY_STRIDE:
            rows, columns = np.divmod(np.arange(m * k), k)
            geometry = _grid_geometry(grid, sky, station_of_row, rows, columns)
            return self._sky(geometry, geometry.moon_separation_deg()).reshape(m, k)
        columns = np.arange(0, k, SKY_STRIDE)
        knots = _RowKnots(grid, columns)
        geometry = _grid_geometry(grid, sky, station_of_row, *knots.samples())
        moon_separation = geometry.moon_separation_deg()
        span = np.diff(knots.position, axis=1)
        row, piece = np.nonzero(_near_the_moon(knots.close(geometry.line_of_sight),
                                               knots.close(moon_separation)) & (span > 0))
        # the samples of each piece that may pass near the Moon (a row's last piece may be
        # shorter: its end repeats), modelled with the knots in one go
        near = (np.repeat(row, SKY_STRIDE),
                np.minimum(columns[piece][:, None] + np.arange(SKY_STRIDE), k - 1).ravel())
        knot_count = moon_separation.size
        if row.size:
            close_by = _grid_geometry(grid, sky, station_of_row, *near)
            geometry = geometry.extend(close_by)
            moon_separation = np.r_[moon_separation, close_by.moon_separation_deg()]
        modelled = self._sky(geometry, moon_separation)
        values = knots.close(modelled[:knot_count])
        slope, curvature = _row_parabolas(values, span)
        # on each row, piece g runs from column columns[g] to the next knot, along the
        # parabola through its knots and a neighbour: v + x (slope - span curvature) + x^2
        # curvature at x samples into the piece
        linear = slope - span * curvature
        if k % SKY_STRIDE == 0:  # pieces of one length: (M, G, SKY_STRIDE) at once
            offset = np.arange(SKY_STRIDE, dtype=float)
            y0 = curvature[..., None] * offset**2
            y0 += linear[..., None] * offset
            y0 += values[:, :-1, None]
            y0 = y0.reshape(m, k)
        else:
            piece_of = np.arange(k) // SKY_STRIDE
            offset = np.arange(k) - columns[piece_of]
            y0 = (values[:, piece_of] + offset * linear[:, piece_of]
                  + offset**2 * curvature[:, piece_of])
        # a probability, whatever a parabola does beside a kink of the sky (sunset, moonrise)
        np.clip(y0, 0.0, 1.0, out=y0)
        y0[near] = modelled[knot_count:]
        return y0

    def _sky(self, geometry: SkyGeometry, moon_separation_deg: np.ndarray) -> np.ndarray:
        """``Y0`` of samples from their geometry and angle from the Moon [deg]."""
        station, line_of_sight, up = (geometry.station, geometry.line_of_sight,
                                      self.frames.up[geometry.station])

        def elevation(direction):
            sin_el = row_dot(direction, up)
            return np.arcsin(np.clip(sin_el, -1.0, 1.0)) * DEGREES_PER_RADIAN

        counts = background.sky_background_counts_per_s(
            elevation_deg=geometry.elevation_deg, sun_elevation_deg=elevation(geometry.sun),
            sun_separation_deg=_separation_deg(geometry.sun, line_of_sight),
            moon_elevation_deg=elevation(geometry.moon),
            moon_separation_deg=moon_separation_deg,
            moon_phase_angle_deg=geometry.moon_phase_deg,
            night_counts_per_s=self.night[station], wavelength_nm=self.payload.wavelength_nm,
            aperture_m=self.aperture[station], field_of_view_urad=self.field_of_view[station],
            filter_bandwidth_nm=self.filter[station], efficiency=self.efficiency[station],
            zenith_transmittance=self.zenith[station], pressure_hpa=self.pressure[station])
        return noise.extraneous_click_probability(
            self.payload.dark_count_rate_hz, self.payload.detector_count, counts,
            self.payload.gate_width_ns)


def _row_parabolas(values: np.ndarray, span: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slopes and curvatures of the pieces between a grid row's knots (M, G + 1 values, G
    spans in samples): piece g follows the parabola through its two knots and the next knot
    (the last piece the one before), ``v_g + x (slope_g + (x - span_g) curvature_g)``.

    Linear interpolation of the sky every 20 s overestimates its convex stretches (the sky
    brightening towards the horizon): 0.08% too much background over a year, 0.4% a sample
    on average; the parabolas bring it to 0.001% and 0.2% (against the sky at every sample).
    A piece without a neighbouring piece of some length (a pass's ends, padding) is linear.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        (M, G) first divided differences [1/sample] and second ones [1/sample^2].
    """
    has_span = span > 0
    slope = np.diff(values, axis=1) / np.where(has_span, span, 1.0)
    # second divided differences with the next piece and, for the last, the one before
    ahead = np.zeros(span.shape, dtype=bool)
    ahead[:, :-1] = has_span[:, 1:]
    behind = np.zeros(span.shape, dtype=bool)
    behind[:, 1:] = has_span[:, :-1]
    curvature = np.zeros(span.shape)
    reach = span[:, :-1] + span[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        forward = (slope[:, 1:] - slope[:, :-1]) / reach
    curvature[:, :-1] = np.where(ahead[:, :-1] & has_span[:, :-1], forward, 0.0)
    use_behind = ~ahead & behind & has_span
    curvature[:, 1:] = np.where(use_behind[:, 1:], forward, curvature[:, 1:])
    return slope, curvature


def _grid_geometry(grid: Any, sky: PassSky, station_of_row: np.ndarray, rows: np.ndarray,
                   columns: np.ndarray) -> SkyGeometry:
    """The sky geometry of the grid samples at ``rows`` and ``columns`` (1-D, paired)."""
    # flat positions and take: several times faster than indexing with two index arrays
    flat = rows * grid.range_km.shape[1] + columns
    range_km = grid.range_km.reshape(-1).take(flat)
    sample_pass = grid.interval_pass.take(rows)
    tau = grid.aos_tau.take(sample_pass) + grid.sample_index.reshape(-1).take(flat) * grid.step_s
    sun, moon = sky.directions(sample_pass, tau)
    sin_elevation = np.clip(grid.height_km.reshape(-1).take(flat) / range_km, -1.0, 1.0)
    toward = grid.rho_km.reshape(-1, 3).take(flat, axis=0) / range_km[:, None]
    return SkyGeometry(station_of_row.take(rows), toward,
                       np.arcsin(sin_elevation) * DEGREES_PER_RADIAN, sun, moon,
                       sky.moon_phase_deg.take(sample_pass))
