"""The night sheet: what one station's crew flies."""

from __future__ import annotations

import pandas as pd

from planner.relay.fibre import resolve_station
from planner.relay.plan import Plan


def station_night_sheet(plan: Plan, key_table: pd.DataFrame, station: str) -> pd.DataFrame:
    """Chosen passes of one station, in time order, for the night crew.

    Returns
    -------
    pandas.DataFrame
        Index ``pass_id``; ``night_date, satellite, aos_utc, tca_utc, los_utc,
        aos_azimuth_deg, max_elevation_deg, expected_secure_bits, used_bits``.
    """
    known = sorted(set(key_table["station"].astype(str)) | set(plan.parameters["telescopes"]))
    name = resolve_station(station, known, f"station {station!r}")
    chosen = plan.passes[plan.passes["station"] == name]
    rows = key_table.loc[chosen.index]
    sheet = pd.DataFrame({
        "night_date": chosen["night_date"], "satellite": rows["satellite"],
        "aos_utc": rows["aos_utc"], "tca_utc": rows["tca_utc"], "los_utc": rows["los_utc"],
        "aos_azimuth_deg": rows.get("aos_azimuth_deg"),
        "max_elevation_deg": rows.get("max_elevation_deg"),
        "expected_secure_bits": rows["expected_secure_bits"], "used_bits": chosen["used_bits"],
    }, index=chosen.index)
    sheet.index.name = "pass_id"
    return sheet.sort_values("aos_utc")

