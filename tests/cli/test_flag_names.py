"""On the command line an error names the flag the user gave, whatever the library calls it.

The library names parameters (``days``, ``station_names``, ``dask``); the CLI maps them to its
flags in one place (``planner/cli/flags.py``). Here each command gets bad options: the error is
one line naming the real flag, and every flag the line names is one of that command's own
(listed in its ``--help``).
"""

from __future__ import annotations

import re
import socket

import pytest

from planner.cli.flags import RUN_FLAGS, with_flags
from planner.errors import OptionError, OutputError, ScheduleInputError, StationError
from tests.conftest import assert_one_line_error, run

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _help_flags(command: list[str], capsys) -> set[str]:
    code, out, err = run([*command, "--help"], capsys)
    assert code == 0, err
    return set(FLAG.findall(out))


def _command(args: list[str]) -> list[str]:
    """The command words of ``args`` (``["constellation", "passes"]``)."""
    words = []
    for arg in args:
        if str(arg).startswith("-"):
            break
        words.append(arg)
    return words[:2] if words[0] in ("constellation", "tle") else words[:1]


@pytest.fixture
def sweep_file(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("days: 1\naxes:\n  aperture_m: [0.3]\n")
    return path


@pytest.fixture
def full_directory(tmp_path):
    directory = tmp_path / "dataset"
    directory.mkdir()
    (directory / "other").write_text("keep")
    return directory


# (arguments, the flag the error must name); placeholders: OUT (a report or file in a missing
# directory), SWEEP (a valid sweep file), FULL (a non-empty directory), TMP (an empty place)
CASES = [
    (["passes", "--days", "-1"], "--days"),
    (["passes", "--days", "5000"], "--days"),
    (["passes", "--start", "2026-12-01", "--end", "2026-11-01"], "--end"),
    (["passes", "--start", "noon"], "--start"),
    (["passes", "--days", "1", "--station", "Bejing"], "--station"),
    (["passes", "--days", "1", "--min-elevation", "95"], "--min-elevation"),
    (["passes", "--days", "1", "--format", "csv", "-o", "OUT"], "--output"),
    (["keys", "--days", "1", "--pool", "0"], "--pool"),
    (["keys", "--days", "1", "--ec-leakage", "magic"], "--ec-leakage"),
    (["keys", "--days", "1", "--fluctuation", "magic"], "--fluctuation"),
    (["keys", "--days", "1", "--payload-name", "nope"], "--payload-name"),
    (["keys", "--days", "1", "--end", "2026-01-01"], "--days"),
    (["plan", "--days", "1", "--demand", "Beijing:Nowhere", "-o", "TMP"], "--demand"),
    (["plan", "--days", "1", "--demand", "Beijing:Stellenbosch", "--demand",
      "stellenbosch:beijing", "-o", "TMP"], "--demand"),
    (["plan", "--days", "0", "-o", "TMP"], "--days"),
    (["plan", "--days", "1", "--scenarios", "0", "-o", "TMP"], "--scenarios"),
    (["plan", "--days", "1", "--seed", "-1", "-o", "TMP"], "--seed"),
    (["plan", "--days", "1", "-o", "OUT"], "--output"),
    (["plan", "--days", "1", "--station", "Bejing", "-o", "TMP"], "--station"),
    (["sweep", "--dask", "local:x", "SWEEP"], "--dask"),
    (["sweep", "--dask", "local:2", "--processes", "2", "SWEEP"], "--dask"),
    (["sweep", "--processes", "0", "SWEEP"], "--processes"),
    (["constellation", "passes", "--days", "1", "--dask", "bogus"], "--dask"),
    (["constellation", "passes", "--days", "1", "--processes", "0"], "--processes"),
    (["constellation", "passes", "--days", "1", "--chunk-days", "0.5"], "--chunk-days"),
    (["constellation", "passes", "--days", "1", "--station", "Bejing"], "--station"),
    (["constellation", "passes", "--days", "1", "--format", "parquet", "-o", "FULL"],
     "--output"),
    (["constellation", "walker", "--planes", "0", "--per-plane", "1", "--altitude-km", "500",
      "--inclination-deg", "97", "--epoch", "2026-01-01"], "--planes"),
    (["tle", "fetch", "--catnr", "41731", "--read-timeout", "-1", "--cache-dir", "TMP"],
     "--read-timeout"),
    (["tle", "fetch", "--catnr", "-5", "--cache-dir", "TMP"], "--catnr"),
    (["tle", "fetch", "--catnr", "41731", "--base-url", "ftp://x", "--cache-dir", "TMP"],
     "--base-url"),
]


@pytest.mark.parametrize(("args", "flag"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_an_error_names_the_flag_given(args, flag, tmp_path, sweep_file, full_directory,
                                       capsys, monkeypatch):
    monkeypatch.setenv("QKDPLAN_CACHE_DIR", str(tmp_path / "cache"))
    places = {"OUT": tmp_path / "missing" / "out.html", "SWEEP": sweep_file,
              "FULL": full_directory, "TMP": tmp_path / "out.html"}
    argv = [str(places.get(a, a)) for a in args]
    if "--cache-dir" in argv:
        argv[argv.index("--cache-dir") + 1] = str(tmp_path / "cache")
    line = assert_one_line_error(*run(argv, capsys), f": {flag}")
    assert line.startswith(f"qkdplan: error: {flag}"), line
    named = set(FLAG.findall(line))
    assert named <= _help_flags(_command(args), capsys), (line, named)
    assert not (tmp_path / "out.html").exists()


def test_partition_column_names_the_partition_flag(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    line = assert_one_line_error(*run(
        ["constellation", "passes", "--days", "1", "--all", "--format", "parquet", "-o",
         tmp_path / "dataset", "--partition-by", "colour"], capsys), "--partition-by")
    assert "'colour'" in line
    assert not (tmp_path / "dataset").exists()


@pytest.mark.parametrize("command", [["constellation", "passes", "--days", "1"],
                                     ["sweep", "SWEEP"]])
def test_an_unreachable_scheduler_names_dask_and_the_address(command, sweep_file, capsys):
    """The library names ``spec`` or ``executor``; the line names ``--dask`` and the address."""
    pytest.importorskip("distributed")
    with socket.socket() as probe:                       # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    argv = [sweep_file if a == "SWEEP" else a for a in command]
    line = assert_one_line_error(*run([*argv, "--dask", address], capsys))
    assert line.startswith(f"qkdplan: error: --dask: cannot reach the Dask scheduler at "
                           f"{address} "), line


def test_error_lines_print_colons_as_written_not_as_emoji(tmp_path, capsys):
    """Rich reads ``:B:`` as an emoji code; an error line must show the user's text as is."""
    line = assert_one_line_error(*run(["plan", "--days", "1", "--demand", "Beijing:B:x",
                                       "-o", tmp_path / "r.html"], capsys), "--demand")
    assert "'Beijing:B:x'" in line
    assert all(ord(character) < 0x2000 for character in line), line


def test_help_shows_station_pair_syntax_literally(capsys):
    code, out, err = run(["schedule", "--help"], capsys)
    assert code == 0, err
    assert "A:B:RATE" in out and "A:B:LENGTHkm" in out
    code, out, err = run(["plan", "--help"], capsys)
    assert code == 0, err
    assert "A:B[:weight[:target_bits]]" in out


# ------------------------------------------------------------------------- the mapping itself

def test_with_flags_maps_a_parameter_field_and_its_item():
    error = with_flags(OptionError("bad", field="days"), RUN_FLAGS)
    assert (error.field, str(error)) == ("--days", "--days: bad")
    error = with_flags(ScheduleInputError("unknown station 'X'", field="demands 'A:X'"),
                       RUN_FLAGS)
    assert str(error) == "--demand 'A:X': unknown station 'X'"
    error = with_flags(OptionError("bad", field="days_of_week"), RUN_FLAGS)
    assert error.field == "days_of_week"  # only a whole parameter name is a parameter


def test_with_flags_maps_named_parameters_in_messages():
    error = with_flags(OptionError("give `dask` or `processes`, not both; the days stay",
                                   field="dask"), RUN_FLAGS)
    assert str(error) == "--dask: give --dask or --processes, not both; the days stay"
    error = with_flags(OptionError("choose it with `payload_name`", field="optimise"), RUN_FLAGS)
    assert error.message == "choose it with --payload-name"
    # a bare word is prose, a file's key or part of a path: left as written
    error = with_flags(OutputError("cannot write '/data/chunk_days/x.csv': disk full",
                                   field="output"), RUN_FLAGS)
    assert str(error) == "--output: cannot write '/data/chunk_days/x.csv': disk full"


def test_with_flags_leaves_a_files_fields_alone():
    error = with_flags(StationError("below the horizon", path="s.yaml", line=3,
                                    field="min_elevation_deg"), RUN_FLAGS)
    assert str(error) == "s.yaml:3: min_elevation_deg: below the horizon"
    error = with_flags(StationError("pass `allow_stale`; min_elevation_deg stays", path="s.yaml",
                                    field="epoch"), RUN_FLAGS)
    assert error.message == "pass --allow-stale; min_elevation_deg stays"
    error = with_flags(StationError("too slow (`deadline_s`)", path="https://host/gp.php"),
                       {"deadline_s": "--deadline"})
    assert error.message == "too slow (--deadline)"


def test_with_flags_maps_output_errors():
    error = with_flags(OutputError("cannot write 'x': disk full", field="output"), RUN_FLAGS)
    assert str(error) == "--output: cannot write 'x': disk full"
