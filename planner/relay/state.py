"""The measured state of a relay campaign, to re-plan the rest of the period from it.

A relay campaign is flown night by night: after each night the operations lead knows how much
key each satellite really holds with each station, what partial key ground stations hold, what
each demand already has, and which passes were flown with how much key. :func:`load_state`
reads that state from a YAML or JSON file (schema in docs/relay-state.md) with one-line
``file:line: field`` errors; :func:`plan_schedule <planner.relay.schedule.plan_schedule>`
re-plans from it (``state=``); :func:`state_after` writes the state a plan reaches at a given
time (what flying it as planned would leave), in the same form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar

import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)

from planner.errors import ScheduleInputError
from planner.io.yamlfile import (
    Location,
    YamlDocument,
    format_location,
    load_yaml,
    raise_validation_error,
)
from planner.timebase import utc_timestamp

# --------------------------------------------------------------------------------------------
# The file's schema. Each check raises ValueError with a message that reads well after
# "file:line: field: " (raise_validation_error strips pydantic's "Value error, ").
# --------------------------------------------------------------------------------------------


def _time(value: Any) -> pd.Timestamp:
    """An ISO 8601 time given as text, as a UTC timestamp (a time without an offset is UTC).

    Only ISO 8601 is read (what :meth:`datetime.fromisoformat` reads: extended or basic form,
    a date alone, an offset or ``Z``); free text such as ``now`` or ``1/12/2026``, which
    :class:`pandas.Timestamp` would read (the latter day or month first, by guess), is refused.
    """
    if not isinstance(value, str):
        raise ValueError(f"{value!r}: expected an ISO 8601 UTC time as text")
    try:
        stamp = utc_timestamp(datetime.fromisoformat(value.strip()))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"cannot read {value!r} as an ISO 8601 time "
                         "(e.g. 2026-12-03T06:00:00Z)") from None
    return stamp


def _bits(value: Any) -> float:
    """A finite number of bits >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r}: expected a number of bits")
    try:
        number = float(value)
    except OverflowError:  # a whole number too large for a float
        raise ValueError("too large: must be a finite number >= 0") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{value!r}: must be a finite number >= 0")
    return number


def _name(value: Any) -> str:
    """A non-empty name, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r}: expected a name")
    return value.strip()


def _listed(value: Any) -> list:
    """A list; a section left empty (``null``) is an empty list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


Time = Annotated[pd.Timestamp, PlainValidator(_time)]
Bits = Annotated[float, BeforeValidator(_bits)]
Name = Annotated[str, BeforeValidator(_name)]


class _Mapping(BaseModel):
    """A mapping of known fields only; anything else is refused with a one-line message."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    expected: ClassVar[str] = "expected a mapping"

    @model_validator(mode="before")
    @classmethod
    def _is_mapping(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(cls.expected)
        return value


class BufferEntry(_Mapping):
    """Key a satellite shares with a station, on board now [bit]."""

    satellite: Name
    station: Name
    bits: Bits


class StorageEntry(_Mapping):
    """Partial key of demand ``A:B`` held at an intermediate station [bit]."""

    demand: Name
    station: Name
    bits: Bits


class DeliveredEntry(_Mapping):
    """Key a demand already has [bit]."""

    demand: Name
    bits: Bits


class FlownEntry(_Mapping):
    """A pass already flown and the key measured on it [bit]."""

    satellite: Name
    station: Name
    aos_utc: Time
    los_utc: Time
    measured_bits: Bits


class StateFile(_Mapping):
    """A state file as written (docs/relay-state.md); cross-field rules are checked after."""

    expected: ClassVar[str] = ("expected a mapping with as_of_utc, buffers, storage, "
                               "delivered and flown")

    as_of_utc: Time
    buffers: Annotated[list[BufferEntry], BeforeValidator(_listed)] = Field(
        default_factory=list)
    storage: Annotated[list[StorageEntry], BeforeValidator(_listed)] = Field(
        default_factory=list)
    delivered: Annotated[list[DeliveredEntry], BeforeValidator(_listed)] = Field(
        default_factory=list)
    flown: Annotated[list[FlownEntry], BeforeValidator(_listed)] = Field(
        default_factory=list)


# --------------------------------------------------------------------------------------------
# The planner's view of a state
# --------------------------------------------------------------------------------------------


@dataclass
class RelayState:
    """Measured state of a relay campaign at ``as_of`` (key in bits).

    Attributes
    ----------
    as_of
        UTC time of the state; re-planning starts here.
    buffers
        Key each satellite shares with each station, ``{(satellite, station): bits}``.
    storage
        Partial key of a demand (``"A:B"``) held at an intermediate station (key it shares
        with ``A``), ``{(demand, station): bits}``.
    delivered
        Key each demand already has, ``{demand: bits}``.
    flown
        Passes already flown: ``satellite, station, aos_utc, los_utc, measured_bits``.
    document
        The file the state was read from (its name and lines, for error messages), or
        ``None``.
    """

    as_of: pd.Timestamp
    buffers: dict[tuple[str, str], float] = field(default_factory=dict)
    storage: dict[tuple[str, str], float] = field(default_factory=dict)
    delivered: dict[str, float] = field(default_factory=dict)
    flown: list[dict] = field(default_factory=list)
    document: YamlDocument | None = None

    def error(self, message: str, where: Location = ()) -> ScheduleInputError:
        """A one-line error naming the state file, line and field at ``where``.

        ``where`` is a location in the file, e.g. ``("buffers", 2, "station")``.
        """
        doc = self.document
        return ScheduleInputError(message, path=None if doc is None else str(doc.path),
                                  line=None if doc is None else doc.line_of(where),
                                  field=format_location(where) or None)


def state_from_data(data: Any, document: YamlDocument | None = None) -> RelayState:
    """Validate a parsed state document (a dict) and build a :class:`RelayState`.

    Parameters
    ----------
    data
        The parsed document.
    document
        The file it was read from, for the file and line in errors (``None``: name the
        field alone).

    Raises
    ------
    ScheduleInputError
        Naming the field at fault (and the file and line when ``document`` is given).
    """
    try:
        parsed = StateFile.model_validate(data)
    except ValidationError as exc:
        raise_validation_error(exc, document, error_cls=ScheduleInputError)
    state = RelayState(parsed.as_of_utc, document=document)
    state.buffers = _keyed(state, "buffers", [((e.satellite, e.station), e.bits)
                                              for e in parsed.buffers])
    state.storage = _keyed(state, "storage", [((e.demand, e.station), e.bits)
                                              for e in parsed.storage])
    state.delivered = _keyed(state, "delivered", [(e.demand, e.bits) for e in parsed.delivered])
    state.flown = [_flown(state, i, entry) for i, entry in enumerate(parsed.flown)]
    return state


def _keyed(state: RelayState, section: str, items: list[tuple[Any, float]]) -> dict:
    """``{key: bits}`` of a section whose keys may each be given once."""
    table: dict = {}
    for i, (key, bits) in enumerate(items):
        if key in table:
            raise state.error(f"{key!r} is given twice", (section, i))
        table[key] = bits
    return table


def _flown(state: RelayState, index: int, entry: FlownEntry) -> dict:
    """A flown pass that ends after it starts and by the state's time, as a dict."""
    where = ("flown", index, "los_utc")
    if entry.los_utc <= entry.aos_utc:
        raise state.error("los_utc must be after aos_utc", where)
    if entry.los_utc > state.as_of:
        raise state.error(f"a pass flown by the state's time ends at {entry.los_utc}, after "
                          f"as_of_utc {state.as_of}", where)
    return entry.model_dump()


def load_state(path: str | Path) -> RelayState:
    """Read and validate a state file (YAML or JSON; docs/relay-state.md).

    Raises
    ------
    ScheduleInputError
        One line naming the file, line and field at fault.
    """
    doc = load_yaml(path, ScheduleInputError)
    return state_from_data(doc.data, doc)


def state_after(plan, until) -> dict:
    """The state a plan leaves at ``until`` if flown as planned, as a state document (dict).

    Passes with LOS at or before ``until`` are flown with their kept key as the measured key;
    relays up to ``until`` are made. Buffers are the ledger's levels the plan records
    (``plan.buffers``); ground storage is the net partial key at intermediates (a sink-side
    segment made before its source-side segment, a negative net, is not carried); delivered
    key counts chains complete by ``until``.
    """
    until = utc_timestamp(until)
    initial = plan.parameters.get("initial_state") or {}
    buffers = _buffers_at(plan.buffers, initial.get("buffers_bits") or {}, until)
    flown = plan.passes[pd.to_datetime(plan.passes["los_utc"], utc=True) <= until]
    relays = plan.relays[pd.to_datetime(plan.relays["time_utc"], utc=True) <= until]
    storage, delivered = _ground_at(plan.demands, relays, initial.get("storage_bits") or {},
                                    initial.get("delivered_bits") or {})
    earlier = [dict(f, aos_utc=_iso(f["aos_utc"]), los_utc=_iso(f["los_utc"]))
               for f in initial.get("flown") or []]
    return {
        "as_of_utc": _iso(until),
        "buffers": [{"satellite": s, "station": g, "bits": round(max(b, 0.0), 3)}
                    for (s, g), b in sorted(buffers.items()) if b > 0.5],
        "storage": storage,
        "delivered": delivered,
        "flown": earlier + [{"satellite": r.satellite, "station": r.station,
                             "aos_utc": _iso(r.aos_utc), "los_utc": _iso(r.los_utc),
                             "measured_bits": round(float(r.used_bits), 3)}
                            for r in flown.itertuples()],
    }


def _ground_at(demands, relays: pd.DataFrame, storage_in: dict, delivered_before: dict
               ) -> tuple[list[dict], list[dict]]:
    """Ground storage and delivered key of each demand after ``relays`` (state entries)."""
    from planner.relay.chains import delivery_steps

    storage, delivered = [], []
    for d in demands:
        mine = relays[relays["demand"] == d.label]
        held = {g: float(b) for g, b in (storage_in.get(d.label) or {}).items()}
        for r in mine.itertuples():
            if r.from_station != d.station_a:
                held[r.from_station] = held.get(r.from_station, 0.0) - r.bits
            if r.to_station != d.station_b:
                held[r.to_station] = held.get(r.to_station, 0.0) + r.bits
        storage += [{"demand": d.label, "station": g, "bits": round(b, 3)}
                    for g, b in sorted(held.items()) if b > 0.5]
        hops = zip(mine["time_utc"], mine["from_station"], mine["to_station"],
                   mine["bits"].astype(float), strict=True)
        done = sum(b for _, b in delivery_steps(hops, d.station_a, d.station_b,
                                                  storage_in.get(d.label)))
        delivered.append({"demand": d.label,
                          "bits": round(float(delivered_before.get(d.label, 0.0)) + done, 3)})
    return storage, delivered


def _buffers_at(levels: pd.DataFrame, carried: dict, until: pd.Timestamp
                ) -> dict[tuple[str, str], float]:
    """Satellite buffers at ``until``: the plan's last level of each pair by then, else the
    carried level (``carried``: ``{satellite: {station: bits}}``).

    ``levels`` is :attr:`Plan.buffers <planner.relay.plan.Plan.buffers>`, the ledger's level of
    every pair a satellite has touched after each of its events, in time order.
    """
    buffers = {(sat, station): float(bits)
               for sat, per in carried.items() for station, bits in per.items()}
    done = levels[pd.to_datetime(levels["time_utc"], utc=True) <= until]
    last = done.groupby(["satellite", "station"], sort=False)["bits"].last()
    buffers.update((pair, float(bits)) for pair, bits in last.items())
    return buffers


def _iso(value) -> str:
    stamp = utc_timestamp(value)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
