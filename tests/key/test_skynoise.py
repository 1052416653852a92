"""The sky background in the key: daylight passes get no key, moonlit passes less.

Real passes of the Micius orbit over the Jinan-1 stations with the Jinan-1 payload; the
references are the physics (an 850 nm night receiver is blinded by the daytime sky) and the
same passes with the sky model off (stations without positions fall back to the constant
night background), which is what the planner did before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from planner.geometry.passes import find_passes
from planner.geometry.tracks import track_arrays
from planner.key.perpass import pass_key_table
from planner.key.skynoise import SampleNoise, line_of_sight
from planner.mission.payloads import get_payload, load_payloads
from planner.timebase import TimeBase


@dataclass
class NoPosition:
    """A station the sky cannot be modelled for: the constant night background only."""

    name: str
    aperture_m: float = 0.28
    zenith_transmittance: float = 0.895
    background_counts_per_s: float = 500.0
    altitude_m: float = 0.0
    clear_sky_probability: list[float] = field(default_factory=lambda: [1.0] * 12)
    receiver_efficiency: float | None = None


@pytest.fixture(scope="module")
def jinan():
    return get_payload(load_payloads(), "jinan-1")


@pytest.fixture(scope="module")
def day_and_night(micius_catalogue, jinan1_stations, jinan):
    stations = jinan1_stations[:3]
    passes = find_passes(micius_catalogue, stations, "2021-05-06T00:00:00Z",
                         "2021-05-30T00:00:00Z")
    passes = passes[passes["max_elevation_deg"] > 40].reset_index(drop=True)
    with_sky = pass_key_table(passes, micius_catalogue, stations, jinan)
    tracks = pd.DataFrame(track_arrays(passes, micius_catalogue, stations))
    without = pass_key_table(passes, tracks.drop(columns="azimuth_deg"),
                             [NoPosition(s.name) for s in stations], jinan)
    return with_sky, without


def test_daylight_passes_get_no_key(day_and_night):
    with_sky, without = day_and_night
    day = with_sky["sun_elevation_deg"] > 10
    assert day.sum() >= 3
    assert (with_sky.loc[day, "secure_bits"] == 0).all()
    assert (with_sky.loc[day, "qber"] > 0.25).all()
    # before the sky model the same passes got the night key
    assert (without.loc[day, "secure_bits"] > 0).all()


def test_dark_passes_keep_their_key_and_the_moon_costs(day_and_night):
    with_sky, without = day_and_night
    dark = with_sky["night"] & (with_sky["moon_elevation_deg"] < -5)
    assert dark.sum() >= 2 and (with_sky.loc[dark, "secure_bits"] > 0).all()
    # the moonless sky only brightens towards the horizon (x3 at 15 deg elevation, KS91
    # eq. 2), which costs the noisy low-elevation seconds: less key, never more
    ratio = with_sky.loc[dark, "secure_bits"] / without.loc[dark, "secure_bits"]
    assert ((ratio > 0.6) & (ratio <= 1.0)).all()
    moonlit = with_sky["night"] & (with_sky["moon_elevation_deg"] > 10)
    # moonlight costs key (the QBERs are not comparable: the sky moves the windows' cuts up,
    # and a pass crossing the Moon may cut above the crossing)
    assert moonlit.sum() >= 5
    assert (with_sky.loc[moonlit, "secure_bits"] < without.loc[moonlit, "secure_bits"]).all()


def test_sample_noise_hand_case(jinan1_stations, jinan):
    # one sample at the zenith of Jinan at local midnight of a new Moon (2021-05-11 ~19 UTC):
    # Y0 = (dark counts of all detectors + night background) x gate, nothing else
    station = jinan1_stations[0]
    noise = SampleNoise([station], jinan)
    start = pd.Timestamp("2021-05-11T16:00:00Z").to_pydatetime()
    timebase = TimeBase(start, 86400.0)
    up = line_of_sight(noise.frames, np.array([0]), np.array([0.0]), np.array([90.0]))
    y0 = noise.y0(timebase, np.array([0.0]), np.array([0]), up, np.array([90.0]))
    expected = (jinan.dark_count_rate_hz * jinan.detector_count
                + station.background_counts_per_s) * jinan.gate_width_ns * 1e-9
    assert float(y0[0]) == pytest.approx(expected, rel=1e-3)


def test_strided_sky_matches_the_sky_at_every_sample(micius_catalogue, jinan1_stations, jinan,
                                                     monkeypatch):
    from planner.key import skynoise

    stations = jinan1_stations[:4]
    passes = find_passes(micius_catalogue, stations, "2024-03-01", "2024-03-04")
    strided = pass_key_table(passes, micius_catalogue, stations, jinan)
    monkeypatch.setattr(skynoise, "SKY_STRIDE", 10**6)
    exact = pass_key_table(passes, micius_catalogue, stations, jinan)
    assert (exact["secure_bits"] > 0).any() and (exact["secure_bits"] == 0).any()
    # within 1% or 1 kbit (a weak pass's best window may shift by a sample)
    np.testing.assert_allclose(strided["secure_bits"], exact["secure_bits"], rtol=0.01,
                               atol=1e3)
    np.testing.assert_allclose(strided["qber"], exact["qber"], rtol=0.01)


def test_passes_across_a_bright_moon_get_the_sky_of_every_sample(jinan, stations, monkeypatch):
    # two Stellenbosch passes whose line of sight passes 0.3 and 0.6 deg from a 84-99% lit
    # Moon: the moonlight scattered by aerosols grows as 1/separation^2 there (KS91), a spike
    # seconds wide that the sky modelled every SKY_STRIDE samples and interpolated stepped
    # over (the first pass got 5.8x its key, 15 kbit too much, the second 8% too little)
    from planner.elements.elementsets import read_catalogue
    from planner.io.resources import bundled_path
    from planner.key import skynoise
    from planner.mission.stations import select_stations

    catalogue = read_catalogue(bundled_path("tle_data/jinan1_representative.tle"))
    stellenbosch = select_stations(stations, ["Stellenbosch"])
    passes = pd.concat([find_passes(catalogue, stellenbosch, day, f"{day[:8]}{int(day[8:]) + 1}")
                        for day in ("2027-04-24", "2027-06-19")])
    passes = passes[passes["moon_separation_deg"] < 1.0].reset_index(drop=True)
    assert len(passes) == 2 and (passes["moon_illumination"] > 0.8).all()
    strided = pass_key_table(passes, catalogue, stellenbosch, jinan)
    monkeypatch.setattr(skynoise, "SKY_STRIDE", 10**6)
    exact = pass_key_table(passes, catalogue, stellenbosch, jinan)
    # within 1% or 1 kbit, as for any pass (the first is a weak one, a few kbit at the
    # finite-key threshold)
    np.testing.assert_allclose(strided["secure_bits"], exact["secure_bits"], rtol=0.01,
                               atol=1e3)
    np.testing.assert_allclose(strided["qber"], exact["qber"], rtol=0.01)


def _row_knots(starts, width, count):
    """Each row's knots [samples of the pass]: every 20 samples from the row's start and the
    row's end (the next row's start, or the pass's last sample)."""
    rows = []
    for start in starts:
        inside = [k for k in range(start, start + width, 20) if k < count]
        rows.append(sorted({*inside, min(start + width, count - 1)}))
    return rows


def _through_knots(samples, knots, values):
    """The sky between one row's knots: on each piece the parabola (Lagrange's form) through
    its two knots and the next knot of the row (for the last piece, the one before), or the
    line through its knots where the row has no other knot."""
    out = np.empty(len(samples))
    for i, x in enumerate(samples):
        g = min(max(np.searchsorted(knots, x, side="right") - 1, 0), len(knots) - 2)
        third = g + 2 if g + 2 < len(knots) and knots[g + 2] > knots[g + 1] else g - 1
        chosen = [g, g + 1] + ([third] if third >= 0 else [])
        xs = [knots[j] for j in chosen]
        out[i] = sum(values[knots[j]] * np.prod([(x - xs[m]) / (xs[n] - xs[m])
                                                 for m in range(len(xs)) if m != n])
                     for n, j in enumerate(chosen))
    return out


@pytest.mark.parametrize("step_s", [1.0, 1.2])
def test_grid_sky_is_the_sky_at_every_stride_of_a_pass_and_parabolas_between(
        micius_catalogue, jinan1_stations, jinan, monkeypatch, step_s):
    # passes far from the Moon: the sky modelled every SKY_STRIDE samples from the start of
    # each row of the grid (an SGP4 interval of 60 s: 60 or 50 samples) and at each pass's
    # last sample, parabolas through three knots between
    from planner.geometry.tracks import track_grids
    from planner.key import skynoise

    passes = find_passes(micius_catalogue, jinan1_stations[:4], "2024-03-01", "2024-03-03")
    passes = passes[passes["moon_separation_deg"] > 40.0]
    grid = next(track_grids(passes, micius_catalogue, jinan1_stations, step_s=step_s))
    noise = SampleNoise(grid.stations, jinan)
    last = grid.aos_tau + (grid.n_samples - 1) * step_s
    sky = noise.pass_sky(grid.timebase, grid.aos_tau, last, grid.station_of_pass)
    station = grid.station_of_pass[grid.interval_pass]
    strided = noise.grid_y0(grid, sky, station)
    monkeypatch.setattr(skynoise, "SKY_STRIDE", 10**6)
    exact = noise.grid_y0(grid, sky, station)
    width = grid.sample_index.shape[1]
    assert grid.n_samples.size >= 5 and width > 2 * 20
    for index, count in enumerate(grid.n_samples):
        rows = grid.interval_pass == index
        got, truth = strided[rows][grid.valid[rows]], exact[rows][grid.valid[rows]]
        for row_knots in _row_knots(grid.sample_index[rows, 0], width, count):
            samples = np.arange(row_knots[0], min(row_knots[0] + width, count))
            expected = _through_knots(samples, row_knots, truth)
            np.testing.assert_allclose(got[samples], expected, rtol=1e-9)
    assert not np.allclose(strided[grid.valid], exact[grid.valid], rtol=1e-6)


def test_the_sky_places_the_sun_and_moon_as_the_pass_finder_does(jinan1_stations, jinan):
    # the sky's Moon has spline nodes 12 h apart, the pass finder's 3 h, and the sky's Sun and
    # Moon share one precession-nutation frame on nodes 8 days apart (the tracks' own: 2 days):
    # over a year they agree far below what the sky models resolve
    from datetime import UTC, datetime

    from planner.geometry.sky import MoonTrack, SunTrack, angular_separation_deg

    station = jinan1_stations[0]
    noise = SampleNoise([station], jinan, span_s=365 * 86400.0)
    timebase = TimeBase(datetime(2026, 11, 20, tzinfo=UTC), 366 * 86400.0)
    start = np.linspace(0.0, 365 * 86400.0, 5001)
    sky = noise.pass_sky(timebase, start, start + 300.0, np.zeros(start.size, dtype=int))
    position = noise.frames.position_km[0]
    for placed, track in ((sky.moon, MoonTrack), (sky.sun, SunTrack)):
        expected = track(timebase, -86400.0, 366 * 86400.0).direction(start, position)
        assert angular_separation_deg(placed[:, 0], expected).max() < 1e-4
