"""Key-budget report: one self-contained HTML page, with its tables beside it as CSV and JSON.

What the people who run the stations and fund the mission look at. :func:`build_report` turns
the planning stages' outputs (:class:`ReportInputs`) into one HTML page that opens offline:
plotly.js is embedded once and no figure fetches anything (no ``geo`` traces, whose outlines
come from a CDN; the ground-track map is a longitude/latitude plot, see
:mod:`planner.report.figures.map`). :func:`write_report` writes the page and, beside it, the
pass table (``<stem>_passes.csv``), the key table (``<stem>_keys.csv``) and a JSON summary
with the relay plan (``<stem>_summary.json``), as one set.

The page, top to bottom
-----------------------
1. Summary: passes, usable night passes (night passes with secure key > 0), expected key per
   station and per month, relay key delivered per demand, unmet demand; the spread over
   sampled weather (P10-P90).
2. Tonight: every pass rising in the first 24 hours of the period, in each station's local
   date and time, with pointing and key.
3. Pass timeline per station (:data:`FIGURE_IDS` names every figure's ``div`` id).
4. Sky plots (azimuth/elevation), one per station, of tonight or a chosen night.
5. Ground-track map with station footprints at their minimum elevation, Natural Earth
   coastline, labels that do not overlap.
6. Secure key per pass against maximum elevation.
7. Cumulative key per station and per relay demand.
8. On-board key buffers.
9. Monthly key budget with the P10-P90 weather band.
10. Relay key per demand against target, with the weather spread.
11. Provenance, folded: element-set epochs and sources, station file, payload and model
    parameters, plan settings, seeds, package version.

A part without data (no passes, no night passes, no key table, no plan, no tracks) is replaced by
a sentence saying so; no empty plot is drawn.

Size: plotly.js is ~4.8 MB; the data of a year over seven stations adds well under 1 MB
(numeric arrays are binary-encoded, tracks are decimated to :data:`SKY_STEP_S`).

Where things live
-----------------
:mod:`~planner.report.inputs` (what a report shows), :mod:`~planner.report.summary` (its
numbers), :mod:`~planner.report.night` (the night drawn in detail),
:mod:`~planner.report.sections`, :mod:`~planner.report.tonight` and
:mod:`~planner.report.figure_sections` (what each section says), :mod:`~planner.report.figures`
(the plotly figures), :mod:`~planner.report.render` (the jinja2 templates),
:mod:`~planner.report.files` and :mod:`~planner.report.fileset` (the files, written as one
set). This module gathers the public names.
"""

from planner.report.figure_sections import NOT_DRAWN
from planner.report.figures.sky import SKY_STEP_S
from planner.report.files import check_report_path, report_paths, report_texts, write_report
from planner.report.inputs import (
    DEFAULT_WEATHER_SCENARIOS,
    KEY_COLUMNS,
    TRACK_COLUMNS,
    ReportInputs,
)
from planner.report.night import check_night, choose_night, night_views
from planner.report.render import FIGURE_IDS, SECTION_IDS, build_report
from planner.report.summary import Summary, summarise

__all__ = [
    "DEFAULT_WEATHER_SCENARIOS", "FIGURE_IDS", "KEY_COLUMNS", "NOT_DRAWN", "SECTION_IDS",
    "SKY_STEP_S", "TRACK_COLUMNS", "ReportInputs", "Summary", "build_report",
    "check_night", "check_report_path", "choose_night", "night_views", "report_paths",
    "report_texts", "summarise", "write_report",
]
