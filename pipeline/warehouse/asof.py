"""Rebuild the warehouse as it stood right after a given load, for audits.

Rows replaced by later loads are kept in `*_history` tables; this module copies the
versions valid at load L into an in-memory database, with the same SQL models on top,
so a report regenerated years later reads exactly what the original report read. The
models are computed there from scratch (the slow path of audits).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipeline.core.errors import UsageError
from pipeline.core.reference import REFERENCE_TABLES, RULE_TABLES, write_rule_tables
from pipeline.core.sql import literal
from pipeline.warehouse.database import scalar
from pipeline.warehouse.materialise import build_models
from pipeline.warehouse.models import CANONICAL_TABLES
from pipeline.warehouse.schema import create_tables
from pipeline.warehouse.spill import remove_stale_spill, spill_folder


def _copy_canonical(con: duckdb.DuckDBPyConnection, table: str, load_id: int) -> None:
    """The versions valid at `load_id`, column by column: a warehouse written by an earlier
    version may still hold retired columns (`warehouse.RETIRED_COLUMNS`) until it is next
    opened for writing, and an audit opens it read-only."""
    names = [d[0] for d in con.execute(f"select * from {table} limit 0").description]
    columns = ", ".join(names)
    con.execute(
        f"insert into {table} select {columns} from wh.{table}_history "
        f"where load_id <= {load_id} and replaced_by_load > {load_id} "
        f"union all select {columns} from wh.{table} where load_id <= {load_id}"
    )


def _copy_registers(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    from pipeline.warehouse.register_tables import write_register
    from schemas.register import CentreRegister

    rows = con.execute(
        "select source_file, load_id, register_json from wh.register_versions "
        f"where load_id <= {load_id} and (replaced_by_load is null or replaced_by_load > {load_id})"
    ).fetchall()
    for source_file, version_load, text in rows:
        register = CentreRegister.model_validate(json.loads(text))
        write_register(con, register, source_file, version_load)


def _copy_reference(con: duckdb.DuckDBPyConnection) -> None:
    """The reference tables as the warehouse holds them, so the audit reads the same rules.

    A warehouse last written by a version without the rule tables (`RULE_TABLES`) gets
    this package's: they only restate its constants, which the models read instead of
    literals since.
    """
    present = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'wh'"
        ).fetchall()
    }
    for table in REFERENCE_TABLES:
        if table in present:
            con.execute(f"create table {table} as select * from wh.{table}")
    if not set(RULE_TABLES) <= present:
        write_rule_tables(con)


def open_as_of(path: Path, load_id: int) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding what `path` held right after load `load_id`.

    It spills, beyond its memory budget, where the warehouse's own connections do (an
    in-memory database would spill to `.tmp` in the current folder): a killed run's
    files are then removed at the next opening like theirs (`remove_stale_spill`).
    """
    remove_stale_spill(path)
    con = duckdb.connect(config={"temp_directory": str(spill_folder(path))})
    con.execute(f"attach {literal(path)} as wh (read_only)")  # any path, apostrophes included
    if not scalar(con, "select count(*) from wh.loads where load_id = ?", [load_id]):
        con.close()
        raise UsageError(f"Chargement n° {load_id} inconnu dans {path} (numéros : csi loads).")
    create_tables(con)
    for table in CANONICAL_TABLES:
        _copy_canonical(con, table, load_id)
    _copy_reference(con)
    for table in ("loads", "load_files", "load_file_scopes"):
        con.execute(f"insert into {table} select * from wh.{table} where load_id <= {load_id}")
    _copy_registers(con, load_id)
    con.execute("detach wh")
    build_models(con)
    return con
