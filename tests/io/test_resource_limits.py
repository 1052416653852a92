"""Inputs too large to be what they claim are refused at once, with one line, before parsing."""

from __future__ import annotations

import pytest

from planner.errors import PlannerInputError
from planner.io.readers import read_input_text
from planner.io.yamlfile import MAX_YAML_BYTES
from tests.conftest import assert_one_line_error, run


def test_a_million_point_horizon_mask_is_refused_before_parsing(tmp_path, capsys):
    """It took 224 s and 1.8 GB before its points were checked; now the size says no."""
    points = "".join(f"      - [{i * 0.00036:.5f}, 5.0]\n" for i in range(1_000_000))
    path = tmp_path / "stations.yaml"
    path.write_text("stations:\n  - name: Alpha\n    horizon_mask:\n" + points)
    assert path.stat().st_size > MAX_YAML_BYTES
    code, out, err = run(["stations", "--stations", path], capsys)
    assert_one_line_error(code, out, err, str(path), "larger than the 2 MB limit")


def test_reader_stops_past_the_limit(tmp_path):
    path = tmp_path / "big.tle"
    path.write_bytes(b"#" * 1001)
    with pytest.raises(PlannerInputError, match=r"larger than the 0\.001 MB limit"):
        read_input_text(path, PlannerInputError, kind="element-set file", max_bytes=1000)
    path.write_bytes(b"#" * 1000)
    assert read_input_text(path, PlannerInputError, max_bytes=1000) == "#" * 1000
