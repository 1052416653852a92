"""Tests for planner.mission.stations against independent references.

References used: published distances (docs/reference.md §1: Beijing-Stellenbosch more than 12,900
km;
Xinglong-Graz 7,600 km), the ICAO standard-atmosphere pressure table, the IANA time-zone database
(via zoneinfo/datetime), hand-computed horizon-mask interpolation, and hand-counted line numbers
in the fixtures under tests/data/stations/.
"""

from __future__ import annotations

import math
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from planner.errors import OptionError, StationError
from planner.mission.stations import (
    JINAN1_STATIONS,
    MICIUS_STATIONS,
    Station,
    load_stations,
    select_stations,
    standard_pressure_hpa,
    stations_table,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "stations"
MICIUS_ERA_EXTRA = ("Xinglong", "Lijiang", "Delingha", "Ngari", "Graz")
MEAN_EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius R1


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the IUGG mean Earth radius [km]."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * MEAN_EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@pytest.fixture(scope="module")
def bundled() -> dict[str, Station]:
    return {s.name: s for s in load_stations()}


def station(**overrides) -> Station:
    fields = dict(name="Test", latitude_deg=30.0, longitude_deg=110.0, altitude_m=0.0,
                  timezone="UTC", clear_sky_probability=[0.5] * 12, source="unit test")
    fields.update(overrides)
    return Station(**fields)


# ---------------------------------------------------------------------- the bundled file

def test_bundled_file_loads_twelve_stations(bundled):
    assert len(bundled) == 12


def test_jinan1_and_micius_stations_present(bundled):
    assert set(JINAN1_STATIONS) == {"Jinan", "Hefei", "Nanshan", "Wuhan", "Beijing", "Shanghai",
                                    "Stellenbosch"}
    assert set(JINAN1_STATIONS) <= set(bundled)
    assert set(MICIUS_ERA_EXTRA) <= set(bundled)
    assert set(MICIUS_STATIONS) <= set(bundled)


def test_beijing_stellenbosch_more_than_12900_km(bundled):
    # docs/reference.md §1 [S]: "more than 12,900 km apart".
    b, s = bundled["Beijing"], bundled["Stellenbosch"]
    assert haversine_km(b.latitude_deg, b.longitude_deg, s.latitude_deg, s.longitude_deg) > 12900


def test_beijing_stellenbosch_distance_agrees_with_astropy(bundled):
    # Independent route: ellipsoidal positions from astropy, angle between the geocentric vectors.
    from astropy.coordinates import EarthLocation

    def unit(st_: Station) -> np.ndarray:
        loc = EarthLocation.from_geodetic(st_.longitude_deg, st_.latitude_deg, st_.altitude_m)
        xyz = np.array([loc.x.value, loc.y.value, loc.z.value])
        return xyz / np.linalg.norm(xyz)

    b, s = bundled["Beijing"], bundled["Stellenbosch"]
    angle = math.acos(float(np.clip(unit(b) @ unit(s), -1, 1)))
    assert angle * MEAN_EARTH_RADIUS_KM > 12900


def test_xinglong_graz_about_7600_km(bundled):
    # Liao et al., PRL 120, 030501 (2018): Micius relay between Xinglong and Graz, 7,600 km.
    x, g = bundled["Xinglong"], bundled["Graz"]
    distance = haversine_km(x.latitude_deg, x.longitude_deg, g.latitude_deg, g.longitude_deg)
    assert distance == pytest.approx(7600, abs=100)


def test_graz_matches_ilrs_cartesian_position(bundled):
    # ILRS site log for 7839 GRZL gives X, Y, Z = 4194426.1, 1162694.5, 4647246.9 m.
    from astropy.coordinates import EarthLocation

    g = bundled["Graz"]
    loc = EarthLocation.from_geodetic(g.longitude_deg, g.latitude_deg, g.altitude_m)
    xyz = np.array([loc.x.value, loc.y.value, loc.z.value])
    np.testing.assert_allclose(xyz, [4194426.1, 1162694.5, 4647246.9], atol=1.0)


def test_every_timezone_resolves(bundled):
    for s in bundled.values():
        assert isinstance(s.tz, ZoneInfo)
        assert s.tz.key == s.timezone


def test_stellenbosch_timezone(bundled):
    s = bundled["Stellenbosch"]
    assert s.timezone == "Africa/Johannesburg"
    # South Africa keeps UTC+2 all year (no daylight saving).
    for month in (1, 7):
        assert datetime(2024, month, 1, tzinfo=s.tz).utcoffset().total_seconds() == 7200


def test_bundled_values_plausible(bundled):
    for s in bundled.values():
        assert s.min_elevation_deg == 15
        assert s.night_sun_elevation_deg == -12
        assert s.telescopes == 1
        assert 0.2 <= s.aperture_m <= 2.0
        assert s.zenith_transmittance == pytest.approx(0.895)
        assert len(s.clear_sky_probability) == 12
        assert s.source
    # the Jinan-1 portable receivers; Micius-era metre-class telescopes where sourced
    for name in JINAN1_STATIONS:
        assert bundled[name].aperture_m == pytest.approx(0.28)
    assert bundled["Xinglong"].aperture_m == pytest.approx(1.0)
    assert bundled["Stellenbosch"].latitude_deg < 0
    # Southern-hemisphere dry summer vs wet winter; East-Asian monsoon summer vs winter.
    assert bundled["Stellenbosch"].clear_sky(1) > bundled["Stellenbosch"].clear_sky(7)
    for name in ("Beijing", "Xinglong", "Lijiang", "Ngari"):
        assert bundled[name].clear_sky(7) < bundled[name].clear_sky(12)
    # High, dry sites are clearer on the year than the east-coast cities.
    annual = {n: float(np.mean(s.clear_sky_probability)) for n, s in bundled.items()}
    for high in ("Ngari", "Delingha", "Nanshan"):
        for coastal in ("Shanghai", "Hefei", "Wuhan"):
            assert annual[high] > annual[coastal]


def test_high_sites_are_high(bundled):
    assert bundled["Ngari"].altitude_m > 4500
    assert bundled["Delingha"].altitude_m > 3000
    assert bundled["Lijiang"].altitude_m > 3000
    assert bundled["Nanshan"].altitude_m > 1800


# ---------------------------------------------------------------------- pressure

def test_pressure_sea_level():
    assert float(standard_pressure_hpa(0.0)) == pytest.approx(1013.25, abs=1e-9)


@pytest.mark.parametrize(("altitude_m", "table_hpa"), [
    # U.S. Standard Atmosphere 1976 table, pressure at geometric altitude.
    (1000, 898.76), (2000, 795.01), (3000, 701.21), (5000, 540.48), (8000, 356.51),
])
def test_pressure_matches_standard_atmosphere_table(altitude_m, table_hpa):
    assert float(standard_pressure_hpa(altitude_m)) == pytest.approx(table_hpa, rel=2e-4)


def test_pressure_vectorised_and_station_property(bundled):
    heights = np.array([[0.0, 1000.0], [3000.0, 5000.0]])
    assert standard_pressure_hpa(heights).shape == (2, 2)
    assert bundled["Ngari"].pressure_hpa == pytest.approx(537, abs=2)
    assert station(altitude_m=5000).pressure_hpa == pytest.approx(540, abs=1)


# ---------------------------------------------------------------------- horizon mask

@pytest.fixture(scope="module")
def masked() -> Station:
    # valid.yaml: Beta has min elevation 10 and mask [[270, 30], [90, 20], [0, 5]].
    return {s.name: s for s in load_stations(DATA / "valid.yaml")}["Beta"]


def test_mask_is_sorted(masked):
    assert masked.horizon_mask == ((0.0, 5.0), (90.0, 20.0), (270.0, 30.0))


@pytest.mark.parametrize(("azimuth", "expected"), [
    (0.0, 10.0),      # mask 5 < floor 10
    (45.0, 12.5),     # halfway 5 -> 20
    (90.0, 20.0),     # on a point
    (180.0, 25.0),    # halfway 20 -> 30
    (270.0, 30.0),
    (315.0, 17.5),    # wrap-around: halfway 30 (at 270) -> 5 (at 360)
    (359.0, 10.0),    # 30 - 89/90 * 25 = 5.28, below the floor
    (-45.0, 17.5),    # same direction as 315
    (900.0, 25.0),    # 900 mod 360 = 180
])
def test_mask_hand_computed(masked, azimuth, expected):
    assert float(masked.effective_min_elevation_deg(azimuth)) == pytest.approx(expected)


def test_mask_wraps_between_last_and_first_point():
    s = station(min_elevation_deg=0, horizon_mask=[[350, 30], [10, 10]])
    np.testing.assert_allclose(s.effective_min_elevation_deg([350, 355, 0, 5, 10, 180]),
                               [30, 25, 20, 15, 10, 10 + 170 / 340 * 20])


def test_mask_vectorised_shape_and_no_mask():
    s = station(min_elevation_deg=12)
    az = np.linspace(0, 720, 12).reshape(3, 4)
    assert s.effective_min_elevation_deg(az).shape == (3, 4)
    assert np.all(s.effective_min_elevation_deg(az) == 12)
    single = station(min_elevation_deg=0, horizon_mask=[[123, 7]])
    np.testing.assert_allclose(single.effective_min_elevation_deg([0, 123, 300]), 7)


def test_empty_mask_means_no_mask():
    assert station(horizon_mask=[]).horizon_mask is None


# ---------------------------------------------------------------------- model helpers

def test_defaults_merge_and_overrides():
    alpha, beta = load_stations(DATA / "valid.yaml")
    assert alpha.min_elevation_deg == 20 and alpha.timezone == "Asia/Shanghai"
    assert beta.min_elevation_deg == 10 and beta.timezone == "America/Santiago"
    assert alpha.telescopes == 1 and beta.telescopes == 2
    assert alpha.receiver_efficiency is None and beta.receiver_efficiency == 0.6
    assert alpha.night_sun_elevation_deg == -12 and alpha.aperture_m == 0.28


def test_clear_sky_by_month():
    alpha = load_stations(DATA / "valid.yaml")[0]
    assert alpha.clear_sky(1) == pytest.approx(0.1)
    assert alpha.clear_sky(12) == pytest.approx(0.5)
    np.testing.assert_allclose(alpha.clear_sky(np.array([[10, 11], [3, 3]])),
                               [[1.0, 0.0], [0.3, 0.3]])
    for bad in (0, 13, np.array([1, 13])):
        with pytest.raises(ValueError):
            alpha.clear_sky(bad)


def test_station_is_frozen_and_hashable():
    s = station()
    with pytest.raises(ValidationError):
        s.latitude_deg = 1.0
    assert hash(s) == hash(station())


def test_stations_table(bundled):
    table = stations_table(bundled.values())
    for column in ("name", "latitude_deg", "longitude_deg", "altitude_m", "min_elevation_deg",
                   "night_sun_elevation_deg", "telescopes", "aperture_m", "timezone"):
        assert column in table.columns
    assert len(table) == 12
    row = table.set_index("name").loc["Graz"]
    assert row["timezone"] == "Europe/Vienna"
    assert row["altitude_m"] == pytest.approx(539.4)
    assert list(stations_table([]).columns) == list(table.columns)


# ---------------------------------------------------------------------- bad files

BAD_FILES = [
    ("bad_latitude.yaml", 10, "stations[1].latitude_deg", "95 is outside [-90, 90]"),
    ("missing_name.yaml", 9, "stations[1].name", "required field is missing"),
    ("duplicate_name.yaml", 17, "stations[2].name",
     "duplicate station name 'JINAN' (already defined at line 5; names are compared "
     "case-insensitively)"),
    ("bad_min_elevation.yaml", 7, "stations[0].min_elevation_deg", "100 is outside [0, 90)"),
    ("bad_timezone.yaml", 6, "stations[0].timezone",
     "unknown time zone 'Asia/Beijing'; use an IANA name such as 'Asia/Shanghai' or "
     "'Africa/Johannesburg'"),
    ("clear_sky_eleven.yaml", 8, "stations[0].clear_sky_probability",
     "expected 12 monthly values (Jan..Dec), got 11"),
    ("clear_sky_bad_value.yaml", 13, "stations[0].clear_sky_probability[5]",
     "1.5 is outside [0, 1]"),
    ("unknown_field.yaml", 4, "stations[0].longitud_deg",
     "unknown field 'longitud_deg'; did you mean 'longitude_deg'?"),
    ("latitude_text.yaml", 3, "stations[0].latitude_deg", "expected a number, got '30 N'"),
    ("stations_not_list.yaml", 2, "stations", "expected a list of stations, got a mapping"),
    ("empty_list.yaml", 3, "stations", "the list is empty; define at least one station"),
    ("misspelt_stations.yaml", 3, "station",
     "unknown top-level key 'station'; did you mean 'stations'?"),
    ("bad_default.yaml", 3, "defaults.night_sun_elevation_deg", "6 is outside [-90, 0]"),
    ("bad_horizon_mask.yaml", 9, "stations[0].horizon_mask[1]",
     "azimuth 360 is outside [0, 360)"),
]


@pytest.mark.parametrize(("name", "line", "field", "message"), BAD_FILES)
def test_bad_file_names_file_line_and_field(name, line, field, message):
    path = DATA / name
    with pytest.raises(StationError) as info:
        load_stations(path)
    error = info.value
    assert str(error) == f"{path}:{line}: {field}: {message}"
    assert (error.path, error.line, error.field) == (str(path), line, field)
    assert "\n" not in str(error)


@pytest.mark.parametrize(("name", "message"), [
    ("not_mapping.yaml",
     "expected a mapping with a 'stations:' list at the top level, got a list"),
    ("no_stations.yaml", "missing the 'stations:' list"),
])
def test_bad_top_level(name, message):
    path = DATA / name
    with pytest.raises(StationError) as info:
        load_stations(path)
    assert str(info.value) == f"{path}:1: {message}"


def test_missing_file():
    path = DATA / "does_not_exist.yaml"
    with pytest.raises(StationError, match="file not found"):
        load_stations(path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stations.yaml"
    path.write_text(text, encoding="utf-8")
    return path


STATION_LINES = """\
  - name: Alpha
    latitude_deg: 30
    longitude_deg: 110
    altitude_m: 100
    timezone: Asia/Shanghai
    clear_sky_probability: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    source: test
"""


@pytest.mark.parametrize(("line", "replacement", "field", "message"), [
    ("    latitude_deg: 30", "    latitude_deg: .nan", "latitude_deg",
     "expected a finite number, got nan"),
    ("    latitude_deg: 30", "    latitude_deg: true", "latitude_deg",
     "expected a number, got true"),
    ("    latitude_deg: 30", "    latitude_deg:", "latitude_deg",
     "expected a number, got nothing (null)"),
    ("    latitude_deg: 30", "    latitude_deg: " + "9" * 400, "latitude_deg", "is too large"),
    ("    altitude_m: 100", "    altitude_m: 9500", "altitude_m", "9500 is outside [-500, 9000]"),
    ("  - name: Alpha", "  - name: 'A,B'", "name", "station names must not contain ','"),
    ("  - name: Alpha", "  - name: 42", "name", "expected text, got 42"),
    ("  - name: Alpha", "  - name: '  '", "name", "must not be empty"),
    ("    source: test", "    source: test\n    telescopes: 2.5", "telescopes",
     "expected a whole number, got 2.5"),
    ("    source: test", "    source: test\n    telescopes: 0", "telescopes",
     "0 must be at least 1"),
    ("    source: test", "    source: test\n    aperture_m: 0", "aperture_m",
     "0 must be greater than 0"),
    ("    source: test", "    source: test\n    zenith_transmittance: 1.2",
     "zenith_transmittance", "1.2 is outside (0, 1]"),
    ("    source: test", "    source: test\n    background_counts_per_s: -1",
     "background_counts_per_s", "-1 must be at least 0"),
    ("    source: test", "    source: test\n    horizon_mask: [[10, 5], [10, 6]]",
     "horizon_mask", "azimuth 10 appears more than once"),
    ("    source: test", "    source: test\n    horizon_mask: [[10, 5, 1]]",
     "horizon_mask[0]", "expected [azimuth_deg, elevation_deg], got a list"),
    ("    source: test", "    source: test\n    horizon_mask: [[10, 90]]",
     "horizon_mask[0]", "elevation 90 is outside [0, 90)"),
    ("    source: test", "    source: test\n    night_sun_elevation_deg: -100",
     "night_sun_elevation_deg", "-100 is outside [-90, 0]"),
    ("    source: test", "    source: test\n    receiver_efficiency: 0",
     "receiver_efficiency", "0 is outside (0, 1]"),
])
def test_field_messages(tmp_path, line, replacement, field, message):
    text = "stations:\n" + STATION_LINES.replace(line, replacement, 1)
    with pytest.raises(StationError) as info:
        load_stations(write(tmp_path, text))
    assert info.value.field == f"stations[0].{field}"
    assert message in info.value.message


def test_optional_fields_may_be_null(tmp_path):
    text = "stations:\n" + STATION_LINES + "    horizon_mask:\n    receiver_efficiency:\n" \
                                           "    notes:\n"
    (s,) = load_stations(write(tmp_path, text))
    assert s.horizon_mask is None and s.receiver_efficiency is None and s.notes is None


def test_per_station_field_cannot_be_a_default(tmp_path):
    text = "defaults:\n  latitude_deg: 30\nstations:\n" + STATION_LINES
    with pytest.raises(StationError) as info:
        load_stations(write(tmp_path, text))
    assert str(info.value).endswith(
        ":2: defaults.latitude_deg: 'latitude_deg' belongs to each station and cannot have a "
        "default")


def test_unknown_default_suggests_field(tmp_path):
    text = "defaults:\n  min_elevation: 10\nstations:\n" + STATION_LINES
    with pytest.raises(StationError) as info:
        load_stations(write(tmp_path, text))
    assert str(info.value).endswith(
        ":2: defaults.min_elevation: unknown field 'min_elevation'; did you mean "
        "'min_elevation_deg'?")


def test_station_entry_not_a_mapping(tmp_path):
    text = "stations:\n" + STATION_LINES + "  - Beta\n"
    with pytest.raises(StationError) as info:
        load_stations(write(tmp_path, text))
    assert str(info.value).endswith(
        ":9: stations[1]: expected a mapping of station fields, got 'Beta'")


def test_non_text_field_name(tmp_path):
    text = "stations:\n" + STATION_LINES + "    1: one\n"
    with pytest.raises(StationError, match="field names must be text"):
        load_stations(write(tmp_path, text))


# ---------------------------------------------------------------------- select_stations

def test_select_all_when_no_names(bundled):
    stations = list(bundled.values())
    assert select_stations(stations, None) == stations
    assert select_stations(stations, []) == stations


def test_select_case_insensitive_ordered_unique(bundled):
    stations = list(bundled.values())
    chosen = select_stations(stations, ["stellenbosch", "BEIJING", "Stellenbosch"])
    assert [s.name for s in chosen] == ["Stellenbosch", "Beijing"]
    chosen = select_stations(stations, ["jinan, hefei", "Graz"])
    assert [s.name for s in chosen] == ["Jinan", "Hefei", "Graz"]


def test_select_unknown_suggests_closest(bundled):
    with pytest.raises(OptionError) as info:
        select_stations(list(bundled.values()), ["Beijing", "Stellenbosh"])
    assert str(info.value) == "station_names: unknown station 'Stellenbosh'; did you mean " \
                              "'Stellenbosch'?"
    assert info.value.field == "station_names"


def test_select_unknown_without_close_match_lists_known(bundled):
    with pytest.raises(OptionError) as info:
        select_stations(list(bundled.values()), ["Toronto"])
    message = str(info.value)
    assert message.startswith("station_names: unknown station 'Toronto'; known stations: ")
    assert "Stellenbosch" in message and "Ngari" in message


# ---------------------------------------------------------------------- property tests

FIELDS = [*Station.model_fields, "latitude", "extra_field"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(["Asia/Shanghai", "UTC", "Mars/Olympus", "", "America", "../etc"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=13), max_leaves=20)
# Mostly valid values (so that valid stations do occur), sometimes just outside the limits.
latitudes = st.one_of(st.floats(-90, 90), st.floats(-400, 400))
longitudes = st.one_of(st.floats(-180, 180), st.floats(-400, 400))
monthly = st.one_of(st.lists(st.floats(0, 1), min_size=12, max_size=12),
                    st.lists(st.floats(-0.5, 1.5), min_size=11, max_size=13))


def _valid_base(draw) -> dict:
    return {
        "name": draw(st.text(alphabet="abcXYZ é", min_size=1, max_size=8)),
        "latitude_deg": draw(latitudes),
        "longitude_deg": draw(longitudes),
        "altitude_m": draw(st.floats(min_value=-1000, max_value=10000)),
        "timezone": draw(st.sampled_from(["Asia/Shanghai", "Europe/Vienna", "Nowhere/City"])),
        "clear_sky_probability": draw(monthly),
        "source": "hypothesis",
    }


@st.composite
def station_documents(draw):
    entries = []
    for _ in range(draw(st.integers(1, 3))):
        entry = _valid_base(draw)
        for key in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
            if draw(st.booleans()):
                entry.pop(key, None)
            else:
                entry[key] = draw(values)
        entries.append(entry)
    document = {"stations": entries}
    if draw(st.booleans()):
        document["defaults"] = {k: draw(values) for k in draw(st.lists(st.sampled_from(FIELDS),
                                                                       max_size=3))}
    return document


def _load_text(text: str) -> list[Station] | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stations.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_stations(path)
        except StationError as exc:
            assert "\n" not in str(exc)
            assert str(exc).startswith(str(path))
            return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(station_documents())
def test_random_documents_give_stations_or_station_error(document):
    stations = _load_text(yaml.safe_dump(document, allow_unicode=True))
    if stations is not None:
        for s in stations:
            assert -90 <= s.latitude_deg <= 90 and -180 <= s.longitude_deg <= 180
            assert len(s.clear_sky_probability) == 12
            assert 0 <= s.min_elevation_deg < 90
            s.effective_min_elevation_deg(np.array([0.0, 180.0]))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_random_text_gives_stations_or_station_error(text):
    _load_text(text)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=8))
def test_random_station_kwargs_never_crash_differently(fields):
    try:
        Station(**fields)
    except ValidationError:
        pass
