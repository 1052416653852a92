"""``qkdplan constellation passes --format json`` streams the document ``passes`` writes."""

from __future__ import annotations

import io
import json
import sys

import pandas as pd

from planner.elements.walker import walker_delta, walker_tle_text
from tests.conftest import run

START = pd.Timestamp("2026-11-20T00:00Z").to_pydatetime()


def test_constellation_json_holds_the_csv_rows_and_is_written_in_pieces(tmp_path, capsys,
                                                                       monkeypatch):
    elements = tmp_path / "walker.tle"
    elements.write_text(walker_tle_text(walker_delta(2, 2, 1, 500.0, "sso", START)))
    common = ["constellation", "passes", "--tle", elements, "--station", "Jinan", "--station",
              "Stellenbosch", "--start", "2026-11-20", "--days", "2", "--all"]
    code, out, err = run([*common, "--format", "csv"], capsys)
    assert code == 0, err
    rows = pd.read_csv(io.StringIO(out))
    writes = []
    write = sys.stdout.write
    monkeypatch.setattr(sys.stdout, "write", lambda text: writes.append(text) or write(text))
    code, out, err = run([*common, "--format", "json"], capsys)
    assert code == 0, err
    document = json.loads(out)
    assert len(rows) > 6 and len(document["passes"]) == len(rows)
    assert [p["aos_utc"] for p in document["passes"]] == rows["aos_utc"].tolist()
    assert document["provenance"]["options"]["executor"] == "inprocess"
    assert len(writes) > 1          # a streamed document: pieces, not one string
