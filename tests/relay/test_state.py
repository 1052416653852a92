"""Re-planning a relay campaign from its measured state (``--state``, docs/relay-state.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import ScheduleInputError
from planner.relay.state import load_state, state_after, state_from_data
from tests.conftest import delivered, plan_ok, run, synthetic_key_table

STATIONS = ["A", "B", "C"]


def key_table(rows):
    return synthetic_key_table(rows, first_id=10)


def night_cut(table, night: int) -> pd.Timestamp:
    """A time in the daytime gap before ``night`` (the synthetic nights start 14:00 UTC)."""
    return pd.Timestamp(table["aos_utc"].min()).normalize() + pd.Timedelta(days=night, hours=6)


def replan_check(table, demands, k, **kwargs):
    """Plan the whole period, fly k nights, re-plan the rest from the state reached."""
    kwargs = {"start": table["aos_utc"].min(), "end": night_cut(table, 6), **kwargs}
    whole = plan_ok(table, demands, **kwargs)
    cut = night_cut(table, k)
    document = state_after(whole, cut)
    state = state_from_data(json.loads(json.dumps(document)))
    rest = plan_ok(table, demands, state=state, **kwargs)
    for d in whole.demands:
        total = delivered(whole, d.label)
        before = next(x["bits"] for x in document["delivered"] if x["demand"] == d.label)
        got = delivered(rest, d.label)
        assert float(rest.delivered.loc[d.label, "already_delivered_bits"]) == before
        if len(whole.demands) == 1:  # one demand: the rest can only match or beat the plan
            assert got >= total - before - 2.0
    assert rest.objective_value >= whole.objective_value * (1 - 1e-6) - 1e-6 or \
        rest.objective == "fair"
    return whole, rest, document


def test_replanning_after_two_nights_delivers_the_rest_of_the_plan():
    rows = []
    for night in range(5):
        rows += [("S1", "A", night, 0, 300, (night + 2) * 100_000),
                 ("S1", "B", night, 30, 300, (5 - night) * 100_000),
                 ("S1", "C", night, 60, 300, 300_000)]
    table = key_table(rows)
    whole, rest, document = replan_check(table, ["A:B", "C:B:2"], 2, known_stations=STATIONS)
    assert len(document["flown"]) == len(whole.passes[whole.passes["los_utc"]
                                                      < pd.Timestamp(document["as_of_utc"])])
    # nothing before the state's time is planned again
    assert (rest.passes["aos_utc"] >= pd.Timestamp(document["as_of_utc"])).all()


@given(st.lists(st.tuples(st.sampled_from(STATIONS[:2]), st.integers(0, 3),
                          st.integers(0, 10), st.integers(1, 9)), min_size=2, max_size=8),
       st.integers(1, 3), st.sampled_from([400_000.0, 5e6]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_replanning_from_any_night_never_loses_key(passes, k, memory):
    rows = [("S1", g, night, minute * 6, 200, key * 100_000)
            for g, night, minute, key in passes]
    table = key_table(rows)
    replan_check(table, ["A:B"], k, known_stations=STATIONS, memory_bits=memory,
                 mip_rel_gap=1e-9)


def test_flown_passes_are_not_planned_again_and_keep_the_gap():
    rows = [("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 0, 6, 300, 400_000),
            ("S1", "B", 0, 30, 300, 300_000)]
    table = key_table(rows)
    first = table.loc[10]
    state = state_from_data({
        "as_of_utc": str(first["los_utc"]),
        "buffers": [{"satellite": "S1", "station": "A", "bits": 500_000}],
        "flown": [{"satellite": "S1", "station": "A", "aos_utc": str(first["aos_utc"]),
                   "los_utc": str(first["los_utc"]), "measured_bits": 500_000}]})
    plan = plan_ok(table, ["A:B"], state=state, known_stations=STATIONS)
    # pass 11 starts 60 s after the flown pass ends (< the 120 s gap): only pass 12 is left
    assert list(plan.passes.index) == [12]
    assert float(plan.delivered.loc["A:B", "delivered_bits"]) == pytest.approx(300_000)
    assert plan.parameters["initial_state"]["flown"][0]["measured_bits"] == 500_000


def test_targets_count_key_already_delivered():
    rows = [("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 0, 30, 300, 500_000)]
    table = key_table(rows)
    state = state_from_data({"as_of_utc": "2025-03-01T00:00:00Z",
                             "delivered": [{"demand": "A:B", "bits": 400_000}]})
    plan = plan_ok(table, ["A:B::6e5"], state=state, known_stations=STATIONS)
    row = plan.delivered.loc["A:B"]
    assert row["delivered_bits"] == pytest.approx(200_000)
    assert row["unmet_bits"] == 0 and row["already_delivered_bits"] == 400_000
    assert row["completion_utc"] == table.loc[11, "los_utc"]


def test_state_after_a_plan_is_the_hand_computed_state():
    # S1 holds 100 kbit with A; its pass over A adds 500 kbit, its pass over B 300 kbit, and
    # the only relay (B holds nothing before its pass) is min(600, 300) = 300 kbit at 14:35.
    # S2 plans no pass: its 40 kbit with A stay on board. C's partial key is never touched.
    table = key_table([("S1", "A", 0, 0, 300, 500_000), ("S1", "B", 0, 30, 300, 300_000),
                       ("S2", "A", -1, 0, 300, 100_000)])
    earlier = {"satellite": "S1", "station": "A", "aos_utc": "2025-02-28T14:00:00.000Z",
               "los_utc": "2025-02-28T14:05:00.000Z", "measured_bits": 100_000.0}
    state = state_from_data({
        "as_of_utc": "2025-03-01T12:00:00Z",
        "buffers": [{"satellite": "S1", "station": "A", "bits": 100_000},
                    {"satellite": "S2", "station": "A", "bits": 40_000}],
        "storage": [{"demand": "A:B", "station": "C", "bits": 70_000}],
        "delivered": [{"demand": "A:B", "bits": 20_000}],
        "flown": [earlier]})
    plan = plan_ok(table, ["A:B"], state=state, known_stations=STATIONS)
    over_a = {"satellite": "S1", "station": "A", "aos_utc": "2025-03-01T14:00:00.000Z",
              "los_utc": "2025-03-01T14:05:00.000Z", "measured_bits": 500_000.0}
    over_b = {"satellite": "S1", "station": "B", "aos_utc": "2025-03-01T14:30:00.000Z",
              "los_utc": "2025-03-01T14:35:00.000Z", "measured_bits": 300_000.0}
    storage = [{"demand": "A:B", "station": "C", "bits": 70_000.0}]
    assert state_after(plan, "2025-03-01T14:10:00Z") == {
        "as_of_utc": "2025-03-01T14:10:00.000Z",
        "buffers": [{"satellite": "S1", "station": "A", "bits": 600_000.0},
                    {"satellite": "S2", "station": "A", "bits": 40_000.0}],
        "storage": storage, "delivered": [{"demand": "A:B", "bits": 20_000.0}],
        "flown": [earlier, over_a]}
    assert state_after(plan, "2025-03-02T00:00:00Z") == {
        "as_of_utc": "2025-03-02T00:00:00.000Z",
        "buffers": [{"satellite": "S1", "station": "A", "bits": 300_000.0},
                    {"satellite": "S2", "station": "A", "bits": 40_000.0}],
        "storage": storage, "delivered": [{"demand": "A:B", "bits": 320_000.0}],
        "flown": [earlier, over_a, over_b]}


def test_state_file_through_the_command_line(tmp_path, capsys):
    state = tmp_path / "state.yaml"
    state.write_text(yaml.safe_dump({
        "as_of_utc": "2026-12-01T00:00:00Z",
        "buffers": [{"satellite": "JINAN-1 (REPRESENTATIVE)", "station": "Beijing",
                     "bits": 300_000}],
        "delivered": [{"demand": "Beijing:Stellenbosch", "bits": 100_000}]}))
    code, out, err = run(["schedule", "--state", state, "--demand", "Beijing:Stellenbosch",
                          "--start", "2026-12-01", "--days", "2", "-f", "json"], capsys)
    assert code == 0, err
    document = json.loads(out)
    initial = document["parameters"]["initial_state"]
    assert initial["buffers_bits"] == {"JINAN-1 (REPRESENTATIVE)": {"Beijing": 300000.0}}
    (row,) = document["delivered"]
    assert row["already_delivered_bits"] == 100000.0


# --------------------------------------------------------------------------------------------
# The loader: one-line errors, never anything else
# --------------------------------------------------------------------------------------------


def test_load_state_names_file_line_and_field(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{\n "as_of_utc": "2026-12-01T00:00:00Z",\n "buffers": [\n'
                    '  {"satellite": "S1", "station": "A", "bits": "lots"}\n ]\n}\n')
    with pytest.raises(ScheduleInputError) as err:
        load_state(path)
    text = str(err.value)
    assert text.startswith(f"{path}:4: buffers[0].bits")
    assert "\n" not in text


def test_state_without_a_file_names_the_field_alone():
    with pytest.raises(ScheduleInputError) as err:
        state_from_data({"as_of_utc": "2026-12-01T00:00:00Z",
                         "delivered": [{"demand": "A:B", "bits": 1},
                                       {"demand": " A:B", "bits": 2}]})
    assert str(err.value) == "delivered[1]: 'A:B' is given twice"


def test_a_misspelt_field_is_reported_before_the_field_it_leaves_missing(tmp_path):
    path = tmp_path / "state.yaml"
    path.write_text('as_of_utc: "2026-12-01T00:00:00Z"\nflown:\n  - satellite: S1\n'
                    '    station: A\n    aos_utc: "2026-11-30T14:00:00Z"\n'
                    '    loss_utc: "2026-11-30T14:05:00Z"\n    measured_bits: 1\n')
    with pytest.raises(ScheduleInputError) as err:
        load_state(path)
    assert str(err.value).startswith(f"{path}:6: flown[0].loss_utc: unknown field")


@pytest.mark.parametrize("text", ["now", "today", "Dec 1 2026", "1/12/2026", "12/1/2026",
                                  "2026.12.01", "1 December 2026 06:00"])
def test_a_time_that_is_not_iso_8601_is_refused(text, tmp_path):
    # pandas reads each of these (``now`` as the clock, ``1/12/2026`` month first by guess);
    # the state file's times are ISO 8601 only (docs/relay-state.md)
    path = tmp_path / "state.yaml"
    path.write_text(f'as_of_utc: "2026-12-03T06:00:00Z"\nflown:\n  - satellite: S1\n'
                    f'    station: A\n    aos_utc: "{text}"\n'
                    '    los_utc: "2026-12-02T14:23:03Z"\n    measured_bits: 1\n')
    with pytest.raises(ScheduleInputError) as err:
        load_state(path)
    assert str(err.value) == (f"{path}:5: flown[0].aos_utc: cannot read {text!r} as an "
                              "ISO 8601 time (e.g. 2026-12-03T06:00:00Z)")
    with pytest.raises(ScheduleInputError, match=r"^as_of_utc: cannot read"):
        state_from_data({"as_of_utc": text})


MOMENTS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.one_of(st.none(), st.timezones()))


@given(moment=MOMENTS, basic=st.booleans(), zulu=st.booleans())
@settings(max_examples=200, deadline=None)
def test_iso_8601_times_read_back_as_the_same_instant(moment, basic, zulu):
    # an ISO 8601 time in the extended or basic form, with an offset, Z, or none (UTC)
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if zulu and moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    text = moment.isoformat(timespec="milliseconds")
    if zulu:
        text = text.removesuffix("+00:00") + "Z"
    if basic:
        date_part, time_part = text.split("T")
        text = date_part.replace("-", "") + "T" + time_part.replace(":", "")
    state = state_from_data({"as_of_utc": text})
    expected = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    assert state.as_of == pd.Timestamp(expected)
    assert str(state.as_of.tz) == "UTC"


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.just("2026-12-01T00:00:00Z"))
ITEMS = st.dictionaries(st.sampled_from(["satellite", "station", "demand", "bits", "aos_utc",
                                         "los_utc", "measured_bits", "extra"]),
                        SCALARS, max_size=6)
DOCUMENTS = st.one_of(
    SCALARS, st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["as_of_utc", "buffers", "storage", "delivered", "flown",
                                     "note"]),
                    st.one_of(SCALARS, st.lists(st.one_of(ITEMS, SCALARS), max_size=3)),
                    max_size=6))


@given(document=DOCUMENTS)
@settings(max_examples=300, deadline=None)
def test_loader_fuzz_accepts_or_names_the_field(document, tmp_path_factory):
    path = tmp_path_factory.mktemp("state") / "state.yaml"
    path.write_text(yaml.safe_dump(document))
    try:
        state = load_state(path)
    except ScheduleInputError as exc:
        text = str(exc)
        assert "\n" not in text and text.startswith(str(path))
        return
    assert all(bits >= 0 for bits in state.buffers.values())
    assert all(f["los_utc"] <= state.as_of for f in state.flown)
