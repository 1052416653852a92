"""The vendored Natural Earth land: the TopoJSON decoding against a hand-made topology, and the
data against places known to be on land or at sea."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from planner.report.figures.coastline import coastline_xy, land_rings, land_source

TOOL = Path(__file__).parents[2] / "tools" / "vendor_land_110m.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("vendor_land_110m", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_topojson_arcs_are_decoded_and_joined():
    """Two arcs make a unit square: arc 0 runs (0,0)->(1,0)->(1,1), arc 1 runs (0,0)->(0,1)
    ->(1,1) and is walked backwards (~1); quantized with scale 0.5 and offset (10, 20)."""
    tool = load_tool()
    topology = {"transform": {"scale": [0.5, 0.5], "translate": [10, 20]},
                "arcs": [[[0, 0], [2, 0], [0, 2]], [[0, 0], [0, 2], [2, 0]]],
                "objects": {"land": {"type": "GeometryCollection", "geometries": [
                    {"type": "Polygon", "arcs": [[0, ~1]]}]}}}
    (ring,) = tool.land_rings(topology)
    np.testing.assert_allclose(ring, [[10, 20], [11, 20], [11, 21], [10, 21], [10, 20]])


def inside(lon: float, lat: float) -> bool:
    """Even-odd ray casting over every ring (holes included)."""
    count = 0
    for ring in land_rings():
        x, y = ring[:, 0], ring[:, 1]
        x2, y2 = np.roll(x, -1), np.roll(y, -1)
        crosses = (y > lat) != (y2 > lat)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x + (lat - y) * (x2 - x) / (y2 - y)
        count += int(np.sum(crosses & (lon < at)))
    return count % 2 == 1


@pytest.mark.parametrize(("place", "lon", "lat", "land"), [
    ("Beijing", 116.4, 39.9, True), ("Stellenbosch", 18.86, -33.93, True),
    ("Ngari", 80.03, 32.33, True), ("Madrid", -3.7, 40.4, True),
    ("Alice Springs", 133.9, -23.7, True), ("Manaus", -60.0, -3.1, True),
    ("mid-Pacific", -150.0, 0.0, False), ("South Atlantic", -20.0, -30.0, False),
    ("Caspian Sea (a hole in Eurasia)", 51.0, 42.0, False), ("Indian Ocean", 80.0, -20.0, False),
])
def test_land_and_sea(place, lon, lat, land):
    assert inside(lon, lat) == land, place


def test_source_recorded_and_line_broken_at_the_antimeridian():
    assert "Natural Earth 1:110m" in land_source() and "2.0.2" in land_source()
    _, lon = coastline_xy()
    assert 4_000 < np.isfinite(lon).sum() < 10_000
    finite = np.isfinite(lon[1:]) & np.isfinite(lon[:-1])
    assert np.abs(np.diff(lon)[finite]).max() < 180.0
    on_cut = (np.abs(lon[1:]) >= 180.0) & (np.abs(lon[:-1]) >= 180.0)
    assert not on_cut.any()
