"""Element-set files and the catalogue: read any supported format, group sets by satellite.

The format of a file follows its extension, else its content is sniffed
(:func:`read_elements`); :class:`Catalogue` groups the sets of many files by satellite and finds
the set nearest any time.

Times
-----
Arrays of times (:meth:`Catalogue.nearest`) are numpy ``datetime64[ns]`` in UTC; pandas
timestamps/indexes (naive = UTC, aware = converted) and :class:`datetime.datetime` objects are
converted. Julian dates are not accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.elements.elementset import DEFAULT_ELEMENTS, ElementSet
from planner.elements.omm import parse_omm_csv, parse_omm_json, parse_omm_kvn, parse_omm_xml
from planner.elements.tle import parse_tle_text
from planner.errors import ElementSetError
from planner.io.readers import read_input_text
from planner.io.resources import bundled_path

__all__ = [
    "Catalogue",
    "default_element_paths",
    "read_catalogue",
    "read_elements",
    "to_datetime64",
]

#: Largest element-set file accepted [bytes]: CelesTrak's whole GP catalogue is about 30 MB of
#: JSON (and ``tle fetch`` accepts 20 MB answers by default).
MAX_ELEMENT_FILE_BYTES = 200_000_000

TLE_SUFFIXES = {".tle", ".3le", ".2le"}

_PARSERS = {
    "tle": parse_tle_text,
    "json": parse_omm_json,
    "csv": parse_omm_csv,
    "xml": parse_omm_xml,
    "kvn": parse_omm_kvn,
}
# ``.txt`` is sniffed: CelesTrak answers are often saved as .txt whatever their format.
_SUFFIX_FORMAT = {**dict.fromkeys(TLE_SUFFIXES, "tle"), ".json": "json",
                  ".csv": "csv", ".xml": "xml", ".kvn": "kvn"}


def _sniff(text: str) -> str:
    """Guess the format of element-set text from its first non-blank characters."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith(("[", "{")):
        return "json"
    if head.startswith("<"):
        return "xml"
    first = head.split("\n", 1)[0].upper()
    if "=" in first and re.match(r"\s*(CCSDS_OMM_VERS|COMMENT|[A-Z_]+\s*=)", first):
        return "kvn"
    if "," in first and ("EPOCH" in first or "NORAD_CAT_ID" in first):
        return "csv"
    return "tle"


def read_elements(path: str | Path) -> list[ElementSet]:
    """Read and validate every element set in a file.

    The format follows the extension (``.tle .3le .2le`` TLE, ``.json``, ``.csv``, ``.xml``,
    ``.kvn``); ``.txt``, ``.omm`` and anything else are recognised from the content (JSON, XML,
    KVN, CSV with an OMM header, else TLE).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    list of ElementSet
        At least one.

    Raises
    ------
    ElementSetError
        If the file is missing, a directory, unreadable, not UTF-8, holds no element set, or holds
        an invalid one.
    """
    path = Path(path)
    source = str(path)
    text = read_input_text(path, ElementSetError, kind="element-set file",
                           max_bytes=MAX_ELEMENT_FILE_BYTES)
    fmt = _SUFFIX_FORMAT.get(path.suffix.lower()) or _sniff(text)
    sets = _PARSERS[fmt](text, source)
    if not sets:
        raise ElementSetError("no element sets found", path=source)
    return sets


def read_catalogue(paths: str | Path | Iterable[str | Path]) -> Catalogue:
    """Read element-set files into one :class:`Catalogue`.

    Parameters
    ----------
    paths
        One path or several; a set met twice (same satellite and epoch) is kept once, from the
        first file that has it.

    Raises
    ------
    ElementSetError
        As :func:`read_elements`.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    sets: list[ElementSet] = []
    for path in paths:
        sets.extend(read_elements(path))
    return Catalogue(sets)


def default_element_paths() -> list[Path]:
    """Paths of the bundled default element sets (the representative Jinan-1 set)."""
    return [bundled_path(DEFAULT_ELEMENTS)]



class Catalogue:
    """Element sets grouped by satellite, each group sorted by epoch.

    Parameters
    ----------
    element_sets
        Sets in any order. Within a satellite (:attr:`ElementSet.satellite_key`) a set with the
        same epoch as an earlier one is dropped (the first one met is kept).
    """

    def __init__(self, element_sets: Iterable[ElementSet]) -> None:
        groups: dict[str, dict[datetime, ElementSet]] = {}
        for es in element_sets:
            groups.setdefault(es.satellite_key, {}).setdefault(es.epoch, es)
        self._sets = {key: sorted(group.values(), key=lambda s: s.epoch)
                      for key, group in groups.items()}
        self._epochs = {key: np.array([s.epoch64 for s in sets], dtype="datetime64[ns]")
                        for key, sets in self._sets.items()}

    @property
    def satellites(self) -> list[str]:
        """Satellite keys in order of first appearance."""
        return list(self._sets)

    def __len__(self) -> int:
        return len(self._sets)

    def __iter__(self) -> Iterator[str]:
        return iter(self._sets)

    def __contains__(self, key: object) -> bool:
        return key in self._sets

    def sets(self, key: str) -> list[ElementSet]:
        """The satellite's element sets, oldest first."""
        return list(self._sets[key])

    def all_sets(self) -> list[ElementSet]:
        """Every element set, satellite by satellite, oldest first."""
        return [es for sets in self._sets.values() for es in sets]

    def newest(self, key: str) -> ElementSet:
        """The satellite's newest element set."""
        return self._sets[key][-1]

    def name(self, key: str) -> str:
        """Name of the satellite (from its newest element set)."""
        return self.newest(key).name

    def norad(self, key: str) -> int | None:
        """Catalogue number of the satellite, or ``None``."""
        return self.newest(key).norad

    def epochs(self, key: str) -> np.ndarray:
        """Epochs of the satellite's sets, ``datetime64[ns]`` UTC, ascending."""
        return self._epochs[key].copy()

    def resolve(self, query: str | int) -> str:
        """Find a satellite by key, catalogue number or name (case-insensitive).

        Raises
        ------
        ElementSetError
            If nothing matches (the message lists the satellites available).
        """
        text = str(query).strip()
        if text in self._sets:
            return text
        for key in self._sets:
            if self.name(key).casefold() == text.casefold():
                return key
        available = ", ".join(f"{self.name(k)} ({k})" for k in list(self._sets)[:10])
        raise ElementSetError(f"no element set for satellite {text!r}; available: {available}",
                              field="satellite")

    def nearest(self, key: str, times: Any) -> np.ndarray:
        """Index (into :meth:`sets`) of the set whose epoch is nearest each time.

        Parameters
        ----------
        key
            Satellite key.
        times
            UTC times: numpy ``datetime64``, pandas timestamps/index (naive means UTC) or
            :class:`datetime.datetime` objects, any shape.

        Returns
        -------
        numpy.ndarray of int
            Same shape as ``times``. Exactly half-way between two epochs the earlier set wins.
        """
        t = to_datetime64(times)
        epochs = self._epochs[key].astype(np.int64)
        ti = t.astype(np.int64).ravel()
        right = np.clip(np.searchsorted(epochs, ti, side="left"), 0, len(epochs) - 1)
        left = np.clip(right - 1, 0, len(epochs) - 1)
        pick_right = np.abs(epochs[right] - ti) < np.abs(ti - epochs[left])
        return np.where(pick_right, right, left).astype(np.intp).reshape(t.shape)




def to_datetime64(times: Any) -> np.ndarray:
    """Convert UTC times to a numpy ``datetime64[ns]`` array (naive, UTC).

    Parameters
    ----------
    times
        numpy ``datetime64`` values, pandas ``Timestamp``/``DatetimeIndex``/``Series``, ISO strings
        or :class:`datetime.datetime` objects; naive values are taken as UTC, aware ones are
        converted.

    Raises
    ------
    TypeError
        For numbers (Julian dates or epoch seconds are ambiguous and not accepted).
    """
    if isinstance(times, (pd.Series, pd.Index)):
        idx = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
        return idx.tz_localize(None).to_numpy("datetime64[ns]")
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]")
    if arr.dtype.kind in "biufc":
        raise TypeError("times must be datetimes (numpy datetime64, pandas or datetime), "
                        "not numbers")
    flat = pd.DatetimeIndex(pd.to_datetime(arr.ravel().tolist(), utc=True))
    return flat.tz_localize(None).to_numpy("datetime64[ns]").reshape(arr.shape)
