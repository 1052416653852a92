"""Plain CSV and JSON text of tables: header first, ISO UTC times, calendar dates as dates."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd

from planner.io.output import sidecar_path, sidecar_text, to_csv, to_json


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "station": ["Graz", "Beijing"],
        "aos_utc": pd.to_datetime(["2026-11-24T21:03:05.1234Z", "2026-11-25T00:00:00Z"],
                                  format="ISO8601"),
        "night_date": np.array(["2026-11-24", "2026-11-25"], dtype="datetime64[D]"),
        "secure_bits": [1.5e5, np.nan],
    })


def test_csv_is_plain_and_reads_back_with_no_options():
    text = to_csv(_table(), {"generator": "qkdplan test", "stations": ["Graz", "Beijing"]})
    assert text.splitlines()[0] == "station,aos_utc,night_date,secure_bits"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {"station": "Graz", "aos_utc": "2026-11-24T21:03:05.123Z",
                       "night_date": "2026-11-24", "secure_bits": "150000.000000"}
    assert rows[1]["night_date"] == "2026-11-25" and rows[1]["secure_bits"] == ""
    back = pd.read_csv(io.StringIO(text))
    assert list(back["station"]) == ["Graz", "Beijing"]


def test_comments_only_when_asked():
    text = to_csv(_table(), {"generator": "qkdplan test", "stations": ["Graz"]}, comments=True)
    assert text.splitlines()[:2] == ["# generator: qkdplan test", '# stations: ["Graz"]']
    assert len(pd.read_csv(io.StringIO(text), comment="#")) == 2


def test_json_carries_provenance_and_the_same_text_values():
    document = json.loads(to_json({"rows": _table()}, {"generator": "qkdplan test"}))
    assert document["provenance"] == {"generator": "qkdplan test"}
    assert document["rows"][0]["night_date"] == "2026-11-24"
    assert document["rows"][1]["aos_utc"] == "2026-11-25T00:00:00.000Z"
    assert document["rows"][1]["secure_bits"] is None


def test_sidecar_names_its_file(tmp_path):
    path = tmp_path / "passes.csv"
    assert sidecar_path(path) == tmp_path / "passes.csv.meta.json"
    meta = json.loads(sidecar_text({"generator": "qkdplan test"}, path))
    assert meta == {"file": "passes.csv", "provenance": {"generator": "qkdplan test"}}
