"""Write the report's files as one set: a reader finds all of one run's files or all of another's.

:func:`write_file_set` writes every file to a temporary ``.part`` name beside its target (each
fully written and flushed to disk), then, holding an exclusive lock on the set, records the
renames in a journal and renames the files into place. So:

* two runs writing the same set commit one after the other, never interleaved (the lock);
* an exception or Ctrl-C between two renames puts the previous files back (hard-linked copies
  taken before the first rename), so the set is the old one, complete;
* a process killed between two renames leaves the journal; the next write of the set (or
  :func:`recover_file_set`) finishes the recorded renames first, so the set is the new one,
  complete, before anything else happens;
* ``.part`` files of a killed run are removed by the next write of the set.

The lock is ``fcntl.flock`` on the directory itself (advisory, POSIX), so sets written to one
directory commit one at a time and no lock file is left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from planner.errors import PlannerInputError

__all__ = ["recover_file_set", "write_file_set"]


def _hidden(path: Path, suffix: str) -> Path:
    return path.with_name(f".{path.name}{suffix}")


def _set_files(paths: Mapping[str, Path]) -> tuple[Path, Path]:
    """The directory (locked while a set is written) and the journal (named after the set's
    first file in name order, so any mapping of the same files finds it)."""
    first = min(paths.values())
    return first.parent, _hidden(first, ".journal")


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the directory (no lock file is left behind)."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def _write_part(path: Path, data: bytes) -> Path:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def _unique_name(path: Path, suffix: str) -> Path:
    """A free hidden name beside ``path`` (created, then removed: only the name is kept)."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    os.unlink(name)
    return Path(name)


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _remove_stale_parts(paths: Mapping[str, Path], keep: set[Path]) -> None:
    """``.part`` files and backups of the set's names left by a killed run (none can be live:
    we hold the lock, and a run writes them only under it)."""
    for path in paths.values():
        for pattern in (f".{path.name}.*.part", f".{path.name}.*.old"):
            for stale in path.parent.glob(pattern):
                if stale not in keep:
                    stale.unlink(missing_ok=True)


def _finish_journal(journal: Path) -> None:
    """Complete the steps a killed run recorded (roll forward), then drop the journal."""
    try:
        steps = json.loads(journal.read_text())
    except (OSError, ValueError):
        steps = []
    for step in steps:
        target = Path(step["target"])
        if step["part"] is None:
            target.unlink(missing_ok=True)
        elif Path(step["part"]).exists():
            os.replace(step["part"], target)
    for step in steps:
        if step.get("backup"):
            Path(step["backup"]).unlink(missing_ok=True)
    journal.unlink(missing_ok=True)


def recover_file_set(paths: Mapping[str, str | Path]) -> None:
    """Finish a write of the set that a killed process left half done, and remove its
    ``.part`` files; nothing to do when the set is complete."""
    paths = {name: Path(p).absolute() for name, p in paths.items()}
    directory, journal = _set_files(paths)
    with _locked(directory):
        if journal.exists():
            _finish_journal(journal)
        _remove_stale_parts(paths, set())


def write_file_set(paths: Mapping[str, str | Path],
                   contents: Mapping[str, str | bytes]) -> dict[str, Path]:
    """Write ``contents[name]`` to ``paths[name]`` for every name, as one set.

    A file of ``paths`` that ``contents`` does not name (e.g. the key table of a run without
    one) is removed with the same commit, so no file of an earlier run is left beside the new
    ones.

    Parameters
    ----------
    paths : mapping of str to path
        Every file of the set, all in one directory.
    contents : mapping of str to str or bytes
        What to write (text as UTF-8), by name.

    Returns
    -------
    dict of str to pathlib.Path
        The files written, in the order of ``contents`` (as given in ``paths``).

    Raises
    ------
    PlannerInputError
        Naming ``paths`` when a file of the set exists and is not a regular file (a device,
        a FIFO, a symbolic link), which a rename would replace.
    """
    given = {name: Path(p) for name, p in paths.items()}
    every = {name: p.absolute() for name, p in given.items()}
    for target in every.values():
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise PlannerInputError(f"{str(target)!r} exists and is not a regular file; a "
                                    "file set replaces only regular files", field="paths")
    directory, journal = _set_files(every)
    with _locked(directory):
        if journal.exists():
            _finish_journal(journal)
        _remove_stale_parts(every, set())
        parts: dict[str, Path] = {}
        try:
            for name, data in contents.items():
                parts[name] = _write_part(every[name],
                                          data.encode("utf-8") if isinstance(data, str)
                                          else data)
            _commit(every, parts, journal)
        except BaseException:
            for temporary in parts.values():
                temporary.unlink(missing_ok=True)
            raise
    return {name: given[name] for name in contents}


def _commit(targets: Mapping[str, Path], parts: Mapping[str, Path], journal: Path) -> None:
    """Rename every part into place and remove the set's files without a part; on an
    exception, put the previous files back."""
    backups: dict[str, Path] = {}
    for name, target in targets.items():
        if target.is_file():
            backup = (parts[name].with_suffix(".old") if name in parts  # unique, as the part
                      else _unique_name(target, ".old"))
            try:
                os.link(target, backup)
            except OSError:  # a file system without hard links
                shutil.copy2(target, backup)
            backups[name] = backup
    steps = [{"part": str(parts[name]) if name in parts else None, "target": str(target),
              "backup": str(backups[name]) if name in backups else None}
             for name, target in targets.items() if name in parts or name in backups]
    journal.write_text(json.dumps(steps))
    _fsync_directory(journal.parent)
    done: list[str] = []
    try:
        for name, target in targets.items():
            if name in parts:
                os.replace(parts[name], target)
            elif name in backups:
                target.unlink()
            else:
                continue
            done.append(name)
        _fsync_directory(journal.parent)
    except BaseException:
        for name in done:  # put the previous set back
            if name in backups:
                os.replace(backups.pop(name), targets[name])
            else:
                targets[name].unlink(missing_ok=True)
        for backup in backups.values():
            backup.unlink(missing_ok=True)
        journal.unlink(missing_ok=True)
        raise
    for backup in backups.values():
        backup.unlink(missing_ok=True)
    journal.unlink(missing_ok=True)
