"""Orbital element sets: the public names of the element-set modules in one place.

The work is done in one module per concept:

* :mod:`planner.elements.elementset` -- :class:`ElementSet` and the checks shared by all formats;
* :mod:`planner.elements.tle` -- the strict TLE reader and writer;
* :mod:`planner.elements.omm` -- OMM as GP JSON, CSV, XML and KVN;
* :mod:`planner.elements.catalogue` -- files (format by extension or content) and the catalogue;
* :mod:`planner.elements.age` -- element-set age checks and the summary table.

The orbital model is SGP4 as implemented by the ``sgp4`` package (the propagator Skyfield uses),
initialised with the WGS72 constants exactly as ``Satrec.twoline2rv`` and ``sgp4.omm.initialize``
do by default. Every problem in an input is an :class:`~planner.errors.ElementSetError` naming the
file, the 1-based line and the field.
"""

from __future__ import annotations

from planner.elements.age import check_ages, element_age_days, summarise
from planner.elements.catalogue import (
    Catalogue,
    default_element_paths,
    read_catalogue,
    read_elements,
    to_datetime64,
)
from planner.elements.elementset import (
    DEFAULT_ELEMENTS,
    MICIUS_ELEMENTS,
    WGS72_EQUATORIAL_RADIUS_KM,
    ElementSet,
)
from planner.elements.omm import parse_omm_csv, parse_omm_json, parse_omm_kvn, parse_omm_xml
from planner.elements.tle import TLE_LINE_LENGTH, format_tle, parse_tle_text, tle_checksum

__all__ = [
    "DEFAULT_ELEMENTS",
    "MICIUS_ELEMENTS",
    "TLE_LINE_LENGTH",
    "WGS72_EQUATORIAL_RADIUS_KM",
    "Catalogue",
    "ElementSet",
    "check_ages",
    "default_element_paths",
    "element_age_days",
    "format_tle",
    "parse_omm_csv",
    "parse_omm_json",
    "parse_omm_kvn",
    "parse_omm_xml",
    "parse_tle_text",
    "read_catalogue",
    "read_elements",
    "summarise",
    "tle_checksum",
    "to_datetime64",
]
