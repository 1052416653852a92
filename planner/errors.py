"""The planner's own exception types.

Errors a user can cause (bad element sets, station files, dates, options) raise a subclass of
:class:`PlannerInputError`. Its message names the file, line and field at fault so the CLI can print
it as one line and exit with status 2. Anything else reaching the CLI is a bug (exit status 1).
"""

from __future__ import annotations


class PlannerError(Exception):
    """Base class of every exception the planner raises on purpose."""


class PlannerInputError(PlannerError, ValueError):
    """Bad input a user can fix.

    Parameters
    ----------
    message
        What is wrong and, where it helps, what to do about it.
    path
        The file the input came from, if any.
    line
        1-based line number within ``path``, if known.
    field
        The field (column, key or option) at fault, e.g. ``stations[3].latitude_deg``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return ``path:line: field: message`` with absent parts left out, on one line."""
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
        parts = [p for p in (where, self.field) if p]
        text = ": ".join([*parts, self.message])
        return " ".join(text.split())


class OutputError(PlannerError, OSError):
    """Writing an output failed for a reason outside the input (a full disk, a device error).

    The CLI prints it as one line and exits with status 1. ``field`` names the output (a
    parameter or flag); the message names the file and the system's reason. It is an
    :class:`OSError` too, as the failure it reports is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``field: message`` (or the message alone)."""
        return f"{self.field}: {self.message}" if self.field else self.message


class ElementSetError(PlannerInputError):
    """A TLE or OMM element set is malformed, inconsistent or too old."""


class StationError(PlannerInputError):
    """A ground-station definition is invalid."""


class PayloadError(PlannerInputError):
    """A payload / mission-parameter definition is invalid."""


class LossCurveError(PlannerInputError):
    """A measured loss curve (``--loss-csv``) is invalid."""


class ScheduleInputError(PlannerInputError):
    """A scheduling request (demands, memory, fibre links, scenarios) is invalid."""


class OptionError(PlannerInputError):
    """A command-line option has a bad value (dates, periods, names)."""


class FetchError(PlannerInputError):
    """Fetching element sets failed: no connection, a non-200 answer, or an unusable answer.

    ``path`` is the URL asked; nothing has been written when this is raised. ``status`` is the
    HTTP status of a non-200 answer (else ``None``).
    """

    status: int | None = None
