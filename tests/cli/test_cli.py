"""The command line: outputs in every format, and every bad input a user can give.

Bad input must give exit status 2, exactly one line on standard error naming the file, line and
field, and no output file.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from planner.geometry.passes import PASS_COLUMNS
from planner.io.resources import bundled_path
from tests.conftest import MICIUS_TLE, assert_one_line_error, run

MICIUS_PERIOD = ["--start", "2021-04-27T12:00:00Z", "--days", "2"]


@pytest.fixture
def micius_file(tmp_path):
    path = tmp_path / "micius.tle"
    path.write_text(MICIUS_TLE)
    return path


def test_passes_csv_is_plain_with_provenance_beside_it(micius_file, tmp_path, capsys):
    """CSV starts with its header (pandas and csv read it with no options); a written file's
    provenance is in NAME.meta.json beside it; comment lines only with --csv-comments."""
    path = tmp_path / "passes.csv"
    code, _, err = run(["passes", "--tle", micius_file, *MICIUS_PERIOD, "--format", "csv",
                        "--all", "-o", path], capsys)
    assert code == 0, err
    table = pd.read_csv(path)
    assert list(table.columns) == PASS_COLUMNS
    assert len(table) > 10
    assert table["aos_utc"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$").all()
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == PASS_COLUMNS and len(rows) == len(table)
    assert rows[0]["satellite"] == "MICIUS (QUESS)"
    meta = json.loads((tmp_path / "passes.csv.meta.json").read_text())
    assert meta["file"] == "passes.csv"
    sets = meta["provenance"]["element_sets"]
    assert any(s["norad"] == 41731 and s["epoch_utc"].startswith("2021-04-27T10:09:19")
               for s in sets)
    code, out, err = run(["passes", "--tle", micius_file, *MICIUS_PERIOD, "--format", "csv",
                          "--all"], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == ",".join(PASS_COLUMNS)
    assert out == path.read_text()
    code, out, err = run(["passes", "--tle", micius_file, *MICIUS_PERIOD, "--format", "csv",
                          "--all", "--csv-comments"], capsys)
    comments = [line for line in out.splitlines() if line.startswith("# ")]
    assert any("41731" in line and "2021-04-27T10:09:19" in line for line in comments)
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(out), comment="#"), table)


@pytest.mark.parametrize("command", [["passes"], ["keys"], ["next"], ["stations"]])
@pytest.mark.parametrize("output_format", ["json", "table"])
def test_csv_comments_without_csv_is_refused(micius_file, tmp_path, capsys, command,
                                             output_format):
    args = [*command, "--csv-comments", "-f", output_format]
    if command != ["stations"]:
        args += ["--tle", micius_file, *MICIUS_PERIOD]
    code, out, err = run(args, capsys)
    assert out == ""
    assert_one_line_error(code, out, err, "--csv-comments", output_format)


def test_night_only_by_default_and_all_adds_daylight(micius_file, capsys):
    _, out_night, _ = run(["passes", "--tle", micius_file, *MICIUS_PERIOD, "-f", "csv"], capsys)
    _, out_all, _ = run(["passes", "--tle", micius_file, *MICIUS_PERIOD, "-f", "csv", "--all"],
                        capsys)
    night = pd.read_csv(io.StringIO(out_night))
    every = pd.read_csv(io.StringIO(out_all))
    assert night["night"].all()
    assert len(every) > len(night) > 0
    assert not every["night"].all()


def test_json_and_ics_outputs_are_written_atomically(micius_file, tmp_path, capsys):
    json_path = tmp_path / "passes.json"
    code, _, err = run(["passes", "--tle", micius_file, *MICIUS_PERIOD, "-f", "json",
                        "--station", "xinglong", "--all", "-o", json_path], capsys)
    assert code == 0, err
    document = json.loads(json_path.read_text())
    assert document["provenance"]["stations"] == ["Xinglong"]
    assert set(document["passes"][0]) == set(PASS_COLUMNS)
    ics_path = tmp_path / "passes.ics"
    code, _, err = run(["passes", "--tle", micius_file, *MICIUS_PERIOD, "-f", "ics",
                        "--station", "Xinglong", "--all", "-o", ics_path], capsys)
    assert code == 0, err
    raw = ics_path.read_bytes()
    text = raw.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == len(document["passes"]) == text.count("END:VEVENT")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    first_aos = pd.Timestamp(document["passes"][0]["aos_utc"])
    assert f"DTSTART:{first_aos:%Y%m%dT%H%M%S}Z" in text
    assert not list(tmp_path.glob(".*.part"))


def test_table_output_lists_each_station(micius_file, capsys):
    code, out, err = run(["passes", "--tle", micius_file, *MICIUS_PERIOD, "--all",
                          "--station", "Graz", "--station", "Ngari"], capsys)
    assert code == 0, err
    assert "over Graz" in out and "over Ngari" in out
    assert "Europe/Vienna" in out


def test_stations_and_tle_check(capsys, tmp_path):
    code, out, _ = run(["stations", "-f", "csv"], capsys)
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert {"name", "latitude_deg", "longitude_deg", "altitude_m", "min_elevation_deg",
            "timezone"} <= set(table.columns)
    assert len(table) == 12
    code, out, _ = run(["tle", "check", bundled_path("tle_data/micius.tle"), "-f", "json"],
                       capsys)
    assert code == 0
    satellites = json.loads(out)["satellites"]
    assert satellites[0]["norad"] == 41731
    assert 94.0 < satellites[0]["period_min"] < 95.0


# ---------------------------------------------------------------- bad input
LINE1, LINE2 = MICIUS_TLE.splitlines()[1:3]


def _with_checksum(line: str) -> str:
    total = sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68])
    return line[:68] + str(total % 10)


BAD_ELEMENTS = {
    "wrong_checksum": ("micius.tle", f"MICIUS\n{LINE1[:68]}7\n{LINE2}\n", 2, "checksum"),
    "shifted_column": ("micius.tle", f"MICIUS\n{_with_checksum(LINE1[:17] + ' ' + LINE1[17:67])}"
                       f"\n{LINE2}\n", 2, "line 1"),
    "missing_line_2": ("micius.tle", f"MICIUS\n{LINE1}\n", 2, "line 2"),
    "mismatched_catalogue": ("micius.tle",
                             f"MICIUS\n{LINE1}\n{_with_checksum(LINE2[:2] + '41732' + LINE2[7:68])}"
                             "\n", 3, "catalogue"),
    "letters_in_numbers": ("micius.tle", "MICIUS\n" + LINE1 + "\n"
                           + _with_checksum(LINE2[:8] + " 97.3A99" + LINE2[16:68]) + "\n",
                           3, "inclination"),
    "omm_eccentricity": ("micius.json", json.dumps([{
        "OBJECT_NAME": "MICIUS", "OBJECT_ID": "2016-051A", "EPOCH": "2021-04-27T10:09:19.800576",
        "MEAN_MOTION": 15.25507799, "ECCENTRICITY": 1.2, "INCLINATION": 97.3499,
        "RA_OF_ASC_NODE": 30.8507, "ARG_OF_PERICENTER": 347.0485, "MEAN_ANOMALY": 124.2616,
        "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": "U", "NORAD_CAT_ID": 41731,
        "ELEMENT_SET_NO": 999, "REV_AT_EPOCH": 26142, "BSTAR": 3.026e-05,
        "MEAN_MOTION_DOT": 6.96e-06, "MEAN_MOTION_DDOT": 0}], indent=1), None, "ECCENTRICITY"),
    "omm_no_epoch": ("micius.json", json.dumps([{
        "OBJECT_NAME": "MICIUS", "NORAD_CAT_ID": 41731, "MEAN_MOTION": 15.25507799,
        "ECCENTRICITY": 0.0012844, "INCLINATION": 97.3499, "RA_OF_ASC_NODE": 30.8507,
        "ARG_OF_PERICENTER": 347.0485, "MEAN_ANOMALY": 124.2616, "BSTAR": 3.026e-05}]),
        None, "EPOCH"),
    "omm_bad_epoch": ("micius.json", json.dumps([{
        "OBJECT_NAME": "MICIUS", "NORAD_CAT_ID": 41731, "EPOCH": "2021-13-45T99:00:00",
        "MEAN_MOTION": 15.25507799, "ECCENTRICITY": 0.0012844, "INCLINATION": 97.3499,
        "RA_OF_ASC_NODE": 30.8507, "ARG_OF_PERICENTER": 347.0485, "MEAN_ANOMALY": 124.2616,
        "BSTAR": 3.026e-05}]), None, "EPOCH"),
    "empty_file": ("empty.tle", "", None, "no element sets"),
}


@pytest.mark.parametrize("case", sorted(BAD_ELEMENTS))
def test_bad_element_sets_exit_2_with_one_line_and_no_output(case, tmp_path, capsys):
    name, text, line, field = BAD_ELEMENTS[case]
    path = tmp_path / name
    path.write_text(text)
    output = tmp_path / "out.csv"
    code, out, err = run(["passes", "--tle", path, *MICIUS_PERIOD, "-f", "csv", "-o", output],
                         capsys)
    message = assert_one_line_error(code, out, err, str(path), field)
    if line is not None:
        assert f"{path}:{line}:" in message
    assert not output.exists() and out == ""


def test_stale_elements_are_refused_without_allow_stale(micius_file, tmp_path, capsys):
    output = tmp_path / "out.csv"
    args = ["passes", "--tle", micius_file, "--start", "2024-05-01", "--days", "1", "-f", "csv"]
    code, out, err = run([*args, "-o", output], capsys)
    assert_one_line_error(code, out, err, str(micius_file), "epoch", "--allow-stale")
    assert not output.exists()
    code, out, err = run([*args, "--allow-stale"], capsys)
    assert code == 0 and "warning" in err


STATION_BASE = """stations:
  - name: Alpha
    latitude_deg: 40.0
    longitude_deg: 116.0
    altitude_m: 50
    timezone: Asia/Shanghai
    clear_sky_probability: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    source: test
"""

BAD_STATIONS = {
    "latitude_95": (STATION_BASE.replace("latitude_deg: 40.0", "latitude_deg: 95"), 3,
                    "stations[0].latitude_deg"),
    "missing_name": (STATION_BASE.replace("  - name: Alpha\n    latitude", "  - latitude"), 2,
                     "stations[0].name"),
    "duplicate_name": (STATION_BASE + STATION_BASE.split("stations:\n", 1)[1], 9,
                       "stations[1].name"),
    "min_elevation_100": (STATION_BASE + "    min_elevation_deg: 100\n", 9,
                          "stations[0].min_elevation_deg"),
    "unknown_timezone": (STATION_BASE.replace("Asia/Shanghai", "Asia/Atlantis"), 6,
                         "stations[0].timezone"),
}


@pytest.mark.parametrize("case", sorted(BAD_STATIONS))
def test_bad_stations_exit_2_with_one_line_and_no_output(case, micius_file, tmp_path, capsys):
    text, line, field = BAD_STATIONS[case]
    path = tmp_path / "stations.yaml"
    path.write_text(text)
    output = tmp_path / "out.csv"
    code, out, err = run(["passes", "--tle", micius_file, "--stations", path, *MICIUS_PERIOD,
                          "-f", "csv", "-o", output], capsys)
    assert_one_line_error(code, out, err, f"{path}:{line}:", field)
    assert not output.exists()


BAD_OPTIONS = {
    "negative_days": (["--days", "-1"], "--days"),
    "end_before_start": (["--start", "2021-04-28", "--end", "2021-04-27"], "--end"),
    "unparseable_start": (["--start", "yesterday-ish"], "--start"),
    "unknown_station": (["--start", "2021-04-27", "--station", "Stellenbosh"], "Stellenbosch"),
    "missing_file": (["--tle", "no/such/file.tle"], "no/such/file.tle"),
    "days_and_end": (["--start", "2021-04-27", "--days", "1", "--end", "2021-04-29"], "--days"),
    "min_elevation_100": (["--start", "2021-04-27", "--min-elevation", "100"],
                          "--min-elevation"),
    "days_not_a_number": (["--days", "abc"], "--days"),
    "unknown_format": (["--format", "xml"], "--format"),
    "missing_output_dir": (["--start", "2021-04-27", "-f", "csv", "-o", "no/such/dir/x.csv"],
                           "no/such/dir"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_options_exit_2_with_one_line(case, micius_file, capsys):
    extra, needle = BAD_OPTIONS[case]
    args = ["passes", *extra]
    if "--tle" not in extra:
        args[1:1] = ["--tle", str(micius_file), "--allow-stale"]
    code, out, err = run(args, capsys)
    assert_one_line_error(code, out, err, needle)
    assert out == ""


def test_console_script_and_module_entry_points(micius_file, tmp_path):
    """The installed entry points exit 2 on bad input, 0 on success, and print no traceback."""
    result = subprocess.run([sys.executable, "-m", "planner", "passes", "--days", "-1"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--days" in result.stderr
    result = subprocess.run([sys.executable, "-m", "planner", "passes", "--tle",
                             str(micius_file), *MICIUS_PERIOD, "-f", "csv"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("satellite,norad,station,aos_utc,")


# ---------------------------------------------------------------- keys
JINAN1_NIGHTS = ["--start", "2026-11-24", "--days", "2"]


def test_keys_csv_adds_the_key_columns_to_the_pass_table(capsys):
    from planner.key.perpass import KEY_COLUMNS

    code, out, err = run(["keys", *JINAN1_NIGHTS, "-f", "csv"], capsys)
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns[: len(PASS_COLUMNS)]) == PASS_COLUMNS
    assert set(KEY_COLUMNS) <= set(table.columns)
    assert table["night"].all()
    np.testing.assert_allclose(table["expected_secure_bits"],
                               table["secure_bits"] * table["clear_sky_probability"], rtol=1e-6)
    # the published Jinan-1 figures hold at its own portable stations (the Micius-era
    # metre-class telescopes collect several times more)
    from planner.mission.stations import JINAN1_STATIONS

    high = table[(table["max_elevation_deg"] > 70) & table["station"].isin(JINAN1_STATIONS)]
    assert len(high) and high["secure_bits"].between(0.5e6, 1.3e6).all()
    assert (table["secure_bits"] >= 0).all()
    assert not out.startswith("#")
    code, out, err = run(["keys", *JINAN1_NIGHTS, "-f", "json"], capsys)
    assert "key_models" in json.loads(out)["provenance"]


def test_keys_of_a_measured_loss_curve(tmp_path, capsys):
    curve = tmp_path / "loss.csv"
    seconds = np.arange(0, 300)
    loss = 36 + 8 * ((seconds - 150) / 150) ** 2
    pd.DataFrame({"time_s": seconds, "loss_db": loss}).to_csv(curve, index=False)
    code, out, err = run(["keys", "--loss-csv", curve, "--payload-name", "jinan-1",
                          "--station", "Beijing", "-f", "json"], capsys)
    assert code == 0, err
    result = json.loads(out)["key"][0]
    assert result["samples"] == 300
    assert 0 < result["secure_bits"] < result["secure_bits_asymptotic"]


def _measured_pass(path, elevations=True):
    """A 300 s pass at a constant 36 dB (so the more seconds, the more key), rising to 80°."""
    seconds = np.arange(0, 300)
    columns = {"time_s": seconds, "loss_db": np.full(seconds.shape, 36.0)}
    if elevations:
        columns["elevation_deg"] = 80 - 70 * np.abs(seconds - 150) / 150
    pd.DataFrame(columns).to_csv(path, index=False)
    return columns


def test_loss_curve_min_elevation_leaves_out_the_samples_below_it(tmp_path, capsys):
    """--min-elevation with a measured pass: the station acquires at that elevation, so the
    samples below it give no key (it was ignored: the key of the whole curve)."""
    curve = tmp_path / "loss.csv"
    elevation = _measured_pass(curve)["elevation_deg"]
    args = ["keys", "--loss-csv", curve, "--payload-name", "jinan-1", "-f", "json"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    whole = json.loads(out)["key"][0]
    assert whole["samples"] == np.count_nonzero(elevation >= 15)  # jinan-1 keys from 15°
    code, out, err = run([*args, "--min-elevation", "40"], capsys)
    assert code == 0, err
    cut = json.loads(out)
    high = np.count_nonzero(elevation >= 40)
    assert cut["key"][0]["samples"] == high
    assert cut["key"][0]["duration_s"] == high - 1
    assert 0 < cut["key"][0]["secure_bits"] < whole["secure_bits"]
    assert cut["provenance"]["options"]["min_elevation_deg"] == 40


def test_loss_curve_min_elevation_needs_elevations(tmp_path, capsys):
    curve = tmp_path / "loss.csv"
    _measured_pass(curve, elevations=False)
    code, out, err = run(["keys", "--loss-csv", curve, "--payload-name", "jinan-1",
                          "--min-elevation", "40"], capsys)
    assert_one_line_error(code, out, err, "--min-elevation", "loss.csv", "elevation_deg")
    assert out == ""


@pytest.mark.parametrize("extra, flag", [
    (["--tle", "any.tle"], "--tle"), (["--norad", "41731"], "--norad"),
    (["--start", "2026-10-25"], "--start"), (["--days", "2"], "--days"),
    (["--end", "2026-10-26"], "--end"), (["--all"], "--all"), (["--pool", "2"], "--pool"),
    (["--allow-stale"], "--allow-stale"), (["--warn-age-days", "3"], "--warn-age-days"),
    (["--tz", "utc"], "--tz"),
])
def test_loss_curve_refuses_pass_options_before_any_work(extra, flag, tmp_path, capsys):
    """An option that chooses passes of the element sets means nothing for one measured pass:
    refused before the curve is read (it does not exist here) and nothing written."""
    output = tmp_path / "key.csv"
    code, out, err = run(["keys", "--loss-csv", tmp_path / "missing.csv", *extra,
                          "-o", output], capsys)
    line = assert_one_line_error(code, out, err, flag, "--loss-csv")
    assert "missing.csv" not in line
    assert out == "" and not output.exists()


def test_loss_curve_names_every_refused_option(tmp_path, capsys):
    code, out, err = run(["keys", "--loss-csv", tmp_path / "missing.csv", "--start",
                          "2026-10-25", "--days", "2", "--all"], capsys)
    assert_one_line_error(code, out, err, "--start, --days and --all", "--loss-csv")


def test_loss_curve_uses_config_min_elevation_and_leaves_its_pass_settings(tmp_path, capsys):
    """A configuration file's settings are defaults for every command: with --loss-csv its
    min_elevation cuts the curve, and its element sets, zone and age limit are not refused but
    warned about."""
    curve = tmp_path / "loss.csv"
    elevation = _measured_pass(curve)["elevation_deg"]
    config = tmp_path / "config.toml"
    config.write_text('tle = ["none.tle"]\ntz = "utc"\nwarn_age_days = 3\n'
                      "min_elevation = 40\n")
    code, out, err = run(["--config", config, "keys", "--loss-csv", curve,
                          "--payload-name", "jinan-1", "-f", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["key"][0]["samples"] == np.count_nonzero(elevation >= 40)
    # the others are said to be left unused, once, never dropped in silence
    unused = [line for line in err.splitlines() if "left unused" in line]
    assert len(unused) == 1 and all(k in unused[0] for k in ("tle", "tz", "warn_age_days")), err
    _measured_pass(curve, elevations=False)
    code, out, err = run(["--config", config, "keys", "--loss-csv", curve,
                          "--payload-name", "jinan-1", "-f", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["key"][0]["samples"] == 300
    assert "min_elevation" in err and "not used" in err


def test_loss_curve_refuses_a_stations_file_without_a_station(tmp_path, capsys):
    """--stations serves a measured pass only to find its --station: given alone it was read
    for nothing and the key came without any station's sky, in silence."""
    curve = tmp_path / "loss.csv"
    _measured_pass(curve)
    stations = tmp_path / "stations.yaml"
    stations.write_text(bundled_path("ground_stations.yaml").read_text())
    output = tmp_path / "key.csv"
    code, out, err = run(["keys", "--loss-csv", curve, "--stations", stations,
                          "--payload-name", "jinan-1", "-o", output], capsys)
    line = assert_one_line_error(code, out, err, "--stations", "--station NAME")
    assert line.startswith("qkdplan: error: --stations:"), line
    assert out == "" and not output.exists()
    code, out, err = run(["keys", "--loss-csv", curve, "--stations", stations, "--station",
                          "Graz", "--payload-name", "jinan-1", "-f", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["provenance"]["station"] == "Graz"


def test_loss_curve_warns_of_a_configured_stations_file_without_a_station(tmp_path, capsys):
    """A configuration file's stations is a default for every command: with --loss-csv and no
    station it is left unused, and said so once; the key is that of no station."""
    curve = tmp_path / "loss.csv"
    _measured_pass(curve)
    (tmp_path / "stations.yaml").write_text(bundled_path("ground_stations.yaml").read_text())
    config = tmp_path / "config.toml"
    config.write_text('stations = "stations.yaml"\n')
    args = ["keys", "--loss-csv", curve, "--payload-name", "jinan-1", "-f", "json"]
    code, without, err = run(args, capsys)
    assert code == 0 and "warning" not in err, err
    code, out, err = run(["--config", config, *args], capsys)
    assert code == 0, err
    unused = [line for line in err.splitlines() if "left unused" in line]
    assert len(unused) == 1 and "stations" in unused[0] and "--station" in unused[0], err
    assert json.loads(out)["key"] == json.loads(without)["key"]


@pytest.mark.parametrize("content, needle", [
    ("time_s,loss_db\n0,40\n1,abc\n", ":3: loss_db"),
    ("time_s\n0\n1\n", "loss_db"),
    ("time_s,loss_db\n0,40\n0,41\n", "time_s"),
    ("time_s,loss_db\n0,nan\n1,40\n", "loss_db"),
    ("", "empty"),
])
def test_bad_loss_curves_exit_2(content, needle, tmp_path, capsys):
    curve = tmp_path / "loss.csv"
    curve.write_text(content)
    code, out, err = run(["keys", "--loss-csv", curve, "--payload-name", "jinan-1"], capsys)
    assert_one_line_error(code, out, err, str(curve), needle)


@pytest.mark.parametrize("extra, needle", [
    (["--payload-name", "jinan1"], "jinan-1"),
    (["--pool", "0"], "--pool"),
    (["--fluctuation", "gaussian"], "--fluctuation"),
])
def test_bad_key_options_exit_2(extra, needle, capsys):
    code, out, err = run(["keys", *JINAN1_NIGHTS, *extra], capsys)
    assert_one_line_error(code, out, err, needle)


def test_stale_elements_are_flagged_on_every_pass(micius_file, tmp_path, capsys):
    args = ["passes", "--tle", micius_file, "--start", "2021-06-15", "--days", "1", "--all",
            "--station", "Xinglong", "--allow-stale"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("2021-06-1")]
    assert rows and all("STALE" in line for line in rows)
    assert "warning" in err
    ics = tmp_path / "p.ics"
    code, _, err = run([*args, "-f", "ics", "-o", ics], capsys)
    assert code == 0, err
    text = ics.read_text().replace("\r\n ", "")
    assert text.count("STALE ELEMENTS") == text.count("BEGIN:VEVENT") > 0
    code, out, _ = run([*args, "-f", "csv"], capsys)
    table = pd.read_csv(io.StringIO(out))
    assert (table["element_age_days"] > 14).all()


def test_pool_prints_the_gain_against_single_pass_blocks(capsys):
    args = ["keys", "--start", "2026-11-24", "--days", "3", "--station", "Graz", "-f", "csv"]
    code, out, err = run([*args, "--pool", "3"], capsys)
    assert code == 0, err
    pooled = pd.read_csv(io.StringIO(out))["secure_bits"].sum()
    code, out, _ = run(args, capsys)
    single = pd.read_csv(io.StringIO(out))["secure_bits"].sum()
    line = next(x for x in err.splitlines() if x.startswith("pooling 3 passes per block"))
    assert f"{pooled / 1e6:.3f} Mbit finite-key against {single / 1e6:.3f} Mbit" in line
    assert f"{100 * (pooled / single - 1):+.0f}%" in line


#: An --optimise record whose reference pass rises over Beijing at 21:03:05 UTC (05:03:05 CST).
OPTIMISED = {"payload": "jinan-1", "intensities": [0.5, 0.1], "probabilities": [0.7, 0.2],
             "basis_bias": 0.8, "secure_bits_before": 1e6, "secure_bits_after": 1.2e6,
             "reference_pass": {"station": "Beijing", "aos_utc": "2026-11-24 21:03:05.123+00:00",
                                "max_elevation_deg": 45.2}}


def test_optimisation_summary_shows_local_and_utc_time(stations):
    from planner.cli.passes import optimisation_summary

    line = optimisation_summary(OPTIMISED, stations)
    assert "Beijing pass of 2026-11-25 05:03:05 CST (21:03 UTC, max 45.2°)" in line
    assert "+00:00" not in line and "1.00 → 1.20 Mbit" in line


def test_optimisation_summary_in_utc_shows_utc_once(stations):
    from datetime import UTC

    from planner.cli.passes import optimisation_summary

    line = optimisation_summary(OPTIMISED, stations, UTC)
    assert "Beijing pass of 2026-11-24 21:03:05 UTC (max 45.2°)" in line, line


@pytest.mark.parametrize("command", ["passes", "keys", "next", "stations"])
def test_table_to_a_file_is_refused_before_any_work(command, tmp_path, capsys):
    """The format check comes first: a missing element file is not even opened."""
    args = [command, "-f", "table", "-o", tmp_path / "out.txt"]
    if command != "stations":
        args += ["--tle", tmp_path / "missing.tle"]
    code, out, err = run(args, capsys)
    assert_one_line_error(code, out, err, "--format", "table")
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.parametrize("group", [[], ["tle"], ["constellation"]])
def test_a_group_alone_prints_its_help_as_help_does(group, capsys):
    # Click's convention for a group without its command: the help on standard error, status 2;
    # it used to come squashed onto one 'qkdplan: error: Usage: ...' line
    code, help_text, _ = run([*group, "--help"], capsys)
    assert code == 0
    code, out, err = run(group, capsys)
    assert code == 2
    assert out == ""
    assert err == help_text
    assert "error" not in err.splitlines()[0] and err.count("\n") > 5


def test_calendar_descriptions_date_times_past_midnight_utc(micius_file, tmp_path, capsys):
    """Micius over Graz from 23:59 UTC on 28 April 2021 sets after midnight: the event's
    description gives its TCA and LOS with +1d, as the tables do (bare times read as the
    28th)."""
    path = tmp_path / "graz.ics"
    code, _, err = run(["passes", "--tle", micius_file, "--start", "2021-04-28T12:00Z",
                        "--days", "1", "--station", "Graz", "--all", "-o", path], capsys)
    assert code == 0, err
    text = path.read_bytes().decode().replace("\r\n ", "")      # unfold (RFC 5545 3.1)
    late = [line for line in text.split("\r\n")
            if line.startswith("DESCRIPTION:") and "AOS 23:" in line]
    assert late, text
    assert all(re.search(r"LOS 00:\d\d:\d\d \+1d UTC", line) for line in late), late
