"""What a report shows: :class:`ReportInputs`, and the checks that its tables can be drawn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.errors import PlannerInputError
from planner.geometry.passes import PASS_COLUMNS
from planner.key.perpass import KEY_COLUMNS
from planner.relay.weather import DEFAULT_PERSISTENCE

if TYPE_CHECKING:  # pragma: no cover
    from planner.relay.plan import Plan


TRACK_COLUMNS = ("pass_id", "azimuth_deg", "elevation_deg", "t_s")
"""Track columns the sky plot needs (``pass_tracks`` output has them)."""

DEFAULT_WEATHER_SCENARIOS = 500
"""Weather scenarios drawn for the P10-P90 band of the monthly budget when neither the caller
nor the relay plan gives a count (:func:`weather_settings`)."""


@dataclass
class ReportInputs:
    """Everything a report shows.

    Attributes
    ----------
    passes : pandas.DataFrame
        The pass table (docs/architecture.md columns), all passes, day and night; its index is the
        pass id.
    stations : sequence
        The stations (objects with ``name, latitude_deg, longitude_deg, altitude_m, timezone,
        min_elevation_deg``), in the order the report lists them.
    keys : pandas.DataFrame, optional
        The key table (pass table + :data:`KEY_COLUMNS`), same index as ``passes``. Its
        ``attrs["key_model"]`` (set by :func:`planner.key.perpass.pass_key_table`) goes into
        provenance.
    tracks : pandas.DataFrame, optional
        Per-second tracks of one chosen night (:func:`planner.geometry.tracks.pass_tracks` of, e.g.,
        :func:`planner.report.night.choose_night`); ``pass_id`` refers to the index of ``passes``.
    plan : planner.relay.plan.Plan, optional
        A relay plan (with ``weather`` if it was evaluated over weather scenarios).
    ground_track : pandas.DataFrame, optional
        Satellite sub-points (:func:`planner.geometry.groundtrack.ground_track`):
        ``satellite, time_utc, latitude_deg, longitude_deg, altitude_km``.
    provenance : mapping
        Element-set epochs and sources, station file, period, options (e.g.
        :func:`planner.run.pipeline.run_provenance`); shown in full and written to every table.
    title : str
        Page title.
    period : (start, end), optional
        The planning period (UTC); taken from ``provenance["period_utc"]`` or the passes if
        absent.
    weather_scenarios, weather_seed, persistence
        Weather sampling for the monthly P10-P90 band
        (:func:`planner.relay.weather.sample_clear_sky`);
        the seed is recorded in the provenance block. ``None`` (the default) takes the relay
        plan's own count and seed when the plan was evaluated under weather, so the monthly band
        and the relay figure state one count (:func:`weather_settings`).
    zone : tzinfo, optional
        The time zone of the local times in the tables and sky plot (``--tz``); ``None`` (the
        default) shows each station in its own zone, as the terminal tables do.
    """

    passes: pd.DataFrame
    stations: Sequence[Any]
    keys: pd.DataFrame | None = None
    tracks: pd.DataFrame | None = None
    plan: Plan | None = None
    ground_track: pd.DataFrame | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict)
    title: str = "QKD key-budget report"
    period: tuple[Any, Any] | None = None
    weather_scenarios: int | None = None
    weather_seed: int | None = None
    persistence: float = DEFAULT_PERSISTENCE
    zone: tzinfo | None = None


def weather_settings(inputs: ReportInputs) -> tuple[int, int]:
    """Scenarios and seed of the monthly weather band: the caller's, else the relay plan's (when
    it was evaluated under weather), else :data:`DEFAULT_WEATHER_SCENARIOS` and seed 0; so by
    default the band and the relay figure state one count and one seed."""
    info = getattr(inputs.plan, "weather_info", None) or {}
    count, seed = info.get("scenarios"), info.get("seed")
    if inputs.weather_scenarios is not None:
        count = inputs.weather_scenarios
    elif not isinstance(count, int) or count < 1:
        count = DEFAULT_WEATHER_SCENARIOS
    if inputs.weather_seed is not None:
        seed = inputs.weather_seed
    elif not isinstance(seed, int):
        seed = 0
    return count, seed


def check_inputs(inputs: ReportInputs) -> None:
    """Reject tables that lack the columns the report reads (programming errors upstream)."""
    _require(inputs.passes, PASS_COLUMNS, "passes")
    if inputs.keys is not None:
        _require(inputs.keys, (*PASS_COLUMNS, *KEY_COLUMNS), "keys")
    if inputs.tracks is not None:
        _require(inputs.tracks, TRACK_COLUMNS, "tracks")
        table = inputs.keys if inputs.keys is not None else inputs.passes
        unknown = np.setdiff1d(inputs.tracks["pass_id"].unique(), table.index.to_numpy())
        if unknown.size:
            raise PlannerInputError(f"track pass id {unknown[0]} is not in the pass table "
                                    "(tracks must come from this pass table)",
                                    field="tracks.pass_id")
    if inputs.ground_track is not None:
        _require(inputs.ground_track, ("satellite", "time_utc", "latitude_deg",
                                       "longitude_deg"), "ground_track")
    count = weather_settings(inputs)[0]
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise PlannerInputError(f"{inputs.weather_scenarios!r} must be a whole number >= 1",
                                field="weather_scenarios")


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PlannerInputError(f"lacks column(s) {', '.join(missing)}", field=name)

