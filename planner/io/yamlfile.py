"""Safe YAML loading that remembers where every value came from.

Configuration files (stations, payloads, demands) are validated with pydantic; when a value is
wrong the user must be told the file, line and field. :func:`load_yaml` keeps a map from each
value's location (a tuple of keys and indices) to its 1-based line, and
:func:`raise_validation_error` turns a pydantic ``ValidationError`` into the planner's one-line
error naming all three. Only the safe loader is used: no tags, no code, no object construction.
"""

from __future__ import annotations

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
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_value = _scalar(key_node, path, error_cls)
            if isinstance(key_value, (list, dict)):
                raise error_cls("mapping keys must be plain scalars", path=str(path),
                                line=key_node.start_mark.line + 1, field=format_location(loc))
            if key_value in out:
                raise error_cls(f"duplicate key {key_value!r}", path=str(path),
                                line=key_node.start_mark.line + 1,
                                field=format_location((*loc, key_value)))
            out[key_value] = _construct(value_node, (*loc, key_value), lines, path, error_cls,
                                        seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), lines, path, error_cls, seen)
                for i, item in enumerate(node.value)]
    return _scalar(node, path, error_cls)


def _scalar(node: yaml.Node, path: Path, error_cls: type[PlannerInputError]) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise error_cls(f"cannot read value: {exc}", path=str(path),
                        line=node.start_mark.line + 1) from None
    finally:
        loader.dispose()


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
    text = read_input_text(path, error_cls)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
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


def raise_validation_error(exc: ValidationError, doc: YamlDocument, prefix: Location = (),
                           error_cls: type[PlannerInputError] = PlannerInputError) -> NoReturn:
    """Re-raise the first error of a pydantic ``ValidationError`` as a one-line planner error.

    Parameters
    ----------
    exc
        The pydantic error.
    doc
        The document the validated data came from (for line numbers).
    prefix
        Location of the validated object within the document, e.g. ``("stations", 3)``.
    error_cls
        The planner error type to raise.
    """
    first = exc.errors(include_url=False)[0]
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
    raise error_cls(message, path=str(doc.path), line=doc.line_of(loc),
                    field=format_location(loc)) from None
