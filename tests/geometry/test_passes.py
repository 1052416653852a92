"""The pass finder against independent references.

* Skyfield's full-accuracy geometry, ``(satellite - topos).at(t).altaz()``, at the reported
  times: rise/set within 1 ms, culmination within 10 ms, maximum elevation within 1e-4 deg.
* Skyfield's ``find_events`` over a whole year: the same passes.
* Vallado's SGP4 verification vectors through the planner's time and frame path.
* Skyfield's sun (DE421) for the darkness columns; astropy's TEME -> ITRS chain for the frame.
"""

from __future__ import annotations

import pkgutil
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sgp4.api import Satrec
from skyfield.api import EarthSatellite, wgs84
from skyfield.earthlib import refraction as skyfield_refraction

from planner.elements.elementsets import Catalogue, parse_tle_text, read_catalogue
from planner.geometry.frames import SatellitePropagator, teme_to_itrs
from planner.geometry.passes import PASS_COLUMNS, find_passes
from planner.geometry.tracks import TRACK_COLUMNS, pass_tracks
from planner.io.resources import bundled_path
from planner.mission.stations import Station
from planner.timebase import TimeBase
from tests.conftest import skyfield_times

START, END = "2021-04-27T00:00:00Z", "2021-05-27T00:00:00Z"


@pytest.fixture(scope="module")
def month_of_passes(micius_catalogue, jinan1_stations):
    return find_passes(micius_catalogue, jinan1_stations, START, END)


def _topos(station):
    return wgs84.latlon(station.latitude_deg, station.longitude_deg, station.altitude_m)


def _altitude_deg(satellite, station, t):
    return (satellite - _topos(station)).at(t).altaz()[0].degrees


def test_table_has_the_contract_columns(month_of_passes):
    assert list(month_of_passes.columns) == PASS_COLUMNS
    assert len(month_of_passes) > 300
    assert (month_of_passes["aos_utc"] < month_of_passes["tca_utc"]).all()
    assert (month_of_passes["tca_utc"] < month_of_passes["los_utc"]).all()
    assert str(month_of_passes["aos_utc"].dt.tz) == "UTC"
    assert month_of_passes["aos_utc"].is_monotonic_increasing


def test_rise_and_set_within_a_millisecond_of_skyfield(month_of_passes, micius_skyfield,
                                                       jinan1_stations, timescale):
    ms = pd.Timedelta(milliseconds=1)
    for station in jinan1_stations:
        passes = month_of_passes[month_of_passes["station"] == station.name]
        assert len(passes) > 20
        threshold = station.min_elevation_deg
        for column, rising in (("aos_utc", True), ("los_utc", False)):
            before = _altitude_deg(micius_skyfield, station,
                                   skyfield_times(timescale, passes[column] - ms))
            after = _altitude_deg(micius_skyfield, station,
                                  skyfield_times(timescale, passes[column] + ms))
            if rising:
                assert np.all(before < threshold) and np.all(after > threshold), station.name
            else:
                assert np.all(before > threshold) and np.all(after < threshold), station.name


def test_culmination_within_ten_milliseconds_and_peak_within_1e4_deg(
        month_of_passes, micius_skyfield, jinan1_stations, timescale):
    ten_ms = pd.Timedelta(milliseconds=10)
    for station in jinan1_stations:
        passes = month_of_passes[month_of_passes["station"] == station.name]
        topos = _topos(station)
        rates = []
        for offset in (-ten_ms, ten_ms):
            t = skyfield_times(timescale, passes["tca_utc"] + offset)
            rates.append((micius_skyfield - topos).at(t).frame_latlon_and_rates(topos)[3]
                         .degrees.per_second)
        assert np.all(rates[0] > 0) and np.all(rates[1] < 0), station.name
        peak = _altitude_deg(micius_skyfield, station,
                             skyfield_times(timescale, passes["tca_utc"]))
        np.testing.assert_allclose(passes["max_elevation_deg"], peak, atol=1e-4, rtol=0)


def test_azimuths_and_range_agree_with_skyfield(month_of_passes, micius_skyfield,
                                                jinan1_stations, timescale):
    for station in jinan1_stations[:3]:
        passes = month_of_passes[month_of_passes["station"] == station.name]
        for column in ("aos", "los"):
            t = skyfield_times(timescale, passes[f"{column}_utc"])
            _, az, _ = (micius_skyfield - _topos(station)).at(t).altaz()
            difference = (passes[f"{column}_azimuth_deg"] - az.degrees + 180) % 360 - 180
            assert np.abs(difference).max() < 1e-4
        # the range minimum: where Skyfield's range rate vanishes (secant iterations)
        topos = _topos(station)
        tca = passes["tca_utc"].to_numpy(dtype="datetime64[ns]")

        def range_and_rate(offset_s, tca=tca, topos=topos):
            t = skyfield_times(timescale, tca + (offset_s * 1e9).astype("timedelta64[ns]"))
            position = (micius_skyfield - topos).at(t)
            return position.distance().km, position.frame_latlon_and_rates(topos)[5].km_per_s

        a, b = np.full(len(tca), -2.0), np.full(len(tca), 2.0)
        fa, fb = range_and_rate(a)[1], range_and_rate(b)[1]
        for _ in range(4):
            with np.errstate(divide="ignore", invalid="ignore"):
                c = np.where(fb != fa, b - fb * (b - a) / (fb - fa), b)
            a, fa, b, fb = b, fb, c, range_and_rate(c)[1]
        np.testing.assert_allclose(passes["min_range_km"], range_and_rate(b)[0], atol=1e-4)


def test_darkness_agrees_with_skyfields_sun(month_of_passes, jinan1_stations, timescale):
    from planner.geometry.sky import _ephemeris

    planets = _ephemeris()
    for station in jinan1_stations:
        passes = month_of_passes[month_of_passes["station"] == station.name]
        observer = planets["earth"] + _topos(station)
        sun_at = {}
        for column in ("aos_utc", "tca_utc", "los_utc"):
            t = skyfield_times(timescale, passes[column])
            sun_at[column] = observer.at(t).observe(planets["sun"]).apparent().altaz()[0].degrees
        np.testing.assert_allclose(passes["sun_elevation_deg"], sun_at["tca_utc"], atol=1e-3)
        dark = np.all([sun_at[c] < station.night_sun_elevation_deg for c in sun_at], axis=0)
        assert (passes["night"].to_numpy() == dark).all()
        assert passes["night"].any() and not passes["night"].all()


def test_night_flag_through_twilight_matches_skyfield(jinan1_stations, timescale):
    """Ten-minute "passes" every minute of a day: at dusk and dawn the sun crosses the night
    threshold during many of them, in both directions, where the flag cannot be decided from
    the culmination alone."""
    from planner.geometry.frames import station_frames
    from planner.geometry.passes import _add_sun
    from planner.geometry.sky import _ephemeris

    station = jinan1_stations[0]
    start = datetime(2025, 3, 20, tzinfo=UTC)
    timebase = TimeBase(start, 2 * 86400.0)
    tca = timebase.tau_of(start) + np.arange(0.0, 86400.0, 60.0)
    table = pd.DataFrame({"_tau_aos": tca - 300.0, "_tau_tca": tca, "_tau_los": tca + 300.0,
                          "_station_index": np.zeros(tca.size, dtype=int)})
    frames = station_frames([station.latitude_deg], [station.longitude_deg],
                            [station.altitude_m])
    _add_sun(table, timebase, frames, [station])

    planets = _ephemeris()
    observer = planets["earth"] + _topos(station)
    sun_at = []
    for column in ("_tau_aos", "_tau_tca", "_tau_los"):
        times = pd.to_datetime(timebase.datetime64(table[column].to_numpy()), utc=True)
        t = skyfield_times(timescale, pd.Series(times))
        sun_at.append(observer.at(t).observe(planets["sun"]).apparent().altaz()[0].degrees)
    dark = np.all(np.array(sun_at) < station.night_sun_elevation_deg, axis=0)
    ends_differ = (np.array(sun_at) < station.night_sun_elevation_deg).any(axis=0) & ~dark
    assert ends_differ.sum() >= 20
    assert (table["night"].to_numpy() == dark).all()


def _find_events_passes(satellite, station, start, end, timescale, threshold):
    t0 = timescale.from_datetime(start)
    t1 = timescale.from_datetime(end)
    times, events = satellite.find_events(_topos(station), t0, t1, altitude_degrees=threshold)
    culminations = times[events == 1]
    return culminations.utc_datetime(), satellite


@pytest.mark.slow
@pytest.mark.parametrize("which", ["micius", "jinan1"])
def test_same_passes_as_find_events_over_a_year(which, jinan1_stations, timescale):
    if which == "micius":
        from tests.conftest import MICIUS_TLE

        catalogue = Catalogue(parse_tle_text(MICIUS_TLE))
        start = datetime(2021, 4, 27, tzinfo=UTC)
    else:
        catalogue = read_catalogue(bundled_path("tle_data/jinan1_representative.tle"))
        start = datetime(2026, 11, 20, tzinfo=UTC)
    end = start + timedelta(days=365)
    element_set = catalogue.sets(catalogue.satellites[0])[0]
    satellite = EarthSatellite(element_set.line1, element_set.line2, ts=timescale)
    ours = find_passes(catalogue, jinan1_stations, start, end)
    for station in jinan1_stations:
        threshold = station.min_elevation_deg
        mine = ours[ours["station"] == station.name]
        t0, t1 = timescale.from_datetime(start), timescale.from_datetime(end)
        times, events = satellite.find_events(_topos(station), t0, t1,
                                              altitude_degrees=threshold)
        culminations = times[events == 1]
        peaks = _altitude_deg(satellite, station, culminations)
        theirs = pd.to_datetime(culminations.utc_datetime()).as_unit("ns")
        # one pass may culminate twice in find_events' eyes; passes within 0.01 deg of the
        # threshold are too close to call for either tool
        clear = peaks > threshold + 0.01
        theirs, peaks = theirs[clear], peaks[clear]
        # passes straddling the period's ends are counted differently by design
        margin = pd.Timedelta(minutes=20)
        theirs = theirs[(theirs > start + margin) & (theirs < end - margin)]
        mine = mine[(mine["tca_utc"] > start + margin) & (mine["tca_utc"] < end - margin)
                    & (mine["max_elevation_deg"] > threshold + 0.01)]
        assert len(mine) == len(theirs), station.name
        gap = np.abs(np.asarray((pd.DatetimeIndex(mine["tca_utc"]) - theirs).total_seconds()))
        assert gap.max() < 1.0, station.name


def test_short_grazing_passes_are_found(micius_catalogue, jinan1_stations):
    passes = find_passes(micius_catalogue, jinan1_stations, START, "2022-04-27")
    grazing = passes[passes["max_elevation_deg"] < 15.05]
    assert len(grazing) >= 5
    assert grazing["duration_s"].min() < 30


def _vallado_cases():
    tle = pkgutil.get_data("sgp4", "SGP4-VER.TLE").decode().splitlines()
    out = pkgutil.get_data("sgp4", "tcppver.out").decode().splitlines()
    lines = {}
    for i, line in enumerate(tle):
        if line.startswith("1 ") and i + 1 < len(tle) and tle[i + 1].startswith("2 "):
            lines[int(line[2:7])] = (line[:69], tle[i + 1][:69])
    cases, current = [], None
    for row in out:
        parts = row.split()
        if len(parts) == 2 and parts[1] == "xx":
            current = int(parts[0])
        elif current is not None and len(parts) >= 7:
            cases.append((current, float(parts[0]), np.array(parts[1:4], dtype=float),
                          np.array(parts[4:7], dtype=float)))
    return lines, cases


def test_propagation_path_reproduces_vallado_vectors():
    """Our time base (UTC Julian dates) and TEME->Earth-fixed rotation, undone, give back
    tcppver.out's TEME vectors for every verification case SGP4 does not reject."""
    lines, cases = _vallado_cases()
    checked = 0
    by_satellite: dict[int, list] = {}
    for number, minutes, r_ref, v_ref in cases:
        by_satellite.setdefault(number, []).append((minutes, r_ref, v_ref))
    for number, rows in by_satellite.items():
        satrec = Satrec.twoline2rv(*lines[number])
        # the epoch to the millisecond as a datetime, and the remainder kept apart, so that no
        # float ever holds seconds since 1949 (which would cost half a microsecond)
        whole_days = satrec.jdsatepoch - 2433281.5
        fraction_s = satrec.jdsatepochF * 86400.0
        epoch = (datetime(1949, 12, 31, tzinfo=UTC) + timedelta(days=whole_days)
                 + timedelta(milliseconds=np.floor(fraction_s * 1000.0)))
        epoch_offset_s = fraction_s - np.floor(fraction_s * 1000.0) / 1000.0
        timebase = TimeBase(epoch, 0.0)
        propagator = SatellitePropagator([satrec], np.array([0.0]), timebase)
        minutes = np.array([m for m, _, _ in rows])
        tau = minutes * 60.0 + epoch_offset_s
        r_itrs, v_itrs, error = propagator.state(tau)
        keep = error == 0
        ut1_whole, ut1_fraction = timebase.ut1_jd(tau)
        # undo the rotation: rotate back by -GMST
        r_back, v_back = _itrs_to_teme(r_itrs, v_itrs, ut1_whole, ut1_fraction)
        r_ref = np.array([r for _, r, _ in rows])
        v_ref = np.array([v for _, _, v in rows])
        np.testing.assert_allclose(r_back[keep], r_ref[keep], atol=5e-7, rtol=0)
        np.testing.assert_allclose(v_back[keep], v_ref[keep], atol=1e-9, rtol=0)
        checked += int(keep.sum())
    assert checked > 500


def _itrs_to_teme(r_itrs, v_itrs, ut1_whole, ut1_fraction):
    from skyfield.sgp4lib import theta_GMST1982

    theta, theta_dot = theta_GMST1982(ut1_whole, ut1_fraction)
    omega = theta_dot / 86400.0
    c, s = np.cos(theta), np.sin(theta)
    v_rot = v_itrs.copy()
    v_rot[:, 0] -= omega * r_itrs[:, 1]
    v_rot[:, 1] += omega * r_itrs[:, 0]
    r = np.stack([c * r_itrs[:, 0] - s * r_itrs[:, 1], s * r_itrs[:, 0] + c * r_itrs[:, 1],
                  r_itrs[:, 2]], axis=1)
    v = np.stack([c * v_rot[:, 0] - s * v_rot[:, 1], s * v_rot[:, 0] + c * v_rot[:, 1],
                  v_rot[:, 2]], axis=1)
    return r, v


def test_earth_fixed_frame_agrees_with_astropy():
    """An independent frame chain: astropy's TEME -> ITRS (it adds polar motion, < 20 m)."""
    astropy_coordinates = pytest.importorskip("astropy.coordinates")
    from astropy import units as u
    from astropy.time import Time
    from astropy.utils import iers

    iers.conf.auto_download = False
    from tests.conftest import MICIUS_TLE

    lines = MICIUS_TLE.splitlines()
    satrec = Satrec.twoline2rv(lines[1], lines[2])
    start = datetime(2021, 4, 27, 12, tzinfo=UTC)
    timebase = TimeBase(start, 86400.0)
    tau = np.linspace(0, 86400, 25)
    jd, fr = timebase.utc_jd(tau)
    _, r_teme, v_teme = satrec.sgp4_array(jd, fr)
    whole, fraction = timebase.ut1_jd(tau)
    r_ours, _ = teme_to_itrs(r_teme, v_teme, whole, fraction)
    times = Time(jd, fr, format="jd", scale="utc")
    teme = astropy_coordinates.TEME(
        astropy_coordinates.CartesianRepresentation(r_teme.T * u.km), obstime=times)
    itrs = teme.transform_to(astropy_coordinates.ITRS(obstime=times))
    r_astropy = itrs.cartesian.xyz.to_value(u.km).T
    assert np.linalg.norm(r_ours - r_astropy, axis=1).max() < 0.03


def test_tracks_match_direct_skyfield_geometry(month_of_passes, micius_catalogue,
                                               jinan1_stations, micius_skyfield, timescale):
    passes = month_of_passes.iloc[:40]
    tracks = pass_tracks(passes, micius_catalogue, jinan1_stations)
    assert list(tracks.columns) == TRACK_COLUMNS
    counts = tracks.groupby("pass_id").size()
    expected = np.floor(passes["duration_s"]).astype(int) + 1
    assert (counts.reindex(passes.index) == expected).all()
    by_name = {s.name: s for s in jinan1_stations}
    sample = tracks.iloc[::37]
    for station_name, rows in sample.groupby(passes.loc[sample["pass_id"], "station"].to_numpy()):
        station = by_name[station_name]
        t = skyfield_times(timescale, rows["time_utc"])
        alt, _az, distance = (micius_skyfield - _topos(station)).at(t).altaz()
        np.testing.assert_allclose(rows["elevation_deg"], alt.degrees, atol=2e-4)
        np.testing.assert_allclose(rows["range_km"], distance.km, atol=2e-3)
    first = tracks.groupby("pass_id")["elevation_deg"].first()
    np.testing.assert_allclose(first, 15.0, atol=1e-4)


def test_refraction_makes_thresholds_apparent(micius_catalogue, jinan1_stations,
                                              micius_skyfield, timescale):
    station = jinan1_stations[0]
    plain = find_passes(micius_catalogue, [station], START, "2021-05-07")
    refracted = find_passes(micius_catalogue, [station], START, "2021-05-07", refraction=True)
    assert len(plain) == len(refracted)
    assert ((plain["aos_utc"] - refracted["aos_utc"]).dt.total_seconds() > 0.2).all()
    t = skyfield_times(timescale, refracted["aos_utc"])
    alt = (micius_skyfield - _topos(station)).at(t).altaz(
        temperature_C=10.0, pressure_mbar=station.pressure_hpa)[0].degrees
    np.testing.assert_allclose(alt, station.min_elevation_deg, atol=1e-3)
    geometric_peak = plain["max_elevation_deg"].to_numpy()
    expected = geometric_peak + skyfield_refraction(geometric_peak, 10.0, station.pressure_hpa)
    np.testing.assert_allclose(refracted["max_elevation_deg"], expected, atol=2e-4)


def test_min_elevation_override_and_period_edges(micius_catalogue, jinan1_stations):
    passes = find_passes(micius_catalogue, jinan1_stations, START, END, min_elevation_deg=40)
    assert (passes["max_elevation_deg"] >= 40).all()
    baseline = find_passes(micius_catalogue, jinan1_stations, START, END)
    assert len(passes) < len(baseline) / 2
    # a pass belongs to the period of its AOS
    split = "2021-05-10T00:00:00Z"
    first = find_passes(micius_catalogue, jinan1_stations, START, split)
    second = find_passes(micius_catalogue, jinan1_stations, split, END)
    assert len(first) + len(second) == len(baseline)
    assert (first["aos_utc"] < pd.Timestamp(split)).all()
    assert (second["aos_utc"] >= pd.Timestamp(split)).all()


def test_horizon_mask_splits_passes_where_terrain_blocks(micius_catalogue, micius_skyfield,
                                                        timescale, jinan1_stations):
    base = jinan1_stations[0]
    mask = [[0.0, 40.0], [90.0, 40.0], [100.0, 0.0], [350.0, 0.0]]
    masked = Station(**{**base.model_dump(), "horizon_mask": mask})
    plain = find_passes(micius_catalogue, [base], START, END)
    cut = find_passes(micius_catalogue, [masked], START, END)
    assert len(cut) > 0
    assert cut["duration_s"].sum() < plain["duration_s"].sum()
    for column in ("aos_utc", "los_utc"):
        t = skyfield_times(timescale, cut[column])
        alt, az, _ = (micius_skyfield - _topos(masked)).at(t).altaz()
        limit = masked.effective_min_elevation_deg(az.degrees)
        np.testing.assert_allclose(alt.degrees, limit, atol=2e-3)


def test_horizon_mask_follows_a_minimum_elevation_override(micius_catalogue, micius_skyfield,
                                                           timescale, jinan1_stations):
    # a mask with a 40 deg wall and open sky elsewhere: the override (5 deg, below the
    # station's own minimum) is the floor away from the wall, not the station's minimum
    base = jinan1_stations[0]
    mask = [[0.0, 40.0], [90.0, 40.0], [100.0, 0.0], [350.0, 0.0]]
    masked = Station(**{**base.model_dump(), "horizon_mask": mask})
    assert masked.min_elevation_deg > 5.0
    cut = find_passes(micius_catalogue, [masked], START, END, min_elevation_deg=5.0)
    lowered = Station(**{**masked.model_dump(), "min_elevation_deg": 5.0})
    for column in ("aos_utc", "los_utc"):
        t = skyfield_times(timescale, cut[column])
        alt, az, _ = (micius_skyfield - _topos(masked)).at(t).altaz()
        limit = lowered.effective_min_elevation_deg(az.degrees)
        np.testing.assert_allclose(alt.degrees, limit, atol=2e-3)
    assert (cut["max_elevation_deg"] < masked.min_elevation_deg).any()


def test_nearest_element_set_and_age(jinan1_stations):
    from planner.elements.elementsets import format_tle

    sets = []
    for day in (1, 11):
        epoch = datetime(2026, 11, day, tzinfo=UTC)
        lines = format_tle("TEST SAT", 99998, "", epoch, 97.4, 100.0 + day * 0.9856, 0.001, 90.0,
                           0.0, 15.22, bstar=1e-4)
        sets.append("\n".join(lines))
    catalogue = Catalogue(parse_tle_text("\n".join(sets) + "\n"))
    passes = find_passes(catalogue, jinan1_stations[:2], "2026-11-03", "2026-11-09")
    tca_days = (passes["tca_utc"] - pd.Timestamp("2026-11-01", tz="UTC")).dt.total_seconds() / 86400
    expected = np.where(tca_days < 5.0, tca_days, np.abs(tca_days - 10.0))
    np.testing.assert_allclose(passes["element_age_days"], expected, atol=1e-6)
    assert passes["element_age_days"].max() <= 5.0 + 1e-9


def test_a_decaying_satellite_is_reported_and_the_others_complete(jinan1_stations):
    from planner.elements.elementsets import format_tle
    from tests.conftest import MICIUS_TLE

    epoch = datetime(2021, 4, 27, tzinfo=UTC)
    doomed = "\n".join(format_tle("DOOMED", 99990, "", epoch, 51.6, 10.0, 0.0005, 90.0, 0.0,
                                  16.30, bstar=0.05))
    catalogue = Catalogue(parse_tle_text(MICIUS_TLE + doomed + "\n"))
    warnings: list[str] = []
    passes = find_passes(catalogue, jinan1_stations, START, "2021-05-07", warnings=warnings)
    alone = find_passes(Catalogue(parse_tle_text(MICIUS_TLE)), jinan1_stations, START,
                        "2021-05-07")
    micius = passes[passes["norad"] == 41731].reset_index(drop=True)
    pd.testing.assert_frame_equal(micius, alone)
    assert len(warnings) == 1
    assert warnings[0].startswith("DOOMED: SGP4 cannot propagate from 2021-")
    from sgp4.api import SGP4_ERRORS

    assert any(reason in warnings[0] for reason in SGP4_ERRORS.values())
    assert (passes.loc[passes["norad"] == 99990, "aos_utc"]
            < pd.Timestamp(warnings[0].split("from ")[1][:16], tz="UTC")).all()
