"""Locate the bundled default data (element sets, stations, payloads).

In a source checkout (or an editable install) the files sit at the top of the repository; a
built wheel carries copies under ``planner/_bundled`` (see ``pyproject.toml``). Either way they are
found from any working directory.
"""

from __future__ import annotations

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
