"""Ground stations: the station model and loading/validating ``ground_stations.yaml``.

A :class:`Station` holds everything the later stages need to know about one optical ground
station: where it is (WGS84 latitude, longitude, height), which local time zone labels its
human-facing output, which part of the sky it can use (minimum elevation, optional horizon mask,
night threshold), how many telescopes of which aperture it has, its monthly clear-sky climatology
and a few link-side parameters (zenith transmittance, sky background, receiver efficiency).

Station files are YAML with a top-level mapping holding a ``stations:`` list and an optional
``defaults:`` mapping whose values apply to every station that does not set them itself::

    defaults:
      min_elevation_deg: 15
    stations:
      - name: Graz
        latitude_deg: 47.067139
        ...

Every mistake in such a file raises :class:`~planner.errors.StationError` with one line naming the
file, the line and the field, e.g.
``ground_stations.yaml:23: stations[3].latitude_deg: 95 is outside [-90, 90]``.

Units are in the field names: degrees, metres, seconds, hectopascals.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from planner.errors import OptionError, StationError
from planner.io.resources import bundled_path
from planner.io.yamlfile import YamlDocument, format_location, load_yaml, raise_validation_error
from planner.mission.site import STANDARD_PRESSURE_HPA, standard_pressure_hpa

__all__ = [
    "JINAN1_STATIONS",
    "MICIUS_STATIONS",
    "STANDARD_SEA_LEVEL_PRESSURE_HPA",
    "Station",
    "load_stations",
    "select_stations",
    "standard_pressure_hpa",
    "stations_as_searched",
    "stations_table",
]

#: The seven ground stations of the Jinan-1 campaign (docs/reference.md §1, Li et al. 2025).
JINAN1_STATIONS: tuple[str, ...] = (
    "Jinan", "Hefei", "Nanshan", "Wuhan", "Beijing", "Shanghai", "Stellenbosch",
)

#: Ground stations of the Micius era (Liao et al. 2017, 2018; Yin et al. 2017; Ren et al. 2017).
MICIUS_STATIONS: tuple[str, ...] = (
    "Xinglong", "Nanshan", "Delingha", "Lijiang", "Ngari", "Graz",
)

#: Standard sea-level pressure [hPa] (ICAO standard atmosphere).
STANDARD_SEA_LEVEL_PRESSURE_HPA = STANDARD_PRESSURE_HPA

_BUNDLED_FILE = "ground_stations.yaml"
_MONTHS = 12

# Fields that describe where one particular station is; they make no sense as shared defaults.
_PER_STATION_FIELDS = frozenset({"name", "latitude_deg", "longitude_deg", "altitude_m", "source"})
_TOP_LEVEL_KEYS = ("stations", "defaults")


# --------------------------------------------------------------------------------------------
# Value checks used by the model. Each raises ValueError with a message that reads well after
# "file:line: field: " (pydantic prefixes it with "Value error, ", which _yaml strips).
# --------------------------------------------------------------------------------------------

def _show(value: Any) -> str:
    """Render a YAML value briefly for an error message."""
    if value is None:
        text = "nothing (null)"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float, str)):
        text = repr(value)
    elif isinstance(value, (list, tuple)):
        text = "a list"
    elif isinstance(value, dict):
        text = "a mapping"
    else:
        text = f"{value!s} ({type(value).__name__})"
    return text if len(text) <= 40 else text[:39] + "…"


def _fmt(bound: float) -> str:
    """Format an interval bound: ``-90`` rather than ``-90.0``."""
    return f"{bound:g}"


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    return f"{'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"


def _check_range(number: float, shown: str, low: float | None, high: float | None,
                 low_open: bool, high_open: bool) -> None:
    below = low is not None and (number < low or (low_open and number == low))
    above = high is not None and (number > high or (high_open and number == high))
    if not (below or above):
        return
    if low is not None and high is not None:
        raise ValueError(f"{shown} is outside {_interval(low, high, low_open, high_open)}")
    if low is not None:
        relation = "greater than" if low_open else "at least"
        raise ValueError(f"{shown} must be {relation} {_fmt(low)}")
    relation = "less than" if high_open else "at most"
    raise ValueError(f"{shown} must be {relation} {_fmt(high)}")


def _number(value: Any, *, low: float | None = None, high: float | None = None,
            low_open: bool = False, high_open: bool = False, what: str = "") -> float:
    """Check that ``value`` is a finite real number inside the given interval.

    ``what`` (e.g. ``"azimuth "``) is put in front of the value in messages.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number{' for ' + what.strip() if what else ''}, "
                         f"got {_show(value)}")
    shown = what + _show(value)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        raise ValueError(f"{shown} is too large") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {shown}")
    _check_range(number, shown, low, high, low_open, high_open)
    return number


def _whole_number(value: Any, *, low: int) -> int:
    """Check that ``value`` is an integer (YAML ``2``, not ``2.5`` or ``true``) and >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {_show(value)}")
    if value < low:
        raise ValueError(f"{_show(value)} must be at least {low}")
    return value


def _text(value: Any) -> str:
    """Check that ``value`` is a non-empty string; return it stripped."""
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_show(value)} (quote it if it is meant as text)")
    text = value.strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def _station_name(value: Any) -> str:
    name = _text(value)
    if "," in name:
        raise ValueError(f"{name!r}: station names must not contain ','")
    return name


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _timezone(value: Any) -> str:
    """Check that ``value`` names an IANA time zone known to :mod:`zoneinfo`."""
    name = _text(value)
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'Asia/Shanghai' "
            "or 'Africa/Johannesburg'"
        ) from None
    return name


def _monthly_values(value: Any) -> Any:
    """Check that ``value`` is a list of exactly twelve items (items are checked afterwards)."""
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of 12 monthly values (Jan..Dec), got {_show(value)}")
    if len(value) != _MONTHS:
        raise ValueError(f"expected 12 monthly values (Jan..Dec), got {len(value)}")
    return value


def _mask_point(value: Any) -> tuple[float, float]:
    """Check one ``[azimuth_deg, elevation_deg]`` horizon-mask point."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"expected [azimuth_deg, elevation_deg], got {_show(value)}")
    azimuth = _number(value[0], low=0.0, high=360.0, high_open=True, what="azimuth ")
    elevation = _number(value[1], low=0.0, high=90.0, high_open=True, what="elevation ")
    return azimuth, elevation


def _mask_points(value: Any) -> Any:
    """Check that the horizon mask is a list (its points are checked one by one afterwards)."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise ValueError(
            f"expected a list of [azimuth_deg, elevation_deg] points, got {_show(value)}")
    return value or None


def _sorted_mask(points: tuple[tuple[float, float], ...] | None
                 ) -> tuple[tuple[float, float], ...] | None:
    """Sort the checked points by azimuth; azimuths must then be strictly increasing."""
    if points is None:
        return None
    ordered = tuple(sorted(points))
    for (az0, _), (az1, _) in pairwise(ordered):
        if az0 == az1:
            raise ValueError(f"azimuth {_fmt(az0)} appears more than once; "
                             "azimuths must be distinct")
    return ordered


def _bounded(low: float | None = None, high: float | None = None, *, low_open: bool = False,
             high_open: bool = False) -> BeforeValidator:
    return BeforeValidator(partial(_number, low=low, high=high, low_open=low_open,
                                   high_open=high_open))


Latitude = Annotated[float, _bounded(-90.0, 90.0)]
Longitude = Annotated[float, _bounded(-180.0, 180.0)]
Altitude = Annotated[float, _bounded(-500.0, 9000.0)]
MinElevation = Annotated[float, _bounded(0.0, 90.0, high_open=True)]
SunElevation = Annotated[float, _bounded(-90.0, 0.0)]
PositiveLength = Annotated[float, _bounded(0.0, low_open=True)]
Probability = Annotated[float, _bounded(0.0, 1.0)]
OpenUnitInterval = Annotated[float, _bounded(0.0, 1.0, low_open=True)]
NonNegative = Annotated[float, _bounded(0.0)]
Telescopes = Annotated[int, BeforeValidator(partial(_whole_number, low=1))]
StationName = Annotated[str, BeforeValidator(_station_name)]
Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
TimeZoneName = Annotated[str, BeforeValidator(_timezone)]
MonthlyProbabilities = Annotated[tuple[Probability, ...], BeforeValidator(_monthly_values)]
MaskPoint = Annotated[tuple[float, float], BeforeValidator(_mask_point)]
HorizonMask = Annotated[tuple[MaskPoint, ...] | None, BeforeValidator(_mask_points),
                        AfterValidator(_sorted_mask)]


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------

class Station(BaseModel):
    """One optical ground station.

    Instances are immutable and hashable. Build them with :func:`load_stations` (which gives
    file/line-aware errors) or directly with ``Station(name=..., ...)``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: StationName = Field(
        description="Station name, unique (case-insensitively) within a file.")
    latitude_deg: Latitude = Field(description="Geodetic latitude, WGS84 [deg], north positive.")
    longitude_deg: Longitude = Field(description="Longitude, WGS84 [deg], east positive.")
    altitude_m: Altitude = Field(
        description="Height above the WGS84 ellipsoid [m]. Where only a height above sea level "
                    "is published it is used as is (the geoid undulation, |N| < 100 m, moves "
                    "elevation angles of a 500 km satellite by < 0.01 deg).")
    timezone: TimeZoneName = Field(
        description="IANA time zone name for local times in human-facing output.")
    min_elevation_deg: MinElevation = Field(
        default=15.0, description="Lowest usable elevation [deg] (docs/reference.md §4 [A]).")
    horizon_mask: HorizonMask = Field(
        default=None,
        description="Optional [azimuth_deg, elevation_deg] points of the local horizon, "
                    "interpolated linearly in azimuth with wrap-around at 360 deg.")
    night_sun_elevation_deg: SunElevation = Field(
        default=-12.0, description="Sun elevation [deg] below which it is night (nautical "
                                   "twilight, as PREDICT; docs/reference.md §3).")
    telescopes: Telescopes = Field(
        default=1, description="Number of receiving telescopes (simultaneous links).")
    aperture_m: PositiveLength = Field(
        default=0.28, description="Receiver telescope diameter [m]; 0.28 m as the portable "
                                  "Jinan station (docs/reference.md §1) [A].")
    clear_sky_probability: MonthlyProbabilities = Field(
        description="Probability of a cloud-free line of sight at night, Jan..Dec [0-1].")
    zenith_transmittance: OpenUnitInterval = Field(
        default=0.895, description="Clear-sky zenith transmittance at the link wavelength for "
                                   "a sea-level observer; 0.895 at 850 nm (docs/reference.md "
                                   "§4). The link model scales the air mass by "
                                   "pressure_hpa / 1013.25.")
    background_counts_per_s: NonNegative = Field(
        default=500.0, description="Moonless-night background count rate at the detectors for "
                                   "a line of sight at the zenith, summed over detectors "
                                   "[counts/s]: airglow, light pollution and stray light; dark "
                                   "counts excluded [A]. The sky model scales it along the "
                                   "line of sight and adds moonlight, twilight and daylight "
                                   "(planner.link.background).")
    field_of_view_urad: PositiveLength = Field(
        default=100.0, description="Full-angle field of view of the quantum receiver [urad]: "
                                   "the sky patch whose light reaches the detectors. 100 urad "
                                   "is typical of metre-class and portable QKD receivers, "
                                   "wide enough for the pointing jitter [A].")
    filter_bandwidth_nm: PositiveLength = Field(
        default=1.0, description="Bandwidth of the receiver's spectral filter at the link "
                                 "wavelength [nm]; 1 nm as a typical interference filter of a "
                                 "night-time 850 nm receiver [A].")
    receiver_efficiency: OpenUnitInterval | None = Field(
        default=None, description="Override of the payload/receiver model's receiver optics "
                                  "efficiency [0-1]; None uses the mission default.")
    source: Text = Field(description="Where the coordinates (and other values) come from.")
    notes: OptionalText = Field(default=None, description="Free-form remarks.")

    # ---- derived quantities -----------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The station's time zone as a :class:`zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.timezone)

    @property
    def pressure_hpa(self) -> float:
        """Standard-atmosphere pressure at the station height [hPa].

        See :func:`standard_pressure_hpa`. Used to scale air mass (and refraction) for station
        altitude: the optical depth of the atmosphere above the station is about
        ``pressure_hpa / 1013.25`` of the sea-level value.
        """
        return float(standard_pressure_hpa(self.altitude_m))

    def effective_min_elevation_deg(self, azimuth_deg: float | np.ndarray) -> np.ndarray:
        """Lowest usable elevation in the direction ``azimuth_deg``.

        ``max(min_elevation_deg, mask(azimuth))``, where the mask is interpolated linearly in
        azimuth between its points and wraps around from the last point through 360/0 deg to the
        first. Without a mask it is ``min_elevation_deg`` everywhere.

        Parameters
        ----------
        azimuth_deg
            Azimuth(s) [deg], north = 0, east = 90; any real value (taken modulo 360).

        Returns
        -------
        numpy.ndarray
            Minimum elevation(s) [deg], same shape as ``azimuth_deg``.
        """
        azimuth = np.mod(np.asarray(azimuth_deg, dtype=float), 360.0)
        floor = np.full(azimuth.shape, self.min_elevation_deg)
        if self.horizon_mask is None:
            return floor
        points = np.asarray(self.horizon_mask, dtype=float)
        az, el = points[:, 0], points[:, 1]
        # Close the circle: the last point repeated 360 deg earlier, the first 360 deg later.
        az_ext = np.concatenate(([az[-1] - 360.0], az, [az[0] + 360.0]))
        el_ext = np.concatenate(([el[-1]], el, [el[0]]))
        return np.maximum(floor, np.interp(azimuth, az_ext, el_ext))

    def clear_sky(self, month: int | np.ndarray) -> float | np.ndarray:
        """Clear-line-of-sight probability for calendar month(s).

        Parameters
        ----------
        month
            Month number(s), 1 = January ... 12 = December (scalar or integer array).

        Returns
        -------
        float or numpy.ndarray
            Probability [0-1]; a float for a scalar month, else an array of ``month``'s shape.

        Raises
        ------
        ValueError
            If a month is outside 1..12.
        """
        months = np.asarray(month)
        if months.size and (not np.issubdtype(months.dtype, np.integer)
                            or months.min() < 1 or months.max() > _MONTHS):
            raise ValueError(f"month must be an integer 1..12, got {month!r}")
        values = np.asarray(self.clear_sky_probability, dtype=float)[months.astype(int) - 1]
        return float(values) if values.ndim == 0 else values


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

def _fail(message: str, doc: YamlDocument, loc: tuple[str | int, ...]) -> NoReturn:
    raise StationError(message, path=str(doc.path), line=doc.line_of(loc),
                       field=format_location(loc) or None)


def _check_keys(mapping: Mapping[Any, Any], doc: YamlDocument, loc: tuple[str | int, ...]) -> None:
    for key in mapping:
        if not isinstance(key, str):
            _fail(f"field names must be text, got {_show(key)}", doc, loc)


def _unknown_field_message(name: str) -> str:
    close = difflib.get_close_matches(name, list(Station.model_fields), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else " (check the spelling)"
    return f"unknown field {name!r}{hint}"


def _raise_station_error(exc: ValidationError, doc: YamlDocument, index: int,
                         entry: Mapping[str, Any], defaults: Mapping[str, Any]) -> NoReturn:
    """Turn a pydantic error for ``stations[index]`` into a one-line StationError.

    An unknown field is reported before anything else (a misspelt key usually also makes a
    required field "missing"); a bad value inherited from ``defaults:`` is reported there.
    """
    errors = exc.errors(include_url=False)
    extra = next((e for e in errors if e["type"] == "extra_forbidden"), None)
    first = extra or errors[0]
    field = first["loc"][0] if first["loc"] else None
    from_defaults = isinstance(field, str) and field not in entry and field in defaults
    prefix: tuple[str | int, ...] = ("defaults",) if from_defaults else ("stations", index)
    if extra is not None:
        _fail(_unknown_field_message(str(field)), doc, (*prefix, *first["loc"]))
    raise_validation_error(exc, doc, prefix, StationError)


def _read_defaults(doc: YamlDocument, top: Mapping[str, Any]) -> dict[str, Any]:
    defaults = top.get("defaults")
    if defaults is None:
        return {}
    if not isinstance(defaults, dict):
        _fail(f"expected a mapping of default field values, got {_show(defaults)}",
              doc, ("defaults",))
    _check_keys(defaults, doc, ("defaults",))
    for key in defaults:
        if key in _PER_STATION_FIELDS:
            _fail(f"{key!r} belongs to each station and cannot have a default", doc,
                  ("defaults", key))
        if key not in Station.model_fields:
            _fail(_unknown_field_message(key), doc, ("defaults", key))
    return defaults


def _read_station_list(doc: YamlDocument) -> tuple[list[Any], dict[str, Any]]:
    top = doc.data
    if not isinstance(top, dict):
        _fail(f"expected a mapping with a 'stations:' list at the top level, got "
              f"{_show(top)}", doc, ())
    _check_keys(top, doc, ())
    for key in top:
        if key not in _TOP_LEVEL_KEYS:
            close = difflib.get_close_matches(key, _TOP_LEVEL_KEYS, n=1)
            hint = (f"; did you mean {close[0]!r}?" if close
                    else " (expected 'stations' and optionally 'defaults')")
            _fail(f"unknown top-level key {key!r}{hint}", doc, (key,))
    if "stations" not in top:
        _fail("missing the 'stations:' list", doc, ())
    entries = top["stations"]
    if not isinstance(entries, list):
        _fail(f"expected a list of stations, got {_show(entries)}", doc, ("stations",))
    if not entries:
        _fail("the list is empty; define at least one station", doc, ("stations",))
    return entries, _read_defaults(doc, top)


def _build_station(doc: YamlDocument, index: int, entry: Any,
                   defaults: Mapping[str, Any]) -> Station:
    loc = ("stations", index)
    if not isinstance(entry, dict):
        _fail(f"expected a mapping of station fields, got {_show(entry)}", doc, loc)
    _check_keys(entry, doc, loc)
    try:
        return Station.model_validate({**defaults, **entry})
    except ValidationError as exc:
        _raise_station_error(exc, doc, index, entry, defaults)


def _check_unique_names(doc: YamlDocument, stations: Sequence[Station]) -> None:
    first_seen: dict[str, int] = {}
    for index, station in enumerate(stations):
        key = station.name.casefold()
        if key in first_seen:
            earlier = doc.line_of(("stations", first_seen[key], "name"))
            _fail(f"duplicate station name {station.name!r} (already defined at line {earlier};"
                  " names are compared case-insensitively)", doc, ("stations", index, "name"))
        first_seen[key] = index


def load_stations(path: str | Path | None = None) -> list[Station]:
    """Load and validate a ground-station file.

    Parameters
    ----------
    path
        A YAML station file; ``None`` loads the bundled ``ground_stations.yaml``.

    Returns
    -------
    list of Station
        In file order.

    Raises
    ------
    StationError
        On any problem with the file, with a one-line message naming file, line and field.
    """
    file = bundled_path(_BUNDLED_FILE) if path is None else Path(path)
    doc = load_yaml(file, StationError)
    entries, defaults = _read_station_list(doc)
    stations = [_build_station(doc, i, entry, defaults) for i, entry in enumerate(entries)]
    _check_unique_names(doc, stations)
    return stations


# --------------------------------------------------------------------------------------------
# Selecting and tabulating
# --------------------------------------------------------------------------------------------

def _split_names(names: Iterable[str]) -> list[str]:
    """Split comma-separated entries (``"Jinan,Hefei"``) and drop blanks."""
    return [part.strip() for name in names for part in str(name).split(",") if part.strip()]


def _unknown_station_message(name: str, known: Sequence[str]) -> str:
    by_key = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(name.casefold(), list(by_key), n=3, cutoff=0.6)
    if close:
        options = " or ".join(repr(by_key[c]) for c in close)
        return f"unknown station {name!r}; did you mean {options}?"
    return f"unknown station {name!r}; known stations: {', '.join(known)}"


def select_stations(stations: Sequence[Station], station_names: Iterable[str] | None
                    ) -> list[Station]:
    """Pick stations by name, case-insensitively.

    Parameters
    ----------
    stations
        The available stations (e.g. from :func:`load_stations`).
    station_names
        Names to keep, in the order wanted; entries may hold comma-separated lists. ``None`` or
        empty keeps all stations. Repeated names are kept once.

    Returns
    -------
    list of Station

    Raises
    ------
    OptionError
        For an unknown name (field ``station_names``), suggesting the closest names.
    """
    wanted = _split_names(station_names or ())
    if not wanted:
        return list(stations)
    by_key = {s.name.casefold(): s for s in stations}
    chosen: dict[str, Station] = {}
    for name in wanted:
        station = by_key.get(name.casefold())
        if station is None:
            raise OptionError(_unknown_station_message(name, [s.name for s in stations]),
                              field="station_names")
        chosen.setdefault(station.name.casefold(), station)
    return list(chosen.values())


_TABLE_COLUMNS: tuple[tuple[str, Callable[[Station], Any]], ...] = (
    ("name", lambda s: s.name),
    ("latitude_deg", lambda s: s.latitude_deg),
    ("longitude_deg", lambda s: s.longitude_deg),
    ("altitude_m", lambda s: s.altitude_m),
    ("timezone", lambda s: s.timezone),
    ("min_elevation_deg", lambda s: s.min_elevation_deg),
    ("horizon_mask_points", lambda s: len(s.horizon_mask or ())),
    ("night_sun_elevation_deg", lambda s: s.night_sun_elevation_deg),
    ("telescopes", lambda s: s.telescopes),
    ("aperture_m", lambda s: s.aperture_m),
    ("zenith_transmittance", lambda s: s.zenith_transmittance),
    ("background_counts_per_s", lambda s: s.background_counts_per_s),
    ("field_of_view_urad", lambda s: s.field_of_view_urad),
    ("filter_bandwidth_nm", lambda s: s.filter_bandwidth_nm),
    ("receiver_efficiency", lambda s: s.receiver_efficiency),
    ("clear_sky_annual_mean", lambda s: float(np.mean(s.clear_sky_probability))),
    ("pressure_hpa", lambda s: s.pressure_hpa),
    ("source", lambda s: s.source),
)


def stations_table(stations: Iterable[Station]) -> pd.DataFrame:
    """One row per station, units in the column names (for ``qkdplan stations``).

    Columns: ``name, latitude_deg, longitude_deg, altitude_m, timezone, min_elevation_deg,
    horizon_mask_points, night_sun_elevation_deg, telescopes, aperture_m, zenith_transmittance,
    background_counts_per_s, field_of_view_urad, filter_bandwidth_nm, receiver_efficiency,
    clear_sky_annual_mean, pressure_hpa, source``.
    """
    rows = [{column: get(s) for column, get in _TABLE_COLUMNS} for s in stations]
    return pd.DataFrame(rows, columns=[column for column, _ in _TABLE_COLUMNS])


def stations_as_searched(stations: Sequence[Station],
                         min_elevation_deg: float | None = None) -> list[Station]:
    """The stations as the pass search saw them: each one's minimum elevation replaced by
    ``min_elevation_deg`` when given (its horizon mask still raises it where higher).

    The pass search itself (:func:`planner.geometry.passes.find_passes`) and what shows the
    stations' thresholds beside its passes (the night sheet's pointing at acquisition, the
    report's footprints and sky plot) use it, so they agree.

    Parameters
    ----------
    stations
        The run's stations.
    min_elevation_deg
        The override of :func:`passes_for` [deg]; ``None`` leaves the stations as they are.

    Returns
    -------
    list of Station
        Copies with the override, or the stations themselves without one.
    """
    if min_elevation_deg is None:
        return list(stations)
    return [s.model_copy(update={"min_elevation_deg": float(min_elevation_deg)})
            for s in stations]
