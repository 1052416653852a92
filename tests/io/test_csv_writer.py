"""The CSV writer formats common column types itself: its text must be what pandas writes.

The reference is ``DataFrame.to_csv`` on the same serialised table (times as ISO text), with the
options :func:`planner.io.output.to_csv` documents.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from planner.io.output import _serialisable, to_csv
from planner.run.pipeline import keys_for, load_inputs, passes_for


def pandas_csv(frame: pd.DataFrame, float_digits: int = 6) -> str:
    buffer = io.StringIO()
    _serialisable(frame).to_csv(buffer, index=False, float_format=f"%.{float_digits}f",
                                lineterminator="\n")
    return buffer.getvalue()


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, -0.0, 1e300, -1e-300, 0.5e-6, 2.5e-7, 123456.7890125]))


@st.composite
def tables(draw):
    rows = draw(st.integers(0, 6))
    column = {
        "float": lambda: pd.Series(draw(st.lists(FLOATS, min_size=rows, max_size=rows)),
                                   dtype="float64"),
        "int": lambda: pd.Series(draw(st.lists(st.integers(-2**62, 2**62), min_size=rows,
                                               max_size=rows)), dtype="int64"),
        "bool": lambda: pd.Series(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)),
                                  dtype=bool),
        "Int64": lambda: pd.Series(draw(st.lists(st.one_of(st.none(), st.integers(-10**6, 10**6)),
                                                 min_size=rows, max_size=rows)), dtype="Int64"),
        "str": lambda: pd.Series(draw(st.lists(st.one_of(st.none(), TEXT), min_size=rows,
                                               max_size=rows)), dtype="str"),
        "object": lambda: pd.Series(draw(st.lists(st.one_of(st.none(), TEXT), min_size=rows,
                                                  max_size=rows)), dtype=object),
        "time": lambda: pd.Series(pd.to_datetime(
            draw(st.lists(st.integers(0, 2**41), min_size=rows, max_size=rows)), unit="ms",
            utc=True)),
    }
    kinds = draw(st.lists(st.sampled_from(sorted(column)), min_size=1, max_size=6))
    return pd.DataFrame({f"{kind}_{k}": column[kind]() for k, kind in enumerate(kinds)})


@settings(max_examples=300, deadline=None)
@given(tables(), st.integers(0, 9))
@example(pd.DataFrame({"x": [math.nan, 1.0]}), 6)           # one column: a gap is written ""
@example(pd.DataFrame({"x": [math.nan, -0.0], "n": pd.array([None, 2], dtype="Int64"),
                       "s": pd.Series([None, ","], dtype="str")}), 3)
def test_the_text_is_what_pandas_writes(frame, digits):
    assert to_csv(frame, float_digits=digits) == pandas_csv(frame, digits)


def test_a_hand_made_table_reads_back():
    frame = pd.DataFrame({"station": ["Jinan", 'say "hi", then\nleave', None],
                          "norad": pd.array([53300, None, 1], dtype="Int64"),
                          "night": [True, False, True],
                          "loss_db": [29.8, math.nan, -0.0]})
    text = to_csv(frame)
    assert text.splitlines()[:2] == ["station,norad,night,loss_db",
                                     "Jinan,53300,True,29.800000"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[1] == {"station": 'say "hi", then\nleave', "norad": "", "night": "False",
                       "loss_db": ""}
    assert rows[2]["loss_db"] == "-0.000000" and rows[2]["station"] == ""


def test_other_column_types_are_written_by_pandas():
    frame = pd.DataFrame({"band": pd.Categorical(["a", "b", "a"]),
                          "rate": np.array([1.5, 2.0, 3.25], dtype=np.float32),
                          "mixed": [1, "x", 2.5]})
    assert to_csv(frame) == pandas_csv(frame)


def test_the_pass_and_key_tables_are_what_pandas_writes():
    inputs = load_inputs(None, None, ["Jinan", "Stellenbosch"], "2026-12-01T00:00Z", 2.0, None)
    passes = passes_for(inputs, night_only=False)
    keys = keys_for(inputs, passes).table
    assert len(passes) > 4 and {"sun_elevation_deg", "norad", "night"} <= set(passes.columns)
    for table in (passes, keys):
        assert to_csv(table) == pandas_csv(table)
