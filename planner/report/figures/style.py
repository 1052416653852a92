"""Shared look of the report's figures: template, fonts, station colours, time axes.

Conventions
-----------
* Times go to plotly as milliseconds since 1970-01-01 UTC on axes of type ``date``: numeric
  arrays are written as compact binary (base64) blocks, where ISO strings would cost ~30 bytes a
  point, and plotly shows them as UTC wall-clock times (it applies no time zone).
* Key is shown in kbit (per pass) or Mbit (totals), never in raw bits.
* Stations keep one colour in every figure (:func:`station_colours`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

KBIT = 1e3
MBIT = 1e6
EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius [km] (IUGG), for footprints drawn on a sphere."""

TEMPLATE = go.layout.Template(layout={
    "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "closest",
    "xaxis": {"gridcolor": "#ebebeb", "linecolor": "#bbb", "ticks": "outside",
              "tickcolor": "#bbb", "automargin": True, "zerolinecolor": "#ccc"},
    "yaxis": {"gridcolor": "#ebebeb", "linecolor": "#bbb", "ticks": "outside",
              "tickcolor": "#bbb", "automargin": True, "zerolinecolor": "#ccc"},
    "polar": {"bgcolor": "white"},
    "hoverlabel": {"align": "left"},
})
"""A small template (plotly's own copy ~7 kB into every figure and cost time to apply)."""

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
        "size": 13, "color": "#222"}
DAY_GREY = "#b8b8b8"
LEGEND_ONLY_DAY_PASSES = 1500
"""With more passes than this, the timeline hides daylight passes until asked (they would
bury the night passes at the scale of months)."""


AVOID_COLOURS = ("#ffffff", DAY_GREY, "#5b6f8a", "#d62728", "#111111")
"""Colours the figures use for other things (background, daylight passes, the ground track,
passes in view, weather marks); station colours keep away from them."""


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB colours in [0, 1], shape (..., 3).

    References
    ----------
    IEC 61966-2-1:1999 (sRGB transfer function and primaries); CIE 15:2004 (L*a*b*).
    """
    rgb = np.asarray(rgb, float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124564, 0.2126729, 0.0193339],
                             [0.3575761, 0.7151522, 0.1191920],
                             [0.1804375, 0.0721750, 0.9503041]])
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of CIE L*a*b* colours (shape (..., 3), broadcast).

    Unlike the Euclidean distance in L*a*b* (CIE76), it does not overstate differences among
    saturated blues and purples (where two blues 27 apart in CIE76 look alike) and weighs
    lightness, chroma and hue as the eye does.

    References
    ----------
    CIE 142-2001; G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula:
    implementation notes, supplementary test data, and mathematical observations", Color
    Research and Application 30, 21-30 (2005).
    """
    lab1, lab2 = np.asarray(lab1, float), np.asarray(lab2, float)
    L1, a1, b1 = np.moveaxis(lab1, -1, 0)
    L2, a2, b2 = np.moveaxis(lab2, -1, 0)
    c7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c7 / (c7 + 25.0 ** 7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1 = np.degrees(np.arctan2(b1, a1)) % 360
    h2 = np.degrees(np.arctan2(b2, a2)) % 360
    grey = c1 * c2 == 0
    dh = (h2 - h1 + 180) % 360 - 180
    dh = np.where(grey, 0.0, dh)
    d_hue = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    mean_l, mean_c = (L1 + L2) / 2, (c1 + c2) / 2
    mean_h = np.where(np.abs(h1 - h2) > 180, (h1 + h2 + 360) / 2, (h1 + h2) / 2) % 360
    mean_h = np.where(grey, h1 + h2, mean_h)
    t = (1 - 0.17 * np.cos(np.radians(mean_h - 30)) + 0.24 * np.cos(np.radians(2 * mean_h))
         + 0.32 * np.cos(np.radians(3 * mean_h + 6)) - 0.20 * np.cos(np.radians(4 * mean_h - 63)))
    rotation = 30 * np.exp(-(((mean_h - 275) / 25) ** 2))
    rc = 2 * np.sqrt(mean_c ** 7 / (mean_c ** 7 + 25.0 ** 7))
    sl = 1 + 0.015 * (mean_l - 50) ** 2 / np.sqrt(20 + (mean_l - 50) ** 2)
    sc, sh = 1 + 0.045 * mean_c, 1 + 0.015 * mean_c * t
    rt = -np.sin(np.radians(2 * rotation)) * rc
    dl, dc, dhh = (L2 - L1) / sl, (c2 - c1) / sc, d_hue / sh
    return np.sqrt(dl ** 2 + dc ** 2 + dhh ** 2 + rt * dc * dhh)


def _hex_to_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0


@cache
def distinct_colours(count: int) -> tuple[str, ...]:
    """``count`` colours as far apart as the eye sees them, for categories on white.

    Greedy farthest-point selection (Glasbey's method) from an sRGB grid, restricted to colours
    readable on white (L* 30-75) and clearly coloured (chroma >= 25), each as far as possible
    from those already chosen and from :data:`AVOID_COLOURS` in CIEDE2000 (:func:`ciede2000`;
    the Euclidean CIE76 distance took a pure blue for far from D3's blue, and pinks for apart).
    The first is D3's blue; the sequence is fixed, so station colours do not change from run
    to run, and any prefix is the palette of fewer stations. Closest pair (CIEDE2000): about
    28 for 7 colours, 24 for 12, 16 for 24, 13 for 40; for colours closer than
    :data:`CLOSE_DELTA_E` :func:`station_marks` adds marker symbols and line dashes.

    References
    ----------
    C. Glasbey, G. van der Heijden, V. F. K. Toh, A. Gray, "Colour displays for categorical
    images", Color Research and Application 32, 304-309 (2007).
    """
    levels = np.arange(0, 256, 15) / 255.0
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = srgb_to_lab(grid)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    keep = (lab[:, 0] >= 30) & (lab[:, 0] <= 75) & (chroma >= 25)
    grid, lab = grid[keep], lab[keep]
    nearest = np.min([ciede2000(lab, srgb_to_lab(_hex_to_rgb(c))) for c in AVOID_COLOURS],
                     axis=0)
    chosen = [int(np.argmin(ciede2000(lab, srgb_to_lab(_hex_to_rgb("#1f77b4")))))]
    for _ in range(count - 1):
        nearest = np.minimum(nearest, ciede2000(lab, lab[chosen[-1]]))
        chosen.append(int(np.argmax(nearest)))
    return tuple("#{:02x}{:02x}{:02x}".format(*np.round(grid[i] * 255).astype(int))
                 for i in chosen[:count])


def station_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per station, stable in the order given, distinct for any number of
    stations (:func:`distinct_colours`)."""
    return dict(zip(names, distinct_colours(len(names)), strict=True))


CLOSE_DELTA_E = 20.0
"""Station colours closer than this (CIEDE2000) get different marker symbols, line dashes and
bar patterns (:func:`station_marks`); the palette keeps 12 stations farther apart."""

SYMBOLS = ("circle", "square", "diamond", "triangle-up")
DASHES = ("solid", "dash", "dot", "dashdot")
PATTERNS = ("", "/", ".", "x")


def station_marks(colours: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``symbol``, ``dash`` and ``pattern`` (plotly marker symbol, line dash, bar pattern
    shape) of each station of ``colours``, so that two stations whose colours are closer than
    :data:`CLOSE_DELTA_E` differ in all three.

    In the order given, each station takes the first mark (circle, solid, plain first) that no
    earlier station of a close colour has, or else the mark whose closest same-marked colour is
    farthest. Stable in that order; with the palette's 12 colours or fewer, all circles.
    """
    names = list(colours)
    lab = srgb_to_lab(np.array([_hex_to_rgb(colours[n]) for n in names])) if names else None
    chosen: list[int] = []
    for k in range(len(names)):
        gaps = np.full(len(SYMBOLS), np.inf)
        if k:
            distance = ciede2000(lab[:k], lab[k])
            for group in range(len(SYMBOLS)):
                same = [i for i in range(k) if chosen[i] == group]
                if same:
                    gaps[group] = float(distance[same].min())
        ok = np.flatnonzero(gaps >= CLOSE_DELTA_E)
        chosen.append(int(ok[0]) if ok.size else int(np.argmax(gaps)))
    return {n: {"symbol": SYMBOLS[g], "dash": DASHES[g], "pattern": PATTERNS[g]}
            for n, g in zip(names, chosen, strict=True)}


@cache
def _marks(colours: tuple[tuple[str, str], ...]) -> dict[str, dict[str, str]]:
    return station_marks(dict(colours))


def mark(colours: Mapping[str, str], station: str, kind: str) -> str:
    """One station's ``symbol``, ``dash`` or ``pattern`` (:func:`station_marks`)."""
    marks = _marks(tuple((str(k), v) for k, v in colours.items()))
    default = {"symbol": SYMBOLS[0], "dash": DASHES[0], "pattern": PATTERNS[0]}
    return marks.get(str(station), default)[kind]


def epoch_ms(times) -> np.ndarray:
    """Milliseconds since 1970-01-01 UTC of UTC timestamps (float64, NaN for missing)."""
    values = pd.to_datetime(pd.Series(times), utc=True)
    ns = values.to_numpy("datetime64[ns]").astype(np.int64).astype(float)
    ns[values.isna().to_numpy()] = np.nan
    return ns / 1e6


def style_figure(fig: go.Figure, title: str, *, height: int, legend_title: str | None = None,
                 subtitle: str | None = None) -> go.Figure:
    """Apply the report's template, fonts, title (with an optional subtitle) and legend box."""
    text = f"<b>{title}</b>" + (f"<br><sup>{subtitle}</sup>" if subtitle else "")
    fig.update_layout(
        template=TEMPLATE, height=height, font=FONT,
        title={"text": text, "x": 0.01, "xanchor": "left", "font": {"size": 17}},
        margin={"l": 80, "r": 30, "t": 90 if subtitle else 70, "b": 70},
        legend={"title": {"text": legend_title or ""}, "bgcolor": "rgba(255,255,255,0.85)",
                "bordercolor": "#ddd", "borderwidth": 1},
        hoverlabel={"font": {"size": 13}},
    )
    return fig


def date_axis(title: str = "time [UTC]") -> dict[str, Any]:
    """Settings of a UTC time axis."""
    return {"type": "date", "title": {"text": title}, "showgrid": True,
            "hoverformat": "%Y-%m-%d %H:%M:%S"}


def ordered_stations(stations: pd.Series, colours: Mapping[str, str]) -> list[str]:
    """The stations present, in the report's station order (the order of ``colours``)."""
    present = set(stations.astype(str))
    return [s for s in colours if s in present] + sorted(present - set(colours))


def f32(values) -> np.ndarray:
    """Single precision: half the bytes in the page, more than enough to draw."""
    return np.asarray(values, dtype=np.float32)

