"""Pass tables as a partitioned Parquet dataset (Hive layout), streamed and written atomically.

``pyarrow`` is optional (``pip install 'qkdplan[dask]'``) and imported only when used.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from planner.errors import OptionError
from planner.run.optional import require
from planner.run.tasks import sort_pass_table

__all__ = ["MONTH", "check_dataset_directory", "read_passes_parquet", "write_passes_parquet"]

MONTH = "month"
"""Partition name for the month of a pass's AOS (``YYYY-MM``), derived on writing."""


def check_dataset_directory(directory: str | Path) -> Path:
    """Fail early (before any work) unless ``directory`` can become a new dataset directory.

    Raises
    ------
    OptionError
        If it exists and is not an empty directory, or its parent is missing or read-only.
    """
    directory = Path(directory)
    parent = directory.parent if str(directory.parent) else Path(".")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OptionError(f"{str(directory)!r} already exists and is not an empty directory; "
                          "remove it or choose another", field="directory")
    if not parent.is_dir():
        raise OptionError(f"directory {str(parent)!r} does not exist", field="directory")
    if not os.access(parent, os.W_OK):
        raise OptionError(f"directory {str(parent)!r} is not writable", field="directory")
    return directory


def write_passes_parquet(tables: Iterable[pd.DataFrame | tuple[int, pd.DataFrame]],
                         directory: str | Path, partition_cols: Sequence[str] = ("satellite",),
                         provenance: dict | None = None) -> Path:
    """Stream pass tables into a partitioned Parquet dataset (Hive layout), atomically.

    Each table is written as soon as it arrives and then dropped, so memory holds one table at
    a time however long the run. The dataset is built in a temporary sibling directory and
    renamed into place at the end; on any failure the temporary directory is removed and
    nothing is left at ``directory``.

    Parameters
    ----------
    tables : iterable of DataFrame or (index, DataFrame)
        Pass tables, e.g. from :func:`iter_pass_tables` (pieces are named after the index, so
        the files do not depend on completion order).
    directory : str or Path
        The dataset directory; must not exist (or be empty).
    partition_cols : sequence of str
        Columns to partition by (``satellite``, ``station``...), and/or ``"month"`` for the
        month of the AOS (``YYYY-MM``, added as a column).
    provenance : dict, optional
        Written to ``_provenance.json`` in the directory (ignored by Parquet readers).

    Returns
    -------
    Path
        ``directory``.

    Raises
    ------
    OptionError
        If pyarrow is missing (install qkdplan[dask]), the directory exists and is not empty,
        or a partition column is unknown.
    """
    pa = require("pyarrow", "Parquet output")
    pq = require("pyarrow.parquet", "Parquet output")
    directory = check_dataset_directory(directory)
    partition_cols = list(partition_cols)
    parent = directory.parent if str(directory.parent) else Path(".")
    temporary = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".part", dir=parent))
    rows = 0
    try:
        for number, item in enumerate(tables):
            index, table = item if isinstance(item, tuple) else (number, item)
            if table.empty:
                continue
            if MONTH in partition_cols:
                table = table.assign(**{MONTH: table["aos_utc"].dt.strftime("%Y-%m")})
            unknown = [c for c in partition_cols if c not in table.columns]
            if unknown:
                raise OptionError(f"cannot partition by {unknown[0]!r}: not a pass-table "
                                  "column or 'month'", field="partition_cols")
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            pq.write_to_dataset(arrow, temporary, partition_cols=partition_cols or None,
                                basename_template=f"part-{index:06d}-{{i}}.parquet",
                                existing_data_behavior="overwrite_or_ignore")
            rows += len(table)
        record = dict(provenance or {})
        record.update({"rows": rows, "partition_cols": partition_cols})
        (temporary / "_provenance.json").write_text(json.dumps(record, indent=1, default=str)
                                                    + "\n")
        if directory.exists():
            directory.rmdir()
        os.replace(temporary, directory)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return directory


def read_passes_parquet(directory: str | Path, stations: Sequence | None = None) -> pd.DataFrame:
    """Read a dataset of :func:`write_passes_parquet` back as one pass table.

    Partition columns come back as ordinary columns (``satellite`` and ``station`` as strings,
    as :func:`~planner.geometry.passes.find_passes` gives them); the derived ``month`` column is
    dropped. Rows are sorted by AOS, then by station order if
    ``stations`` is given, else by station name.
    """
    from planner.geometry.passes import PASS_COLUMNS

    pq = require("pyarrow.parquet", "Parquet output")
    table = pq.read_table(Path(directory)).to_pandas()
    for column in ("satellite", "station"):
        if isinstance(table[column].dtype, pd.CategoricalDtype):
            table[column] = table[column].astype(str)
    table = table[PASS_COLUMNS]
    table["norad"] = table["norad"].astype("Int64")
    if stations is not None:
        return sort_pass_table(table, stations)
    return table.sort_values(["aos_utc", "station"], kind="stable").reset_index(drop=True)
