"""The page: sections composed in order and rendered through the jinja2 templates.

The templates (``templates/page.html.j2``, ``templates/parts.html.j2``) and the stylesheet
(``templates/report.css``) are package data; autoescaping is on, so every name and title from
the inputs reaches the page as text. plotly.js is embedded once, so the page opens offline.
"""

from __future__ import annotations

from functools import cache

import jinja2
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from planner import __version__
from planner.report import figure_sections as fs
from planner.report import figures
from planner.report.format import period_text
from planner.report.inputs import ReportInputs, check_inputs
from planner.report.sections import provenance_section, satellites_text, summary_section
from planner.report.summary import Summary, summarise
from planner.report.tonight import tonight_section

__all__ = ["FIGURE_IDS", "NAV", "SECTION_IDS", "build_report", "render_report"]

SECTION_IDS = ("sec-summary", "sec-tonight", "sec-timeline", "sec-sky", "sec-map",
               "sec-key-elevation", "sec-cumulative", "sec-buffers", "sec-monthly", "sec-relay",
               "sec-provenance")
"""``id`` of every section of the page, in order."""

FIGURE_IDS = ("fig-timeline", "fig-sky", "fig-groundtrack", "fig-key-elevation",
              "fig-cumulative", "fig-buffers", "fig-monthly", "fig-relay")
"""``id`` of every figure ``div`` (present when the figure has data to show)."""

NAV = (("sec-summary", "Summary"), ("sec-tonight", "Tonight"), ("sec-timeline", "Timeline"),
       ("sec-sky", "Sky plot"), ("sec-map", "Map"), ("sec-key-elevation", "Key per pass"),
       ("sec-cumulative", "Cumulative"), ("sec-buffers", "Buffers"),
       ("sec-monthly", "Monthly budget"), ("sec-relay", "Relay"),
       ("sec-provenance", "Provenance"))
"""The navigation bar: section id and link text."""

_FIGURE_SECTIONS = (fs.timeline_section, fs.sky_section, fs.map_section,
                    fs.key_elevation_section, fs.cumulative_section, fs.buffer_section,
                    fs.monthly_section, fs.relay_section)


@cache
def environment() -> jinja2.Environment:
    """The templates' environment (autoescape on, templates from the package)."""
    return jinja2.Environment(loader=jinja2.PackageLoader("planner.report", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def _representative(inputs: ReportInputs, summary: Summary) -> bool:
    names = summary.satellites or [satellites_text(inputs, summary)]
    return any("REPRESENTATIVE" in n.upper() for n in names)


def render_report(inputs: ReportInputs) -> tuple[str, Summary]:
    """The HTML page and the numbers it shows."""
    check_inputs(inputs)
    summary = summarise(inputs)
    colours = figures.station_colours(list(summary.stations.index))
    sections = [summary_section(inputs, summary), tonight_section(inputs, summary),
                *(make(inputs, colours, summary) for make in _FIGURE_SECTIONS),
                provenance_section(inputs, summary)]
    page = environment().get_template("page.html.j2").render(
        title=inputs.title,
        generator=inputs.provenance.get("generator", f"qkdplan {__version__}"),
        plotlyjs=Markup(get_plotlyjs()),
        satellites=satellites_text(inputs, summary),
        period=period_text(summary.period),
        stations=", ".join(s.name for s in inputs.stations),
        nav=NAV, representative=_representative(inputs, summary), sections=sections)
    return page, summary


def build_report(inputs: ReportInputs) -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    inputs : ReportInputs
        What to show.

    Returns
    -------
    str
        HTML text; it embeds plotly.js once and loads nothing from the network.

    Raises
    ------
    PlannerInputError
        If a table lacks a column the report needs.
    """
    return render_report(inputs)[0]
