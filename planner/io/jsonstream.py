"""The JSON document of :func:`planner.io.output.to_json`, produced piece by piece.

``to_json`` builds every row as a dict and the whole text as one string: for 417,000 passes
that peaked at 2 GB. :func:`json_chunks` yields the same bytes a few thousand rows at a time, so
a writer (:func:`planner.io.atomic.write_atomic`, or standard output) holds one block of rows at
once besides the table itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from planner.io.output import records

__all__ = ["json_chunks"]

#: Rows converted and encoded at a time.
ROWS_PER_CHUNK = 5000


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=1, default=str, allow_nan=False)


def _indented(text: str, prefix: str) -> str:
    """``text`` with every line but the first indented by ``prefix`` (JSON strings hold no raw
    line breaks, so every line break is the encoder's)."""
    return text.replace("\n", "\n" + prefix)


def json_chunks(tables: Mapping[str, pd.DataFrame | Any], provenance: Mapping[str, Any], *,
                rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """Yield the text of ``to_json(tables, provenance)`` in pieces; joined, they are equal.

    Parameters
    ----------
    tables
        Name -> table (rows become objects) or any JSON-ready value, as for ``to_json``.
    provenance
        The ``provenance`` object, first in the document.
    rows_per_chunk
        Rows encoded per piece.
    """
    document: dict[str, Any] = {"provenance": dict(provenance), **tables}
    yield "{"
    for position, (name, value) in enumerate(document.items()):
        yield ("," if position else "") + "\n " + _dumps(name) + ": "
        if not isinstance(value, pd.DataFrame):
            yield _indented(_dumps(value), " ")
            continue
        if value.empty:
            yield "[]"
            continue
        yield "["
        for first in range(0, len(value), rows_per_chunk):
            rows = records(value.iloc[first:first + rows_per_chunk])
            yield ("," if first else "") + "".join(
                ("," if i else "") + "\n  " + _indented(_dumps(row), "  ")
                for i, row in enumerate(rows))
        yield "\n ]"
    yield "\n}\n"
