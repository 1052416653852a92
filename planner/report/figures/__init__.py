"""Plotly figures of the key-budget report (:mod:`planner.report.page` puts them on one page).

Every function takes tables the report has already checked to be non-empty and returns a
:class:`plotly.graph_objects.Figure` with a title, axis titles with units and a legend. One
module per kind of figure; :mod:`.style` holds what they share.
"""

from planner.report.figures.budget import monthly_figure, relay_figure
from planner.report.figures.keys import buffer_figure, cumulative_figure, key_elevation_figure
from planner.report.figures.map import (
    break_at_antimeridian,
    footprint_angle_rad,
    ground_track_figure,
    small_circle,
    station_cluster,
)
from planner.report.figures.sky import decimate_tracks, sky_figure
from planner.report.figures.style import (
    EARTH_RADIUS_KM,
    KBIT,
    MBIT,
    epoch_ms,
    station_colours,
)
from planner.report.figures.timeline import timeline_figure

__all__ = [
    "EARTH_RADIUS_KM", "KBIT", "MBIT", "break_at_antimeridian", "buffer_figure",
    "cumulative_figure", "decimate_tracks", "epoch_ms", "footprint_angle_rad",
    "ground_track_figure", "key_elevation_figure", "monthly_figure", "relay_figure",
    "sky_figure", "small_circle", "station_cluster", "station_colours", "timeline_figure",
]
