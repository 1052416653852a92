"""Re-planning from a measured state: the state checked against the plan's inputs and turned
into the model's carried state (docs/relay-state.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.errors import ScheduleInputError
from planner.relay.fibre import resolve_station
from planner.relay.problem import MBIT, State
from planner.relay.state import RelayState


def check_state(state: RelayState, satellites: set[str], known: list[str], demands,
                memory_bits: float) -> None:
    """Resolve the state's names against the inputs (in place) and check its amounts.

    Station names are matched as everywhere (case, close spellings); satellites must be among
    ``satellites`` (those planned); demands must be among the plan's demands; no satellite may
    hold more than its memory. Checking twice is harmless (names resolve to themselves).

    Raises
    ------
    ScheduleInputError
        Naming the state file, line and field at fault.
    """
    labels = {d.label for d in demands}

    def station(name, where):
        try:
            return resolve_station(name, known, "station")
        except ScheduleInputError as exc:
            raise state.error(exc.message, (*where, "station")) from None

    def satellite(name, where):
        if name not in satellites:
            raise state.error(f"unknown satellite {name!r}: not among the satellites planned "
                              f"({', '.join(sorted(satellites)) or 'none'})",
                              (*where, "satellite"))
        return name

    def demand(label, where):
        if label not in labels:
            raise state.error(f"unknown demand {label!r}: not among the plan's demands "
                              f"({', '.join(sorted(labels))})", (*where, "demand"))
        return label

    state.buffers = {(satellite(s, ("buffers", i)), station(g, ("buffers", i))): bits
                     for i, ((s, g), bits) in enumerate(state.buffers.items())}
    state.storage = {(demand(d, ("storage", i)), station(g, ("storage", i))): bits
                     for i, ((d, g), bits) in enumerate(state.storage.items())}
    for i, (d, g) in enumerate(state.storage):
        ends = next(x for x in demands if x.label == d)
        if g in (ends.station_a, ends.station_b):
            raise state.error(f"{g} is an end of {d}: storage is partial key held at an "
                              "intermediate station", ("storage", i, "station"))
    state.delivered = {demand(d, ("delivered", i)): bits
                       for i, (d, bits) in enumerate(state.delivered.items())}
    for i, flown in enumerate(state.flown):
        satellite(flown["satellite"], ("flown", i))
        flown["station"] = station(flown["station"], ("flown", i))
    held: dict[str, float] = {}
    for (s, _), bits in state.buffers.items():
        held[s] = held.get(s, 0.0) + bits
    for s, total in held.items():
        if total > memory_bits * (1 + 1e-9):
            index = next(i for i, (sat, _) in enumerate(state.buffers) if sat == s)
            raise state.error(f"satellite {s} holds {total:.6g} bits, more than its memory "
                              f"{memory_bits:.6g} bits", ("buffers", index, "bits"))


def after_flown(table: pd.DataFrame, state: RelayState, gap_s: float) -> np.ndarray:
    """Candidate passes ruled out by the flown ones: the same pass, or within a satellite's
    re-pointing gap after (or overlapping) its last flown pass."""
    out = np.zeros(len(table), bool)
    if not state.flown or table.empty:
        return out
    sats = table["satellite"].astype(str).to_numpy()
    aos = table["aos_utc"]
    for flown in state.flown:
        mine = sats == flown["satellite"]
        clash = (aos - pd.Timedelta(seconds=gap_s) < flown["los_utc"]).to_numpy() & \
            (table["los_utc"] > flown["aos_utc"] - pd.Timedelta(seconds=gap_s)).to_numpy()
        out |= mine & clash
    return out


def carried_state(state: RelayState, satellites: list[str], stations: list[str],
                  demands, n_fibre: int) -> State:
    """The model's carried :class:`~planner.relay.problem.State` (Mbit) of a measured state."""
    s_of = {s: i for i, s in enumerate(satellites)}
    g_of = {g: i for i, g in enumerate(stations)}
    d_of = {d.label: i for i, d in enumerate(demands)}
    carried = State.zeros(len(satellites), len(stations), len(demands), n_fibre)
    for (s, g), bits in state.buffers.items():
        carried.buffers[s_of[s], g_of[g]] = bits / MBIT
    for (d, g), bits in state.storage.items():
        carried.storage[d_of[d], g_of[g]] = bits / MBIT
    for d, bits in state.delivered.items():
        carried.delivered[d_of[d]] = bits / MBIT
    return carried


def state_parameters(state: RelayState) -> dict:
    """The state as the plan records it (``parameters["initial_state"]``, bits, ISO times)."""
    buffers: dict[str, dict[str, float]] = {}
    for (s, g), bits in sorted(state.buffers.items()):
        buffers.setdefault(s, {})[g] = bits
    storage: dict[str, dict[str, float]] = {}
    for (d, g), bits in sorted(state.storage.items()):
        storage.setdefault(d, {})[g] = bits
    return {"as_of_utc": state.as_of, "buffers_bits": buffers, "storage_bits": storage,
            "delivered_bits": dict(state.delivered),
            "flown": [dict(f) for f in state.flown]}
