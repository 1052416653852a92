"""Writing output files so that a reader never sees a part: atomic files, devices and FIFOs.

A regular file (new or existing) is written to a temporary name in its directory and renamed over
the target, so a failure or an interrupt never leaves a half-written file behind. A symbolic link
is followed: its target is written that way and the link stays. A character device
(``/dev/null``, a terminal) or a FIFO is written directly: renaming over one would replace the
device node or the pipe with a regular file. Anything else (a directory, a block device, a
socket) is refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from planner.errors import OptionError, OutputError

__all__ = ["check_output_path", "is_stream_target", "write_atomic"]


def _target(path: Path) -> Path:
    """The file a write to ``path`` reaches: symbolic links followed (even dangling ones)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _mode(path: Path) -> int | None:
    """``st_mode`` of ``path`` (following links), or ``None`` if it does not exist."""
    try:
        return path.stat().st_mode
    except OSError:  # missing, a dangling link, or not reachable
        return None


def is_stream_target(path: str | Path) -> bool:
    """Whether ``path`` is (or links to) a character device or a FIFO, written directly."""
    mode = _mode(Path(path))
    return mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode))


def check_output_path(path: str | Path, option: str = "output") -> Path:
    """Fail early (before any work) if ``path`` cannot be written.

    Parameters
    ----------
    path
        The output file: a new or regular file, a symbolic link to one, a character device or a
        FIFO.
    option
        The name given to the user for ``path`` in errors (a parameter or, from the command
        line, a flag).

    Returns
    -------
    Path
        ``path`` as given.

    Raises
    ------
    OptionError
        If ``path`` is a directory, a block device or a socket, or its directory does not exist
        or is not writable.
    """
    path = Path(path)
    mode = _mode(path)
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        if not os.access(path, os.W_OK):
            raise OptionError(f"{str(path)!r} is not writable", field=option)
        return path
    if mode is not None and stat.S_ISDIR(mode):
        raise OptionError(f"{str(path)!r} is a directory; give a file name", field=option)
    if mode is not None and not stat.S_ISREG(mode):
        raise OptionError(f"{str(path)!r} is neither a regular file, a character device nor a "
                          "FIFO; refusing to replace it", field=option)
    target = _target(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise OptionError(f"directory {str(parent)!r} does not exist", field=option)
    if not os.access(parent, os.W_OK):
        raise OptionError(f"directory {str(parent)!r} is not writable", field=option)
    return path


def write_atomic(path: str | Path, data: str | bytes | Iterable[str | bytes],
                 option: str = "output") -> Path:
    """Write ``data`` to ``path`` so that a reader never sees a part of it.

    A regular file goes through a temporary file in the same directory and a rename (readers see
    the old file or the complete new one; on any failure, KeyboardInterrupt included, the
    temporary file is removed). A symbolic link is followed and its target written so. A
    character device or a FIFO is written directly (opening a FIFO waits for its reader).

    Parameters
    ----------
    path
        The output file (see :func:`check_output_path`).
    data
        Text (UTF-8) or bytes, or an iterable of them written one after the other (so that a
        large document need not be held in memory).
    option
        The name given to the user for ``path`` in errors.

    Returns
    -------
    Path
        ``path`` as given.

    Raises
    ------
    OptionError
        As :func:`check_output_path`.
    OutputError
        If writing fails (a full disk, a device error).
    """
    path = check_output_path(path, option)
    chunks = [data] if isinstance(data, (str, bytes)) else data
    if is_stream_target(path):
        _write_stream(path, chunks, option)
        return path
    target = _target(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                         dir=target.parent if str(target.parent) else ".")
    try:
        with os.fdopen(handle, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        mode = _mode(target)
        if mode is not None and not stat.S_ISREG(mode):  # changed since it was checked
            raise OptionError(f"{str(path)!r} stopped being a regular file; refusing to replace "
                              "it", field=option)
        os.replace(temporary, target)
    except OSError as error:
        _remove(temporary)
        raise OutputError(f"cannot write {str(path)!r}: {error.strerror or error}",
                          field=option) from None
    except BaseException:
        _remove(temporary)
        raise
    return path


def _write_stream(path: Path, chunks: Iterable[str | bytes], option: str) -> None:
    """Write to a character device or a FIFO in place (no temporary file, no rename)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(descriptor, "wb") as stream:
            mode = os.fstat(stream.fileno()).st_mode
            if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
                raise OptionError(f"{str(path)!r} stopped being a device or FIFO", field=option)
            for chunk in chunks:
                stream.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            stream.flush()
    except OSError as error:
        raise OutputError(f"cannot write {str(path)!r}: {error.strerror or error}",
                          field=option) from None


def _remove(temporary: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
