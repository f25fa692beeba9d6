"""Load a validated extract into the warehouse: one transaction, replays applied.

The identity of a row is its key (`canonical.KEYS`). A row whose key is new is
inserted; a row whose key exists with different content replaces it (the latest
extract wins, status changes included); a row identical to the stored one is left
alone, so loading the same extract twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from dataclasses import dataclass

import duckdb
import polars as pl

from pipeline import __version__
from pipeline.canonical import KEYS, TABLES
from pipeline.errors import Finding, InputError
from pipeline.extract import Extract
from pipeline.readers import FILE, ROW
from pipeline.warehouse import first_row, initialise, scalar

WAREHOUSE_TABLES = {"billing": "billing_lines", "patients": "patients", "episodes": "episodes"}


@dataclass(frozen=True)
class LoadSummary:
    load_id: int
    rows_read: int
    rows_inserted: int
    rows_replaced: int
    rows_unchanged: int


def _hash_expr(table: str) -> str:
    """A content fingerprint computed by DuckDB, stable across library versions."""
    parts = [f"coalesce(cast({c.name} as varchar), '∅')" for c in TABLES[table]]
    return f"md5(concat_ws('|', {', '.join(parts)}))"


def _stage(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    target = WAREHOUSE_TABLES[table]
    columns = ", ".join(
        f"cast({c.name} as {_column_type(con, target, c.name)}) as {c.name}" for c in TABLES[table]
    )
    con.register("staged_frame", frame.rename({FILE: "source_file", ROW: "source_row"}))
    con.execute(
        f"create or replace temp table stage_{table} as "
        f"select {columns}, source_file, source_row from staged_frame"
    )
    con.unregister("staged_frame")
    con.execute(f"alter table stage_{table} add column row_hash varchar")
    con.execute(f"update stage_{table} set row_hash = {_hash_expr(table)}")


def _column_type(con: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    return scalar(
        con,
        "select data_type from information_schema.columns where table_name = ? and column_name = ?",
        [table, column],
    )


def _upsert(con: duckdb.DuckDBPyConnection, table: str, load_id: int) -> tuple[int, int, int]:
    target = WAREHOUSE_TABLES[table]
    keys = KEYS[table]
    on = " and ".join(f"t.{k} = s.{k}" for k in keys)
    replaced = scalar(
        con,
        f"select count(*) from {target} t join stage_{table} s on {on} "
        "where t.row_hash <> s.row_hash",
    )
    unchanged = scalar(
        con,
        f"select count(*) from {target} t join stage_{table} s on {on} "
        "where t.row_hash = s.row_hash",
    )
    con.execute(
        f"insert into {target}_history select t.*, {load_id}::bigint as replaced_by_load "
        f"from {target} t join stage_{table} s on {on} where t.row_hash <> s.row_hash"
    )
    con.execute(
        f"delete from {target} t using stage_{table} s where {on} and t.row_hash <> s.row_hash"
    )
    inserted = scalar(
        con,
        f"insert into {target} by name select s.*, {load_id}::bigint as load_id "
        f"from stage_{table} s anti join {target} t on {on}",
    )
    return inserted - replaced, replaced, unchanged


def _cross_table_findings(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """Birth dates after an act of the same patient (checked against the whole warehouse)."""
    rows = con.execute(
        """select b.source_file, b.source_row, p.birth_date, b.act_date
           from billing_lines b join patients p using (centre_finess, patient_id)
           where p.birth_date > b.act_date and b.source_file is not null
             and (b.load_id = getvariable('csi_load_id') or p.load_id = getvariable('csi_load_id'))
           order by 1, 2 limit 50"""
    ).fetchall()
    return [
        Finding(
            file,
            f"date de naissance du patient ({birth}) postérieure à la date de l'acte ({act})",
            row,
            "act_date",
        )
        for file, row, birth, act in rows
    ]


def _record_register_version(
    con: duckdb.DuckDBPyConnection, register, name: str, load_id: int
) -> bool:
    """Keep every version of a register; return False when this one changes nothing."""
    from pipeline.register_tables import register_json

    text = register_json(register)
    current = first_row(
        con,
        "select register_json from register_versions where centre_finess = ? and year = ? "
        "and replaced_by_load is null",
        [register.finess, register.year],
    )
    if current and current[0] == text:
        return False
    con.execute(
        "update register_versions set replaced_by_load = ? where centre_finess = ? "
        "and year = ? and replaced_by_load is null",
        [load_id, register.finess, register.year],
    )
    con.execute(
        "insert into register_versions values (?, ?, ?, null, ?, ?)",
        [register.finess, register.year, load_id, name, text],
    )
    return True


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return scalar(con, "select coalesce(max(load_id), 0) + 1 from loads")


def _record_files(con: duckdb.DuckDBPyConnection, extract: Extract, load_id: int) -> None:
    for f in extract.files:
        con.execute(
            "insert into load_files values (?, ?, ?, ?, ?)",
            [load_id, f.table, f.name, f.sha256, f.rows],
        )
    for table, frame in extract.tables.items():
        date_col = {"billing": "act_date", "episodes": "start_date"}.get(table)
        year = pl.col(date_col).dt.year() if date_col else pl.lit(None)
        scopes = frame.select(
            pl.col(FILE).alias("file_name"), "centre_finess", year.cast(pl.Int32).alias("year")
        ).unique()
        con.register("scopes_frame", scopes)
        con.execute(
            "insert into load_file_scopes "
            "select ?, file_name, centre_finess, year from scopes_frame",
            [load_id],
        )
        con.unregister("scopes_frame")
    for name, register in extract.registers:
        con.execute(
            "insert into load_file_scopes values (?, ?, ?, ?)",
            [load_id, name, register.finess, register.year],
        )


def _fault_point(table: str) -> None:
    """Fault injection for the all-or-nothing tests: stop here, mid-transaction.

    `CSI_FAULT_AFTER=billing` makes the load announce itself on stderr and wait, so a
    test can kill or interrupt the process while the transaction is open.
    """
    if os.environ.get("CSI_FAULT_AFTER") == table:
        print(f"csi-fault-point {table}", file=sys.stderr, flush=True)
        time.sleep(3600)


def load_extract(con: duckdb.DuckDBPyConnection, extract: Extract) -> LoadSummary:
    """Write the extract in one transaction; on any failure the warehouse is unchanged."""
    from pipeline.register_tables import write_register

    initialise(con)
    started = dt.datetime.now()
    con.execute("begin transaction")
    try:
        load_id = _next_load_id(con)
        con.execute(f"set variable csi_load_id = {load_id}")
        totals = [0, 0, 0]
        for table, frame in extract.tables.items():
            _stage(con, table, frame)
            for i, n in enumerate(_upsert(con, table, load_id)):
                totals[i] += n
            _fault_point(table)
        registers_changed = False
        for name, register in extract.registers:
            if _record_register_version(con, register, name, load_id):
                write_register(con, register, name, load_id)
                registers_changed = True
        problems = _cross_table_findings(con)
        if problems:
            raise InputError("Extraction refusée : dates incohérentes", problems)
        rows_read = sum(f.height for f in extract.tables.values())
        con.execute(
            "insert into loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                started,
                dt.datetime.now(),
                str(extract.directory),
                extract.profile,
                __version__,
                "loaded" if totals[0] or totals[1] or registers_changed else "unchanged",
                rows_read,
                *totals,
            ],
        )
        _record_files(con, extract, load_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return LoadSummary(load_id, rows_read, *totals)
