"""Locate the bundled default data (element sets, stations, payloads).

In a source checkout (or an editable install) the files sit at the top of the repository; a
built wheel carries copies under ``planner/_bundled`` (see ``pyproject.toml``). Either way they are
found from any working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def bundled_path(name: str) -> Path:
    """Return the path of a bundled data file or folder.

    Parameters
    ----------
    name
        ``"ground_stations.yaml"``, ``"payloads.yaml"``, ``"tle_data"`` or a path below it such as
        ``"tle_data/jinan1_representative.tle"``.

    Raises
    ------
    FileNotFoundError
        If the installation is broken and the file is in neither place.
    """
    for base in (_PACKAGE_DIR / "_bundled", _PACKAGE_DIR.parent):
        candidate = base / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"bundled data file {name!r} is missing from the installation")


#: The bundled resources, as ``bundled:NAME`` names them.
BUNDLED_NAMES = ("tle_data", "ground_stations.yaml", "payloads.yaml")


def recorded_path(path: str | Path) -> str:
    """How provenance names a file: ``bundled:NAME`` (``bundled:tle_data/micius.tle``) for the
    bundled data, wherever the package is installed; a user's file relative to the working
    directory if it is below it, else as given. Text that names no file is returned unchanged.
    """
    text = str(path)
    if text.startswith("bundled:") or text.startswith("<"):
        return text
    try:
        resolved = Path(text).resolve()
    except (OSError, RuntimeError, ValueError):
        return text
    for name in BUNDLED_NAMES:
        try:
            base = bundled_path(name).resolve()
        except FileNotFoundError:
            continue
        if resolved == base:
            return f"bundled:{name}"
        if base in resolved.parents:
            return f"bundled:{name}/{resolved.relative_to(base).as_posix()}"
    cwd = Path.cwd()
    if Path(text).is_absolute() and cwd in resolved.parents:
        return os.path.relpath(resolved, cwd)
    return text
