"""What the command line shows on a terminal: safe text, tables that fit, the zone ``--tz`` names.

Every string that comes from data (satellite and station names, file contents, OMM fields) goes
through :func:`clean` before it is shown: control characters and escape sequences are made
visible (``\\x1b``) instead of reaching the terminal, and text is handed to Rich as
:class:`rich.text.Text`, never as markup, so a name such as ``[/yellow]EVIL`` is printed as it
is. Only rich.console and rich.text are imported here: ``qkdplan --help`` stays fast.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Iterable
from datetime import UTC, tzinfo
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from planner.errors import OptionError
from planner.zones import is_utc

__all__ = [
    "Column",
    "clean",
    "collapse_warnings",
    "fit_to_terminal",
    "is_utc",
    "make_console",
    "plural",
    "resolve_zone",
    "shown_paths",
    "stacked_lines",
    "styled",
    "table_layout",
]

# C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text
# (bidirectional overrides and isolates, zero-width joiners): anything a terminal may act on.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean(text: object) -> str:
    """``text`` as a string safe to show on a terminal.

    Control characters, escape sequences and text-reordering format characters are replaced by
    their visible escapes (``\\x1b``, ``\\u202e``); everything else is unchanged. Tabs and line
    breaks are escaped too: one value stays on one line.
    """
    return _UNSAFE.sub(lambda m: _visible(m.group()), str(text))


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def styled(*parts: str | tuple[str, str]) -> Text:
    """A Rich Text from plain parts and ``(text, style)`` pairs; every part is cleaned.

    Nothing is parsed as markup, so names with brackets print as they are.
    """
    text = Text()
    for part in parts:
        if isinstance(part, tuple):
            text.append(clean(part[0]), style=part[1])
        else:
            text.append(clean(part))
    return text


def make_console(*, stderr: bool = False) -> Console:
    """A console that never interprets emoji codes (``:b:``) and highlights nothing.

    Lines of text are not wrapped (soft wrap: a path stays whole for copying); tables are laid
    out to the console's width.
    """
    return Console(stderr=stderr, soft_wrap=True, emoji=False, highlight=False)


def fit_to_terminal(*consoles: Console) -> None:
    """Size ``consoles`` for this run: ``COLUMNS`` if set (also when output is piped), else the
    terminal's width, else Rich's default of 80 columns; and say whether each is interactive
    (a terminal, not a dumb one) now, not when it was made (live displays depend on it)."""
    columns = os.environ.get("COLUMNS", "")
    for console in consoles:
        console.is_interactive = console.is_terminal and not console.is_dumb_terminal
        if columns.isdigit() and int(columns) > 0:
            console.width = int(columns)
        else:
            console.width = None       # back to Rich's own detection (terminal or 80)


def shown_paths(message: str) -> str:
    """``message`` with the bundled data files named as such (``bundled:tle_data/...``) rather
    than by where the package is installed; relative to the working directory if they are
    below it. Paths a user gave are left as given."""
    from planner.io.resources import BUNDLED_NAMES, bundled_path

    cwd = Path.cwd()
    for name in BUNDLED_NAMES:
        try:
            path = bundled_path(name)
        except FileNotFoundError:
            continue
        inside = path == cwd or cwd in path.parents
        shown = os.path.relpath(path, cwd) if inside else f"bundled:{name}"
        message = message.replace(str(path), shown)
    return message


def collapse_warnings(messages: Iterable[str]) -> list[str]:
    """One warning per cause.

    Messages that differ only in what they are about (the part before the first ``"; "``, e.g.
    which satellite's element set is stale) and share the rest (the cause and its advice) are
    shown once: the first in full, followed by how many more there are and a few of their
    subjects.
    """
    groups: dict[str, list[str]] = {}
    for message in dict.fromkeys(messages):           # exact repeats: once, first order
        _, sep, cause = message.partition("; ")
        groups.setdefault(cause if sep else message, []).append(message)
    out = []
    for members in groups.values():
        if len(members) == 1:
            out.append(members[0])
            continue
        subjects = [m.partition("; ")[0].split(":")[0] for m in members[1:]]
        more = ", ".join(subjects[:3]) + (", ..." if len(subjects) > 3 else "")
        out.append(f"{members[0]} (and {len(subjects)} more with the same cause: {more})")
    return out


def resolve_zone(name: str | None) -> tzinfo | None:
    """The time zone ``--tz`` names: ``None`` for ``local`` (each station's own), UTC for
    ``utc``, else an IANA zone such as ``Asia/Shanghai``.

    Raises
    ------
    OptionError
        For an unknown zone (field ``--tz``).
    """
    if name is None or name.strip().lower() == "local":
        return None
    if name.strip().lower() in ("utc", "z"):
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise OptionError(f"unknown time zone {name!r}: use local, utc or an IANA name such as "
                          "Africa/Johannesburg", field="--tz") from None


def plural(count: float, noun: str, nouns: str | None = None) -> str:
    """``count`` and the noun in its number: ``1 day``, ``0.5 days``, ``3 stations``
    (``nouns``: an irregular plural, e.g. ``passes``)."""
    number = (f"{count:,.0f}" if float(count).is_integer()
              else f"{count:,.3f}".rstrip("0").rstrip("."))
    word = noun if number == "1" else nouns or f"{noun}s"
    return f"{number} {word}"



class Column(NamedTuple):
    """One column of a terminal table.

    Attributes
    ----------
    header : str
        Its heading (wraps at spaces like the cells).
    justify : str
        ``"left"`` or ``"right"`` (numbers).
    width : int or None
        Preferred width [characters]: the header wraps into it (``"dur s"`` over ``250``).
        Never narrower than the column's longest word.
    drop : int or None
        On a terminal too narrow for every column, columns with a ``drop`` rank are left out,
        lowest rank first; ``None``: always shown.
    nowrap : bool
        Keep each cell on one line (a local date, time and zone).
    """

    header: str
    justify: str = "left"
    width: int | None = None
    drop: int | None = None
    nowrap: bool = False


def fit_widths(natural: list[int], minimum: list[int], available: int) -> list[int]:
    """Column widths that fit ``available`` characters [characters].

    Columns keep their natural width if all fit; otherwise the columns with the most room to
    wrap (natural minus minimum: the widest word) give it up first, in proportion, and only if
    every column is at its minimum are the widest ones cut further (their words then fold),
    the first column (what a row is about) last. No column is narrower than 1, so with no
    room at all the widths may add up to more than ``available`` (which may be negative).
    """
    widths = list(natural)
    excess = sum(widths) - available
    slack = [n - m for n, m in zip(natural, minimum, strict=True)]
    if excess > 0 and sum(slack) > 0:
        take = min(excess, sum(slack))
        cuts = [s * take // sum(slack) for s in slack]
        for k in sorted(range(len(slack)), key=lambda k: -slack[k]):
            if sum(cuts) >= take:
                break
            if cuts[k] < slack[k]:
                cuts[k] += 1
        widths = [w - c for w, c in zip(widths, cuts, strict=True)]
        excess -= take
    while excess > 0 and widths and max(widths) > 1:
        rest = widths[1:]
        widest = (1 + rest.index(max(rest)) if rest and max(rest) > 1
                  else widths.index(max(widths)))
        widths[widest] -= 1
        excess -= 1
    return widths


def text_widths(header: str, cells: list[str], nowrap: bool = False) -> tuple[int, int]:
    """Natural (longest line) and minimum (longest word; with ``nowrap`` the longest cell)
    width of a column [characters, as the terminal counts them]."""
    texts = [header, *cells]
    natural = max(cell_len(t) for t in texts)
    minimum = max((cell_len(word) for t in texts for word in t.split()), default=1)
    if nowrap:
        minimum = max([minimum, *(cell_len(c) for c in cells)])
    return natural, max(1, minimum)


def table_layout(columns: list[Column], rows: list[list[str]], width: int
                 ) -> tuple[list[int], list[int]] | None:
    """Which columns a table of ``width`` characters shows, and how wide, so that no word,
    number, time or identifier is broken: every column is at least as wide as its longest
    word (cells wrap only at spaces).

    Parameters
    ----------
    columns
        The table's columns (their preferred widths, drop ranks and ``nowrap``).
    rows
        Cell texts, one list per row.
    width
        The terminal's width [characters].

    Returns
    -------
    (kept, widths) or None
        The indices of the columns shown and their widths, leaving out droppable columns
        (lowest ``drop`` rank first) only while the rest would not fit, and wrapping headers
        before cells; ``None`` when even
        the columns that are never dropped do not fit (show the rows one field a line,
        :func:`stacked_lines`).
    """
    natural, snug, minimum = [], [], []
    for k, column in enumerate(columns):
        cells = [r[k] for r in rows]
        nat, low = text_widths(column.header, cells, column.nowrap)
        nat = nat if column.width is None else max(low, min(nat, column.width))
        natural.append(nat)
        snug.append(min(nat, max([low, *(cell_len(c) for c in cells)])))  # header wrapped
        minimum.append(low)
    kept = list(range(len(columns)))
    droppable = sorted((c.drop, k) for k, c in enumerate(columns) if c.drop is not None)

    def needed() -> int:
        return sum(minimum[k] for k in kept) + len(kept) - 1

    for _, k in droppable:
        if needed() <= width:
            break
        kept.remove(k)
    if needed() > width:
        return None
    # headers wrap first (down to their cells' width), then cells at their spaces
    room = width - (len(kept) - 1)
    if sum(snug[k] for k in kept) <= room:
        return kept, fit_widths([natural[k] for k in kept], [snug[k] for k in kept], room)
    return kept, fit_widths([snug[k] for k in kept], [minimum[k] for k in kept], room)


def stacked_lines(headers: list[str], rows: list[list[str]], width: int) -> list[str]:
    """Rows for a terminal too narrow for a table: one ``header  value`` line per field, a
    blank line between rows; values wrap at spaces only (a word longer than the whole line,
    a very long path, is the one thing folded)."""
    label = min(max(cell_len(h) for h in headers), max(1, width // 3))
    room = max(1, width - label - 2)
    lines: list[str] = []
    for row in rows:
        if lines:
            lines.append("")
        for header, value in zip(headers, row, strict=True):
            parts = textwrap.wrap(value, room, break_on_hyphens=False) or [""]
            head = textwrap.wrap(header, label, break_on_hyphens=False) or [""]
            for n in range(max(len(parts), len(head))):
                left = head[n] if n < len(head) else ""
                right = parts[n] if n < len(parts) else ""
                lines.append(f"{left:<{label}}  {right}".rstrip())
    return lines
