"""Payload and mission parameters of the QKD downlink: the validated ``payloads.yaml``.

One entry per satellite payload holds everything the link budget (:mod:`planner.link.budget`) and
the
key model (:mod:`planner.key.decoy`) need from the spacecraft and its mission: the decoy-state
source (repetition rate, wavelength, intensities and their probabilities, basis bias), the
transmitter (beam waist, divergence with its convention named, pointing jitter, optical
efficiency), the mission's receiver chain (optics, detectors, dark counts, gate, misalignment,
after-pulsing) and the post-processing (error-correction efficiency, ε_sec, ε_cor, minimum
elevation for key exchange). Station-side values (aperture, sky background, zenith
transmittance) live with the ground station; a station may override the receiver efficiency.

File layout::

    payloads:
      - name: jinan-1
        satellites: ["JINAN-1*", "JINAN 1*"]   # shell-style patterns, case-insensitive
        repetition_rate_hz: 625.0e+6
        intensities: {signal: 0.8, decoy: 0.1, vacuum: 0.0}
        ...
        sources:                              # where each value comes from ([A] = assumption)
          repetition_rate_hz: "[S] 2.5e8 signal photons/s = 625 MHz x 0.5 x 0.8 ..."

Every mistake raises :class:`~planner.errors.PayloadError` naming file, line and field.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from planner.errors import PayloadError
from planner.io.resources import bundled_path
from planner.io.yamlfile import load_yaml, raise_validation_error
from planner.mission.source import (
    DIVERGENCE_CONVENTIONS,
    DecoySettings,
    divergence_half_angle_1e2_urad,
)

__all__ = [
    "Intensities",
    "IntensityProbabilities",
    "Payload",
    "get_payload",
    "load_payloads",
    "payload_for_satellite",
]

_BUNDLED_FILE = "payloads.yaml"


# --------------------------------------------------------------------------------------------
# Value checks (messages read well after "file:line: field: ")
# --------------------------------------------------------------------------------------------

def _number(value: Any) -> Any:
    """Accept real numbers only; explain the YAML exponent trap when text looks numeric."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {'true' if value else 'false'}")
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            raise ValueError(f"expected a number, got text {value!r}") from None
        # YAML 1.2 numbers (1e-10, 625e6) arrive as floats; this is quoted text or
        # Python-only spellings (1_000, nan, infinity): planner.io.yamlfile
        if not math.isfinite(float(value)):
            raise ValueError(f"expected a finite number, got text {value!r}")
        raise ValueError(f"{value!r} was read as text, not a number; write a plain number "
                         "without quotes or underscores (e.g. 1e-10, 625e6)")
    if not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(float(value)):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _whole(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _within(low: float | None, high: float | None, *, low_open: bool = False,
            high_open: bool = False, what: str = "") -> AfterValidator:
    def check(value: float) -> float:
        bad_low = low is not None and (value < low or (low_open and value == low))
        bad_high = high is not None and (value > high or (high_open and value == high))
        if bad_low or bad_high:
            if low is not None and high is not None:
                interval = (f"{'(' if low_open else '['}{low:g}, {high:g}"
                            f"{')' if high_open else ']'}")
                raise ValueError(f"{value:g} is outside {interval}{what}")
            if low is not None:
                raise ValueError(f"{value:g} must be {'greater than' if low_open else 'at least'}"
                                 f" {low:g}{what}")
            raise ValueError(f"{value:g} must be {'less than' if high_open else 'at most'} "
                             f"{high:g}{what}")
        return value
    return AfterValidator(check)


Number = Annotated[float, BeforeValidator(_number)]
Positive = Annotated[Number, _within(0.0, None, low_open=True)]
NonNegative = Annotated[Number, _within(0.0, None)]
Efficiency = Annotated[Number, _within(0.0, 1.0, low_open=True,
                                       what=" (an efficiency must be above 0 and at most 1)")]
Probability = Annotated[Number, _within(0.0, 1.0, low_open=True, high_open=True)]
Epsilon = Annotated[Number, _within(0.0, 1.0, low_open=True, high_open=True)]
ErrorRate = Annotated[Number, _within(0.0, 0.5, high_open=True)]
UnitFraction = Annotated[Number, _within(0.0, 1.0, high_open=True)]
Elevation = Annotated[Number, _within(0.0, 90.0, high_open=True)]
Count = Annotated[int, BeforeValidator(_whole), _within(1, None)]
Convention = Literal["half_angle_1e2", "full_angle_1e2", "half_angle_hwhm", "full_angle_fwhm"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Intensities(_Strict):
    """Mean photon numbers per pulse of the three intensity settings."""

    signal: Positive = Field(description="Signal intensity μ1 [photons/pulse].")
    decoy: Positive = Field(description="Weak-decoy intensity μ2 [photons/pulse].")
    vacuum: NonNegative = Field(default=0.0,
                                description="Vacuum (or weakest) decoy intensity μ3.")

    @model_validator(mode="after")
    def _ordered(self) -> Intensities:
        if not self.signal > self.decoy > self.vacuum:
            raise ValueError(f"intensities must be ordered signal > decoy > vacuum >= 0, got "
                             f"{self.signal:g} / {self.decoy:g} / {self.vacuum:g}")
        if not self.signal > self.decoy + self.vacuum:
            raise ValueError("the signal intensity must exceed decoy + vacuum "
                             "(Lim et al. 2014)")
        return self


class IntensityProbabilities(_Strict):
    """Probabilities with which the source sends each intensity."""

    signal: Probability
    decoy: Probability
    vacuum: Probability

    @model_validator(mode="after")
    def _normalised(self) -> IntensityProbabilities:
        total = self.signal + self.decoy + self.vacuum
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"probabilities must sum to 1, got {total:.6g}")
        return self


class Payload(_Strict):
    """Parameters of one satellite QKD payload and its mission (see module docstring)."""

    name: Annotated[str, Field(min_length=1, description="Payload name, e.g. 'jinan-1'.")]
    description: str = ""
    satellites: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(
        min_length=1, description="Shell-style patterns (case-insensitive) of the satellite "
                                  "names this payload flies on, e.g. 'JINAN-1*'.")]
    # --- source --------------------------------------------------------------------------
    repetition_rate_hz: Positive = Field(description="Pulse repetition rate [Hz].")
    wavelength_nm: Positive = Field(description="Wavelength of the quantum signal [nm].")
    intensities: Intensities
    probabilities: IntensityProbabilities
    basis_bias: Probability = Field(
        default=0.5, description="Probability q_X of the key basis at each end.")
    key_from_both_bases: bool = Field(
        default=False, description="Extract key from both bases (symmetric BB84) rather than "
                                   "from X only (efficient BB84, Lim et al. 2014).")
    # --- transmitter ---------------------------------------------------------------------
    transmitter_waist_m: Positive = Field(description="1/e² beam radius at the transmitter [m].")
    divergence_urad: Positive = Field(description="Far-field divergence as quoted [µrad].")
    divergence_convention: Convention = Field(
        description="Meaning of divergence_urad: " + ", ".join(DIVERGENCE_CONVENTIONS) + ".")
    pointing_jitter_urad: NonNegative = Field(description="Pointing jitter per axis [µrad].")
    transmitter_efficiency: Efficiency = Field(description="Transmitter optics transmission.")
    # --- receiver chain (mission default; a station may override receiver_efficiency) -----
    receiver_efficiency: Efficiency = Field(description="Ground receiver optics transmission.")
    detector_efficiency: Efficiency = Field(description="Single-photon detection efficiency.")
    detector_count: Count = Field(default=4, description="Detectors in the receiver.")
    dark_count_rate_hz: NonNegative = Field(description="Dark counts of one detector [1/s].")
    gate_width_ns: Positive = Field(description="Detection window per pulse [ns].")
    misalignment_error: ErrorRate = Field(description="Optical (misalignment) error rate.")
    afterpulse_probability: UnitFraction = Field(default=0.0,
                                                 description="After-pulse probability.")
    # --- post-processing -----------------------------------------------------------------
    ec_efficiency: Annotated[Number, _within(1.0, None)] = Field(
        default=1.16, description="Error-correction inefficiency f_EC (>= 1).")
    epsilon_sec: Epsilon = Field(default=1e-10, description="Secrecy parameter ε_sec.")
    epsilon_cor: Epsilon = Field(default=1e-15, description="Correctness parameter ε_cor.")
    min_key_elevation_deg: Elevation = Field(
        default=15.0, description="Minimum elevation for key exchange [deg].")
    sources: dict[str, str] = Field(
        default_factory=dict, description="Where each value comes from; '[A]' marks an "
                                          "assumption to be replaced by better data.")

    @model_validator(mode="after")
    def _sources_name_fields(self) -> Payload:
        unknown = sorted(set(self.sources) - set(type(self).model_fields) - {"*"})
        if unknown:
            raise ValueError(f"sources names unknown field(s) {', '.join(unknown)}")
        # Let DecoySettings apply the protocol's own constraints once more.
        self.decoy_settings  # noqa: B018
        return self

    # ---- derived quantities -------------------------------------------------------------

    @property
    def decoy_settings(self) -> DecoySettings:
        """Intensities, probabilities and basis bias as
        :class:`~planner.mission.source.DecoySettings`."""
        i, p = self.intensities, self.probabilities
        return DecoySettings((i.signal, i.decoy, i.vacuum), (p.signal, p.decoy, p.vacuum),
                             self.basis_bias)

    @property
    def divergence_half_angle_urad(self) -> float:
        """Far-field 1/e² half-angle divergence [µrad] (the quoted figure converted)."""
        return float(divergence_half_angle_1e2_urad(self.divergence_urad,
                                                    self.divergence_convention))

    @property
    def signal_photon_rate_per_s(self) -> float:
        """Mean signal photons emitted per second: rate × p_signal × μ_signal [1/s]."""
        return self.repetition_rate_hz * self.probabilities.signal * self.intensities.signal

    @property
    def mean_photons_per_pulse(self) -> float:
        """Mean photon number averaged over the intensity settings [photons/pulse]."""
        i, p = self.intensities, self.probabilities
        return i.signal * p.signal + i.decoy * p.decoy + i.vacuum * p.vacuum

    def matches(self, satellite: str) -> bool:
        """Whether a satellite name matches one of this payload's patterns (case-insensitive)."""
        name = satellite.strip().upper()
        return any(fnmatch.fnmatchcase(name, pattern.strip().upper())
                   for pattern in self.satellites)

    def parameters(self) -> dict[str, Any]:
        """Flat parameter record for provenance in outputs."""
        record = self.model_dump(exclude={"sources"})
        record["divergence_half_angle_1e2_urad"] = self.divergence_half_angle_urad
        return record


# --------------------------------------------------------------------------------------------
# Loading and lookup
# --------------------------------------------------------------------------------------------

def load_payloads(path: str | Path | None = None) -> dict[str, Payload]:
    """Read and validate a payload file.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; ``None`` reads the bundled ``payloads.yaml``.

    Returns
    -------
    dict of str to Payload
        Payloads by name, in file order.

    Raises
    ------
    PayloadError
        If the file is missing or invalid; the message names file, line and field.
    """
    file = bundled_path(_BUNDLED_FILE) if path is None else Path(path)
    doc = load_yaml(file, PayloadError)
    if not isinstance(doc.data, Mapping) or "payloads" not in doc.data:
        raise PayloadError("expected a mapping with a 'payloads:' list at the top level",
                           path=str(file), line=doc.line_of(()), field="payloads")
    extra = sorted(str(key) for key in doc.data if key != "payloads")
    if extra:
        raise PayloadError(f"unknown top-level key {extra[0]!r}; only 'payloads' is allowed",
                           path=str(file), line=doc.line_of((extra[0],)), field=extra[0])
    entries = doc.data["payloads"]
    if not isinstance(entries, list) or not entries:
        raise PayloadError("'payloads' must be a non-empty list", path=str(file),
                           line=doc.line_of(("payloads",)), field="payloads")
    payloads: dict[str, Payload] = {}
    for index, entry in enumerate(entries):
        loc = ("payloads", index)
        if not isinstance(entry, Mapping):
            raise PayloadError("each payload must be a mapping of fields", path=str(file),
                               line=doc.line_of(loc), field=f"payloads[{index}]")
        known = list(Payload.model_fields)
        for key in entry:
            if key not in known:  # before pydantic, which would first report the field as missing
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise PayloadError(f"unknown field{hint}", path=str(file),
                                   line=doc.line_of((*loc, key)),
                                   field=f"payloads[{index}].{key}")
        try:
            payload = Payload.model_validate(dict(entry))
        except ValidationError as exc:
            raise_validation_error(exc, doc, loc, PayloadError)
        key = payload.name.casefold()
        if any(existing.casefold() == key for existing in payloads):
            raise PayloadError(f"duplicate payload name {payload.name!r}", path=str(file),
                               line=doc.line_of((*loc, "name")), field=f"payloads[{index}].name")
        payloads[payload.name] = payload
    return payloads


def get_payload(payloads: Mapping[str, Payload], payload_name: str) -> Payload:
    """Look up a payload by name (case-insensitive).

    Parameters
    ----------
    payloads
        Payloads by name (:func:`load_payloads`).
    payload_name
        The name wanted.

    Raises
    ------
    PayloadError
        If there is no such payload (field ``payload_name``); the message suggests the closest
        name.
    """
    name = payload_name
    for key, payload in payloads.items():
        if key.casefold() == name.strip().casefold():
            return payload
    known = list(payloads)
    close = difflib.get_close_matches(name.strip().casefold(), [k.casefold() for k in known],
                                      n=1, cutoff=0.5)
    hint = ""
    if close:
        hint = f"; did you mean {next(k for k in known if k.casefold() == close[0])!r}?"
    raise PayloadError(f"unknown payload {name!r}{hint} (known: {', '.join(known)})",
                       field="payload_name")


def payload_for_satellite(payloads: Mapping[str, Payload], satellite: str) -> Payload:
    """The payload whose ``satellites`` patterns match a satellite name.

    Parameters
    ----------
    payloads : mapping of str to Payload
        As returned by :func:`load_payloads`.
    satellite : str
        Satellite name as in the pass table, e.g. ``"JINAN-1 (REPRESENTATIVE)"``.

    Raises
    ------
    PayloadError
        If no payload matches (name the payload explicitly then).
    """
    for payload in payloads.values():
        if payload.matches(satellite):
            return payload
    raise PayloadError(f"no payload matches satellite {satellite!r}; add its name to a "
                       f"payload's 'satellites' patterns or choose a payload by name "
                       f"(known: {', '.join(payloads)})", field="satellites")
