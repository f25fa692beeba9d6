"""The warehouse's layout: canonical and register tables, migrations, and first-time setup.

`initialise` is what every writer calls on opening: it creates whatever is missing
(tables, reference data, the stored models) so that readers never need to write.
"""

from __future__ import annotations

import duckdb

from pipeline.core.canonical import DECIMAL_PLACES, LAYOUT, Column, Kind, Table
from pipeline.core.sql import enum_type

_SQL_TYPES = {
    Kind.TEXT: "VARCHAR",
    Kind.INTEGER: "INTEGER",
    Kind.DATE: "DATE",
    Kind.TIME: "TIME",
    Kind.BOOLEAN: "BOOLEAN",
}
# Where each row of a canonical table comes from: the load, the file and its row.
LINEAGE_COLUMNS = "load_id bigint not null, source_file varchar, source_row bigint"


def sql_type(column: Column) -> str:
    """The warehouse type of a canonical column, as DuckDB reports it: decimals keep cents
    exactly, a text of the contract's few words (`allowed`) is an enum of them."""
    if column.kind is Kind.DECIMAL:
        return f"DECIMAL({column.digits},{DECIMAL_PLACES})"
    if column.kind is Kind.TEXT and column.allowed:
        return enum_type(column.allowed)
    return _SQL_TYPES[column.kind]


def _column_ddl(column: Column) -> str:
    return f"{column.name} {sql_type(column)}" + ("" if column.nullable else " not null")


def table_ddl(table: Table) -> str:
    """`create table` of a canonical table, generated from its declaration.

    The column order (key first, then the contract's order, then the lineage) is the one
    every warehouse already has: rows move between a table and its `_history` with
    `select *`, and `information_schema.columns` must not change from one version to
    the next.
    """
    columns = ", ".join(_column_ddl(c) for c in table.stored_columns())
    return f"create table if not exists {table.stored_as} ({columns}, {LINEAGE_COLUMNS})"


def history_ddl(table: Table) -> str:
    """Replaced versions of a table's rows, kept so a report can be regenerated as of any load."""
    return (
        f"create table if not exists {table.stored_as}_history as "
        f"select *, 0::bigint as replaced_by_load from {table.stored_as} with no data"
    )


CANONICAL_DDL = [
    *(table_ddl(t) for t in LAYOUT.values()),
    *(history_ddl(t) for t in LAYOUT.values()),
    """create table if not exists register_versions (
        centre_finess varchar not null, year integer not null, load_id bigint not null,
        replaced_by_load bigint, source_file varchar, register_json varchar not null)""",
    """create table if not exists loads (
        load_id bigint primary key, started_at timestamp not null, finished_at timestamp,
        extract_dir varchar, profile varchar, package_version varchar, outcome varchar,
        rows_read bigint, rows_inserted bigint, rows_replaced bigint, rows_unchanged bigint)""",
    """create table if not exists load_files (
        load_id bigint not null, table_name varchar not null, file_name varchar not null,
        sha256 varchar not null, rows bigint)""",
    """create table if not exists load_file_scopes (
        load_id bigint not null, file_name varchar not null, centre_finess varchar not null,
        year integer)""",  # year null: the file (patients) feeds every year of the centre
    # A keyed fingerprint of each centre's pseudonymisation key (never the key): a lost or
    # replaced key file is refused instead of re-keying every patient (pipeline.extract.pseudonym).
    """create table if not exists key_fingerprints (
        centre_finess varchar primary key, fingerprint varchar not null,
        load_id bigint not null)""",
    # The reference tables (`REFERENCE_TABLES`) are (re)created by pipeline.core.reference.
]


# Columns earlier versions stored and this one no longer writes (dropped on opening).
RETIRED_COLUMNS = {
    table: ("row_hash",)
    for base in (t.stored_as for t in LAYOUT.values())
    for table in (base, f"{base}_history")
}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    from pipeline.warehouse.register_tables import REGISTER_DDL

    for ddl in [*CANONICAL_DDL, *REGISTER_DDL]:
        con.execute(ddl)
    _migrate_columns(con)


def _declared_types() -> dict[str, dict[str, str]]:
    """Each canonical table's and `_history`'s declared column types."""
    return {
        name: {c.name: sql_type(c) for c in table.columns}
        for table in LAYOUT.values()
        for name in (table.stored_as, f"{table.stored_as}_history")
    }


def _migrate_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a warehouse written by an earlier version to the current layout.

    The loader once stored an md5 fingerprint (`row_hash`) to spot unchanged replays;
    it now compares the columns themselves: that column is dropped. Earlier versions
    stored the contract's few-word columns (`status`, `reason`…) as text: they become
    the enums they are declared as. A table and its `_history` must keep the same
    columns in the same order and types (rows move between them with `select *`), so
    every change goes at once, in one transaction.
    """
    found = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'main' and table_catalog = current_database()"
    ).fetchall()
    declared = _declared_types()
    changes = [
        f"alter table {t} drop column {c}" for t, c, _ in found if c in RETIRED_COLUMNS.get(t, ())
    ] + [
        f"alter table {t} alter column {c} set data type {declared[t][c]}"
        for t, c, kind in found
        if declared.get(t, {}).get(c, kind) != kind
    ]
    if not changes:
        return
    con.execute("begin transaction")
    try:
        for change in changes:
            con.execute(change)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def initialise(con: duckdb.DuckDBPyConnection) -> None:
    """Create whatever is missing: tables, reference data, the SQL models.

    The models are stored tables kept by the loads (`pipeline.warehouse.materialise`); a warehouse
    whose models are missing or were computed by other SQL files (an earlier version)
    has them rebuilt here, once, so that readers never need to write.
    """
    from pipeline.core.reference import load_reference_tables
    from pipeline.warehouse.materialise import ensure_models

    create_tables(con)
    load_reference_tables(con)
    ensure_models(con)
