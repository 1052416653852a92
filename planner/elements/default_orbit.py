"""The default satellite: one Jinan-1-class orbit, the same whatever the planning window.

Jinan-1 (NORAD 53300, COSPAR 2022-087B) re-entered on 2025-04-15 and Micius (NORAD 41731,
COSPAR 2016-051A) on 2026-01-25 (CelesTrak SATCAT), so no current element sets exist for
either and any bundled set goes stale. Without ``--tle`` the planner therefore flies a clearly
labelled *Jinan-1-class* orbit, generated for any date. It is the kind of orbit Jinan-1 flew
(docs/reference.md §2), not a prediction of any satellite:

* near-circular, 15.22 revolutions a day (about 500 km, Kepler's third law with WGS72);
* sun-synchronous: the J2 nodal precession ``-3/2 n J2 (R/p)^2 cos i`` equals 360 deg per
  tropical year;
* ascending node at 22:30 local mean solar time: ``RAAN = alpha(mean sun) + (22.5 h - 12 h)
  15 deg`` with ``alpha(mean sun) = GMST - (UT1 - 12 h)`` (Skyfield's built-in time scale);
* [A] e = 0.001; at the reference epoch 2026-11-20 00:00 UTC argument of perigee 90 deg
  (frozen-orbit convention) and mean anomaly 270 deg (near the ascending node); B* = 0 (no
  drag: see below); catalogue number 99999 (a placeholder, never a real number).

**One satellite for every period** (docs/reference.md §1). The element set of a period has its
epoch on a fixed grid, 00:00 UTC of the day the period starts (:func:`anchor_epoch`), not at
the start itself: every period starting on the same UTC day flies the very same element set,
so ``passes``, ``plan``, ``next`` and ``track`` agree on its passes to the millisecond, and a
pass in progress stays in ``next``. Sets of different days are one orbit too: the mean anomaly
and argument of perigee are advanced from the reference epoch at SGP4's own secular rates
(``Satrec.mdot``, ``Satrec.argpdot``) and the node follows the mean sun, so the set of one day
propagated into the next agrees with the next day's set to within 0.3 km and 10 ms along
track (the TLE's rounding, and SGP4's nodal rate, which differs from the mean sun's by 0.6 deg a
year: the node of each day's set is put back at 22:30, so the orbit keeps its local time for
years). Drag is left out (B* = 0) because
SGP4's drag terms would let each day's set decay from its own epoch: with B* = 1e-4 sets one
day apart disagree by 0.9 s. The element age stays below a day plus the period's length.

The bundled ``tle_data/jinan1_representative.tle`` is the set of the reference epoch
(``tle_data/derive_jinan1.py``), kept for tests and benchmarks. Flying satellites are planned
with their real element sets (``--tle``); historical replays use old sets with
``--allow-stale`` (the Micius example in README.md).
"""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache

from sgp4.api import Satrec
from sgp4.earth_gravity import wgs72

from planner.elements.elementsets import Catalogue, ElementSet, format_tle, parse_tle_text
from planner.timebase import as_utc_datetime, timescale

NAME = "JINAN-1 (REPRESENTATIVE)"
"""Satellite name of the generated orbit (matches the Jinan-1 payload's ``JINAN-1*``)."""

NORAD_PLACEHOLDER = 99999
MEAN_MOTION_REV_PER_DAY = 15.22
LTAN_HOURS = 22.5
ECCENTRICITY = 0.001
ARG_PERIGEE_DEG = 90.0
MEAN_ANOMALY_DEG = 270.0
BSTAR = 0.0
REFERENCE_EPOCH = datetime(2026, 11, 20, tzinfo=UTC)
"""Epoch at which the argument of perigee is 90 deg and the mean anomaly 270 deg."""

ANCHOR_INTERVAL = timedelta(days=1)
"""Spacing of the generated sets' epochs (00:00 UTC of each day)."""
TROPICAL_YEAR_DAYS = 365.2422
_SECONDS_PER_DAY = 86400.0


def semi_major_axis_km(mean_motion_rev_per_day: float) -> float:
    """Kepler's third law with the WGS72 gravitational parameter [km]."""
    n_rad_s = mean_motion_rev_per_day * 2.0 * math.pi / _SECONDS_PER_DAY
    return (wgs72.mu / n_rad_s**2) ** (1.0 / 3.0)


def sun_synchronous_inclination_deg(mean_motion_rev_per_day: float, eccentricity: float) -> float:
    """Inclination whose J2 nodal precession is +360 deg per tropical year [deg].

    ``dOmega/dt = -3/2 n J2 (R/p)^2 cos i`` with ``p = a (1 - e^2)`` (WGS72 R, mu, J2).
    """
    n_rad_s = mean_motion_rev_per_day * 2.0 * math.pi / _SECONDS_PER_DAY
    p = semi_major_axis_km(mean_motion_rev_per_day) * (1.0 - eccentricity**2)
    target = 2.0 * math.pi / (TROPICAL_YEAR_DAYS * _SECONDS_PER_DAY)
    cos_i = -target / (1.5 * n_rad_s * wgs72.j2 * (wgs72.radiusearthkm / p) ** 2)
    return math.degrees(math.acos(cos_i))


def mean_sun_right_ascension_deg(epoch: datetime) -> float:
    """Right ascension of the mean sun at ``epoch`` [deg]: GMST - (UT1 - 12 h) as angles.

    GMST is measured from the mean equinox along the true equator, the x axis of the TEME frame
    an element set's node is given in.
    """
    t = timescale().from_datetime(as_utc_datetime(epoch))
    ut1_hours = (t.ut1 - 0.5) % 1.0 * 24.0
    return (t.gmst - (ut1_hours - 12.0)) * 15.0 % 360.0


def anchor_epoch(start: datetime | str) -> datetime:
    """The epoch of the generated set a period starting at ``start`` flies: 00:00 UTC of that day.

    Every start within one day gives the same epoch, hence the same element set.
    """
    start = as_utc_datetime(start)
    return REFERENCE_EPOCH + ANCHOR_INTERVAL * ((start - REFERENCE_EPOCH) // ANCHOR_INTERVAL)


def _tle_lines(epoch: datetime, arg_perigee_deg: float, mean_anomaly_deg: float
               ) -> tuple[str, str, str]:
    raan = (mean_sun_right_ascension_deg(epoch) + (LTAN_HOURS - 12.0) * 15.0) % 360.0
    return format_tle(
        NAME, NORAD_PLACEHOLDER, "", epoch,
        inclination_deg=sun_synchronous_inclination_deg(MEAN_MOTION_REV_PER_DAY, ECCENTRICITY),
        raan_deg=raan, eccentricity=ECCENTRICITY, arg_perigee_deg=arg_perigee_deg,
        mean_anomaly_deg=mean_anomaly_deg, mean_motion_rev_per_day=MEAN_MOTION_REV_PER_DAY,
        bstar=BSTAR, ndot=0.0, nddot=0.0, element_set_no=999, rev_number=0, classification="U")


@cache
def _secular_rates_deg_per_minute() -> tuple[float, float]:
    """SGP4's secular rates of the argument of perigee and the mean anomaly [deg/min]."""
    _name, line1, line2 = _tle_lines(REFERENCE_EPOCH, ARG_PERIGEE_DEG, MEAN_ANOMALY_DEG)
    satrec = Satrec.twoline2rv(line1, line2)
    return math.degrees(satrec.argpdot), math.degrees(satrec.mdot)


def jinan1_class_tle(epoch: datetime | str) -> tuple[str, str, str]:
    """The three lines of the Jinan-1-class element set with its epoch at ``epoch`` (UTC).

    The argument of perigee and mean anomaly are those of the reference set advanced to
    ``epoch`` at SGP4's secular rates; the node is at 22:30 mean solar time at ``epoch``.
    """
    epoch = as_utc_datetime(epoch)
    argp_rate, mean_anomaly_rate = _secular_rates_deg_per_minute()
    minutes = (epoch - REFERENCE_EPOCH) / timedelta(minutes=1)
    return _tle_lines(epoch, (ARG_PERIGEE_DEG + argp_rate * minutes) % 360.0,
                      (MEAN_ANOMALY_DEG + mean_anomaly_rate * minutes) % 360.0)


def generated_source(epoch: datetime | str) -> str:
    """How the generated set is named in messages and provenance."""
    return f"generated Jinan-1-class orbit (epoch {as_utc_datetime(epoch):%Y-%m-%dT%H:%M:%SZ})"


def jinan1_class_elements(epoch: datetime | str) -> list[ElementSet]:
    """The generated element set, parsed (one :class:`ElementSet`)."""
    text = "\n".join(jinan1_class_tle(epoch)) + "\n"
    # line 0: no file holds it, so its source is named without a line number
    return [replace(s, line=0) for s in parse_tle_text(text, source=generated_source(epoch))]


def default_catalogue(start: datetime | str) -> Catalogue:
    """The default satellite for a planning window starting at ``start``: the generated set of
    :func:`anchor_epoch`, the same for every start on that UTC day."""
    return Catalogue(jinan1_class_elements(anchor_epoch(start)))
