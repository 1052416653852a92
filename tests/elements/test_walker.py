"""Tests of planner.elements.walker (Walker-delta generator) and ``qkdplan constellation walker``.

References: the Walker-delta definition (Walker 1984: node spacing 360/P, in-plane spacing 360/S,
inter-plane phase offset F*360/T); the element sets are read back with planner.elements.elementsets
(the
same path a user's file takes) and propagated with Skyfield's ``EarthSatellite`` for the mean
altitude; the J2 nodal-precession formula (Vallado eq. 9-41) and the published ~97.4 deg
sun-synchronous inclination near 500 km (docs/reference.md section 2) for ``sso``.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from skyfield.api import EarthSatellite

from planner.elements.elementsets import parse_omm_json, parse_tle_text, read_catalogue
from planner.elements.walker import (
    TROPICAL_YEAR_DAYS,
    sun_synchronous_inclination_deg,
    walker_catalogue,
    walker_delta,
    walker_omm_json,
    walker_tle_text,
)
from planner.errors import OptionError

EPOCH = datetime(2026, 11, 20, 3, 25, 7, 250000, tzinfo=UTC)
R_WGS72_KM = 6378.135
J2_WGS72 = 0.001082616
XKE_WGS72 = 0.07436691613317342  # sqrt(mu) in earth radii^1.5 per minute (WGS72)
SUN_DEG_PER_DAY = 360.0 / 365.2422


def written_sets(records, kind):
    """Element sets as planner.elements.elementsets reads them back from the written text."""
    if kind == "tle":
        return parse_tle_text(walker_tle_text(records, {"test": "yes"}), source="walker.tle")
    return parse_omm_json(walker_omm_json(records, {"test": "yes"}), source="walker.json")


def angle_diff(a, b):
    """a - b wrapped into (-180, 180] [deg]."""
    return (np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0


def sgp4_mean_altitude(element_set, ts, samples=2000):
    """Mean geocentric distance minus the WGS72 radius over one orbit, via Skyfield [km]."""
    if element_set.line1 is not None:
        satellite = EarthSatellite(element_set.line1, element_set.line2, element_set.name, ts)
    else:
        satellite = EarthSatellite.from_satrec(element_set.satrec, ts)
    # one anomalistic period: SGP4's Brouwer mean motion k_e / a^1.5 (satrec.a in earth radii)
    period_days = 2 * math.pi / (XKE_WGS72 / element_set.satrec.a**1.5) / 1440.0
    t = ts.tt_jd(satellite.epoch.tt + np.arange(samples) * period_days / samples)
    radius = np.linalg.norm(satellite.at(t).position.km, axis=0)
    return float(radius.mean() - R_WGS72_KM)


# --- Walker geometry -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tle", "omm"])
@pytest.mark.parametrize(("planes", "per_plane", "phasing"), [(4, 6, 2), (6, 4, 5), (3, 1, 1),
                                                              (1, 5, 0)])
def test_walker_pattern_read_back(kind, planes, per_plane, phasing):
    records = walker_delta(planes, per_plane, phasing, 550.0, 53.0, EPOCH, raan0_deg=10.0)
    sets = written_sets(records, kind)
    total = planes * per_plane
    assert len(sets) == total
    tolerance = 1.01e-4 if kind == "tle" else 1e-9          # TLE angles carry 4 decimals
    inclination = np.array([s.inclination_deg for s in sets])
    raan = np.array([s.raan_deg for s in sets]).reshape(planes, per_plane)
    # argument of latitude u = argument of perigee + mean anomaly (circular orbits)
    u = np.array([s.arg_perigee_deg + s.mean_anomaly_deg for s in sets]).reshape(planes,
                                                                                  per_plane)
    np.testing.assert_allclose(inclination, 53.0, atol=tolerance)
    # every satellite of a plane shares its node; planes are 360/P apart, the first at RAAN0
    np.testing.assert_allclose(angle_diff(raan, raan[:, :1]), 0.0, atol=tolerance)
    np.testing.assert_allclose(angle_diff(raan[:, 0], 10.0 + np.arange(planes) * 360.0 / planes),
                               0.0, atol=tolerance)
    # in-plane spacing 360/S
    if per_plane > 1:
        np.testing.assert_allclose(angle_diff(u[:, 1:], u[:, :-1]),
                                   angle_diff(360.0 / per_plane, 0.0), atol=2 * tolerance)
    # adjacent planes offset by F * 360 / T
    if planes > 1:
        np.testing.assert_allclose(angle_diff(u[1:, :], u[:-1, :]),
                                   angle_diff(phasing * 360.0 / total, 0.0), atol=2 * tolerance)
    # the pattern closes: one more plane step lands on plane 0 shifted by F slots
    wrapped = angle_diff(u[-1, 0] + phasing * 360.0 / total - u[0, 0], 0.0)
    slots = wrapped / (360.0 / per_plane)
    assert abs(slots - round(slots)) < 1e-5
    assert round(slots) % per_plane == phasing % per_plane
    assert {s.eccentricity for s in sets} == {0.0}


def test_walker_names_numbers_and_epoch():
    records = walker_delta(2, 3, 1, 500.0, 97.0, EPOCH, name_prefix="JINAN-NG",
                           norad_base=91000)
    sets = written_sets(records, "tle")
    assert [s.name for s in sets] == ["JINAN-NG-P1-S1", "JINAN-NG-P1-S2", "JINAN-NG-P1-S3",
                                      "JINAN-NG-P2-S1", "JINAN-NG-P2-S2", "JINAN-NG-P2-S3"]
    assert [s.norad for s in sets] == list(range(91000, 91006))
    # the TLE epoch field holds 1e-8 day (0.864 ms)
    assert all(abs((s.epoch - EPOCH).total_seconds()) < 0.00044 for s in sets)
    omm = written_sets(records, "omm")
    assert all(s.epoch == EPOCH for s in omm)
    assert all(s.kind == "omm" for s in omm)


def test_omm_holds_catalogue_numbers_beyond_tle():
    records = walker_delta(2, 2, 0, 600.0, 60.0, EPOCH, norad_base=500_001)
    sets = written_sets(records, "omm")
    assert [s.norad for s in sets] == [500_001, 500_002, 500_003, 500_004]
    with pytest.raises(OptionError, match=r"does not fit a TLE.*OMM"):
        walker_tle_text(records)
    # Alpha-5 still fits a TLE
    alpha5 = written_sets(walker_delta(1, 2, 0, 600.0, 60.0, EPOCH, norad_base=100_001), "tle")
    assert [s.norad for s in alpha5] == [100_001, 100_002]


def test_omm_records_use_celestrak_field_names():
    (record,) = json.loads(walker_omm_json(walker_delta(1, 1, 0, 500.0, 45.0, EPOCH)))
    for key in ("OBJECT_NAME", "OBJECT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY",
                "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY",
                "EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO",
                "REV_AT_EPOCH", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT"):
        assert key in record
    assert record["EPOCH"] == "2026-11-20T03:25:07.250000"
    # Skyfield's own OMM reader takes it as is
    from planner.timebase import timescale

    satellite = EarthSatellite.from_omm(timescale(), record)
    assert satellite.model.error == 0


# --- Altitude and inclination ------------------------------------------------------------


@pytest.mark.parametrize(("altitude", "inclination", "eccentricity"), [
    (500.0, "sso", 0.0), (550.0, 53.0, 0.0), (1200.0, 87.9, 0.001), (160.0, 30.0, 0.0),
    (350.0, 97.0, 0.02), (20200.0, 55.0, 0.0),
])
@pytest.mark.parametrize("kind", ["tle", "omm"])
def test_mean_altitude_from_propagation(timescale, kind, altitude, inclination, eccentricity):
    records = walker_delta(2, 1, 0, altitude, inclination, EPOCH, eccentricity=eccentricity)
    for element_set in written_sets(records, kind):
        assert sgp4_mean_altitude(element_set, timescale) == pytest.approx(altitude, abs=0.05)


def test_kepler_alone_would_miss_the_altitude(timescale):
    """The SGP4-consistent conversion matters: Kepler's law on R + H is ~1.5 km off at SSO."""
    (record,) = walker_delta(1, 1, 0, 500.0, "sso", EPOCH)
    a = R_WGS72_KM + 500.0
    kepler = 86400.0 / (2 * math.pi * math.sqrt(a**3 / 398600.8))
    assert record.mean_motion_rev_per_day != pytest.approx(kepler, abs=1e-4)
    from planner.elements.elementsets import format_tle

    lines = format_tle("K", 1, "", EPOCH, record.inclination_deg, 0.0, 0.0, 0.0, 0.0, kepler)
    (kepler_set,) = parse_tle_text("\n".join(lines))
    assert abs(sgp4_mean_altitude(kepler_set, timescale) - 500.0) > 1.0


def test_sun_synchronous_inclination(timescale):
    (record,) = walker_delta(1, 1, 0, 500.0, "sso", EPOCH)
    (element_set,) = written_sets([record], "omm")
    # docs/reference.md: Jinan-1, sun-synchronous near 500 km, inclination about 97.4 deg
    assert record.inclination_deg == pytest.approx(97.4, abs=0.05)
    # Vallado eq. 9-41 with SGP4's own Brouwer elements (satrec.a, WGS72): the J2 drift is the
    # mean sun's 360 deg per tropical year
    satrec = element_set.satrec
    n_brouwer = XKE_WGS72 / satrec.a**1.5 * 1440.0                        # rad/day
    drift = -1.5 * n_brouwer * J2_WGS72 / satrec.a**2 * math.cos(satrec.inclo)
    assert math.degrees(drift) == pytest.approx(SUN_DEG_PER_DAY, rel=1e-6)
    # SGP4's secular node rate adds J2^2 and J4 terms: within 0.5% of the sun
    assert math.degrees(satrec.nodedot) * 1440.0 == pytest.approx(SUN_DEG_PER_DAY, rel=5e-3)
    # higher orbits need more retrograde planes
    assert 98.0 < walker_delta(1, 1, 0, 800.0, "sso", EPOCH)[0].inclination_deg < 98.8
    assert TROPICAL_YEAR_DAYS == pytest.approx(365.2422)


def test_sun_synchronous_node_follows_the_sun(timescale):
    """Over 60 days the SGP4 node drifts eastward ~0.98 deg/day, like the mean sun."""
    (element_set,) = written_sets(walker_delta(1, 1, 0, 500.0, "sso", EPOCH), "tle")
    satellite = EarthSatellite(element_set.line1, element_set.line2, "S", timescale)

    def node_ra_deg(days):
        t = timescale.tt_jd(satellite.epoch.tt + days)
        r = satellite.at(t).position.km
        v = satellite.at(t).velocity.km_per_s
        h = np.cross(r, v)
        return math.degrees(math.atan2(h[0], -h[1]))

    drift = angle_diff(node_ra_deg(60.0), node_ra_deg(0.0)) / 60.0
    assert drift == pytest.approx(SUN_DEG_PER_DAY, rel=0.01)


def test_no_sun_synchronous_orbit_high_up():
    with pytest.raises(OptionError, match="no sun-synchronous orbit"):
        walker_delta(1, 1, 0, 7000.0, "sso", EPOCH)
    with pytest.raises(OptionError):
        sun_synchronous_inclination_deg(R_WGS72_KM + 7000.0)


def test_catalogue_helper_and_case_insensitive_sso():
    records = walker_delta(3, 2, 1, 500.0, "SSO", EPOCH)
    for kind in ("tle", "omm"):
        catalogue = walker_catalogue(records, kind)
        assert len(catalogue) == 6
    with pytest.raises(OptionError):
        walker_catalogue(records, "xml")


# --- Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"planes": 0}, "planes"), ({"planes": -2}, "planes"), ({"planes": 2.5}, "planes"),
    ({"per_plane": 0}, "per_plane"), ({"per_plane": -1}, "per_plane"),
    ({"phasing": 3}, "phasing"), ({"phasing": -1}, "phasing"),
    ({"altitude_km": 149.9}, "altitude_km"), ({"altitude_km": 40_001}, "altitude_km"),
    ({"altitude_km": float("nan")}, "altitude_km"),
    ({"inclination_deg": -0.1}, "inclination_deg"),
    ({"inclination_deg": 180.5}, "inclination_deg"),
    ({"inclination_deg": "polar"}, "inclination_deg"),
    ({"eccentricity": 1.0}, "eccentricity"), ({"eccentricity": -0.1}, "eccentricity"),
    ({"eccentricity": 0.2}, "eccentricity"),           # perigee below 100 km at 500 km
    ({"epoch": "next tuesday"}, "epoch"), ({"epoch": "2070-01-01"}, "epoch"),
    ({"norad_base": 0}, "norad_base"),
])
def test_bad_input_is_an_option_error(kwargs, field):
    arguments = {"planes": 3, "per_plane": 4, "phasing": 1, "altitude_km": 500.0,
                 "inclination_deg": 97.0, "epoch": EPOCH}
    arguments.update(kwargs)
    with pytest.raises(OptionError) as caught:
        walker_delta(**arguments)
    assert caught.value.field == field
    assert "\n" not in str(caught.value)


def test_boundaries_are_accepted():
    assert len(walker_delta(3, 1, 2, 150.0, 0.0, EPOCH)) == 3
    assert len(walker_delta(1, 1, 0, 40_000.0, 180.0, EPOCH)) == 1


# --- Command line ------------------------------------------------------------------------


@pytest.fixture
def cli_main():
    """The real command line, in-process: returns the exit status."""
    from planner.cli import root as cli

    def run(argv):
        with pytest.raises(SystemExit) as done:
            cli.main(argv)
        return done.value.code

    return run


WALKER_ARGS = ["constellation", "walker", "--planes", "6", "--per-plane", "4", "--phasing", "1",
               "--altitude-km", "500", "--inclination-deg", "sso", "--epoch",
               "2026-11-20T00:00:00Z"]


def test_cli_walker_tle_and_omm(cli_main, tmp_path, capsys):
    tle = tmp_path / "walker.tle"
    assert cli_main([*WALKER_ARGS, "--output", str(tle)]) == 0
    catalogue = read_catalogue(tle)
    assert len(catalogue) == 24
    assert tle.read_text().startswith("# generator: qkdplan")
    omm = tmp_path / "walker.json"
    assert cli_main([*WALKER_ARGS, "--format", "omm-json", "--output", str(omm),
                     "--norad-base", "400001"]) == 0
    sets = read_catalogue(omm).all_sets()
    assert [s.norad for s in sets][:2] == [400001, 400002]
    assert sets[0].inclination_deg == pytest.approx(97.38, abs=0.05)
    capsys.readouterr()
    assert cli_main(WALKER_ARGS) == 0                     # to standard output
    assert capsys.readouterr().out.count("\n1 ") == 24


@pytest.mark.parametrize(("change", "field"), [
    (["--planes", "0"], "--planes"), (["--per-plane", "-3"], "--per-plane"),
    (["--phasing", "6"], "--phasing"), (["--altitude-km", "100"], "--altitude-km"),
    (["--altitude-km", "50000"], "--altitude-km"), (["--inclination-deg", "200"],
                                                    "--inclination-deg"),
    (["--inclination-deg", "sun"], "--inclination-deg"), (["--epoch", "soon"], "--epoch"),
])
def test_cli_walker_bad_input_exit_2(cli_main, tmp_path, capsys, change, field):
    output = tmp_path / "out.tle"
    args = list(WALKER_ARGS)
    index = args.index(change[0]) if change[0] in args else None
    if index is None:
        args += change
    else:
        args[index + 1] = change[1]
    assert cli_main([*args, "--output", str(output)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qkdplan: error:") and field in err
    assert len(err.splitlines()) == 1
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_walker_tle_with_too_large_numbers(cli_main, tmp_path, capsys):
    output = tmp_path / "big.tle"
    assert cli_main([*WALKER_ARGS, "--norad-base", "339990", "--output", str(output)]) == 2
    assert "OMM" in capsys.readouterr().err
    assert not output.exists()


def test_epoch_is_kept(timescale):
    (record,) = walker_delta(1, 1, 0, 500.0, 97.4, "2026-11-20T03:25:07.25Z")
    assert record.epoch == EPOCH
    assert record.epoch - EPOCH == timedelta(0)
