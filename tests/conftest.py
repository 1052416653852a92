"""Shared fixtures: the real Micius element set, the bundled stations, Skyfield references."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import strategies as st
from scipy.optimize import linprog
from skyfield.api import EarthSatellite, load

from planner.cli.root import main as cli_main

MICIUS_TLE = """MICIUS (QUESS)
1 41731U 16051A   21117.42314584  .00000696  00000-0  30260-4 0  9998
2 41731  97.3499  30.8507 0012844 347.0485 124.2616 15.25507799261429
"""
"""The real, checksum-valid Micius set of docs/reference.md (epoch 2021-04-27)."""


@pytest.fixture(scope="session")
def _empty_user_dirs(tmp_path_factory):
    return tmp_path_factory.mktemp("user-config"), tmp_path_factory.mktemp("user-cache")


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch, _empty_user_dirs):
    """Every test runs as a user without a configuration file or fetch cache: the developer's
    own (``$QKDPLAN_CONFIG``, the user configuration directory) would change the defaults of
    every command. Tests of the config file and the cache set their own."""
    from planner.elements.gpquery import CACHE_DIR_ENV
    from planner.io.config import CONFIG_ENV

    config_home, cache = _empty_user_dirs
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))  # platformdirs' home on Linux
    monkeypatch.setenv(CACHE_DIR_ENV, str(cache))


@pytest.fixture(scope="session")
def timescale():
    return load.timescale(builtin=True)


@pytest.fixture(scope="session")
def micius_catalogue():
    from planner.elements.elementsets import Catalogue, parse_tle_text

    return Catalogue(parse_tle_text(MICIUS_TLE, source="micius.tle"))


@pytest.fixture(scope="session")
def micius_skyfield(timescale):
    lines = MICIUS_TLE.splitlines()
    return EarthSatellite(lines[1], lines[2], lines[0], timescale)


@pytest.fixture(scope="session")
def stations():
    from planner.mission.stations import load_stations

    return load_stations()


@pytest.fixture(scope="session")
def jinan1_stations(stations):
    from planner.mission.stations import JINAN1_STATIONS, select_stations

    return select_stations(stations, list(JINAN1_STATIONS))


def skyfield_times(timescale, times) -> object:
    """Skyfield Time of pandas UTC timestamps, to the nanosecond."""
    t = pd.Series(pd.to_datetime(times, utc=True)).dt
    seconds = (t.second.to_numpy() + t.microsecond.to_numpy() / 1e6
               + t.nanosecond.to_numpy() / 1e9)
    return timescale.utc(t.year.to_numpy(), t.month.to_numpy(), t.day.to_numpy(),
                         t.hour.to_numpy(), t.minute.to_numpy(), seconds)


def as_array(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


SCHEDULE_BASE = pd.Timestamp("2025-03-01T14:00:00Z")
"""22:00 in China: the synthetic night passes of the scheduler tests start around here."""


def synthetic_key_table(rows, *, clear: float = 1.0, bits_are_expected: bool = True,
                        first_id: int = 0) -> pd.DataFrame:
    """A key table from ``(satellite, station, night, minute, duration_s, bits)`` tuples.

    ``bits`` is the expected key (clear-sky key = bits / clear) or, with
    ``bits_are_expected=False``, the clear-sky key (expected = bits * clear).
    """
    records = []
    for satellite, station, night, minute, duration, bits in rows:
        aos = SCHEDULE_BASE + pd.Timedelta(days=night, minutes=minute)
        los = aos + pd.Timedelta(seconds=duration)
        secure, expected = ((bits / clear, float(bits)) if bits_are_expected
                            else (float(bits), float(bits) * clear))
        records.append({
            "satellite": satellite, "norad": 0, "station": station, "aos_utc": aos,
            "tca_utc": aos + (los - aos) / 2, "los_utc": los, "duration_s": float(duration),
            "max_elevation_deg": 60.0, "aos_azimuth_deg": 200.0, "night": True,
            "secure_bits": secure, "expected_secure_bits": expected,
            "clear_sky_probability": clear})
    index = pd.Index(range(first_id, first_id + len(records)), name="pass_id")
    return pd.DataFrame(records, index=index)


def plan_ok(table, demands, **kwargs):
    """A relay plan of ``table`` for ``demands``, checked by the independent plan checker."""
    from planner.relay.check import assert_plan_valid
    from planner.relay.schedule import plan_schedule

    plan = plan_schedule(table, demands, **kwargs)
    assert_plan_valid(plan, table)
    return plan


def delivered(plan, label) -> float:
    """Bits a plan delivers to the demand ``label`` (``A:B``)."""
    return float(plan.delivered.loc[label, "delivered_bits"])


def run(args, capsys):
    """Run the CLI in-process; return (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        cli_main([str(a) for a in args])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def assert_one_line_error(code, out, err, *needles):
    """Assert a bad-input exit: status 2 and one stderr line containing every needle."""
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle.lower() in lines[0].lower(), (needle, lines[0])
    return lines[0]


# --------------------------------------------------------------------------------------------
# Brute force: every feasible pass subset, each with its relay LP
# --------------------------------------------------------------------------------------------


def _feasible_subset(table, subset, gap, telescopes):
    rows = table.loc[list(subset)]
    for _, grp in rows.groupby("satellite"):
        grp = grp.sort_values("aos_utc")
        for (_, a), (_, b) in itertools.combinations(grp.iterrows(), 2):
            first, second = (a, b) if a["aos_utc"] <= b["aos_utc"] else (b, a)
            if (second["aos_utc"] - first["los_utc"]).total_seconds() < gap:
                return False
    for station, grp in rows.groupby("station"):
        for t in grp["aos_utc"]:
            busy = ((grp["aos_utc"] <= t) & (grp["los_utc"] > t)).sum()
            if busy > telescopes.get(station, 1):
                return False
    return True


def _relay_lp(table, subset, demands, memory, reserve, objective, intermediates,
              ready_from=None):
    """Optimal objective of the relays for a fixed set of passes (cumulative-sum LP).

    Key is in Mbit inside the LP (in bits HiGHS's dual simplex can stop short on the ``fair``
    objective); the result is in bits (or a fraction of the targets).

    ``ready_from`` maps ``(satellite, station)`` to the position (in that satellite's events) of
    the first event from which the link keeps the reserve and may be relayed from (``None``:
    never); only used when ``reserve > 0``.
    """
    rows = table.loc[list(subset)].sort_values(["los_utc", "aos_utc"])
    stations = sorted(set(table["station"]) | {s for d in demands for s in d[:2]})
    names = []  # variables: ("u", pid) | ("y", d, pid, src, dst) | ("z",) | ("c", d)
    for pid in rows.index:
        names.append(("u", pid))
    # the planner's intermediates (planner.relay.problem.Problem.relay_nodes): stations that
    # two or more satellites serve (no fibre here)
    served = table.groupby("station")["satellite"].nunique()
    relays = [g for g in stations if served.get(g, 0) >= 2]
    for d, (a, b, _, _) in enumerate(demands):
        nodes = [a, b] + ([g for g in relays if g not in (a, b)] if intermediates else [])
        for pid, r in rows.iterrows():
            sat, here = r["satellite"], r["station"]
            seen = set(rows.loc[rows["satellite"] == sat, "station"])
            for other in nodes:
                if other == here or other not in seen or here not in nodes:
                    continue
                for src, dst in ((here, other), (other, here)):
                    if src != b and dst != a:
                        names.append(("y", d, pid, src, dst))
    extra = [("z",)] if objective == "fair" else [("c", d) for d in range(len(demands))]
    names += extra
    col = {n: i for i, n in enumerate(names)}
    nv = len(names)
    a_ub, b_ub = [], []

    def add(coefs, bound):
        row = np.zeros(nv)
        for name, v in coefs:
            row[col[name]] += v
        a_ub.append(row)
        b_ub.append(bound)

    ys = [n for n in names if n[0] == "y"]
    norm_unit = MB if all(t is not None for *_, t in demands) else 1.0
    order = list(rows.index)
    ready_needed = {}
    for sat, grp in rows.groupby("satellite"):
        ev = [p for p in order if p in grp.index]
        for i, pid in enumerate(ev):
            upto = ev[: i + 1]
            before = ev[:i]
            held = []  # deposit, then relay: what is stored before this pass's relays
            for g in set(grp["station"]):
                deposits = [(("u", q), 1.0) for q in upto if rows.at[q, "station"] == g]
                drawn = [y for y in ys if g in (y[3], y[4])]
                terms = deposits + [(y, -1.0) for y in drawn if y[2] in upto]
                held += deposits + [(y, -1.0) for y in drawn if y[2] in before]
                add([(n, -v) for n, v in terms], 0.0)  # level >= 0
                first = None if reserve == 0 else ready_from.get((sat, g))
                ready = reserve == 0 or (first is not None and i >= first)
                if reserve > 0 and ready:
                    add([(n, -v) for n, v in terms], -reserve / MB)  # level >= reserve
                ready_needed[(pid, g)] = ready
            add(held, memory / MB)
    bounds = []
    for n in names:
        if n[0] == "u":
            bounds.append((0, rows.at[n[1], "expected_secure_bits"] / MB))
        elif n[0] == "y":
            ok = ready_needed[(n[2], n[3])] and ready_needed[(n[2], n[4])]
            bounds.append((0, None if ok else 0))
        else:
            bounds.append((0, None))
    for d, (a, b, _, target) in enumerate(demands):
        into_b = [(y, 1.0) for y in ys if y[1] == d and y[4] == b]
        for g in stations:  # trusted-node XORs commute: only the totals must balance
            if g in (a, b):
                continue
            inflow = [(y, -1.0) for y in ys if y[1] == d and y[4] == g]
            outflow = [(y, 1.0) for y in ys if y[1] == d and y[3] == g]
            if outflow:
                add(inflow + outflow, 0.0)
        if objective == "fair":
            add([(("z",), demands_norm(demands)[d] / norm_unit)]
                + [(y, -v) for y, v in into_b], 0.0)
        else:
            add([(("c", d), 1.0)] + [(y, -v) for y, v in into_b], 0.0)
            if target is not None:
                add([(("c", d), 1.0)], target / MB)
    cost = np.zeros(nv)
    if objective == "fair":
        cost[col[("z",)]] = -1.0
    else:
        for d, (_, _, weight, _) in enumerate(demands):
            cost[col[("c", d)]] = -weight
    res = linprog(cost, A_ub=np.array(a_ub) if a_ub else None,
                  b_ub=np.array(b_ub) if b_ub else None, bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return -res.fun * (1.0 if objective == "fair" and norm_unit == MB else MB)


def demands_norm(demands):
    if all(t is not None for *_, t in demands):
        return [t for *_, t in demands]
    return [w for _, _, w, _ in demands]


def _ready_choices(table, subset):
    """Every way the links of a pass subset can become ready: at one of their deposits, or never."""
    rows = table.loc[list(subset)].sort_values(["los_utc", "aos_utc"])
    options = {}
    for sat, grp in rows.groupby("satellite"):
        ev = list(grp.index)
        for g in sorted(set(grp["station"])):
            at = [i for i, q in enumerate(ev) if grp.at[q, "station"] == g]
            options[(sat, g)] = [None, *at]
    links = sorted(options)
    for combo in itertools.product(*(options[k] for k in links)):
        yield dict(zip(links, combo, strict=True))


def brute_force(table, demands, memory, reserve, gap, telescopes, objective, intermediates):
    ids = list(table.index)
    feasible = [s for r in range(len(ids) + 1) for s in itertools.combinations(ids, r)
                if _feasible_subset(table, s, gap, telescopes)]
    # a flown pass may keep nothing, so adding a pass never hurts: maximal subsets suffice
    feasible = [s for s in feasible if not any(set(s) < set(o) for o in feasible)]
    if reserve == 0:
        return max(_relay_lp(table, s, demands, memory, reserve, objective, intermediates)
                   for s in feasible)
    return max(_relay_lp(table, s, demands, memory, reserve, objective, intermediates, ready)
               for s in feasible for ready in _ready_choices(table, s))


TINY_STATIONS = ["A", "B", "C"]
MB = 1e6  # bits per Mbit, the brute force's LP unit


@st.composite
def tiny_relay_instances(draw):
    """A random tiny relay instance: key table, demands, memory, reserve, telescopes, satellites."""
    n_sat = draw(st.integers(1, 2))
    n_pass = draw(st.integers(2, 8))
    # with two satellites, often S1 sees only A, B and S2 only B, C: A-C key must cross B
    split = n_sat == 2 and draw(st.booleans())
    rows = []
    for _ in range(n_pass):
        sat = draw(st.integers(1, n_sat))
        seen = (["A", "B"] if sat == 1 else ["B", "C"]) if split else TINY_STATIONS
        rows.append((f"S{sat}", draw(st.sampled_from(seen)),
                     draw(st.integers(0, 2)), draw(st.integers(0, 12)) * 5,
                     draw(st.integers(60, 400)), draw(st.integers(1, 10)) * 100_000))
    pairs = draw(st.lists(st.sampled_from([("A", "B"), ("A", "C"), ("B", "C")]),
                          min_size=1, max_size=3, unique=True))
    with_targets = draw(st.booleans())
    demands = [(a, b, float(draw(st.integers(1, 3))),
                float(draw(st.integers(1, 8)) * 100_000) if with_targets else None)
               for a, b in pairs]
    memory = draw(st.sampled_from([300_000.0, 800_000.0, 5e6]))
    reserve = draw(st.sampled_from([0.0, 0.0, 50_000.0]))
    scopes = {"A": draw(st.integers(1, 2))}
    return synthetic_key_table(rows, first_id=10), demands, memory, reserve, scopes, n_sat


def demand_texts(demands):
    """``A:B:weight[:target]`` texts of brute-force demand tuples."""
    return [f"{a}:{b}:{w:g}" + ("" if t is None else f":{t:g}") for a, b, w, t in demands]
