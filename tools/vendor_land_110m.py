"""Convert Natural Earth's 1:110m land (TopoJSON, world-atlas package) to the report's map file.

Run once when the vendored file should change::

    cd "$(mktemp -d)" && npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python tools/vendor_land_110m.py package/land-110m.json planner/report/data/land_110m.json

The TopoJSON arcs are quantized and delta-encoded; each polygon ring is a chain of arcs (a
negative index ``~i`` walks arc ``i`` backwards, and each arc after the first repeats the
previous arc's last point). The output is a small JSON file: the source, its version and licence,
and every ring as a flat list ``[lon0, lat0, lon1, lat1, ...]`` [deg], rounded to 0.001 deg
(the quantization step of the source is 0.0036 deg by 0.0017 deg).

Natural Earth data is in the public domain; world-atlas (ISC licence) builds the TopoJSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

SOURCE = {
    "data": "Natural Earth 1:110m physical vectors, land (public domain), "
            "https://www.naturalearthdata.com/downloads/110m-physical-vectors/",
    "package": "world-atlas",
    "version": "2.0.2",
    "file": "land-110m.json",
    "package_licence": "ISC, Copyright 2013-2019 Michael Bostock",
}


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """Every arc as an (N, 2) array of longitude, latitude [deg]."""
    scale = np.asarray(topology["transform"]["scale"], float)
    translate = np.asarray(topology["transform"]["translate"], float)
    return [np.cumsum(np.asarray(arc, float), axis=0) * scale + translate
            for arc in topology["arcs"]]


def ring_points(ring: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    """The points of one ring, arcs joined (shared end points once)."""
    pieces = []
    for position, index in enumerate(ring):
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        pieces.append(arc if position == 0 else arc[1:])
    return np.concatenate(pieces)


def land_rings(topology: dict) -> list[np.ndarray]:
    """Every ring (outer boundaries and holes) of the ``land`` object."""
    arcs = decode_arcs(topology)
    rings = []
    for geometry in topology["objects"]["land"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            rings += [ring_points(ring, arcs) for ring in polygon]
    return rings


def main(source: str, target: str) -> None:
    rings = land_rings(json.loads(Path(source).read_text()))
    document = {**SOURCE, "units": "deg", "rings": [
        [round(float(v), 3) for v in ring.ravel()] for ring in rings]}
    Path(target).write_text(json.dumps(document, separators=(",", ":")) + "\n")
    points = sum(len(r) for r in rings)
    print(f"{len(rings)} rings, {points} points -> {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
