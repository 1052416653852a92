"""The building blocks of the page: sections made of parts, drawn by the jinja2 templates.

Python decides what the page says (texts, numbers already formatted, figures); the templates
under ``planner/report/templates`` decide the markup. A section is a mapping ``id, heading,
lede, parts``; each part is a mapping with a ``kind`` the template knows (``note, figure,
heading, paragraph, cards, table, tree, details``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.io as pio
from markupsafe import Markup

from planner.report.format import plain

__all__ = ["cards", "details", "figure", "heading", "note", "paragraph", "section", "table", "tree"]

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "toImageButtonOptions": {"format": "png", "scale": 2}}
"""Plotly's mode bar: no logo, PNG export at twice the size."""


def section(section_id: str, heading_text: str, parts: Sequence[Mapping[str, Any]],
            lede: str | None = None) -> dict[str, Any]:
    """One ``<section>`` of the page."""
    return {"id": section_id, "heading": heading_text, "lede": lede, "parts": list(parts)}


def note(text: str) -> dict[str, Any]:
    """A highlighted sentence (why a part is left out, what is missing)."""
    return {"kind": "note", "text": text}


def details(summary: str, content: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Parts folded away behind a one-line summary (``<details>``)."""
    return {"kind": "details", "summary": summary, "parts": list(content)}


def heading(text: str) -> dict[str, Any]:
    """A sub-heading inside a section."""
    return {"kind": "heading", "text": text}


def paragraph(text: str, css: str) -> dict[str, Any]:
    """A paragraph of the given CSS class."""
    return {"kind": "paragraph", "text": text, "css": css}


def figure(fig, div_id: str) -> dict[str, Any]:
    """A plotly figure in a ``div`` of id ``div_id`` (plotly.js itself is embedded once)."""
    html = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id,
                       config=PLOTLY_CONFIG, validate=False)
    return {"kind": "figure", "html": Markup(html)}


def cards(items: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """Headline numbers: ``(value, label, detail)`` each."""
    return {"kind": "cards",
            "cards": [{"value": v, "label": label, "detail": d} for v, label, d in items]}


def table(header: Sequence[Any], rows: Sequence[Sequence[Any]], *, numeric_from: int = 1,
          css: str = "data", foot: Sequence[Any] | None = None) -> dict[str, Any]:
    """A table; cells from column ``numeric_from`` on are right-aligned."""
    return {"kind": "table", "header": list(header), "rows": [list(r) for r in rows],
            "foot": list(foot) if foot is not None else None, "numeric_from": numeric_from,
            "css": css}


def tree(value: Any) -> dict[str, Any]:
    """A nested record (provenance) as nested tables, see :func:`tree_node`."""
    return {"kind": "tree", "node": tree_node(value)}


def tree_node(value: Any) -> dict[str, Any]:
    """Nested mappings as key/value tables, lists of records as tables, the rest as text.

    A mapping of more than four numbers is one line of text (e.g. per-station counts).
    """
    if isinstance(value, Mapping):
        if not value:
            return {"kind": "text", "text": "—"}
        if len(value) > 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                  for v in value.values()):
            return {"kind": "text",
                    "text": ", ".join(f"{k}: {plain(v)}" for k, v in value.items())}
        return {"kind": "kv", "rows": [(str(k), tree_node(v)) for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Mapping) for v in value):
            keys = list(dict.fromkeys(k for v in value for k in v))
            return {"kind": "records", "header": [str(k) for k in keys],
                    "rows": [[tree_node(v.get(k)) for k in keys] for v in value]}
        return {"kind": "text", "text": ", ".join(plain(v) for v in value) if value else "—"}
    return {"kind": "text", "text": plain(value)}
