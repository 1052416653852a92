"""The CelesTrak GP query: which elements to ask for, where from, and where to keep them.

One query (``CATNR``, ``INTDES``, ``GROUP`` or ``NAME``) is sent to the GP interface, e.g.
``https://celestrak.org/NORAD/elements/gp.php?CATNR=41731&FORMAT=json``. The base URL is the
``base_url`` argument, else ``$QKDPLAN_CELESTRAK_URL``, else CelesTrak's; the cache directory is
``cache_dir``, else ``$QKDPLAN_CACHE_DIR``, else ``~/.cache/qkdplan/elements``.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import OptionError

__all__ = [
    "BASE_URL_ENV",
    "CACHE_DIR_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_CACHE_DIR",
    "GPQuery",
    "check_cache_dir",
    "check_positive",
    "make_query",
    "resolve_base_url",
    "resolve_cache_dir",
]

#: CelesTrak's GP (general perturbations) query interface.
DEFAULT_BASE_URL = "https://celestrak.org/NORAD/elements/gp.php"
#: Environment variable overriding the base URL (a mirror, or a local test server).
BASE_URL_ENV = "QKDPLAN_CELESTRAK_URL"
#: Environment variable overriding the cache directory.
CACHE_DIR_ENV = "QKDPLAN_CACHE_DIR"
#: Default cache directory (``~`` expanded when used).
DEFAULT_CACHE_DIR = "~/.cache/qkdplan/elements"

_QUERY_KEYS = {"CATNR": "catnr", "INTDES": "intdes", "GROUP": "group", "NAME": "name"}
_INTDES_RE = re.compile(r"\d{4}-\d{3}[A-Z]{0,3}", re.ASCII)
_GROUP_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}", re.ASCII)
_MAX_CATNR = 999_999_999
_MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class GPQuery:
    """One CelesTrak GP query, e.g. ``GPQuery("CATNR", "41731")``.

    Attributes
    ----------
    key
        ``"CATNR"``, ``"INTDES"``, ``"GROUP"`` or ``"NAME"``.
    value
        The value sent (already checked by :func:`make_query`).
    """

    key: str
    value: str

    @property
    def parameter(self) -> str:
        """The :func:`make_query` parameter that sets this query (for messages)."""
        return _QUERY_KEYS[self.key]

    def url(self, base_url: str) -> str:
        """The full request URL: ``base_url`` with ``KEY=value&FORMAT=json`` appended."""
        parts = urllib.parse.urlsplit(base_url)
        params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        params = [(k, v) for k, v in params if k.upper() not in (*_QUERY_KEYS, "FORMAT")]
        params += [(self.key, self.value), ("FORMAT", "json")]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(params)))

    @property
    def cache_stem(self) -> str:
        """File-name stem of this query in the cache, e.g. ``catnr-41731``, ``intdes-2022-086``.

        Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``; a short hash
        of the value is appended when that changed anything, so distinct queries never share
        a file.
        """
        text = self.value.lower()
        safe = re.sub(r"[^a-z0-9._-]+", "_", text).strip("._")[:60] or "_"
        if safe != text:
            safe += "-" + hashlib.sha256(self.value.encode()).hexdigest()[:8]
        return f"{self.key.lower()}-{safe}"


def make_query(catnr: int | None = None, intdes: str | None = None, group: str | None = None,
               name: str | None = None) -> GPQuery:
    """Check the query options (exactly one must be given) and build the query.

    Parameters
    ----------
    catnr
        Catalogue (NORAD) number, 1 to 999999999.
    intdes
        International designator of a launch (``2022-086``) or object (``2022-086A``).
    group
        A CelesTrak group name such as ``stations`` or ``active``.
    name
        (Part of) a satellite name, at most 100 characters.

    Raises
    ------
    OptionError
        If none or more than one is given, or the value is malformed.
    """
    given = {key: value for key, value in
             (("CATNR", catnr), ("INTDES", intdes), ("GROUP", group), ("NAME", name))
             if value is not None}
    if len(given) != 1:
        found = "none" if not given else " and ".join(_QUERY_KEYS[k] for k in given)
        raise OptionError(f"give exactly one of catnr, intdes, group, name (found {found})",
                          field="catnr")
    key, value = next(iter(given.items()))
    return GPQuery(key, _CHECKS[key](value))


def _check_catnr(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_CATNR:
        raise OptionError(f"expected a catalogue number from 1 to {_MAX_CATNR}, found "
                          f"{value!r}", field="catnr")
    return str(value)


def _check_intdes(value: Any) -> str:
    text = str(value).strip().upper()
    if not _INTDES_RE.fullmatch(text):
        raise OptionError(f"expected an international designator such as 2022-086 or "
                          f"2016-051A, found {str(value)[:40]!r}", field="intdes")
    return text


def _check_group(value: Any) -> str:
    text = str(value).strip()
    if not _GROUP_RE.fullmatch(text):
        raise OptionError(f"expected a CelesTrak group name such as 'stations' or 'active' "
                          f"(letters, digits, '-', '_', '.'), found {str(value)[:40]!r}",
                          field="group")
    return text


def _check_name(value: Any) -> str:
    text = " ".join(str(value).split())
    if not text or len(text) > _MAX_NAME_LENGTH or not text.isprintable():
        raise OptionError(f"expected a satellite name of 1 to {_MAX_NAME_LENGTH} printable "
                          f"characters, found {str(value)[:40]!r}", field="name")
    return text


_CHECKS = {"CATNR": _check_catnr, "INTDES": _check_intdes, "GROUP": _check_group,
           "NAME": _check_name}


def resolve_base_url(base_url: str | None = None) -> str:
    """The base URL: ``base_url``, else ``$QKDPLAN_CELESTRAK_URL``, else CelesTrak's.

    Raises
    ------
    OptionError
        If the URL is not ``http://`` or ``https://`` with a host (``file:``, ``ftp:`` and
        others are refused), naming ``base_url`` or the environment variable.
    """
    option = "base_url"
    if base_url is None or not base_url.strip():
        base_url, option = os.environ.get(BASE_URL_ENV, "").strip(), BASE_URL_ENV
        if not base_url:
            return DEFAULT_BASE_URL
    base_url = base_url.strip()
    try:
        parts = urllib.parse.urlsplit(base_url)
        has_host = bool(parts.hostname)
    except ValueError:
        parts, has_host = None, False
    if parts is None or parts.scheme.lower() not in ("http", "https") or not has_host:
        raise OptionError(f"expected an http:// or https:// URL such as {DEFAULT_BASE_URL}, "
                          f"found {base_url[:60]!r}", field=option)
    return base_url


def resolve_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """The cache directory: ``cache_dir``, else ``$QKDPLAN_CACHE_DIR``, else the default.

    ``~`` is expanded. The directory is not created here.
    """
    if cache_dir is None or not str(cache_dir).strip():
        cache_dir = os.environ.get(CACHE_DIR_ENV, "").strip() or DEFAULT_CACHE_DIR
    return Path(cache_dir).expanduser()


def check_positive(value: float, parameter: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise OptionError(f"expected a positive number, found {value!r}", field=parameter)
    return float(value)


def check_cache_dir(path: Path) -> None:
    """Fail before any request if ``path`` cannot become a writable directory."""
    if path.exists() and not path.is_dir():
        raise OptionError(f"{str(path)!r} exists and is not a directory", field="cache_dir")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OptionError(f"cannot create or write the cache directory {str(path)!r} "
                          f"({str(existing)!r} is not writable)", field="cache_dir")
