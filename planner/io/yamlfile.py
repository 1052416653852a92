"""Safe YAML loading that remembers where every value came from.

Configuration files (stations, payloads, demands) are validated with pydantic; when a value is
wrong the user must be told the file, line and field. :func:`load_yaml` keeps a map from each
value's location (a tuple of keys and indices) to its 1-based line, and
:func:`raise_validation_error` turns a pydantic ``ValidationError`` into the planner's one-line
error naming all three.

Scalars are read by the YAML 1.2 core schema, not PyYAML's YAML 1.1 one: a plain scalar is null,
``true``/``false``, a whole number (decimal, ``0o``, ``0x``), a number (``1.5``, ``1e-3``,
``.inf``, ``.nan``) or else a string. So ``1:30`` is the text "1:30", not 90 (YAML 1.1
sexagesimal), ``2026-02-30`` and ``yes`` are text, and no plain value is a date. The tags
``!!str``, ``!!int``, ``!!float``, ``!!bool`` and ``!!null`` are honoured and their value checked;
every other tag (``!!timestamp``, ``!!binary``, ``!!set``, ``!!python/...``, local tags) is
refused with the file, line and field, on scalars, mappings and sequences alike. Aliases are
refused. Nothing is constructed but dicts, lists, strings, numbers, booleans and ``None``.

References
----------
.. [1] YAML Ain't Markup Language, version 1.2.2, section 10.3 (the core schema), 2021.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml
from pydantic import ValidationError

from planner.errors import PlannerInputError
from planner.io.readers import read_input_text

Location = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """A parsed YAML document with the line of every value."""

    path: Path
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, loc: Location) -> int | None:
        """Line of the value at ``loc``, or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)


def format_location(loc: Location) -> str:
    """Render ``("stations", 3, "latitude_deg")`` as ``stations[3].latitude_deg``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


_PLAIN = "tag:qkdplan,2026:plain"
_CORE = "tag:yaml.org,2002:"
_NULL_RE = re.compile(r"~|null|Null|NULL|")
_TRUE_RE = re.compile(r"true|True|TRUE")
_FALSE_RE = re.compile(r"false|False|FALSE")
_INT_RE = re.compile(r"[-+]?[0-9]+")
_OCT_RE = re.compile(r"0o[0-7]+")
_HEX_RE = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF_RE = re.compile(r"([-+]?)\.(inf|Inf|INF)")
_NAN_RE = re.compile(r"\.(nan|NaN|NAN)")
_NOT_CORE = object()  # a plain scalar that is none of null, bool, int, float: a string
_MAX_INT_DIGITS = 4000  # Python's own limit on int() of text is 4300 digits


#: Largest YAML input accepted [bytes]. Stations, payloads, demands and sweeps are hand-written
#: configuration (the bundled station file is 13 kB); 2 MB loads in seconds, where a 1,000,000
#: point horizon mask (about 20 MB) took minutes and gigabytes before its points were checked.
MAX_YAML_BYTES = 2_000_000

# libyaml's parser when PyYAML has it (several times faster), else PyYAML's own
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """Composes nodes only; every plain, untagged scalar keeps the :data:`_PLAIN` tag so that
    :func:`_scalar` resolves it by the YAML 1.2 core schema, not by PyYAML's YAML 1.1 rules."""

    yaml_implicit_resolvers: dict = {}  # noqa: RUF012 (PyYAML's class attribute)

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return super().resolve(kind, value, implicit)


def _construct(node: yaml.Node, loc: Location, lines: dict[Location, int], path: Path,
               error_cls: type[PlannerInputError], seen: set[int]) -> Any:
    # the composer hands an alias back as the very node it names: a node met twice is an
    # alias. Refusing them rules out recursive documents and "billion laughs" expansion.
    if id(node) in seen:
        raise error_cls("YAML aliases (*name) are not supported; write the value out",
                        path=str(path), line=node.start_mark.line + 1,
                        field=format_location(loc) or None)
    seen.add(id(node))
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        _check_collection_tag(node, "map", loc, path, error_cls)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise error_cls("mapping keys must be plain scalars", path=str(path),
                                line=key_node.start_mark.line + 1, field=format_location(loc))
            key_value = _scalar(key_node, loc, path, error_cls)
            if key_value in out:
                raise error_cls(f"duplicate key {key_value!r}", path=str(path),
                                line=key_node.start_mark.line + 1,
                                field=format_location((*loc, key_value)))
            out[key_value] = _construct(value_node, (*loc, key_value), lines, path, error_cls,
                                        seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        _check_collection_tag(node, "seq", loc, path, error_cls)
        return [_construct(item, (*loc, i), lines, path, error_cls, seen)
                for i, item in enumerate(node.value)]
    return _scalar(node, loc, path, error_cls)


def _show_tag(tag: str) -> str:
    return ("!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag)[:60]


def _check_collection_tag(node: yaml.Node, kind: str, loc: Location, path: Path,
                          error_cls: type[PlannerInputError]) -> None:
    if node.tag != _CORE + kind:
        raise error_cls(f"the YAML tag {_show_tag(node.tag)} is not supported (no tags on "
                        "mappings or lists)", path=str(path), line=node.start_mark.line + 1,
                        field=format_location(loc) or None)


def _scalar(node: yaml.ScalarNode, loc: Location, path: Path,
            error_cls: type[PlannerInputError]) -> Any:
    """The value of a scalar node: plain scalars by the YAML 1.2 core schema, tags checked."""
    text, tag = node.value, node.tag
    if tag == _PLAIN:
        value = _core_value(text)
        return text if value is _NOT_CORE else value
    if tag == _CORE + "str":
        return text
    kind = tag[len(_CORE):] if tag.startswith(_CORE) else None
    expected = {"int": "a whole number", "float": "a number", "bool": "true or false",
                "null": "null or ~"}
    if kind not in expected:
        raise error_cls(f"the YAML tag {_show_tag(tag)} is not supported (use plain values, "
                        "or !!str, !!int, !!float, !!bool, !!null)", path=str(path),
                        line=node.start_mark.line + 1, field=format_location(loc) or None)
    value = _core_value(text.strip())
    accepted = {"int": isinstance(value, int) and not isinstance(value, bool),
                "float": isinstance(value, (int, float)) and not isinstance(value, bool),
                "bool": isinstance(value, bool), "null": value is None}
    if not accepted[kind]:
        raise error_cls(f"!!{kind} {text[:40]!r} is not {expected[kind]}", path=str(path),
                        line=node.start_mark.line + 1, field=format_location(loc) or None)
    return float(value) if kind == "float" else value


def _core_value(text: str) -> Any:
    """``text`` resolved by the YAML 1.2 core schema, or :data:`_NOT_CORE` (then a string)."""
    if _NULL_RE.fullmatch(text):
        return None
    if _TRUE_RE.fullmatch(text):
        return True
    if _FALSE_RE.fullmatch(text):
        return False
    if len(text) <= _MAX_INT_DIGITS:
        if _INT_RE.fullmatch(text):
            return int(text)
        if _OCT_RE.fullmatch(text):
            return int(text[2:], 8)
        if _HEX_RE.fullmatch(text):
            return int(text[2:], 16)
        if _FLOAT_RE.fullmatch(text):
            return float(text)
    inf = _INF_RE.fullmatch(text)
    if inf:
        return -math.inf if inf.group(1) == "-" else math.inf
    if _NAN_RE.fullmatch(text):
        return math.nan
    return _NOT_CORE


def load_yaml(path: str | Path, error_cls: type[PlannerInputError] = PlannerInputError
              ) -> YamlDocument:
    """Read a YAML file safely, keeping the line number of every value.

    Parameters
    ----------
    path
        The file to read.
    error_cls
        The :class:`~planner.errors.PlannerInputError` subclass to raise on failure.

    Raises
    ------
    PlannerInputError
        (as ``error_cls``) if the file is missing, unreadable, not YAML, empty, or has a
        duplicate key; the message names the file and line.
    """
    path = Path(path)
    text = read_input_text(path, error_cls, kind="YAML file", max_bytes=MAX_YAML_BYTES)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except RecursionError:
        raise error_cls("structure nested too deeply", path=str(path)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise error_cls(f"not valid YAML: {exc.problem or exc.context}", path=str(path),
                        line=line) from None
    except yaml.YAMLError as exc:
        raise error_cls(f"not valid YAML: {exc}", path=str(path)) from None
    if node is None:
        raise error_cls("file is empty", path=str(path))
    lines: dict[Location, int] = {}
    try:
        data = _construct(node, (), lines, path, error_cls, set())
    except RecursionError:
        raise error_cls("structure nested too deeply", path=str(path)) from None
    return YamlDocument(path=path, data=data, lines=lines)


def raise_validation_error(exc: ValidationError, doc: YamlDocument | None,
                           prefix: Location = (),
                           error_cls: type[PlannerInputError] = PlannerInputError) -> NoReturn:
    """Re-raise one error of a pydantic ``ValidationError`` as a one-line planner error.

    An unknown field is reported before anything else (a misspelt key usually also makes a
    required field "missing"); otherwise the first error is.

    Parameters
    ----------
    exc
        The pydantic error.
    doc
        The document the validated data came from (for the file and line numbers); ``None``
        for data that came from no file (the error then names the field alone).
    prefix
        Location of the validated object within the document, e.g. ``("stations", 3)``.
    error_cls
        The planner error type to raise.
    """
    errors = exc.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = (*prefix, *first["loc"])
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    elif first["type"] == "missing":
        message = "required field is missing"
    elif first["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    else:
        value = first.get("input")
        if not isinstance(value, (dict, list)):
            message = f"{value!r}: {message[:1].lower()}{message[1:]}"
    raise error_cls(message, path=None if doc is None else str(doc.path),
                    line=None if doc is None else doc.line_of(loc),
                    field=format_location(loc)) from None
