"""The DuckDB warehouse: canonical tables, reference tables and the SQL models.

Tables hold the latest version of every row (replays applied). The SQL models of
`sql/` are stored under their names, computed by the loads (`pipeline.materialise`),
so an analyst querying the file and the report read the very same figures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipeline.resources import resource_dir

DEFAULT_DB = Path("data") / "warehouse.duckdb"
LAYERS = ("staging", "intermediate", "marts")

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
    # replaced key file is refused instead of re-keying every patient (pipeline.pseudonym).
    """create table if not exists key_fingerprints (
        centre_finess varchar primary key, fingerprint varchar not null,
        load_id bigint not null)""",
    # ngap_reference and public_holidays are (re)created by pipeline.reference.
]


def database_path(explicit: str | Path | None = None) -> Path:
    """`--db`, else `CSI_DB`, else `data/warehouse.duckdb` in the current folder."""
    return Path(explicit or os.environ.get("CSI_DB") or DEFAULT_DB)


def lock_timeout() -> float:
    """Seconds to wait for a warehouse held by another program (`CSI_LOCK_TIMEOUT`)."""
    try:
        return float(os.environ.get("CSI_LOCK_TIMEOUT", "120"))
    except ValueError:
        return 120.0


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting a bounded time while another program holds its lock.

    DuckDB lets one process write a file, or several read it, never both: a load
    started while an analyst has the file open waits, then stops with a clear message
    instead of blocking forever.
    """
    from pipeline.errors import UsageError, WarehouseBusy

    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout()
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise UsageError(f"Entrepôt illisible : {path} ({exc})") from None
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"L'entrepôt {path} est ouvert par un autre programme (session d'analyse, "
                    f"autre chargement) depuis plus de {lock_timeout():.0f} s. Fermez-le puis "
                    "relancez ; pour analyser pendant les chargements, travaillez sur une copie "
                    "(csi snapshot)."
                ) from None
            time.sleep(0.5)


# Columns earlier versions stored and this one no longer writes (dropped on opening).
RETIRED_COLUMNS = {
    table: ("row_hash",)
    for base in ("billing_lines", "patients", "episodes")
    for table in (base, f"{base}_history")
}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    from pipeline.register_tables import REGISTER_DDL

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


def model_files() -> list[Path]:
    """The SQL models in dependency-friendly order: staging, intermediate, marts."""
    root = resource_dir("sql")
    return [path for layer in LAYERS for path in sorted((root / layer).glob("*.sql"))]


def initialise(con: duckdb.DuckDBPyConnection) -> None:
    """Create whatever is missing: tables, reference data, the SQL models.

    The models are stored tables kept by the loads (`pipeline.materialise`); a warehouse
    whose models are missing or were computed by other SQL files (an earlier version)
    has them rebuilt here, once, so that readers never need to write.
    """
    from pipeline.materialise import ensure_models
    from pipeline.reference import load_reference_tables

    create_tables(con)
    load_reference_tables(con)
    ensure_models(con)


def catalog(con: duckdb.DuckDBPyConnection) -> str:
    """The open database's name as an SQL identifier: DuckDB names it after the file, and a
    file name may hold a dash or a space (`entrepot-2025.duckdb`)."""
    name = con.execute("select current_database()").fetchall()[0][0]
    return '"' + name.replace('"', '""') + '"'


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query (DuckDB 2 wants every result fetched to the end)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    row = first_row(con, sql, params)
    return row[0] if row else None


def pack_in_groups(sized: Iterable[tuple[str, int]], limit: int) -> list[list[str]]:
    """Consecutive groups of ids whose sizes add up to about `limit` (one id at least).

    Why one helper: the load's refresh and the federation report both bound their memory
    by cutting centres into groups of about a given number of billing lines.
    """
    groups: list[list[str]] = [[]]
    size = 0
    for key, count in sized:
        if groups[-1] and size + count > limit:
            groups.append([])
            size = 0
        groups[-1].append(key)
        size += count
    return [g for g in groups if g]
