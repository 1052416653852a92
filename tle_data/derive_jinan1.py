"""Derive the *representative* Jinan-1 element set in ``jinan1_representative.tle``.

No verified element set for Jinan-1 is at hand (see tle_data/README.md), so the bundled one is
built from what is known about the orbit (docs/reference.md §2): a sun-synchronous,
near-circular
orbit near 500 km whose ascending node is at 22:30 local mean solar time. Every number below is
either that description or an assumption marked [A].

Run from the repository root::

    python tle_data/derive_jinan1.py            # rewrite tle_data/jinan1_representative.tle
    python tle_data/derive_jinan1.py --check    # exit 1 if the file differs from the derivation
    python tle_data/derive_jinan1.py --explain  # also print the intermediate quantities

Offline: the time scale is Skyfield's built-in one and the ephemeris (only used for the
informational apparent-sun comparison) is the de421 file shipped in the ``skyfield-data`` package.
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import UTC, datetime
from pathlib import Path

from sgp4.earth_gravity import wgs72
from skyfield.api import load, load_file

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "jinan1_representative.tle"

try:
    from planner.elements.tle import format_tle
except ImportError:  # running from a source checkout without an install
    sys.path.insert(0, str(HERE.parent))
    from planner.elements.tle import format_tle

NAME = "JINAN-1 (REPRESENTATIVE)"
NORAD_PLACEHOLDER = 99999  # NOT the real catalogue number (never guess it; docs/reference.md §2)
INTL_DESIGNATOR = ""  # left blank: the launch is most likely 2022-086, the piece is unknown
EPOCH = datetime(2026, 11, 20, tzinfo=UTC)
MEAN_MOTION_REV_PER_DAY = 15.22  # [D] ~500 km, docs/reference.md §2
LTAN_HOURS = 22.5  # local mean solar time of the ascending node [D], docs/reference.md §2
ECCENTRICITY = 0.001  # [A] near-circular
ARG_PERIGEE_DEG = 90.0  # [A] frozen-orbit convention for near-circular sun-synchronous orbits
MEAN_ANOMALY_DEG = 270.0  # [A] with argp 90 deg the satellite is near its ascending node at epoch
BSTAR = 1.0e-4  # [A] plausible for a ~100 kg microsatellite at 500 km (1/earth radii)
TROPICAL_YEAR_DAYS = 365.2422
SECONDS_PER_DAY = 86400.0


def semi_major_axis_km(mean_motion_rev_per_day: float) -> float:
    """Kepler's third law with the WGS72 gravitational parameter [km]."""
    n_rad_s = mean_motion_rev_per_day * 2.0 * math.pi / SECONDS_PER_DAY
    return (wgs72.mu / n_rad_s**2) ** (1.0 / 3.0)


def sun_synchronous_inclination_deg(mean_motion_rev_per_day: float, eccentricity: float) -> float:
    """Inclination whose J2 nodal precession equals 360 deg per tropical year [deg].

    dΩ/dt = -3/2 · n · J2 · (R / p)² · cos i, with p = a (1 - e²) (WGS72 R, μ, J2).
    """
    n_rad_s = mean_motion_rev_per_day * 2.0 * math.pi / SECONDS_PER_DAY
    p = semi_major_axis_km(mean_motion_rev_per_day) * (1.0 - eccentricity**2)
    target = 2.0 * math.pi / (TROPICAL_YEAR_DAYS * SECONDS_PER_DAY)  # rad/s, eastward
    cos_i = -target / (1.5 * n_rad_s * wgs72.j2 * (wgs72.radiusearthkm / p) ** 2)
    return math.degrees(math.acos(cos_i))


def mean_sun_right_ascension_deg(epoch: datetime) -> float:
    """Right ascension of the mean sun at ``epoch`` [deg].

    By the definition of mean solar time the mean sun's Greenwich hour angle is UT1 - 12 h, so
    α_mean_sun = GMST - (UT1 - 12 h), both as angles. GMST is measured from the mean equinox along
    the true equator, the x axis of the TEME frame the TLE's node is given in.
    """
    ts = load.timescale(builtin=True)
    t = ts.from_datetime(epoch)
    ut1_hours = (t.ut1 - 0.5) % 1.0 * 24.0
    return (t.gmst - (ut1_hours - 12.0)) * 15.0 % 360.0


def apparent_sun_right_ascension_deg(epoch: datetime) -> float:
    """Right ascension of the true (apparent) sun, equinox of date, from de421 [deg]."""
    import skyfield_data

    ephemeris = load_file(str(Path(skyfield_data.__file__).parent / "data" / "de421.bsp"))
    ts = load.timescale(builtin=True)
    t = ts.from_datetime(epoch)
    ra, _dec, _dist = ephemeris["earth"].at(t).observe(ephemeris["sun"]).apparent().radec(
        epoch="date")
    return ra.hours * 15.0


def derive() -> tuple[str, str, str]:
    """Return the three lines of the representative set."""
    inclination = sun_synchronous_inclination_deg(MEAN_MOTION_REV_PER_DAY, ECCENTRICITY)
    raan = (mean_sun_right_ascension_deg(EPOCH) + (LTAN_HOURS - 12.0) * 15.0) % 360.0
    return format_tle(
        NAME, NORAD_PLACEHOLDER, INTL_DESIGNATOR, EPOCH,
        inclination_deg=inclination, raan_deg=raan, eccentricity=ECCENTRICITY,
        arg_perigee_deg=ARG_PERIGEE_DEG, mean_anomaly_deg=MEAN_ANOMALY_DEG,
        mean_motion_rev_per_day=MEAN_MOTION_REV_PER_DAY, bstar=BSTAR, ndot=0.0, nddot=0.0,
        element_set_no=999, rev_number=0, classification="U")


def explain() -> None:
    """Print the intermediate quantities of the derivation."""
    a = semi_major_axis_km(MEAN_MOTION_REV_PER_DAY)
    mean_ra = mean_sun_right_ascension_deg(EPOCH)
    true_ra = apparent_sun_right_ascension_deg(EPOCH)
    eot_min = ((mean_ra - true_ra + 180.0) % 360.0 - 180.0) * 4.0  # apparent - mean solar time
    print(f"semi-major axis        {a:10.3f} km  (altitude {a - wgs72.radiusearthkm:.1f} km)")
    print(f"period                 {1440.0 / MEAN_MOTION_REV_PER_DAY:10.3f} min")
    inclination = sun_synchronous_inclination_deg(MEAN_MOTION_REV_PER_DAY, ECCENTRICITY)
    print(f"sun-synchronous incl.  {inclination:10.4f} deg")
    print(f"RA of the mean sun     {mean_ra:10.4f} deg at {EPOCH:%Y-%m-%d %H:%M} UTC")
    print(f"RA of the true sun     {true_ra:10.4f} deg (de421, apparent, equinox of date)")
    print(f"equation of time       {eot_min:10.2f} min (apparent minus mean solar time): the node "
          f"is at {LTAN_HOURS:g} h mean solar time, {LTAN_HOURS + eot_min / 60.0:.2f} h "
          "apparent solar time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the bundled file")
    parser.add_argument("--explain", action="store_true", help="print intermediate values")
    args = parser.parse_args(argv)
    text = "\n".join(derive()) + "\n"
    if args.explain:
        explain()
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == text
        print(f"{OUTPUT.name}: {'matches' if same else 'DIFFERS from'} the derivation")
        return 0 if same else 1
    OUTPUT.write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
