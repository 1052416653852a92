"""The streamed JSON document equals ``to_json`` byte for byte, and needs far less memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.io.jsonstream import json_chunks
from planner.io.output import to_json
from tests.conftest import MICIUS_TLE, run

_CELLS = {
    "count": st.integers(-(2**40), 2**40),
    "value": st.floats(allow_nan=True, allow_infinity=True),
    "name": st.none() | st.text(max_size=8),
    "flag": st.booleans(),
}


@st.composite
def frames(draw) -> pd.DataFrame:
    rows = draw(st.integers(0, 12))
    data = {column: draw(st.lists(cells, min_size=rows, max_size=rows))
            for column, cells in _CELLS.items()}
    frame = pd.DataFrame(data)
    frame["when"] = pd.Timestamp("2026-11-24", tz="UTC") + pd.to_timedelta(
        np.arange(rows) * 1.2345, unit="s")
    return frame


_JSONABLE = st.recursive(st.none() | st.integers() | st.text(max_size=6) | st.booleans(),
                         lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)


@settings(max_examples=100, deadline=None, database=None, derandomize=True)
@given(frames(), frames(), _JSONABLE, st.dictionaries(st.text(max_size=5), _JSONABLE, max_size=4),
       st.integers(1, 5))
def test_chunks_join_to_the_to_json_document(first, second, other, provenance, rows_per_chunk):
    tables = {"passes": first, "notes": other, "keys": second}
    expected = to_json(tables, provenance)
    assert "".join(json_chunks(tables, provenance, rows_per_chunk=rows_per_chunk)) == expected


def _peak_bytes(produce) -> int:
    tracemalloc.start()
    try:
        for _piece in produce():
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streaming_peaks_far_below_the_whole_document():
    rows = 15_000
    table = pd.DataFrame({"satellite": ["MICIUS (QUESS)"] * rows, "norad": 41731,
                          "aos_utc": pd.Timestamp("2026-11-24", tz="UTC")
                          + pd.to_timedelta(np.arange(rows), unit="min"),
                          "max_elevation_deg": np.linspace(10, 90, rows)})
    whole = _peak_bytes(lambda: [to_json({"passes": table}, {})])
    streamed = _peak_bytes(lambda: json_chunks({"passes": table}, {}, rows_per_chunk=1000))
    assert streamed < whole / 5, (streamed, whole)  # one block of rows, not the document


def test_passes_json_on_stdout_is_the_same_document(tmp_path, capsys):
    tle = tmp_path / "micius.tle"
    tle.write_text(MICIUS_TLE)
    args = ["passes", "--tle", tle, "--start", "2021-04-27T12:00:00Z", "--days", "2", "--all",
            "--allow-stale", "-f", "json"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    code, _, err = run([*args, "-o", tmp_path / "p.json"], capsys)
    assert code == 0, err
    assert out == (tmp_path / "p.json").read_text()
    assert out.startswith('{\n "provenance": {') and out.endswith("\n}\n")
