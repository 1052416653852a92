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
from pathlib import Path

import pandas as pd

from planner.errors import ScheduleInputError
from planner.io.yamlfile import format_location, load_yaml
from planner.timebase import utc_timestamp

#: Top-level fields of a state file.
STATE_FIELDS = ("as_of_utc", "buffers", "storage", "delivered", "flown")
_ITEM_FIELDS = {
    "buffers": ("satellite", "station", "bits"),
    "storage": ("demand", "station", "bits"),
    "delivered": ("demand", "bits"),
    "flown": ("satellite", "station", "aos_utc", "los_utc", "measured_bits"),
}


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
    source
        Where the state came from (file name), for error messages.
    lines
        Line of each entry in the file (``(section, index)`` -> line), for error messages.
    """

    as_of: pd.Timestamp
    buffers: dict[tuple[str, str], float] = field(default_factory=dict)
    storage: dict[tuple[str, str], float] = field(default_factory=dict)
    delivered: dict[str, float] = field(default_factory=dict)
    flown: list[dict] = field(default_factory=list)
    source: str | None = None
    lines: dict[tuple, int] = field(default_factory=dict)

    def error(self, message: str, where: tuple = ()) -> ScheduleInputError:
        """A one-line error naming the state file, line and field at ``where``."""
        line = None
        loc = tuple(where)
        while loc and line is None:
            line = self.lines.get(loc)
            loc = loc[:-1]
        return ScheduleInputError(message, path=self.source,
                                  line=line if self.source else None,
                                  field=format_location(where) if where else "state")


def _time(value, where: str) -> pd.Timestamp:
    if not isinstance(value, str):
        raise ScheduleInputError(f"{value!r}: expected an ISO 8601 UTC time as text",
                                 field=where)
    try:
        stamp = utc_timestamp(value)
    except (TypeError, ValueError):
        raise ScheduleInputError(f"cannot read {value!r} as a time", field=where) from None
    if stamp is pd.NaT:
        raise ScheduleInputError(f"cannot read {value!r} as a time", field=where)
    return stamp


def _bits(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScheduleInputError(f"{value!r}: expected a number of bits", field=where)
    if not math.isfinite(float(value)) or value < 0:
        raise ScheduleInputError(f"{value!r}: must be a finite number >= 0", field=where)
    return float(value)


def _name(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScheduleInputError(f"{value!r}: expected a name", field=where)
    return value.strip()


def state_from_data(data, *, lines: dict | None = None, source: str | None = None
                    ) -> RelayState:
    """Validate a parsed state document (a dict) and build a :class:`RelayState`.

    Raises
    ------
    ScheduleInputError
        Naming the field at fault (and the file and line when ``source`` and ``lines`` are
        given).
    """
    lines = dict(lines or {})
    state = RelayState(pd.Timestamp(0, tz="UTC"), source=source, lines=lines)
    try:
        _fill(state, data)
    except ScheduleInputError as exc:
        where = tuple(_parse_location(exc.field))
        raise state.error(exc.message, where) from None
    return state


def _parse_location(text: str | None) -> list:
    """``flown[2].aos_utc`` -> ``["flown", 2, "aos_utc"]``."""
    out: list = []
    for part in (text or "").replace("]", "").split("."):
        for j, piece in enumerate(part.split("[")):
            if piece:
                out.append(int(piece) if j else piece)
    return out


def _fill(state: RelayState, data) -> None:
    if not isinstance(data, dict):
        raise ScheduleInputError("expected a mapping with as_of_utc, buffers, storage, "
                                 "delivered and flown", field="")
    unknown = sorted(set(data) - set(STATE_FIELDS), key=str)
    if unknown:
        raise ScheduleInputError(f"unknown field {unknown[0]!r} (check the spelling)",
                                 field=str(unknown[0]))
    if "as_of_utc" not in data:
        raise ScheduleInputError("required field is missing", field="as_of_utc")
    state.as_of = _time(data["as_of_utc"], "as_of_utc")
    for section, names in _ITEM_FIELDS.items():
        items = data.get(section) or []
        if not isinstance(items, list):
            raise ScheduleInputError("expected a list", field=section)
        for i, item in enumerate(items):
            where = format_location((section, i))
            if not isinstance(item, dict):
                raise ScheduleInputError("expected a mapping", field=where)
            extra = sorted(set(item) - set(names), key=str)
            if extra:
                raise ScheduleInputError(f"unknown field {extra[0]!r} (check the spelling)",
                                         field=f"{where}.{extra[0]}")
            missing = [n for n in names if n not in item]
            if missing:
                raise ScheduleInputError("required field is missing",
                                         field=f"{where}.{missing[0]}")
            _add_item(state, section, item, where)


def _add_item(state: RelayState, section: str, item: dict, where: str) -> None:
    if section == "flown":
        aos = _time(item["aos_utc"], f"{where}.aos_utc")
        los = _time(item["los_utc"], f"{where}.los_utc")
        if los <= aos:
            raise ScheduleInputError("los_utc must be after aos_utc", field=f"{where}.los_utc")
        if los > state.as_of:
            raise ScheduleInputError(f"a pass flown by the state's time ends at {los}, after "
                                     f"as_of_utc {state.as_of}", field=f"{where}.los_utc")
        state.flown.append({"satellite": _name(item["satellite"], f"{where}.satellite"),
                            "station": _name(item["station"], f"{where}.station"),
                            "aos_utc": aos, "los_utc": los,
                            "measured_bits": _bits(item["measured_bits"],
                                                   f"{where}.measured_bits")})
        return
    bits = _bits(item["bits"], f"{where}.bits")
    if section == "delivered":
        key = _name(item["demand"], f"{where}.demand")
        table = state.delivered
    else:
        first = "satellite" if section == "buffers" else "demand"
        key = (_name(item[first], f"{where}.{first}"), _name(item["station"], f"{where}.station"))
        table = state.buffers if section == "buffers" else state.storage
    if key in table:
        raise ScheduleInputError(f"{key!r} is given twice", field=where)
    table[key] = bits


def load_state(path: str | Path) -> RelayState:
    """Read and validate a state file (YAML or JSON; docs/relay-state.md).

    Raises
    ------
    ScheduleInputError
        One line naming the file, line and field at fault.
    """
    doc = load_yaml(path, ScheduleInputError)
    return state_from_data(doc.data, lines=doc.lines, source=str(path))


def state_after(plan, until) -> dict:
    """The state a plan leaves at ``until`` if flown as planned, as a state document (dict).

    Passes with LOS at or before ``until`` are flown with their kept key as the measured key;
    relays up to ``until`` are made. Buffers follow the ledger's rules; ground storage is the
    net partial key at intermediates (a sink-side segment made before its source-side segment,
    a negative net, is not carried); delivered key counts chains complete by ``until``.
    """
    from planner.relay.chains import delivery_steps

    until = utc_timestamp(until)
    initial = plan.parameters.get("initial_state") or {}
    buffers: dict[tuple[str, str], float] = {}
    for sat, per in (initial.get("buffers_bits") or {}).items():
        for station, bits in per.items():
            buffers[(sat, station)] = float(bits)
    flown = plan.passes[pd.to_datetime(plan.passes["los_utc"], utc=True) <= until]
    for row in flown.itertuples():
        key = (row.satellite, row.station)
        buffers[key] = buffers.get(key, 0.0) + float(row.used_bits)
    relays = plan.relays[pd.to_datetime(plan.relays["time_utc"], utc=True) <= until]
    for r in relays[relays["pass_id"] >= 0].itertuples():
        for station in (r.from_station, r.to_station):
            buffers[(r.satellite, station)] = buffers.get((r.satellite, station), 0.0) - r.bits
    storage_in = initial.get("storage_bits") or {}
    delivered_before = initial.get("delivered_bits") or {}
    storage, delivered = [], []
    for d in plan.demands:
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


def _iso(value) -> str:
    stamp = utc_timestamp(value)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
