"""The report's files: the page and, beside it, its tables as CSV and JSON."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import OptionError
from planner.geometry.passes import PASS_COLUMNS
from planner.io.output import check_output_path, provenance, to_csv, to_json
from planner.relay.plan import plan_to_json
from planner.report.fileset import write_file_set
from planner.report.inputs import KEY_COLUMNS, ReportInputs
from planner.report.render import render_report
from planner.report.sections import key_model_record
from planner.report.summary import Summary

__all__ = ["check_report_path", "report_paths", "write_report"]


def report_paths(path: str | Path) -> dict[str, Path]:
    """The files :func:`write_report` writes for ``path``.

    ``reports/budget.html`` gives ``reports/budget_passes.csv``, ``reports/budget_keys.csv``
    and ``reports/budget_summary.json`` beside the page.
    """
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower() in (".html", ".htm") else path
    return {"html": path, "passes": stem.with_name(stem.name + "_passes.csv"),
            "keys": stem.with_name(stem.name + "_keys.csv"),
            "summary": stem.with_name(stem.name + "_summary.json")}


def check_report_path(path: str | Path, option: str = "output") -> Path:
    """Fail early, before any planning, if the report's files cannot be written.

    Raises
    ------
    OptionError
        Naming ``option`` when the directory does not exist or is not writable, the path
        is a directory, or one of the set's files exists and is not a regular file (a device,
        a FIFO, a symbolic link): the set is renamed into place and must not replace those.
    """
    for target in report_paths(path).values():
        check_output_path(target, option)
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise OptionError(f"{str(target)!r} exists and is not a regular file; the report "
                              "writes its files as a set and replaces only regular files",
                              field=option)
    return Path(path)


def _summary_json(inputs: ReportInputs, summary: Summary, record: Mapping[str, Any]) -> str:
    tables: dict[str, Any] = {
        "totals": summary.totals,
        "stations": summary.stations.reset_index(),
    }
    if summary.monthly is not None:
        tables["monthly_expected_bits"] = (summary.monthly.reset_index()
                                           .melt(id_vars="month", var_name="station",
                                                 value_name="expected_bits"))
    if summary.band is not None:
        tables["monthly_weather_band_bits"] = summary.band.reset_index()
    if summary.relay is not None:
        tables["relay"] = summary.relay.reset_index()
    if inputs.plan is not None:
        tables["plan"] = plan_to_json(inputs.plan)
    return to_json(tables, record)


def _key_csv_table(keys: pd.DataFrame) -> pd.DataFrame:
    table = keys[[*PASS_COLUMNS, *KEY_COLUMNS]].copy()
    table.insert(0, "pass_id", keys.index.to_numpy())
    return table


def report_texts(inputs: ReportInputs) -> dict[str, str]:
    """Every file's content, built in memory: ``passes, keys`` (with a key table), ``summary``,
    ``html``."""
    page, summary = render_report(inputs)
    record = provenance(**{k: v for k, v in inputs.provenance.items() if k != "generator"})
    model = key_model_record(inputs)
    if model:
        record["key_model"] = model
    if summary.weather:
        record["monthly_weather_band"] = summary.weather
    texts = {"passes": to_csv(inputs.passes[list(PASS_COLUMNS)], record)}
    if inputs.keys is not None:
        texts["keys"] = to_csv(_key_csv_table(inputs.keys), record)
    texts["summary"] = _summary_json(inputs, summary, record)
    texts["html"] = page
    return texts


def write_report(path: str | Path, inputs: ReportInputs) -> dict[str, Path]:
    """Write the HTML report and its tables beside it, as one set.

    The output directory is checked before any work; every file's content is built in memory
    before the first is written; then the files are written as a set
    (:func:`planner.report.fileset.write_file_set`): a failure, an interrupt, a killed process
    or a concurrent run never leaves a partial file or a mix of two runs' files (a killed run's
    half-done set is completed, and its ``.part`` files removed, by the next write).

    Parameters
    ----------
    path : str or pathlib.Path
        The HTML file; tables go beside it (:func:`report_paths`).
    inputs : ReportInputs
        What to show.

    Returns
    -------
    dict of str to pathlib.Path
        ``html``, ``passes``, ``summary`` and, with a key table, ``keys``.

    Raises
    ------
    OptionError
        Naming ``output`` when the directory is missing or not writable.
    """
    check_report_path(path)
    paths = report_paths(path)
    texts = report_texts(inputs)
    return write_file_set(paths, texts)
