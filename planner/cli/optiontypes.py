"""The type of each option's value, read from the command function's own annotations.

The checks that need to know an option's type (:mod:`planner.cli.numbers`: which options are
numbers; :func:`planner.cli.root.format_from_output`: which formats ``--format`` offers) read
it from the Python function behind the command, with :func:`typing.get_type_hints`, not from
the attributes Typer keeps on its parameter objects: those are Typer's internals
(``type_descriptor`` appeared when Typer took Click in, and Click-based Typer has none), while
the function's annotations are the command's own declaration. Typer names each parameter after
the function's argument, and wraps the function with :func:`functools.update_wrapper`, so
:func:`inspect.unwrap` finds it from the command's ``callback``.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from enum import Enum

__all__ = ["choices", "value_types"]


def value_types(command) -> dict[str, object]:
    """Each argument of ``command``'s function and the type of its value.

    Parameters
    ----------
    command
        A command as Typer builds it (its ``callback`` wraps the function).

    Returns
    -------
    dict
        Argument name -> type, with ``Annotated`` and ``| None`` taken off
        (``Annotated[float | None, typer.Option(...)]`` is ``float``). Empty for a command
        without a function.
    """
    callback = getattr(command, "callback", None)
    return {} if callback is None else _function_value_types(inspect.unwrap(callback))


@functools.cache
def _function_value_types(function) -> dict[str, object]:
    hints = typing.get_type_hints(function)        # (without include_extras: no Annotated)
    hints.pop("return", None)
    return {name: _without_none(hint) for name, hint in hints.items()}


def _without_none(hint):
    """``hint`` without ``None`` (``float | None`` and ``Optional[float]`` are ``float``)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kept = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(kept) == 1:
            return kept[0]
    return hint


def choices(value_type) -> dict[str, object]:
    """The values a choice option takes, by the text that selects each.

    Parameters
    ----------
    value_type
        An :class:`~enum.Enum` subclass (its members by value) or a ``Literal[...]``.

    Returns
    -------
    dict
        Text -> the value the command receives; empty for any other type.
    """
    if isinstance(value_type, type) and issubclass(value_type, Enum):
        return {str(member.value): member for member in value_type}
    if typing.get_origin(value_type) is typing.Literal:
        return {str(value): value for value in typing.get_args(value_type)}
    return {}
