"""Library errors name parameters; on the command line they name the flags that set them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from planner.errors import PlannerInputError

__all__ = ["flags_named", "with_flags"]


def with_flags(error: PlannerInputError, flags: Mapping[str, str]) -> PlannerInputError:
    """``error`` with parameter names replaced by the flags that set them.

    The field is replaced when it is exactly a parameter and the error names no file (a field of
    a file is that file's key, not a parameter); in the message, parameter names containing an
    underscore (``read_timeout_s``) are replaced wherever they stand as a word.

    Parameters
    ----------
    error
        The library's error; changed in place and returned.
    flags
        Parameter name -> flag, e.g. ``{"read_timeout_s": "--read-timeout"}``.
    """
    if error.path is None and error.field in flags:
        error.field = flags[error.field]
    words = sorted((name for name in flags if "_" in name), key=len, reverse=True)
    if words:
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b")
        error.message = pattern.sub(lambda match: flags[match.group(1)], error.message)
    error.args = (error.one_line(),)
    return error


@contextmanager
def flags_named(flags: Mapping[str, str]) -> Iterator[None]:
    """Within the block, a :class:`PlannerInputError` leaves with flags in place of parameters."""
    try:
        yield
    except PlannerInputError as error:
        raise with_flags(error, flags) from error.__cause__
