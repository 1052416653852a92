"""Colours told apart: the station palette for 1 to 40 stations and the sweep plot's two lines,
measured in CIEDE2000 computed here from the published formula (Sharma, Wu and Dalal 2005),
independently of the planner's own implementation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from planner.report.figures.budget import monthly_figure
from planner.report.figures.keys import key_elevation_figure
from planner.report.figures.style import (
    ciede2000,
    distinct_colours,
    srgb_to_lab,
    station_colours,
    station_marks,
)
from planner.report.figures.sweep import MEASURES, sweep_figure
from planner.run.sweep import AXES


def delta_e00(lab1, lab2) -> float:
    """CIEDE2000, term by term as in Sharma, Wu and Dalal (2005), eqs. (1)-(22)."""
    (l1, a1, b1), (l2, a2, b2) = (map(float, lab1)), (map(float, lab2))
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)

    def hue(b, ap):
        return 0.0 if b == 0 and ap == 0 else math.degrees(math.atan2(b, ap)) % 360

    h1p, h2p = hue(b1, a1p), hue(b2, a2p)
    dlp, dcp = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    elif h2p - h1p > 180:
        dhp = h2p - h1p - 360
    else:
        dhp = h2p - h1p + 360
    d_big_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp) / 2)
    lbp, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hbp = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbp = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        hbp = (h1p + h2p + 360) / 2
    else:
        hbp = (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(hbp - 30)) + 0.24 * math.cos(math.radians(2 * hbp))
         + 0.32 * math.cos(math.radians(3 * hbp + 6))
         - 0.20 * math.cos(math.radians(4 * hbp - 63)))
    d_theta = 30 * math.exp(-((hbp - 275) / 25) ** 2)
    r_c = 2 * math.sqrt(cbp ** 7 / (cbp ** 7 + 25 ** 7))
    s_l = 1 + 0.015 * (lbp - 50) ** 2 / math.sqrt(20 + (lbp - 50) ** 2)
    s_c = 1 + 0.045 * cbp
    s_h = 1 + 0.015 * cbp * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt((dlp / s_l) ** 2 + (dcp / s_c) ** 2 + (d_big_h / s_h) ** 2
                     + r_t * (dcp / s_c) * (d_big_h / s_h))


SHARMA = [  # pairs of Sharma, Wu and Dalal's supplementary test data, with their ΔE00
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_both_ciede2000_implementations_match_the_published_test_data(lab1, lab2, expected):
    assert delta_e00(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert float(ciede2000(np.array(lab1), np.array(lab2))) == pytest.approx(expected, abs=1e-4)
    assert delta_e00(lab2, lab1) == pytest.approx(expected, abs=1e-4)  # symmetric


def _lab(colour: str) -> np.ndarray:
    return srgb_to_lab(np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0)


def closest(colours) -> float:
    return min((delta_e00(_lab(a), _lab(b)) for a, b in itertools.combinations(colours, 2)),
               default=math.inf)


def minimum_delta_e00(count: int) -> float:
    """What the palette must keep between its closest two colours (CIEDE2000)."""
    return 45 if count <= 2 else 25 if count <= 7 else 20 if count <= 12 else \
        15 if count <= 24 else 12


@pytest.mark.parametrize("count", range(1, 41))
def test_station_colours_stay_apart_for_1_to_40_stations(count):
    colours = distinct_colours(count)
    assert len(set(colours)) == count
    assert closest(colours) >= minimum_delta_e00(count)
    assert all(30 <= _lab(c)[0] <= 75 for c in colours)  # readable on white


@pytest.mark.parametrize("count", range(2, 41))
def test_close_colours_differ_in_symbol_and_dash(count):
    names = [f"Site{k + 1}" for k in range(count)]
    colours = station_colours(names)
    marks = station_marks(colours)
    for a, b in itertools.combinations(names, 2):
        if delta_e00(_lab(colours[a]), _lab(colours[b])) < 20:
            assert marks[a]["symbol"] != marks[b]["symbol"], (a, b)
            assert marks[a]["dash"] != marks[b]["dash"], (a, b)
            assert marks[a]["pattern"] != marks[b]["pattern"], (a, b)


def test_the_36_station_pinks_are_apart():
    colours = station_colours([f"Site{k + 1}" for k in range(36)])
    assert delta_e00(_lab(colours["Site11"]), _lab(colours["Site28"])) >= 20


def test_figures_of_many_stations_use_the_marks():
    names = [f"Site{k + 1}" for k in range(36)]
    colours = station_colours(names)
    rng = np.random.default_rng(1)
    keys = pd.DataFrame({
        "station": np.repeat(names, 2), "tca_utc": pd.Timestamp("2026-11-24", tz="UTC"),
        "max_elevation_deg": rng.uniform(20, 80, 72), "secure_bits": rng.uniform(1e5, 1e6, 72),
        "expected_secure_bits": 5e4, "qber": 0.02, "secure_bits_asymptotic": 2e6})
    fig = key_elevation_figure(keys, colours)
    marks = station_marks(colours)
    symbols = {t.name: t.marker.symbol for t in fig.data if t.name in colours}
    assert symbols == {n: marks[n]["symbol"] for n in names}
    assert symbols["Site1"] == "circle" and len(set(symbols.values())) > 1
    monthly = pd.DataFrame([np.full(36, 1e6)], index=["2026-11"], columns=names)
    fig = monthly_figure(monthly, None, colours, band_label="")
    assert [t.marker.pattern.shape for t in fig.data] == [marks[n]["pattern"] for n in names]
    few = station_colours(names[:7])
    assert {m["symbol"] for m in station_marks(few).values()} == {"circle"}


def test_the_sweep_plots_two_lines_are_told_apart():
    table = pd.DataFrame({"axis": "aperture_m", "value": [0.2, 0.5, 1.0],
                          "secure_bits": [1e6, 4e6, 9e6],
                          "expected_secure_bits": [5e5, 2e6, 4.5e6]})
    fig = sweep_figure(table, AXES)
    lines = {t.legendgroup: t for t in fig.data}
    assert len(lines) == len(MEASURES) == 2
    first, second = (lines[m] for m, _ in MEASURES)
    assert delta_e00(_lab(first.line.color), _lab(second.line.color)) >= 40
    hue = [math.degrees(math.atan2(lab[2], lab[1])) % 360
           for lab in (_lab(first.line.color), _lab(second.line.color))]
    assert abs((hue[0] - hue[1] + 180) % 360 - 180) >= 90  # not two blues
    assert first.line.dash != second.line.dash
    assert first.marker.symbol != second.marker.symbol
