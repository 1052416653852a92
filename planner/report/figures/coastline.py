"""Coastlines for the ground-track map: Natural Earth's 1:110m land, vendored with the package.

``planner/report/data/land_110m.json`` holds the land polygons of Natural Earth's 1:110m
physical vectors (public domain) as built by the world-atlas package (version and licence in the
file), converted once by ``tools/vendor_land_110m.py``. The page inlines them: nothing is
fetched when the report is opened.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["coastline_xy", "land_rings", "land_source"]

_FILE = "land_110m.json"


@cache
def _document() -> dict:
    return json.loads(resources.files("planner.report").joinpath("data", _FILE).read_text())


def land_source() -> str:
    """One line naming the data, its package and version (for legends and provenance)."""
    document = _document()
    return f"Natural Earth 1:110m land ({document['package']} {document['version']})"


def land_rings() -> list[np.ndarray]:
    """Every land ring as an (N, 2) array of longitude, latitude [deg]."""
    return [np.asarray(ring, float).reshape(-1, 2) for ring in _document()["rings"]]


@cache
def coastline_xy() -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes [deg] of every coastline, rings separated by NaN.

    Natural Earth cuts land at the antimeridian; the cut edges (both ends at +-180 deg) and
    jumps across it are not coastline, so the line is broken there.
    """
    lats, lons = [], []
    for ring in land_rings():
        lon, lat = ring[:, 0], ring[:, 1]
        on_cut = np.abs(lon) >= 180.0 - 1e-9
        breaks = np.flatnonzero((on_cut[1:] & on_cut[:-1]) | (np.abs(np.diff(lon)) > 180.0)) + 1
        lats += [np.insert(lat, breaks, np.nan), [np.nan]]
        lons += [np.insert(lon, breaks, np.nan), [np.nan]]
    return np.concatenate(lats), np.concatenate(lons)
