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
import sys
from datetime import UTC, datetime
from pathlib import Path

from sgp4.earth_gravity import wgs72
from skyfield.api import load, load_file

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "jinan1_representative.tle"

try:
    from planner.elements import default_orbit
except ImportError:  # running from a source checkout without an install
    sys.path.insert(0, str(HERE.parent))
    from planner.elements import default_orbit

# The derivation itself lives in planner.elements.default_orbit, which also generates the
# default satellite for any planning window; this script fixes the epoch of the bundled file.
EPOCH = datetime(2026, 11, 20, tzinfo=UTC)


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
    return default_orbit.jinan1_class_tle(EPOCH)


def explain() -> None:
    """Print the intermediate quantities of the derivation."""
    orbit = default_orbit
    a = orbit.semi_major_axis_km(orbit.MEAN_MOTION_REV_PER_DAY)
    mean_ra = orbit.mean_sun_right_ascension_deg(EPOCH)
    true_ra = apparent_sun_right_ascension_deg(EPOCH)
    eot_min = ((mean_ra - true_ra + 180.0) % 360.0 - 180.0) * 4.0  # apparent - mean solar time
    print(f"semi-major axis        {a:10.3f} km  (altitude {a - wgs72.radiusearthkm:.1f} km)")
    print(f"period                 {1440.0 / orbit.MEAN_MOTION_REV_PER_DAY:10.3f} min")
    inclination = orbit.sun_synchronous_inclination_deg(orbit.MEAN_MOTION_REV_PER_DAY,
                                                        orbit.ECCENTRICITY)
    print(f"sun-synchronous incl.  {inclination:10.4f} deg")
    print(f"RA of the mean sun     {mean_ra:10.4f} deg at {EPOCH:%Y-%m-%d %H:%M} UTC")
    print(f"RA of the true sun     {true_ra:10.4f} deg (de421, apparent, equinox of date)")
    print(f"equation of time       {eot_min:10.2f} min (apparent minus mean solar time): the node "
          f"is at {orbit.LTAN_HOURS:g} h mean solar time, "
          f"{orbit.LTAN_HOURS + eot_min / 60.0:.2f} h "
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
