"""The element-set cache: answers kept byte for byte with a sidecar recording their fetch.

An answer is written atomically to ``<cache dir>/<query>.json`` (e.g. ``catnr-41731.json``,
directly usable as an element-set file) with a sidecar ``<query>.meta`` (JSON: URL, fetch time in
UTC, HTTP status and headers of interest, size, SHA-256, number of sets, newest epoch), so the
planner can say when the elements were fetched and how old they were then
(:func:`read_fetch_record`, :meth:`FetchRecord.describe`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from planner import __version__
from planner.elements.download import Answer
from planner.elements.gpquery import GPQuery
from planner.errors import OptionError
from planner.io.output import write_atomic

if TYPE_CHECKING:  # numpy and sgp4 load with the element sets, not with the command line
    from planner.elements.elementset import ElementSet

__all__ = ["FetchRecord", "fetch_note", "meta_path_for", "read_fetch_record", "write_cache"]

_META_SUFFIX = ".meta"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _age(seconds: float) -> str:
    if abs(seconds) < 7200:
        return f"{seconds / 60:.0f} min"
    if abs(seconds) < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@dataclass(frozen=True)
class FetchRecord:
    """Where and when an element-set file was fetched (the cache sidecar's content).

    Attributes
    ----------
    url
        The URL asked.
    query
        ``{"key": "CATNR", "value": "41731"}``.
    fetched_utc
        When the answer arrived (timezone-aware UTC).
    status
        HTTP status (200).
    headers
        HTTP headers of interest (:data:`KEPT_HEADERS` that were sent).
    size_bytes, sha256
        Size and SHA-256 (hex) of the element-set file as written.
    element_sets
        Number of element sets in it.
    newest_epoch_utc, oldest_epoch_utc
        Newest and oldest element-set epochs (timezone-aware UTC).
    generator
        ``qkdplan <version>``.
    """

    url: str
    query: dict[str, str]
    fetched_utc: datetime
    status: int
    headers: dict[str, str]
    size_bytes: int
    sha256: str
    element_sets: int
    newest_epoch_utc: datetime
    oldest_epoch_utc: datetime
    generator: str = field(default=f"qkdplan {__version__}")

    @classmethod
    def of(cls, answer: Answer, query: GPQuery, sets: list[ElementSet]) -> FetchRecord:
        """The record of a validated answer."""
        epochs = [s.epoch for s in sets]
        return cls(url=answer.url, query={"key": query.key, "value": query.value},
                   fetched_utc=answer.fetched_utc, status=answer.status,
                   headers=dict(answer.headers), size_bytes=len(answer.body),
                   sha256=hashlib.sha256(answer.body).hexdigest(), element_sets=len(sets),
                   newest_epoch_utc=max(epochs), oldest_epoch_utc=min(epochs))

    def to_json(self) -> str:
        """The record as a JSON document (times ISO 8601 UTC with ``Z``)."""
        data = asdict(self)
        for key in ("fetched_utc", "newest_epoch_utc", "oldest_epoch_utc"):
            data[key] = _iso(data[key])
        return json.dumps(data, indent=1, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> FetchRecord:
        """Read a record written by :meth:`to_json`.

        Raises
        ------
        ValueError, KeyError, TypeError
            If the text is not such a record.
        """
        data = json.loads(text)
        for key in ("fetched_utc", "newest_epoch_utc", "oldest_epoch_utc"):
            data[key] = _parse_iso(data[key])
        return cls(**data)

    def describe(self, now: datetime | None = None) -> str:
        """One line: when and where from the sets were fetched, and how old they were.

        Parameters
        ----------
        now
            Reference time (default: the current time), for "fetched ... ago".
        """
        now = datetime.now(UTC) if now is None else now.astimezone(UTC)
        since = (now - self.fetched_utc).total_seconds()
        at_fetch = (self.fetched_utc - self.newest_epoch_utc).total_seconds()
        return (f"{self.element_sets} element set(s) fetched {self.fetched_utc:%Y-%m-%d %H:%M} "
                f"UTC ({_age(since)} ago) from {self.url}; newest epoch "
                f"{self.newest_epoch_utc:%Y-%m-%d %H:%M} UTC, {_age(at_fetch)} old when fetched")


def meta_path_for(element_path: str | Path) -> Path:
    """The sidecar of an element-set file: ``catnr-41731.json`` -> ``catnr-41731.meta``."""
    path = Path(element_path)
    return path.with_name(path.stem + _META_SUFFIX)


def read_fetch_record(element_path: str | Path) -> FetchRecord | None:
    """The fetch record of an element-set file, if it has a sidecar that matches it.

    Returns ``None`` when there is no sidecar, it cannot be read, or the file's SHA-256 differs
    from the recorded one (the file was changed after it was fetched).
    """
    path = Path(element_path)
    try:
        record = FetchRecord.from_json(meta_path_for(path).read_text(encoding="utf-8"))
        data = path.read_bytes()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return record if hashlib.sha256(data).hexdigest() == record.sha256 else None


def fetch_note(element_path: str | Path, now: datetime | None = None) -> str | None:
    """``"<file>: <FetchRecord.describe>"`` for a fetched file, ``None`` for any other."""
    record = read_fetch_record(element_path)
    return None if record is None else f"{element_path}: {record.describe(now)}"


def write_cache(cache_dir: Path, query: GPQuery, answer: Answer, record: FetchRecord
                ) -> tuple[Path, Path]:
    """Write the answer and its sidecar into ``cache_dir`` (created if needed), atomically.

    Returns
    -------
    (Path, Path)
        The element-set file and its sidecar.
    """
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OptionError(f"cannot create the cache directory {str(cache_dir)!r}: "
                          f"{error.strerror}", field="cache_dir") from None
    path = cache_dir / f"{query.cache_stem}.json"
    write_atomic(path, answer.body, option="cache_dir")
    meta = write_atomic(meta_path_for(path), record.to_json(), option="cache_dir")
    return path, meta
