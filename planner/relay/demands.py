"""Relay demands: the station pairs that need shared key, from the CLI or a YAML file."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from planner.errors import ScheduleInputError
from planner.io.yamlfile import format_location, load_yaml
from planner.relay.fibre import resolve_station


@dataclass(frozen=True)
class Demand:
    """A station pair that needs shared key.

    Attributes
    ----------
    station_a, station_b
        The two stations.
    weight
        Relative importance (> 0) in the ``total`` objective; in ``fair`` without targets the
        key per unit weight is equalised.
    target_bits
        Key wanted over the period [bit], or ``None``. Key beyond the target earns nothing.
    """

    station_a: str
    station_b: str
    weight: float = 1.0
    target_bits: float | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """``"A:B"``: how the demand is named in plans."""
        return f"{self.station_a}:{self.station_b}"

    @property
    def field_name(self) -> str:
        """Where the demand came from, for error messages."""
        return self.source or "demands"


def _number(text, what: str, field_name: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ScheduleInputError(f"{what} {text!r} is not a number", field=field_name) from None
    if not math.isfinite(value):
        raise ScheduleInputError(f"{what} {text!r} must be finite", field=field_name)
    return value


def make_demand(station_a: str, station_b: str, weight=1.0, target_bits=None, *,
                known_stations: Iterable[str] | None = None,
                field_name: str = "demand") -> Demand:
    """Validate and build a :class:`Demand`.

    Raises
    ------
    ScheduleInputError
        Unknown station (with the closest names), the same station twice, a weight or target
        that is not a positive number.
    """
    if known_stations is not None:
        known = list(known_stations)
        station_a = resolve_station(station_a, known, field_name)
        station_b = resolve_station(station_b, known, field_name)
    station_a, station_b = str(station_a).strip(), str(station_b).strip()
    if not station_a or not station_b:
        raise ScheduleInputError("both stations must be named", field=field_name)
    if station_a.casefold() == station_b.casefold():
        raise ScheduleInputError("the two stations must differ", field=field_name)
    weight = _number(weight, "weight", field_name)
    if weight <= 0:
        raise ScheduleInputError(f"weight {weight:g} must be positive", field=field_name)
    if target_bits is not None:
        target_bits = _number(target_bits, "target", field_name)
        if target_bits <= 0:
            raise ScheduleInputError(f"target {target_bits:g} bits must be positive",
                                     field=field_name)
    return Demand(station_a, station_b, weight, target_bits, source=field_name)


def parse_demand(text: str, known_stations: Iterable[str] | None = None) -> Demand:
    """Parse ``A:B[:weight[:target_bits]]``.

    Parameters
    ----------
    text
        e.g. ``"Beijing:Stellenbosch"``, ``"Beijing:Stellenbosch:2"`` or
        ``"Beijing:Stellenbosch:1:5e6"`` (an empty weight means 1).
    known_stations
        Known station names; names are matched case-insensitively and replaced by their
        canonical spelling. ``None`` skips the check.

    Raises
    ------
    ScheduleInputError
        Malformed text or an invalid demand; the field is the parameter ``demands`` (the CLI
        names its flag) and the message starts with the text.
    """
    parts = [p.strip() for p in str(text).split(":")]
    try:
        if not 2 <= len(parts) <= 4:
            raise ScheduleInputError("expected STATION_A:STATION_B[:WEIGHT[:TARGET_BITS]]",
                                     field="demands")
        weight = parts[2] if len(parts) > 2 and parts[2] else 1.0
        target = parts[3] if len(parts) > 3 and parts[3] else None
        return make_demand(parts[0], parts[1], weight, target, known_stations=known_stations,
                           field_name="demands")
    except ScheduleInputError as exc:
        raise ScheduleInputError(f"{str(text)!r}: {exc.message}", field="demands") from None


def load_demands(path: str | Path, known_stations: Iterable[str] | None = None) -> list[Demand]:
    """Read demands from a YAML file.

    The file holds a list ``demands:`` whose items are either ``"A:B[:weight[:target]]"``
    strings or mappings with ``stations: [A, B]`` (or ``station_a``/``station_b``), optional
    ``weight`` and ``target_bits``.

    Raises
    ------
    ScheduleInputError
        Naming the file, line and field at fault.
    """
    doc = load_yaml(path, ScheduleInputError)
    items = doc.data.get("demands") if isinstance(doc.data, dict) else None
    if not isinstance(items, list) or not items:
        raise ScheduleInputError("expected a non-empty list under 'demands:'", path=str(path),
                                 line=doc.line_of(("demands",)), field="demands")
    demands = []
    for i, item in enumerate(items):
        loc = ("demands", i)
        where = {"path": str(path), "line": doc.line_of(loc)}
        try:
            demands.append(_demand_from_item(item, known_stations, format_location(loc)))
        except ScheduleInputError as exc:
            raise ScheduleInputError(exc.message, field=exc.field, **where) from None
    return check_demands(demands)


def _demand_from_item(item, known_stations, where: str) -> Demand:
    if isinstance(item, str):
        try:
            demand = parse_demand(item, known_stations)
        except ScheduleInputError as exc:  # the file's item, not the parameter, is at fault
            raise ScheduleInputError(exc.message, field=where) from None
        return Demand(demand.station_a, demand.station_b, demand.weight, demand.target_bits,
                      source=where)
    if not isinstance(item, dict):
        raise ScheduleInputError("expected 'A:B[:weight[:target]]' or a mapping", field=where)
    unknown = set(item) - {"stations", "station_a", "station_b", "weight", "target_bits"}
    if unknown:
        raise ScheduleInputError(f"unknown field {sorted(unknown)[0]!r} (check the spelling)",
                                 field=where)
    pair = item.get("stations", [item.get("station_a"), item.get("station_b")])
    if not isinstance(pair, list) or len(pair) != 2 or None in pair:
        raise ScheduleInputError("give the two stations as 'stations: [A, B]'", field=where)
    return make_demand(pair[0], pair[1], item.get("weight", 1.0), item.get("target_bits"),
                       known_stations=known_stations, field_name=where)


def check_demands(demands: Sequence[Demand]) -> list[Demand]:
    """Reject an empty list and pairs given twice; return the demands as a list."""
    demands = list(demands)
    if not demands:
        raise ScheduleInputError("give at least one station pair", field="demands")
    seen: dict[frozenset, Demand] = {}
    for demand in demands:
        pair = frozenset((demand.station_a.casefold(), demand.station_b.casefold()))
        if pair in seen:
            raise ScheduleInputError(f"the pair {demand.label} is given twice",
                                     field=demand.field_name)
        seen[pair] = demand
    return demands

