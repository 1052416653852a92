"""Ground fibre QKD links: always-on edges of the trusted-relay network.

A fibre link joins two ground stations and produces secret key continuously at a fixed rate. The
rate is either given directly (bit/s) or derived from the fibre length with
:func:`fibre_key_rate_bps`, an exponential-loss model anchored on the published USTC figures
(docs/reference.md §6): 115.8 Mbit/s of secure key over 10 km and more than 200 bit/s over 328 km.

The module also holds :func:`resolve_station`, the case-insensitive station-name check shared by
the scheduling inputs (demands and fibre links).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from planner.errors import ScheduleInputError

#: Published anchor [S]: secure key rate over 10 km of standard fibre (USTC, Nature Photonics 2023).
ANCHOR_RATE_BPS = 115.8e6
#: Length of the short-distance anchor [km].
ANCHOR_LENGTH_KM = 10.0
#: Published anchor [S]: "over 200 bit/s" at 328 km. Fitting through 200 bit/s is conservative.
FAR_ANCHOR_RATE_BPS = 200.0
#: Length of the long-distance anchor [km].
FAR_ANCHOR_LENGTH_KM = 328.0
#: Effective key-rate decay [dB/km] of the exponential model through both anchors [D]:
#: 10 log10(115.8e6 / 200) / (328 - 10) ≈ 0.181 dB/km (the fibre's own loss plus the protocol's
#: finite-size and noise penalties lumped together).
DEFAULT_SLOPE_DB_PER_KM = 10.0 * math.log10(ANCHOR_RATE_BPS / FAR_ANCHOR_RATE_BPS) / (
    FAR_ANCHOR_LENGTH_KM - ANCHOR_LENGTH_KM
)
#: Longest length [km] the model accepts by default: the far anchor. Beyond it the exponential law
#: is an extrapolation (real systems hit a dark-count cliff), so longer links need an explicit
#: rate or a larger ``max_length_km``.
DEFAULT_MAX_LENGTH_KM = FAR_ANCHOR_LENGTH_KM


def fibre_key_rate_bps(
    length_km: float | np.ndarray,
    *,
    anchor_rate_bps: float = ANCHOR_RATE_BPS,
    anchor_length_km: float = ANCHOR_LENGTH_KM,
    slope_db_per_km: float = DEFAULT_SLOPE_DB_PER_KM,
) -> np.ndarray:
    """Secure key rate of a fibre QKD link from its length (exponential-loss model).

    ``R(L) = R_ref * 10 ** (-slope * (L - L_ref) / 10)``: the key rate falls by ``slope`` dB per km,
    like the transmittance of the fibre. With the defaults the curve passes through both published
    points, 115.8 Mbit/s at 10 km and 200 bit/s at 328 km.

    Parameters
    ----------
    length_km
        Fibre length(s) [km], non-negative.
    anchor_rate_bps
        Key rate at the anchor length [bit/s].
    anchor_length_km
        Anchor length [km].
    slope_db_per_km
        Effective decay of the key rate [dB/km]; default ≈ 0.181 (fitted through both anchors).

    Returns
    -------
    numpy.ndarray
        Secure key rate [bit/s], same shape as ``length_km``.

    References
    ----------
    USTC, 115.8 Mbit/s over 10 km and > 200 bit/s over 328 km of fibre, Nature Photonics (2023),
    as summarised in docs/reference.md §6.
    """
    length = np.asarray(length_km, dtype=float)
    return anchor_rate_bps * 10.0 ** (-slope_db_per_km * (length - anchor_length_km) / 10.0)


@dataclass(frozen=True)
class FibreLink:
    """An always-on fibre QKD link between two ground stations.

    Attributes
    ----------
    station_a, station_b
        The two stations (canonical names).
    rate_bps
        Secure key rate [bit/s].
    length_km
        Fibre length [km] if the rate was derived from it, else ``None``.
    """

    station_a: str
    station_b: str
    rate_bps: float
    length_km: float | None = None

    @property
    def label(self) -> str:
        """``"A~B"``: how the link is named in plans and reports."""
        return f"{self.station_a}~{self.station_b}"


def resolve_station(name: str, known: Iterable[str], field: str) -> str:
    """Return the canonical spelling of a station name, matched case-insensitively.

    Parameters
    ----------
    name
        The name as the user wrote it.
    known
        The known station names.
    field
        The field to name in the error, e.g. ``"demands"``.

    Raises
    ------
    ScheduleInputError
        If the name matches no known station; the message suggests the closest names.
    """
    known = list(known)
    by_lower = {k.casefold(): k for k in known}
    key = str(name).strip().casefold()
    if key in by_lower:
        return by_lower[key]
    close = difflib.get_close_matches(key, list(by_lower), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(by_lower[c]) for c in close)}?" if close else ""
    listing = ", ".join(sorted(known)) if known else "none"
    raise ScheduleInputError(
        f"unknown station {str(name).strip()!r}{hint} (known: {listing})", field=field
    )


def make_fibre_link(
    station_a: str,
    station_b: str,
    known_stations: Iterable[str],
    *,
    rate_bps: float | None = None,
    length_km: float | None = None,
    max_length_km: float = DEFAULT_MAX_LENGTH_KM,
    field: str = "fibre link",
    **model: float,
) -> FibreLink:
    """Validate and build a :class:`FibreLink` from a rate or a length.

    Parameters
    ----------
    station_a, station_b
        Station names (case-insensitive, checked against ``known_stations``).
    known_stations
        The known station names.
    rate_bps
        Secure key rate [bit/s]; give this or ``length_km``.
    length_km
        Fibre length [km]; the rate then comes from :func:`fibre_key_rate_bps`.
    max_length_km
        Longest length the rate model may be used for [km].
    field
        What to name in error messages.
    **model
        Keyword arguments passed on to :func:`fibre_key_rate_bps`.

    Raises
    ------
    ScheduleInputError
        Unknown or identical stations, a negative or non-finite rate or length, a length beyond
        ``max_length_km``, or neither/both of rate and length.
    """
    known = list(known_stations)
    a = resolve_station(station_a, known, field)
    b = resolve_station(station_b, known, field)
    if a == b:
        raise ScheduleInputError("the two stations must differ", field=field)
    if (rate_bps is None) == (length_km is None):
        raise ScheduleInputError("give either a key rate (bit/s) or a length (km)", field=field)
    if length_km is not None:
        if not math.isfinite(length_km) or length_km < 0:
            raise ScheduleInputError(
                f"length {length_km} km must be a non-negative number", field=field
            )
        if length_km > max_length_km:
            raise ScheduleInputError(
                f"length {length_km} km is beyond the {max_length_km:g} km the fibre key-rate "
                "model is anchored on; give the rate in bit/s instead",
                field=field,
            )
        rate_bps = float(fibre_key_rate_bps(length_km, **model))
    assert rate_bps is not None
    if not math.isfinite(rate_bps) or rate_bps < 0:
        raise ScheduleInputError(
            f"key rate {rate_bps} bit/s must be a non-negative number", field=field
        )
    return FibreLink(a, b, float(rate_bps), None if length_km is None else float(length_km))


_VALUE = re.compile(r"^\s*([-+0-9.eE]+)\s*(bps|bit/s|km)?\s*$")


def parse_fibre_link(text: str, known_stations: Iterable[str], **kwargs: float) -> FibreLink:
    """Parse ``A:B:<rate>[bps]`` or ``A:B:<length>km`` into a :class:`FibreLink`.

    Parameters
    ----------
    text
        e.g. ``"Jinan:Beijing:50km"`` or ``"Beijing:Shanghai:1200bps"`` (a bare number is bit/s).
    known_stations
        The known station names.
    **kwargs
        Passed on to :func:`make_fibre_link`.

    Raises
    ------
    ScheduleInputError
        If the text is malformed or the link is invalid; the field is the parameter
        ``fibre_links`` (the CLI names its flag) and the message starts with the text.
    """
    try:
        return _parse_fibre_link(text, known_stations, "fibre_links", **kwargs)
    except ScheduleInputError as exc:
        raise ScheduleInputError(f"{str(text)!r}: {exc.message}", field="fibre_links") from None


def _parse_fibre_link(text: str, known_stations, field: str, **kwargs) -> FibreLink:
    parts = str(text).split(":")
    if len(parts) != 3:
        raise ScheduleInputError("expected STATION_A:STATION_B:RATE_BPS or ...:LENGTHkm",
                                 field=field)
    match = _VALUE.match(parts[2])
    if match is None:
        raise ScheduleInputError(f"cannot read {parts[2]!r} as a rate (bps) or a length (km)",
                                 field=field)
    try:
        value = float(match.group(1))
    except ValueError:
        raise ScheduleInputError(f"cannot read {parts[2]!r} as a number", field=field) from None
    if match.group(2) == "km":
        return make_fibre_link(parts[0], parts[1], known_stations, length_km=value, field=field,
                               **kwargs)
    return make_fibre_link(parts[0], parts[1], known_stations, rate_bps=value, field=field,
                           **kwargs)
