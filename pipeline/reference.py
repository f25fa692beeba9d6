"""Reference data loaded into the warehouse: the NGAP fee schedule and public holidays.

Both are versioned with the package (the NGAP table as a CSV, holidays through the
pinned `holidays` library), so that a report regenerated later reads the same rules.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import holidays
import polars as pl

from pipeline.resources import reference_file

NGAP_FILE = "ngap_reference.csv"
HOLIDAY_YEARS = range(2000, 2041)
# Departments whose centres also observe Good Friday and 26 December.
ALSACE_MOSELLE = ("57", "67", "68")


def ngap_frame() -> pl.DataFrame:
    return pl.read_csv(
        reference_file(NGAP_FILE),
        schema_overrides={
            "snds_code": pl.String,
            "value_eur": pl.Float64,
            "coefficients": pl.String,
        },
        try_parse_dates=True,
    )


def holiday_frame() -> pl.DataFrame:
    """French public holidays, metropolitan and Alsace-Moselle, for the supported years."""
    rows: list[tuple[dt.date, str, str]] = []
    years = list(HOLIDAY_YEARS)
    for zone, calendar in (
        ("metropole", holidays.France(years=years, language="fr")),
        ("alsace_moselle", holidays.France(subdiv="57", years=years, language="fr")),
    ):
        rows += [(day, zone, name) for day, name in sorted(calendar.items())]
    return pl.DataFrame(
        rows,
        schema={"holiday_date": pl.Date, "zone": pl.String, "holiday_name": pl.String},
        orient="row",
    )


def holiday_zone(finess: str) -> str:
    return "alsace_moselle" if finess[:2] in ALSACE_MOSELLE else "metropole"


def load_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the reference tables with the package's versions.

    Tables are recreated rather than emptied so that a newer package can add columns
    to a warehouse written by an older one; the SQL models are recreated afterwards.
    """
    con.register("ngap_frame", ngap_frame())
    con.register("holiday_frame", holiday_frame())
    con.execute(
        "create or replace table ngap_reference as select code, label, family, "
        "value_eur::decimal(8, 2) as value_eur, unit, "
        "case when coefficients is null then null "
        "else list_transform(string_split(coefficients, ';'), lambda c: c::decimal(8, 2)) end "
        "as coefficients, valid_from, valid_to, snds_code, source, to_verify from ngap_frame"
    )
    con.execute("create or replace table public_holidays as select * from holiday_frame")
    con.unregister("ngap_frame")
    con.unregister("holiday_frame")
