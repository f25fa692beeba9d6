"""Reference data loaded into the warehouse: the NGAP fee schedule, public holidays, and
the rules the SQL models apply to them (each NGAP family's role, each FINESS prefix's zones).

All are versioned with the package (the NGAP table as a CSV, holidays through the
pinned `holidays` library, the rules as the constants below), so that a report
regenerated later reads the same rules. The SQL models read the rules from the tables
`ngap_families` and `finess_zones`, made here from the very constants the Python code
uses, so a family or a department is declared once.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import string
from typing import TYPE_CHECKING

import duckdb
import holidays

if TYPE_CHECKING:  # polars takes half a second to import: readers of reports never need it
    import polars as pl

from pipeline.core.resources import reference_file
from pipeline.core.sql import enum_type

NGAP_FILE = "ngap_reference.csv"
HOLIDAY_YEARS = range(2000, 2041)
# Departments whose centres also observe Good Friday and 26 December.
ALSACE_MOSELLE = ("57", "67", "68")
# Overseas departments (Guadeloupe, Martinique, Guyane, La Réunion, Mayotte): FINESS 97….
OVERSEAS_PREFIXES = ("97",)
NGAP_ZONES = ("metropole", "dom")
# Families whose lines count coefficients (annexe 3 section 3's "nombre total de
# coefficients", the breakdown by coefficient, the missing-coefficient finding).
COEFFICIENT_FAMILIES = ("AMI", "AMX", "AIS", "DSI")
# Families whose lines are a visit's acts in the billing audit (majorations, IFD, IK and
# the coordination fee are not acts of their own).
VISIT_ACT_FAMILIES = (*COEFFICIENT_FAMILIES, "other_acts")
# The tables made from the constants above, read by the SQL models instead of literals.
RULE_TABLES = ("ngap_families", "finess_zones")
# The reference tables this module writes, each (re)created by `load_reference_tables`.
REFERENCE_TABLES = ("ngap_reference", "public_holidays", *RULE_TABLES)
# Columns stored as an enum of their values (`core.sql.enum_type`): the models copy them
# onto every counted line, where a text column costs DuckDB five times more to write.
ENUM_COLUMNS = {
    "ngap_reference": ("family", "unit"),
    "ngap_families": ("family",),
    "finess_zones": ("ngap_zone", "holiday_zone"),
}
# The tables' layout (their columns and types): a new one changes the stamp, so the
# tables of a warehouse written by an earlier version are recreated.
LAYOUT_VERSION = 2
# Coordination flat fee (2003 fiche): (lowest nurse FTE of the band, yearly amount in euros).
FORFAIT_BANDS = ((10, 19391), (7, 16160), (4, 12928), (0, 7622))
_SAME_AS_METROPOLE = "; valeur métropolitaine (pas de valeur propre à la zone)"


def ngap_zone(finess: str) -> str:
    """The NGAP zone whose values apply to a centre: `dom` overseas, else `metropole`."""
    return "dom" if finess.startswith(OVERSEAS_PREFIXES) else "metropole"


def _ngap_file_frame() -> pl.DataFrame:
    import polars as pl

    return pl.read_csv(
        reference_file(NGAP_FILE),
        schema_overrides={
            "snds_code": pl.String,
            "value_eur": pl.Float64,
            "coefficients": pl.String,
            "b2_aliases": pl.String,
        },
        try_parse_dates=True,
    )


def ngap_frame() -> pl.DataFrame:
    """The NGAP table, one row per code × zone × validity period, every zone complete.

    The file lists overseas rows only where the value differs; every other code has its
    metropolitan value there, so those rows are copied into the zone here, and the
    amount check is a plain join on the centre's zone.
    """
    import polars as pl

    table = _ngap_file_frame()
    metropole = table.filter(pl.col("zone") == "metropole")
    copies = [
        metropole.filter(
            ~pl.col("code").is_in(
                table.filter(pl.col("zone") == zone).get_column("code").unique().to_list()
            )
        ).with_columns(
            pl.lit(zone).alias("zone"), (pl.col("source") + _SAME_AS_METROPOLE).alias("source")
        )
        for zone in NGAP_ZONES
        if zone != "metropole"
    ]
    return pl.concat([table, *copies]).sort("code", "zone", "valid_from")


@functools.cache
def b2_aliases() -> dict[str, str]:
    """Codes billing software writes (SESAM-Vitale B2 keys) → the NGAP code they stand for.

    `IFA` is how B2 writes the IFD, `IKP` the plain IK: read at ingest as those codes,
    so that section 3 and the amount checks know them.
    """
    import polars as pl

    aliases: dict[str, str] = {}
    listed = _ngap_file_frame().filter(pl.col("b2_aliases").is_not_null())
    for code, keys in listed.select("code", "b2_aliases").unique().iter_rows():
        aliases.update({key.strip(): code for key in keys.split(";") if key.strip()})
    return aliases


def holiday_frame() -> pl.DataFrame:
    """French public holidays, metropolitan and Alsace-Moselle, for the supported years."""
    import polars as pl

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
    """The public-holiday calendar a centre observes: Alsace-Moselle's, else metropolitan."""
    return "alsace_moselle" if finess[:2] in ALSACE_MOSELLE else "metropole"


def finess_prefixes() -> tuple[str, ...]:
    """Every two-character start a FINESS can have (`canonical.FINESS_PATTERN`): 00…99, 2A, 2B."""
    digits = ("".join(pair) for pair in itertools.product(string.digits, repeat=2))
    return (*digits, "2A", "2B")


def finess_zones_frame() -> pl.DataFrame:
    """One row per FINESS prefix: the NGAP zone and the holiday zone of its centres.

    Why a table: the SQL models join a line's centre to it instead of repeating the
    department lists of `ngap_zone` and `holiday_zone` as literals.
    """
    import polars as pl

    prefixes = finess_prefixes()
    return pl.DataFrame(
        {
            "finess_prefix": prefixes,
            "ngap_zone": [ngap_zone(p) for p in prefixes],
            "holiday_zone": [holiday_zone(p) for p in prefixes],
        }
    )


def ngap_families_frame() -> pl.DataFrame:
    """One row per NGAP family of the reference file, with the roles the SQL models test.

    A family named in the constants but absent from the file is a packaging error: the
    models would silently count nothing for it.
    """
    import polars as pl

    families = sorted(_ngap_file_frame().get_column("family").unique().to_list())
    unknown = sorted(set(VISIT_ACT_FAMILIES) - set(families))
    if unknown:
        raise ValueError(f"families {unknown} are not in {NGAP_FILE}")
    return pl.DataFrame(
        {
            "family": families,
            "coefficient_counted": [f in COEFFICIENT_FAMILIES for f in families],
            "visit_act": [f in VISIT_ACT_FAMILIES for f in families],
        }
    )


def write_rule_tables(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `ngap_families` and `finess_zones` from this package's constants."""
    for table, frame in zip(
        RULE_TABLES, (ngap_families_frame(), finess_zones_frame()), strict=True
    ):
        con.register(f"{table}_frame", frame)
        con.execute(
            f"create or replace table {table} as select {_enums(table, frame)} from {table}_frame"
        )
        con.unregister(f"{table}_frame")


def _enums(table: str, frame: pl.DataFrame) -> str:
    """The select list of `table` from `frame`: its `ENUM_COLUMNS` cast to enums of the
    values they hold."""
    casts = ", ".join(
        f"{name}::{enum_type(frame.get_column(name).drop_nulls().unique())} as {name}"
        for name in ENUM_COLUMNS[table]
    )
    return f"* replace ({casts})"


def _rules_digest() -> str:
    """The constants behind `ngap_families` and `finess_zones`: a change rebuilds both."""
    rules = repr((COEFFICIENT_FAMILIES, VISIT_ACT_FAMILIES, ALSACE_MOSELLE, OVERSEAS_PREFIXES))
    return hashlib.sha256(rules.encode()).hexdigest()[:16]


def reference_stamp() -> str:
    """What the reference tables are built from: the NGAP file, the holidays version, the years."""
    ngap = hashlib.sha256(reference_file(NGAP_FILE).read_bytes()).hexdigest()
    return (
        f"ngap={ngap};holidays={holidays.__version__};years={HOLIDAY_YEARS};"
        f"rules={_rules_digest()};layout={LAYOUT_VERSION}"
    )


def _is_current(con: duckdb.DuckDBPyConnection, stamp: str) -> bool:
    listed = con.execute(
        "select table_name from duckdb_tables() "
        "where database_name = current_database() and schema_name = 'main'"
    ).fetchall()
    tables = {r[0] for r in listed}
    if not {"reference_stamp", *REFERENCE_TABLES} <= tables:
        return False
    return con.execute("select stamp from reference_stamp").fetchall() == [(stamp,)]


def load_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the reference tables with the package's versions, unless already current.

    Tables are recreated rather than emptied so that a newer package can add columns
    to a warehouse written by an older one; the SQL models are recreated afterwards.
    The stamp spares every report the half second the holiday calendar takes to build.
    """
    stamp = reference_stamp()
    if _is_current(con, stamp):
        return
    ngap = ngap_frame()
    con.register("ngap_frame", ngap)
    con.register("holiday_frame", holiday_frame())
    con.execute(
        f"create or replace table ngap_reference as select {_enums('ngap_reference', ngap)} "
        "from (select code, label, family, zone, value_eur::decimal(8, 2) as value_eur, unit, "
        "case when coefficients is null then null "
        "else list_transform(string_split(coefficients, ';'), lambda c: c::decimal(8, 2)) end "
        "as coefficients, valid_from, valid_to, snds_code, b2_aliases, source, to_verify "
        "from ngap_frame)"
    )
    con.execute("create or replace table public_holidays as select * from holiday_frame")
    write_rule_tables(con)
    con.execute("create or replace table reference_stamp as select ? as stamp", [stamp])
    con.unregister("ngap_frame")
    con.unregister("holiday_frame")
