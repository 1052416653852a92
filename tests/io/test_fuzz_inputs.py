"""Fuzzed and malformed inputs: only the planner's own errors may escape, as one clear line.

Two parts.

**Fuzzing** (hypothesis): every parser a user's file or option reaches — TLE text, OMM JSON, CSV,
XML and KVN (``planner.elements.elementsets``), element files of any bytes and suffix
(``read_elements``), station YAML (``planner.mission.stations.load_stations``), payload YAML
(``planner.mission.payloads.load_payloads``), loss curves (``planner.key.losscurve.read_loss_csv``)
and relay demands (``planner.relay.demands.parse_demand``) — gets valid inputs mutated in one or a
few places and inputs built from scratch. Each call must return normally or raise a
:class:`~planner.errors.PlannerError` whose message is one line (and, for files, names the file);
anything else fails the test. The parsers are imported from their modules directly: one that
moves or fails to import fails this file rather than being skipped.

Every YAML input (stations, payloads, relay demands, sweep files) also gets its values replaced
by typed scalars (``1:30``, ``2026-02-30``, ``yes``, ``1_000``, ``.inf``, anchors...) or given tags
(``!!int``, ``!!timestamp``, ``!!python/object:os.system``, local tags...).

Sixteen fuzz tests run ``QKDPLAN_FUZZ_EXAMPLES`` examples each (default 150: 2,400 in all; the
whole file, corpus included, takes about 40 s). Runs are derandomised (the same examples every
time, no example database written into the tree); set ``QKDPLAN_FUZZ_RANDOM=1`` to explore new
ones.

**Corpus**: every file under ``tests/data/bad/`` (see its README.md) goes through the command line
in-process and must exit with status 2, print exactly one line on standard error containing the
text of its ``.expected`` file (file, line and field), print nothing on standard output, show no
traceback and leave no output file.
"""

from __future__ import annotations

import json
import os
import re
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli.root import main
from planner.elements.elementsets import (
    parse_omm_csv,
    parse_omm_json,
    parse_omm_kvn,
    parse_omm_xml,
    parse_tle_text,
    read_elements,
)
from planner.errors import PlannerError, PlannerInputError
from planner.key.losscurve import read_loss_csv
from planner.mission.payloads import load_payloads
from planner.mission.stations import load_stations
from planner.relay.demands import load_demands, parse_demand
from planner.run.sweep import load_sweep
from tests.conftest import MICIUS_TLE

TESTS = Path(__file__).resolve().parents[1]
BAD = TESTS / "data" / "bad"
ELEMENTS = TESTS / "data" / "elements"
EXAMPLES = int(os.environ.get("QKDPLAN_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize=not os.environ.get("QKDPLAN_FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


def expect_planner_error(call, *args, path: Path | None = None):
    """Call ``call(*args)``; a PlannerError is fine if its message is one line naming ``path``.

    Any other exception propagates, so hypothesis reports it with the example.
    """
    try:
        return call(*args)
    except PlannerError as error:
        text = error.one_line() if isinstance(error, PlannerInputError) else str(error)
        assert "\n" not in text and "\r" not in text, text
        if path is not None and isinstance(error, PlannerInputError):
            assert error.path is None or error.path == str(path), (error.path, path)
        return None


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """One directory for the files fuzz examples write (each example overwrites its file)."""
    return tmp_path_factory.mktemp("fuzz")


# ---------------------------------------------------------------------------------------------
# Mutations of valid text
# ---------------------------------------------------------------------------------------------

_SPECIAL = [*"0123456789 +-.,:;[]{}#&*!|>%@'\"\\\t\r\n=<>/ZUeE",
            "\u00e9", "\u0667", "\ufeff", "\x00", "\u2028", "\U0001f600"]
_CHARS = st.sampled_from(_SPECIAL) | st.characters(codec="utf-8")


@st.composite
def mutated(draw, text: str, max_edits: int = 4) -> str:
    """``text`` with a few characters replaced, inserted or deleted, or lines shuffled."""
    for _ in range(draw(st.integers(1, max_edits))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "swap_lines",
                                   "drop_line", "repeat_line"]))
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        lines = text.split("\n")
        i, j = (draw(st.integers(0, len(lines) - 1)) for _ in range(2))
        if op == "replace" and text:
            text = text[:pos] + draw(_CHARS) + text[pos + 1:]
        elif op == "insert":
            text = text[:pos] + draw(st.text(_CHARS, min_size=1, max_size=5)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 10)):]
        elif op == "truncate":
            text = text[:pos]
        elif op == "swap_lines":
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif op == "drop_line":
            del lines[i]
            text = "\n".join(lines)
        elif op == "repeat_line":
            lines.insert(i, lines[j])
            text = "\n".join(lines)
    return text


_SCALARS = (st.none() | st.booleans() | st.integers(-(10**25), 10**25)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text(_CHARS, max_size=20)
            | st.sampled_from(["", " ", "nan", "inf", "-0", "1e999", "0x1F", "1_000", "15.2",
                               "2021-04-27T10:09:19", "Asia/Shanghai", "UTC", "TEME", "0.5"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                       max_leaves=8)


@st.composite
def mutated_structure(draw, base, keys: list[str]):
    """A deep copy of ``base`` (dicts/lists) with a few values replaced, added or removed."""
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        containers = list(_containers(data))
        target = draw(st.sampled_from(containers))
        if isinstance(target, list):
            if target and draw(st.booleans()):
                target[draw(st.integers(0, len(target) - 1))] = draw(_VALUES)
            else:
                target.append(draw(_VALUES))
        else:
            key = draw(st.sampled_from(keys) | st.text(max_size=8))
            if key in target and draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(_VALUES)
    return data


def _containers(value):
    if isinstance(value, (dict, list)):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from _containers(item)


def _write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# Element sets
# ---------------------------------------------------------------------------------------------

_OMM_TEXT = {suffix: (ELEMENTS / f"micius{suffix}").read_text()
             for suffix in (".json", ".csv", ".xml", ".kvn")}
_MICIUS_RECORD = json.loads(_OMM_TEXT[".json"])[0]
_OMM_KEYS = [*_MICIUS_RECORD, "REF_FRAME", "TIME_SYSTEM", "MEAN_ELEMENT_THEORY", "CENTER_NAME"]


@FUZZ
@given(mutated(MICIUS_TLE, max_edits=3) | mutated(MICIUS_TLE * 2, max_edits=6)
       | st.text(st.sampled_from("0123456789 .+-U12A\n"), max_size=200))
def test_tle_text(text):
    sets = expect_planner_error(parse_tle_text, text, "f.tle")
    for es in sets or ():
        assert len(es.line1) == len(es.line2) == 69


@FUZZ
@given(mutated_structure([_MICIUS_RECORD], _OMM_KEYS) | _VALUES)
def test_omm_json_structures(document):
    expect_planner_error(parse_omm_json, json.dumps(document), "f.json")


@FUZZ
@given(mutated(_OMM_TEXT[".json"]))
def test_omm_json_text(text):
    expect_planner_error(parse_omm_json, text, "f.json")


@FUZZ
@given(mutated(_OMM_TEXT[".csv"]) | mutated(_OMM_TEXT[".csv"] + _OMM_TEXT[".csv"].split("\n")[1]))
def test_omm_csv(text):
    expect_planner_error(parse_omm_csv, text, "f.csv")


@FUZZ
@given(mutated(_OMM_TEXT[".xml"]))
def test_omm_xml(text):
    expect_planner_error(parse_omm_xml, text, "f.xml")


@FUZZ
@given(mutated(_OMM_TEXT[".kvn"]))
def test_omm_kvn(text):
    expect_planner_error(parse_omm_kvn, text, "f.kvn")


_ANY_ELEMENT_FILE = (st.sampled_from([MICIUS_TLE, *_OMM_TEXT.values()]).flatmap(mutated)
                     .map(lambda text: text.encode("utf-8", "surrogatepass"))
                     | st.binary(max_size=300))


@FUZZ
@given(_ANY_ELEMENT_FILE, st.sampled_from([".tle", ".3le", ".json", ".csv", ".xml", ".kvn",
                                           ".txt", ".omm", ""]))
def test_element_files_of_any_bytes(workdir, data, suffix):
    path = _write(workdir / f"elements{suffix}", data)
    expect_planner_error(read_elements, path, path=path)


# ---------------------------------------------------------------------------------------------
# Ground stations
# ---------------------------------------------------------------------------------------------

_STATIONS_TEXT = (TESTS / "data" / "stations" / "valid.yaml").read_text()
_STATIONS = yaml.safe_load(_STATIONS_TEXT)
_STATION_KEYS = ["stations", "defaults", "name", "latitude_deg", "longitude_deg", "altitude_m",
                 "timezone", "min_elevation_deg", "horizon_mask", "night_sun_elevation_deg",
                 "telescopes", "aperture_m", "clear_sky_probability", "zenith_transmittance",
                 "background_counts_per_s", "receiver_efficiency", "source", "notes"]


def _yaml_text(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@FUZZ
@given(mutated_structure(_STATIONS, _STATION_KEYS).map(_yaml_text) | _VALUES.map(_yaml_text))
def test_station_yaml_structures(workdir, text):
    path = _write(workdir / "stations.yaml", text)
    expect_planner_error(load_stations, path, path=path)


@FUZZ
@given(mutated(_STATIONS_TEXT))
def test_station_yaml_text(workdir, text):
    path = _write(workdir / "stations.yaml", text)
    expect_planner_error(load_stations, path, path=path)


# ---------------------------------------------------------------------------------------------
# Payloads, loss curves, demands (when present)
# ---------------------------------------------------------------------------------------------

_PAYLOAD_FILE = TESTS / "data" / "keys" / "minimal_payload.yaml"


@FUZZ
@given(st.data())
def test_payload_yaml(workdir, data):
    text = _PAYLOAD_FILE.read_text()
    base = yaml.safe_load(text)
    keys = ["payloads", *base["payloads"][0], "signal", "decoy", "vacuum"]
    document = data.draw(mutated_structure(base, keys).map(_yaml_text) | mutated(text))
    path = _write(workdir / "payloads.yaml", document)
    expect_planner_error(load_payloads, path, path=path)


_LOSS_FILE = TESTS / "data" / "keys" / "loss_good.csv"
_LOSS_CELLS = st.sampled_from(["", "nan", "inf", "-1", "1e999", "abc", "0", "3.5", " 2 ", "1,2",
                               '"', "#"])


@st.composite
def loss_csv(draw) -> str:
    header = draw(st.sampled_from(["time_s,loss_db,elevation_deg", "time_s,loss_db",
                                   "TIME_S,Loss_dB", "loss_db,time_s", "t,loss_db", ""]))
    rows = draw(st.lists(st.lists(_LOSS_CELLS | st.floats(-1e3, 1e3).map(repr), max_size=4),
                         max_size=8))
    return "\n".join([header, *(",".join(row) for row in rows)]) + "\n"


@FUZZ
@given(loss_csv() | st.just(_LOSS_FILE.read_text()).flatmap(mutated))
def test_loss_csv(workdir, text):
    path = _write(workdir / "loss.csv", text)
    expect_planner_error(read_loss_csv, path, path=path)


@FUZZ
@given(mutated("Beijing:Stellenbosch:2:5e6") | st.text(st.sampled_from(string.printable),
                                                       max_size=40),
       st.sampled_from([None, ["Beijing", "Stellenbosch", "Jinan"]]))
def test_demand_option(text, known):
    expect_planner_error(parse_demand, text, known)


# ---------------------------------------------------------------------------------------------
# Every YAML input, with typed scalars and tags in place of its values
# ---------------------------------------------------------------------------------------------

# plain scalars PyYAML's YAML 1.1 rules read as dates, sexagesimal numbers, booleans, ... and
# tags, honoured (!!str, !!int, ...) or refused (!!timestamp, !!python/..., local tags)
_TYPED_SCALARS = ["1:30", "-1:30:00", "2026-02-30", "2026-12-01", "2026-12-01T25:00:00Z", "yes",
                  "off", "1_000", "0x1F", "0o17", "0b11", ".inf", "-.inf", ".nan", "~", "''",
                  "1e999", "1e8", "-0", "+5", "&anchor 3", "*anchor", "[1:30]", "{a: 1}"]
_TAGS = ["!!int", "!!float", "!!str", "!!bool", "!!null", "!!timestamp", "!!binary", "!!set",
         "!!omap", "!!pairs", "!!map", "!!seq", "!!python/object:os.system",
         "!!python/object/apply:os.system", "!!python/name:os.system", "!local", "!"]
_VALUE_LINE = re.compile(r"(\s*(?:- )?[A-Za-z_][A-Za-z_0-9]*:[ ]+|\s*- )(\S.*)")


@st.composite
def typed_mutation(draw, text: str) -> str:
    """``text`` with one to three values replaced by a typed scalar or given a tag."""
    lines = text.split("\n")
    candidates = [i for i, line in enumerate(lines)
                  if not line.lstrip().startswith("#") and _VALUE_LINE.fullmatch(line)]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.sampled_from(candidates))
        head, value = _VALUE_LINE.fullmatch(lines[i]).groups()
        if draw(st.booleans()):
            lines[i] = head + draw(st.sampled_from(_TYPED_SCALARS))
        else:
            tag = draw(st.sampled_from(_TAGS))
            lines[i] = head + tag + " " + draw(st.sampled_from([value, *_TYPED_SCALARS]))
    return "\n".join(lines)


_SWEEP_TEXT = """start: 2026-11-24
days: 30
payload: jinan-1
stations: [Beijing, Stellenbosch]
tle: micius.tle
axes:
  aperture_m: [0.2, 0.28, 0.5]
  divergence_urad: [5, 10]
  min_elevation_deg: [10, 15]
  stations: [[Beijing, Stellenbosch], [Jinan, Hefei]]
  satellites: [1, 2]
"""
_YAML_INPUTS = {
    "stations": (load_stations, _STATIONS_TEXT),
    "payloads": (load_payloads, _PAYLOAD_FILE.read_text()),
    "demands": (load_demands, (TESTS / "data" / "schedule" / "demands.yaml").read_text()),
    "sweep": (load_sweep, _SWEEP_TEXT),
}


@pytest.mark.parametrize("kind", sorted(_YAML_INPUTS))
@FUZZ
@given(data=st.data())
def test_yaml_inputs_with_typed_scalars_and_tags(workdir, kind, data):
    loader, text = _YAML_INPUTS[kind]
    path = _write(workdir / f"{kind}.yaml", data.draw(typed_mutation(text)))
    expect_planner_error(loader, path, path=path)


# ---------------------------------------------------------------------------------------------
# The corpus, through the command line
# ---------------------------------------------------------------------------------------------

MICIUS_PERIOD = ["--start", "2021-04-27T12:00:00Z", "--days", "1", "--allow-stale"]
GOOD_LOSS_CSV = TESTS / "data" / "keys" / "loss_good.csv"
GOOD_PAYLOAD = TESTS / "data" / "keys" / "minimal_payload.yaml"
COMMANDS = {"tle": ("check", "passes"), "omm": ("check", "passes"),
            "stations": ("check", "passes"), "payloads": ("keys",), "loss": ("keys",),
            "state": ("schedule",)}
STATE_RUN = ["--demand", "Beijing:Stellenbosch", "--start", "2026-12-01", "--days", "1",
             "--memory-bits", "1e6"]


def _corpus() -> list:
    cases = []
    for expected in sorted(BAD.rglob("*.expected")):
        (data,) = [p for p in expected.parent.glob(expected.stem + ".*")
                   if p.suffix != ".expected"]
        lines = [line for line in expected.read_text().splitlines() if line.strip()]
        marks = [pytest.mark.xfail(strict=True, reason=lines.pop(0)[len("xfail:"):].strip())
                 ] if lines[0].startswith("xfail:") else []
        for command in COMMANDS[data.parent.name]:
            case_id = f"{data.parent.name}/{data.name}-{command}"
            cases.append(pytest.param(data, lines, command, id=case_id, marks=marks))
    return cases


def _command(data: Path, command: str, micius: Path, output: Path) -> list[str]:
    """The command line of one corpus case (see tests/data/bad/README.md)."""
    kind = data.parent.name
    if kind == "stations":
        args = (["stations", "--stations", data] if command == "check" else
                ["passes", "--tle", micius, "--stations", data, *MICIUS_PERIOD])
    elif kind == "payloads":
        args = ["keys", "--loss-csv", GOOD_LOSS_CSV, "--payload", data]
    elif kind == "loss":
        args = ["keys", "--loss-csv", data, "--payload", GOOD_PAYLOAD]
    elif kind == "state":
        args = ["schedule", "--state", data, *STATE_RUN]
    else:
        args = (["tle", "check", data] if command == "check" else
                ["passes", "--tle", data, *MICIUS_PERIOD])
    return [str(a) for a in [*args, "-f", "csv", "-o", output]]


def test_corpus_is_large_and_complete():
    inputs = [p for p in BAD.rglob("*") if p.is_file() and p.suffix not in (".expected", ".md")]
    assert len(inputs) >= 50
    assert {p.parent.name for p in inputs} == set(COMMANDS)
    assert all(p.with_suffix(".expected").exists() for p in inputs)


@pytest.mark.parametrize(("data", "expected", "command"), _corpus())
def test_bad_input_corpus(data, expected, command, tmp_path, capsys):
    micius = tmp_path / "micius.tle"
    micius.write_text(MICIUS_TLE)
    output = tmp_path / "out.csv"
    with pytest.raises(SystemExit) as exit_info:
        main(_command(data, command, micius, output))
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert exit_info.value.code == 2, captured.err
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    assert lines[0].startswith(f"qkdplan: error: {data}"), lines[0]
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert captured.out == ""
    assert not output.exists() and not list(tmp_path.glob(".*.part"))
