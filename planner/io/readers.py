"""Reading user input files with the planner's one-line errors."""

from __future__ import annotations

from pathlib import Path

from planner.errors import PlannerInputError


def read_input_text(path: str | Path, error_cls: type[PlannerInputError], *,
                    kind: str = "file", max_bytes: int | None = None) -> str:
    """The text of a UTF-8 input file (a byte-order mark is dropped).

    Parameters
    ----------
    path
        The file.
    error_cls
        The planner error type to raise.
    kind
        What the file should be, for the message about a directory (e.g. ``"element-set
        file"``).
    max_bytes
        Largest file accepted [bytes]; reading stops past it (``None``: no limit).

    Raises
    ------
    PlannerInputError
        (as ``error_cls``) for a missing or unreadable file, a directory, a file larger than
        ``max_bytes``, or bytes that are not UTF-8 (naming the line of the first bad byte).
    """
    path = Path(path)
    source = str(path)
    try:
        with path.open("rb") as stream:
            data = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    except FileNotFoundError:
        raise error_cls("file not found", path=source) from None
    except IsADirectoryError:
        raise error_cls(f"is a directory, not {_a(kind)}",
                        path=source) from None
    except OSError as exc:
        raise error_cls(f"cannot read file: {exc.strerror}", path=source) from None
    if max_bytes is not None and len(data) > max_bytes:
        raise error_cls(f"larger than the {max_bytes / 1e6:g} MB limit for {_a(kind)}",
                        path=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error_cls(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=source,
                        line=line) from None


def _a(kind: str) -> str:
    """``"a file"``, ``"an element-set file"``."""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
