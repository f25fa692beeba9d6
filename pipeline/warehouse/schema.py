"""The warehouse's layout: canonical and register tables, migrations, and first-time setup.

`initialise` is what every writer calls on opening: it creates whatever is missing
(tables, reference data, the stored models) so that readers never need to write.
"""

from __future__ import annotations

import duckdb

CANONICAL_DDL = [
    """create table if not exists billing_lines (
        centre_finess varchar not null, invoice_id varchar not null, line_no integer not null,
        patient_id varchar not null, nurse_id varchar, act_date date not null, act_time time,
        act_code varchar not null, coefficient decimal(8, 2), quantity decimal(12, 2) not null,
        amount_eur decimal(12, 2), status varchar not null, episode_id varchar,
        load_id bigint not null,
        source_file varchar, source_row bigint)""",
    """create table if not exists patients (
        centre_finess varchar not null, patient_id varchar not null, birth_date date,
        sex varchar, occupation varchar, coverage varchar, complementary varchar,
        lives_alone boolean, postcode varchar,
        load_id bigint not null,
        source_file varchar, source_row bigint)""",
    """create table if not exists episodes (
        centre_finess varchar not null, episode_id varchar not null, patient_id varchar not null,
        start_date date not null, end_date date, reason varchar not null,
        referral_origin varchar, hospital_discharge boolean not null,
        discharge_establishment varchar, discharge_finess varchar, discharge_service varchar,
        discharge_care_type varchar, discharge_care_detail varchar,
        load_id bigint not null,
        source_file varchar, source_row bigint)""",
    # Replaced versions of rows, kept so a report can be regenerated as of any load.
    "create table if not exists billing_lines_history as "
    "select *, 0::bigint as replaced_by_load from billing_lines with no data",
    "create table if not exists patients_history as "
    "select *, 0::bigint as replaced_by_load from patients with no data",
    "create table if not exists episodes_history as "
    "select *, 0::bigint as replaced_by_load from episodes with no data",
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
    for base in ("billing_lines", "patients", "episodes")
    for table in (base, f"{base}_history")
}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    from pipeline.warehouse.register_tables import REGISTER_DDL

    for ddl in [*CANONICAL_DDL, *REGISTER_DDL]:
        con.execute(ddl)
    _drop_retired_columns(con)


def _drop_retired_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a warehouse written by an earlier version to the current layout.

    The loader once stored an md5 fingerprint (`row_hash`) to spot unchanged replays;
    it now compares the columns themselves. A table and its `_history` must keep the
    same columns in the same order (rows move between them with `select *`), so every
    retired column goes at once, in one transaction.
    """
    found = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'main' and table_catalog = current_database()"
    ).fetchall()
    retired = [(t, c) for t, c in found if c in RETIRED_COLUMNS.get(t, ())]
    if not retired:
        return
    con.execute("begin transaction")
    try:
        for table, column in retired:
            con.execute(f"alter table {table} drop column {column}")
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
