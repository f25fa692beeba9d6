"""Opening the warehouse: its write lock, small query helpers (where it is: `Settings.warehouse`).

Tables hold the latest version of every row (replays applied); their layout is
`pipeline.warehouse.schema`'s, the SQL models' stored results `pipeline.warehouse.materialise`'s,
so an analyst querying the file and the report read the very same figures.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Any

import duckdb

from pipeline.core.settings import DEFAULT_LOCK_TIMEOUT
from pipeline.warehouse.spill import remove_stale_spill


def connect(
    path: Path, read_only: bool = False, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting a bounded time while another program holds its lock
    (and remove the spill files a killed process left beside it: `remove_stale_spill`).

    DuckDB lets one process write a file, or several read it, never both: a load
    started while an analyst has the file open waits `lock_timeout` seconds
    (`Settings.lock_timeout`, `CSI_LOCK_TIMEOUT`), then stops with a clear message
    instead of blocking forever.
    """
    from pipeline.core.errors import UsageError, WarehouseBusy, warehouse_reason

    if not read_only:
        make_folder(path.parent, f"Entrepôt impossible à créer : {path}")
    remove_stale_spill(path)
    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise UsageError(
                    f"Entrepôt illisible : {path} : {warehouse_reason(str(exc))}."
                ) from None
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"L'entrepôt {path} est ouvert par un autre programme (session d'analyse, "
                    f"autre chargement) depuis plus de {lock_timeout:.0f} s. Fermez-le puis "
                    "relancez ; pour analyser pendant les chargements, travaillez sur une copie "
                    "(csi snapshot)."
                ) from None
            time.sleep(0.5)


def make_folder(folder: Path, refusal: str) -> None:
    """Create `folder` (and its parents) or refuse: `refusal`, then the reason in French."""
    from pipeline.core.errors import UsageError, write_reason

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{refusal} : {write_reason(error)}.") from None


def catalog(con: duckdb.DuckDBPyConnection) -> str:
    """The open database's name as an SQL identifier: DuckDB names it after the file, and a
    file name may hold a dash or a space (`entrepot-2025.duckdb`)."""
    name = con.execute("select current_database()").fetchall()[0][0]
    return '"' + name.replace('"', '""') + '"'


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query (DuckDB 2 wants every result fetched to the end)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> Any:
    """The first value of a query's first row (None without a row): whatever SQL type it has."""
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


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Each column of the warehouse table `table` with its SQL type, in table order."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_name = ? "
        "order by ordinal_position",
        [table],
    ).fetchall()
    return dict(rows)


def tidying() -> AbstractContextManager[None]:
    """Around the tidying statements of a `finally` block (drop a temporary table, unregister
    a frame, restore a setting): skipped once an error has aborted the transaction.

    DuckDB then refuses every statement but a rollback: raising « transaction is aborted »
    there would hide the error that aborted it (an interruption, a refused cast). The
    rollback that follows, or the closed connection, does the tidying instead.
    """
    return suppress(duckdb.TransactionException)


def interrupted(error: BaseException) -> bool:
    """Whether `error` is DuckDB stopping a statement because the user interrupted it.

    DuckDB checks Python's signals while it runs: a Ctrl-C, or a SIGTERM turned into an
    interruption, ends the statement with a plain `RuntimeError("Query interrupted")`
    instead of the `KeyboardInterrupt` the signal raised.
    """
    return isinstance(error, duckdb.InterruptException) or (
        type(error) is RuntimeError and str(error) == "Query interrupted"
    )


def commit(con: duckdb.DuckDBPyConnection, *, merge_row_groups: bool) -> None:
    """Commit the transaction; with `merge_row_groups` false, the checkpoint that may follow
    (a large commit) merges no row groups.

    Why: each statement writing on both cores ends with part-filled row groups, one per
    thread, and the checkpoint's vacuum rewrites (decompresses, recompresses) neighbouring
    ones into fewer: 4–5 s of a 10M-line first load's 45, for a file read as fast. The
    same vacuum removes deleted rows: a transaction that deleted some (replaced lines,
    recomputed scopes) commits with it, and merges the part-filled groups left before.
    """
    if merge_row_groups:
        con.execute("commit")
        return
    tasks = scalar(con, "select current_setting('max_vacuum_tasks')")
    con.execute("set max_vacuum_tasks = 0")
    try:
        con.execute("commit")
    finally:
        with tidying():
            con.execute(f"set max_vacuum_tasks = {int(tasks)}")


def engine_failure(error: BaseException) -> str | None:
    """What to tell the user when DuckDB itself stops a statement (None: not DuckDB's).

    Why: out of memory (a budget too small for the work, `CSI_MEMORY_LIMIT`) or a full
    disk can meet any command; the transaction is then rolled back, and the user needs
    the cause and the remedy in French, not DuckDB's English traceback.
    """
    if not isinstance(error, duckdb.Error):
        return None
    kept = "Rien n'a été enregistré : l'entrepôt est dans son état précédent."
    text = str(error)
    if isinstance(error, duckdb.OutOfMemoryException):
        return (
            "DuckDB n'a pas eu assez de mémoire pour terminer. Donnez-lui-en davantage "
            "(variable CSI_MEMORY_LIMIT, 512MB par défaut : par exemple 2GB) ou fermez "
            f"d'autres programmes, puis relancez. {kept}"
        )
    if "No space left on device" in text:
        return (
            "Disque plein : libérez de la place (entrepôt, dossier temporaire), puis "
            f"relancez. {kept}"
        )
    first = " ".join(text.split())[:300]
    return (
        f"DuckDB a rencontré une erreur inattendue ({type(error).__name__} : {first}). "
        f"{kept} Relancez ; si l'erreur revient, signalez-la avec la commande lancée."
    )
