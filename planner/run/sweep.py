"""Design sweeps: how the key budget moves with one design parameter at a time.

A sweep file names a base case (period, element sets, stations, payload) and axes; each value
of each axis is one case, varied from the base one axis at a time, and every case runs through
the same executors as the pass finder (in-process, processes or Dask). The result is a tidy
table (one row per case) and a plot of the key budget against each axis.

A starting file is :data:`EXAMPLE_SWEEP_YAML` (``qkdplan sweep --example`` prints it).

The ``satellites`` axis sizes a constellation: with ``tle:`` naming a Walker set written by
``qkdplan constellation walker`` (its planes one after another), each value keeps the first N
satellites of the file. Besides the totals, each case reports its weakest station's expected
(weather-weighted) secure key per night: through a trusted relay no pair of stations can share
more than the weaker of the two receives, so it bounds what every pair can get.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import PlannerInputError
from planner.io.yamlfile import format_location, load_yaml
from planner.timebase import as_utc_datetime

AXES = {
    "aperture_m": "receiver telescope aperture of every station [m]",
    "divergence_urad": "transmitter divergence, in the payload's convention [µrad]",
    "pointing_jitter_urad": "pointing jitter per axis [µrad]",
    "repetition_rate_hz": "source repetition rate [Hz]",
    "min_elevation_deg": "minimum elevation for passes and key [deg]",
    "stations": "station subset (list of names)",
    "satellites": "number of satellites (the first N of the element file)",
}
"""The axes a sweep can vary, with what each changes."""

EXAMPLE_SWEEP_YAML = """\
# qkdplan sweep file: a base case and the axes varied from it, one axis at a time.
start: 2026-11-24          # ISO 8601 UTC
days: 30
payload: jinan-1           # a payload of payloads.yaml
# tle: [walker.tle]        # element files (default: the bundled set)
# stations: [Beijing, Stellenbosch]   # base-case stations (default: all)
axes:
  aperture_m: [0.2, 0.28, 0.5, 1.0]        # every station's receiver aperture [m]
  divergence_urad: [5, 10, 15, 20]         # the payload's divergence, in its convention
  min_elevation_deg: [10, 15, 20, 25]      # pass and key threshold [deg]
  stations: [[Beijing, Stellenbosch], [Jinan, Hefei, Shanghai]]
  # satellites: [1, 6, 12, 24]             # the first N satellites of a Walker element file
"""
"""A starting sweep file (``qkdplan sweep --example``)."""

SWEEP_COLUMNS = ["axis", "value", "passes", "night_passes", "passes_with_key", "secure_bits",
                 "expected_secure_bits", "weakest_station_expected_bits_per_night"]


class SweepError(PlannerInputError):
    """A sweep file is invalid."""


@dataclass
class Sweep:
    """A validated sweep: the base inputs and the cases to run."""

    start: Any
    days: float
    tle: list[str] | None
    payload: str | None
    stations: list[str] | None
    axes: dict[str, list]
    path: Path
    lines: dict[tuple[str, int], int]
    field_lines: dict[str, int | None] = field(default_factory=dict)


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file (errors name file, line and field)."""
    doc = load_yaml(path, SweepError)
    data = doc.data
    if not isinstance(data, dict):
        raise SweepError("a sweep file is a mapping with 'axes'", path=str(doc.path), line=1)
    known = {"start", "days", "tle", "payload", "stations", "axes"}
    for key in data:
        if key not in known:
            raise SweepError(f"unknown field (known: {', '.join(sorted(known))})",
                             path=str(doc.path), line=doc.line_of((key,)), field=str(key))
    axes = data.get("axes")
    if not isinstance(axes, dict) or not axes:
        raise SweepError("give at least one axis under 'axes'", path=str(doc.path),
                         line=doc.line_of(("axes",)), field="axes")
    for name, values in axes.items():
        where = {"path": str(doc.path), "line": doc.line_of(("axes", name)),
                 "field": format_location(("axes", name))}
        if name not in AXES:
            raise SweepError(f"unknown axis {name!r} (known: {', '.join(AXES)})", **where)
        if not isinstance(values, list) or not values:
            raise SweepError("give a list of values", **where)
        for i, value in enumerate(values):
            item = {**where, "field": format_location(("axes", name, i))}
            if name == "stations":
                if not (isinstance(value, list) and value and all(isinstance(v, str)
                                                                  for v in value)):
                    raise SweepError("each value is a list of station names", **item)
            elif name == "satellites" and (isinstance(value, bool) or not isinstance(value, int)
                                           or value < 1):
                raise SweepError(f"{value!r} is not a positive whole number", **item)
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value > 0):
                raise SweepError(f"{value!r} is not a positive, finite number", **item)
            elif name == "min_elevation_deg" and not value < 90:
                raise SweepError(f"{value!r} is not below 90", **item)
    where = _Where(str(doc.path), {key: doc.line_of((key,)) for key in data})
    days = data.get("days", 7)
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not (
            math.isfinite(days) and days > 0):
        raise SweepError(f"{days!r} is not a positive number of days", **where("days"))
    start = data.get("start", "now")
    if not isinstance(start, str):
        raise SweepError(f"{start!r} is not a date such as 2026-11-24 or 'now'",
                         **where("start"))
    with where.fields_of_options("start"):
        as_utc_datetime(start, option="start")
    tle = data.get("tle")
    tle = [tle] if isinstance(tle, str) else tle
    if tle is not None and not (isinstance(tle, list) and tle
                                and all(isinstance(t, str) and t.strip() for t in tle)):
        raise SweepError(f"{tle!r} is not a file name or a list of file names", **where("tle"))
    payload = data.get("payload")
    if payload is not None and not (isinstance(payload, str) and payload.strip()):
        raise SweepError(f"{payload!r} is not a payload name", **where("payload"))
    stations = data.get("stations")
    if stations is not None and not (isinstance(stations, list) and stations and all(
            isinstance(name, str) and name.strip() for name in stations)):
        raise SweepError(f"{stations!r} is not a list of station names", **where("stations"))
    base = doc.path.parent
    return Sweep(start=start, days=float(days),
                 tle=None if tle is None else [str(base / t) for t in tle],
                 payload=payload, stations=stations,
                 axes={k: list(v) for k, v in axes.items()}, path=doc.path,
                 lines={(k, i): doc.line_of(("axes", k, i)) for k, v in axes.items()
                        for i in range(len(v))},
                 field_lines={key: doc.line_of((key,)) for key in data})


#: The sweep field behind each parameter the base case's loaders may name in an error
#: (:func:`~planner.run.pipeline.load_inputs`, :func:`~planner.mission.payloads.get_payload`).
_SWEEP_FIELDS = {"start": "start", "days": "days", "end": "days", "station_names": "stations",
                 "tle": "tle", "payload_name": "payload"}


class _Where:
    """The file, line and field of a sweep file's top-level fields, for its errors."""

    def __init__(self, path: str, lines: dict[str, int | None]) -> None:
        self.path = path
        self.lines = lines

    def __call__(self, key: str) -> dict[str, Any]:
        return {"path": self.path, "line": self.lines.get(key), "field": key}

    @contextmanager
    def fields_of_options(self, key: str) -> Iterator[None]:
        """Errors of the block that name no file become errors of a sweep field: the one the
        error's parameter comes from (see :data:`_SWEEP_FIELDS`), else ``key``."""
        try:
            yield
        except PlannerInputError as error:
            if error.path is not None:
                raise
            raise SweepError(error.message,
                             **self(_SWEEP_FIELDS.get(error.field or "", key))) from None


def sweep_tasks(sweep: Sweep) -> list[dict]:
    """One small, picklable task per case (element lines, station and payload dicts)."""
    from planner.mission.payloads import get_payload, load_payloads, payload_for_satellite
    from planner.mission.stations import load_stations, select_stations
    from planner.run.pipeline import load_inputs
    from planner.run.tasks import element_payload

    where = _Where(str(sweep.path), sweep.field_lines)
    with where.fields_of_options("start"):
        inputs = load_inputs(sweep.tle, None, sweep.stations, sweep.start, sweep.days)
    payloads = load_payloads()
    if sweep.payload is not None:
        with where.fields_of_options("payload"):
            payload = get_payload(payloads, sweep.payload)
    else:
        payload = payload_for_satellite(payloads, inputs.catalogue.name(
            inputs.catalogue.satellites[0]))
    every_station = load_stations(inputs.station_file)
    base = {
        "elements": [element_payload(s) for s in inputs.catalogue.all_sets()],
        "stations": [s.model_dump() for s in inputs.stations],
        "payload": payload.model_dump(), "start": inputs.start,
        "end": inputs.start + timedelta(days=sweep.days), "min_elevation_deg": None,
    }
    tasks = []
    for axis, values in sweep.axes.items():
        for position, value in enumerate(values):
            task = {**base, "index": len(tasks), "axis": axis,
                    "value": ", ".join(value) if axis == "stations" else value}
            if axis == "aperture_m":
                task["stations"] = [{**s, "aperture_m": float(value)} for s in base["stations"]]
            elif axis in ("divergence_urad", "pointing_jitter_urad", "repetition_rate_hz"):
                task["payload"] = {**base["payload"], axis: float(value)}
            elif axis == "min_elevation_deg":
                task["min_elevation_deg"] = float(value)
                task["payload"] = {**base["payload"], "min_key_elevation_deg": float(value)}
            elif axis == "satellites":
                task["elements"] = _first_satellites(inputs.catalogue, value, sweep, position)
            else:
                with _axis_value_errors(sweep, axis, position):
                    chosen = select_stations(every_station, value)
                task["stations"] = [s.model_dump() for s in chosen]
            tasks.append(task)
    return tasks


@contextmanager
def _axis_value_errors(sweep: Sweep, axis: str, position: int) -> Iterator[None]:
    """Errors of the block that name no file become errors of one axis value of the sweep."""
    try:
        yield
    except PlannerInputError as error:
        if error.path is not None:
            raise
        raise SweepError(error.message, path=str(sweep.path),
                         line=sweep.lines[(axis, position)],
                         field=format_location(("axes", axis, position))) from None


def _first_satellites(catalogue, count: int, sweep: Sweep, position: int) -> list[dict]:
    """Element payloads of the first ``count`` satellites of ``catalogue`` (file order)."""
    from planner.run.tasks import element_payload

    keys = catalogue.satellites
    if count > len(keys):
        raise SweepError(f"{count} satellites asked for, the element file has {len(keys)}",
                         path=str(sweep.path), line=sweep.lines[("satellites", position)],
                         field=format_location(("axes", "satellites", position)))
    return [element_payload(s) for key in keys[:count] for s in catalogue.sets(key)]


def run_sweep_task(task: dict) -> dict:
    """Key budget of one case (runs in a worker: only plain data in and out)."""
    from planner.elements.catalogue import Catalogue
    from planner.geometry.passes import find_passes
    from planner.key.perpass import pass_key_table
    from planner.mission.payloads import Payload
    from planner.mission.stations import Station
    from planner.run.tasks import element_set_from_payload

    catalogue = Catalogue(element_set_from_payload(p) for p in task["elements"])
    stations = [Station(**s) for s in task["stations"]]
    payload = Payload(**task["payload"])
    passes = find_passes(catalogue, stations, task["start"], task["end"],
                         min_elevation_deg=task["min_elevation_deg"])
    night = passes[passes["night"]].reset_index(drop=True)
    keys = pass_key_table(night, catalogue, stations, payload)
    nights = (task["end"] - task["start"]).total_seconds() / 86400.0
    per_station = (keys["expected_secure_bits"].groupby(night["station"]).sum()
                   .reindex([s.name for s in stations], fill_value=0.0))
    return {"index": task["index"], "axis": task["axis"], "value": task["value"],
            "passes": len(passes), "night_passes": len(night),
            "passes_with_key": int((keys["secure_bits"] > 0).sum()),
            "secure_bits": float(keys["secure_bits"].sum()),
            "expected_secure_bits": float(keys["expected_secure_bits"].sum()),
            "weakest_station_expected_bits_per_night": float(per_station.min()) / nights}


def run_sweep(sweep: Sweep, executor=None) -> pd.DataFrame:
    """Every case of ``sweep`` through ``executor`` (in-process by default): the tidy table."""
    from planner.run.executors import executor_context

    tasks = sweep_tasks(sweep)
    with executor_context(executor) as running:
        rows = list(running.imap_unordered(run_sweep_task, tasks))
    table = pd.DataFrame(sorted(rows, key=lambda r: r["index"]))
    return table[SWEEP_COLUMNS]


def sweep_figure_html(table: pd.DataFrame, title: str = "Key budget against each axis") -> str:
    """A self-contained HTML page (plotly.js embedded) with one panel per axis
    (:func:`planner.report.figures.sweep.sweep_figure`)."""
    from planner.report.figures.sweep import sweep_figure  # plotly: slow, only plots need it

    return sweep_figure(table, AXES, title=title).to_html(include_plotlyjs=True, full_html=True)
