"""The YAML loader: YAML 1.2 core scalars, tags checked or refused with file, line and field."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import PlannerInputError
from planner.io.yamlfile import load_yaml


@pytest.fixture
def load(tmp_path):
    def read(text: str):
        path = tmp_path / "in.yaml"
        path.write_text(text, encoding="utf-8")
        return load_yaml(path).data

    return read


@pytest.mark.parametrize(("text", "value"), [
    ("1:30", "1:30"),              # YAML 1.1: 90 (sexagesimal)
    ("2026-02-30", "2026-02-30"),  # YAML 1.1: a date, and a ValueError for this one
    ("2026-12-01", "2026-12-01"),
    ("2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"),
    ("yes", "yes"), ("No", "No"), ("on", "on"),  # YAML 1.1 booleans
    ("1_000", "1_000"),            # YAML 1.1: 1000
    ("0b101", "0b101"),
    ("true", True), ("False", False), ("~", None), ("null", None), ("", None),
    ("42", 42), ("-7", -7), ("0o17", 15), ("0x1F", 31),
    ("1.5", 1.5), ("1e8", 1e8), ("-.5", -0.5), ("1.", 1.0),
    (".inf", math.inf), ("-.Inf", -math.inf),
])
def test_plain_scalars_follow_the_yaml_1_2_core_schema(load, text, value):
    assert load(f"v: {text}\n") == {"v": value}


def test_nan_and_quoted_values(load):
    assert math.isnan(load("v: .nan\n")["v"])
    assert load("v: '42'\nw: \"1:30\"\n") == {"v": "42", "w": "1:30"}


@pytest.mark.parametrize(("text", "value"), [
    ("!!str 5", "5"), ("!!int '7'", 7), ("!!float 3", 3.0), ("!!bool true", True),
    ("!!null ''", None), ("!!float .inf", math.inf),
])
def test_core_tags_are_honoured(load, text, value):
    assert load(f"v: {text}\n") == {"v": value}


@pytest.mark.parametrize(("text", "message"), [
    ("v: !!int 1.5.0", "!!int '1.5.0' is not a whole number"),
    ("v: !!float x9", "!!float 'x9' is not a number"),
    ("v: !!bool yes", "!!bool 'yes' is not true or false"),
    ("v: !!timestamp x", "the YAML tag !!timestamp is not supported"),
    ("v: !!timestamp 2026-01-01", "the YAML tag !!timestamp is not supported"),
    ("v: !!binary aGk=", "the YAML tag !!binary is not supported"),
    ("v: !local x", "the YAML tag !local is not supported"),
    ("v: !!python/object:os.system {a: 1}", "the YAML tag !!python/object:os.system"),
    ("v: !!python/object/apply:os.system [echo]", "!!python/object/apply:os.system"),
    ("v: !!set {a, b}", "the YAML tag !!set is not supported"),
    ("v: !!omap [a: 1]", "the YAML tag !!omap is not supported"),
])
def test_other_tags_are_refused_with_line_and_field(tmp_path, text, message):
    path = tmp_path / "in.yaml"
    path.write_text(f"# comment\nw: 1\n{text}\n")
    with pytest.raises(PlannerInputError) as info:
        load_yaml(path)
    assert info.value.line == 3 and info.value.field == "v"
    assert message in info.value.message


def test_a_tag_on_the_whole_document_is_refused(tmp_path):
    path = tmp_path / "in.yaml"
    path.write_text("!!python/object:os.system\na: 1\n")
    with pytest.raises(PlannerInputError, match=r"!!python/object:os\.system"):
        load_yaml(path)


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.floats(allow_nan=False) | st.integers(-(10**30), 10**30))
def test_numbers_written_by_python_read_back_equal(tmp_path_factory, number):
    path = tmp_path_factory.mktemp("y") / "n.yaml"
    text = repr(number) if not math.isinf(number) else ("-.inf" if number < 0 else ".inf")
    path.write_text(f"v: {text}\n")
    assert load_yaml(path).data == {"v": number}


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30))
def test_quoted_text_reads_back_as_the_same_string(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("y") / "s.yaml"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(f'v: "{escaped}"\n', encoding="utf-8")
    assert load_yaml(path).data == {"v": text}
