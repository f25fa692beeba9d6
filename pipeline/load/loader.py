"""Load a validated extract into the warehouse: one transaction, replays applied.

The identity of a row is its key (`canonical.KEYS`). A row whose key is new is
inserted; a row whose key exists with different content replaces it (the latest
extract wins, status changes included); a row identical to the stored one is left
alone, so loading the same extract twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow as pa

from pipeline import __version__
from pipeline.core.canonical import KEYS, TABLES, WAREHOUSE_TABLES
from pipeline.core.errors import Finding, InputError
from pipeline.core.settings import NO_HOOKS, Hooks, Settings
from pipeline.extract.folder import Extract
from pipeline.extract.pseudonym import Keyring, StoredKey
from pipeline.extract.staging import remove_stale, signals_interrupt, staging_folder
from pipeline.extract.validate import MAX_FINDINGS
from pipeline.load.batches import Lookahead, arrow_of, checked_batches, run_stream
from pipeline.load.matches import StoredKeys
from pipeline.warehouse.database import column_types, commit, first_row, scalar, tidying
from pipeline.warehouse.materialise import refresh_load
from pipeline.warehouse.schema import initialise

if TYPE_CHECKING:
    from schemas.register import CentreRegister


@dataclass(frozen=True)
class LoadSummary:
    load_id: int
    rows_read: int
    rows_inserted: int
    rows_replaced: int
    rows_unchanged: int
    # (FINESS, year, file) of every register this load stored, so that a register loaded
    # alone does not read as « 0 lignes lues » to the secretary who just wrote it.
    registers: tuple[tuple[str, int, str], ...] = ()


def _typed_columns(con: duckdb.DuckDBPyConnection, table: str, cast: str = "cast") -> str:
    types = column_types(con, WAREHOUSE_TABLES[table])
    return ", ".join(f"{cast}({c.name} as {types[c.name]}) as {c.name}" for c in TABLES[table])


def _staged_rows(con: duckdb.DuckDBPyConnection, table: str, cast: str = "cast") -> str:
    """`staged_frame` in warehouse types with its origin, as one select."""
    return f"select {_typed_columns(con, table, cast)}, source_file, source_row from staged_frame"


def _same_content(table: str) -> str:
    """True when stored row `t` and staged row `s` (same key) hold the same values.

    Column by column, NULL equal to NULL, in warehouse types (a decimal compares by
    value). Cheaper than a stored fingerprint: building one meant writing every value
    of every row as text, for a comparison only replayed rows need.
    """
    keys = set(KEYS[table])
    return " and ".join(
        f"t.{c.name} is not distinct from s.{c.name}" for c in TABLES[table] if c.name not in keys
    )


def _one_pass(frame: pl.DataFrame) -> pa.RecordBatchReader:
    """The batch as an Arrow stream that lets go of each record batch once DuckDB read it.

    Why not register the frame itself: DuckDB keeps every Python object a statement
    read alive until the transaction ends, so a 10M-line load would hold all its
    batches (gigabytes). Streamed, the batch is read in place (no staged file to write
    and read back) and freed as soon as it is inserted; the stream can be read once.
    """
    table = arrow_of(frame)  # no copy: the frame's own buffers
    schema, batches = table.schema, table.to_batches()
    del table

    def drain() -> Iterator[pa.RecordBatch]:
        while batches:
            yield batches.pop(0)

    return pa.RecordBatchReader.from_batches(schema, drain())


@contextmanager
def _staged(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> Iterator[None]:
    """A checked batch as `staged_frame`, streamed: for one statement to read, once."""
    con.register("staged_frame", _one_pass(frame))
    try:
        yield
    finally:
        with tidying():
            con.unregister("staged_frame")


def _stage_staged(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """`staged_frame` as `stage_<table>`: warehouse types and origin, typed once."""
    con.execute(f"create or replace temp table stage_{table} as {_staged_rows(con, table)}")


def _stage_keys(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Keep only the keys of `staged_frame` (a refused extract), to report its duplicates."""
    keys = ", ".join(KEYS[table])
    con.execute(
        f"insert into refused_keys_{table} select {keys}, source_file, source_row "
        f"from ({_staged_rows(con, table, 'try_cast')})"
    )


def _key_tables(con: duckdb.DuckDBPyConnection, table: str, fresh: bool = False) -> None:
    """The load's key tables: rows found unchanged, keys of a refused extract's rows."""
    target = WAREHOUSE_TABLES[table]
    keys = ", ".join(KEYS[table])
    create = "create or replace temp table" if fresh else "create temp table if not exists"
    for name in (f"unchanged_{table}", f"refused_keys_{table}"):
        con.execute(
            f"{create} {name} as select {keys}, source_file, source_row from {target} with no data"
        )


def _upsert(con: duckdb.DuckDBPyConnection, table: str, load_id: int) -> tuple[int, int, int]:
    """Apply `stage_<table>` to the warehouse: insert, replace or leave alone.

    The stage is matched against the rows that existed before this load only (rows of
    earlier batches of the same load can only match through a duplicate, which the
    extract-wide check reports and which refuses the whole load).
    """
    target = WAREHOUSE_TABLES[table]
    keys = KEYS[table]
    on = " and ".join(f"t.{k} = s.{k}" for k in keys)
    _key_tables(con, table)
    con.execute(
        f"create or replace temp table matched_{table} as "
        f"select t.rowid as target_row, {', '.join(f's.{k}' for k in keys)}, "
        f"s.source_file, s.source_row, {_same_content(table)} as unchanged "
        f"from {target} t join stage_{table} s on {on} where t.load_id <> {load_id}"
    )
    replaced, unchanged = first_row(
        con,
        f"select count(*) filter (where not unchanged), count(*) filter (where unchanged) "
        f"from matched_{table}",
    ) or (0, 0)  # an aggregate always returns its one row
    if replaced:
        stale = f"(select target_row from matched_{table} where not unchanged)"
        con.execute(
            f"insert into {target}_history select t.*, {load_id}::bigint as replaced_by_load "
            f"from {target} t where t.rowid in {stale}"
        )
        con.execute(f"delete from {target} where rowid in {stale}")
    if unchanged:
        con.execute(
            f"insert into unchanged_{table} select {', '.join(keys)}, source_file, source_row "
            f"from matched_{table} where unchanged"
        )
        source = (
            f"stage_{table} s anti join (select source_file, source_row from matched_{table} "
            "where unchanged) u using (source_file, source_row)"
        )
    else:
        source = f"stage_{table} s"
    inserted = scalar(
        con, f"insert into {target} by name select s.*, {load_id}::bigint as load_id from {source}"
    )
    return inserted - replaced, replaced, unchanged


def _duplicates(
    con: duckdb.DuckDBPyConnection, table: str, load_id: int, order: dict[str, int]
) -> list[tuple[str, int]]:
    """Rows of the extract whose key another row of the extract also has (first 200).

    Over the whole extract, batches and files together: the rows this load wrote, the
    rows it found unchanged and, for a refused extract, the keys it kept. Equal 64-bit
    hashes of the key, found by sorting them (cheaper than grouping 10M keys), narrow
    the candidates; the keys themselves decide.
    """
    keys = ", ".join(KEYS[table])
    con.register(
        "file_order",
        pl.DataFrame(
            {"source_file": list(order), "file_order": list(order.values())},
            schema={"source_file": pl.String, "file_order": pl.Int64},
        ),
    )
    extract_keys = (
        f"select {keys}, source_file, source_row from {WAREHOUSE_TABLES[table]} "
        f"where load_id = {load_id} "
        f"union all select * from unchanged_{table} union all select * from refused_keys_{table}"
    )
    rows = con.execute(
        f"""with candidates as (
                select distinct key_hash from (
                    select key_hash, lag(key_hash) over (order by key_hash) as previous
                    from (select hash({keys}) as key_hash from ({extract_keys}))
                ) where key_hash = previous
            )
            select k.source_file, k.source_row
            from ({extract_keys}) k
            left join file_order o using (source_file)
            where hash({keys}) in (select key_hash from candidates)
            qualify count(*) over (partition by {keys}) > 1
            order by o.file_order, k.source_row
            limit {MAX_FINDINGS}"""
    ).fetchall()
    con.unregister("file_order")
    return [(str(f), int(r)) for f, r in rows]


def _cross_table_findings(con: duckdb.DuckDBPyConnection, load_id: int) -> list[Finding]:
    """Birth dates after an act of the same patient (checked against the whole warehouse).

    Only pairs where this load wrote the line or the patient can be new: each side is
    read from the rows of this load, the other side from the whole warehouse.
    """
    pairs = """select b.source_file, b.source_row, p.birth_date, b.act_date
               from billing_lines b join patients p using (centre_finess, patient_id)
               where p.birth_date > b.act_date and b.source_file is not null and {side}"""
    rows = con.execute(
        f"""{pairs.format(side=f"b.load_id = {load_id}")}
            union
            {pairs.format(side=f"p.load_id = {load_id}")}
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
    con: duckdb.DuckDBPyConnection, register: CentreRegister, name: str, load_id: int
) -> bool:
    """Keep every version of a register; return False when this one changes nothing."""
    from pipeline.warehouse.register_tables import register_json

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
    for f in extract.input_files():
        con.execute(
            "insert into load_files values (?, ?, ?, ?, ?)",
            [load_id, f.table, f.name, f.sha256, f.rows],
        )
    scopes = pl.DataFrame(
        sorted(extract.scopes, key=str),
        schema={"file_name": pl.String, "centre_finess": pl.String, "year": pl.Int32},
        orient="row",
    )
    con.register("scopes_frame", scopes)
    con.execute(
        "insert into load_file_scopes select ?, file_name, centre_finess, year from scopes_frame",
        [load_id],
    )
    con.unregister("scopes_frame")
    for name, register in extract.registers:
        con.execute(
            "insert into load_file_scopes values (?, ?, ?, ?)",
            [load_id, name, register.finess, register.year],
        )


def _append(con: duckdb.DuckDBPyConnection, table: str, load_id: int) -> int:
    """Insert `staged_frame` as new rows: typed and written in one pass."""
    return scalar(
        con,
        f"insert into {WAREHOUSE_TABLES[table]} by name "
        f"select *, {load_id}::bigint as load_id from ({_staged_rows(con, table)})",
    )


def _upsert_batch(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, load_id: int
) -> tuple[int, int, int]:
    """Write a batch sharing a key with the stored rows: insert, replace or leave alone."""
    with _staged(con, frame):
        _stage_staged(con, table)
    return _upsert(con, table, load_id)


def _append_run(
    con: duckdb.DuckDBPyConnection, table: str, load_id: int, batches: Lookahead, extract: Extract
) -> int:
    """Append the head batch and the plain ones after it in one statement (`run_stream`).

    The run ends before a batch that shares a key with the stored rows, or once the
    extract is refused (then only keys are kept).
    """
    stream, end = run_stream(batches, lambda batch: batch.matched or extract.refused)
    con.register("staged_frame", stream)
    try:
        inserted = _append(con, table, load_id)
    finally:
        with tidying():
            con.unregister("staged_frame")
    if end.error is not None:
        raise end.error
    return inserted


def _load_table(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    table: str,
    load_id: int,
    hooks: Hooks = NO_HOOKS,
) -> tuple[int, int, int]:
    """Stream one table into the warehouse; its duplicates go to the extract.

    Runs of batches that only add rows are appended one statement per run; a batch
    sharing a key with the stored rows takes the replay path. Once anything is wrong
    with the extract, batches are still read and checked (every problem is reported in
    one pass) but only their keys are kept, for the duplicates.
    """
    totals = [0, 0, 0]
    _key_tables(con, table, fresh=True)
    stored = bool(scalar(con, f"select count(*) from {WAREHOUSE_TABLES[table]}"))
    with (
        StoredKeys(con, table) if stored else nullcontext() as matches,
        staging_folder() as folder,
        closing(checked_batches(extract, table, folder, matches)) as checked,
    ):
        batches = Lookahead(checked)
        while (head := batches.head) is not None:
            matched = head.matched
            del head  # each path takes its batches and lets them go: hold none here
            if extract.refused:
                with _staged(con, batches.take().frame):
                    _stage_keys(con, table)
            elif matched:
                for i, n in enumerate(_upsert_batch(con, table, batches.take().frame, load_id)):
                    totals[i] += n
            else:
                totals[0] += _append_run(con, table, load_id, batches, extract)
            hooks.fault_point(f"{table}-batch")  # batches inserted, the next one being read
    if not extract.keys_distinct(table):
        extract.add_duplicates(table, _duplicates(con, table, load_id, extract.file_order()))
    return totals[0], totals[1], totals[2]


def _stored_keys(cursor: duckdb.DuckDBPyConnection) -> Callable[[str], StoredKey]:
    """What the warehouse held of each centre's key before this load, for `Keyring`.

    Asked from the batch-reading thread, on a cursor of its own; it sees the state
    committed before this load. The pseudonym scan runs only for a centre without a
    fingerprint yet (a warehouse written before fingerprints were kept).
    """

    def stored(finess: str) -> StoredKey:
        found = first_row(
            cursor, "select fingerprint from key_fingerprints where centre_finess = ?", [finess]
        )
        if found:
            return StoredKey(found[0], True)
        has = any(
            first_row(
                cursor,
                f"select 1 from {table} where centre_finess = ? and patient_id like 'PS-%' limit 1",
                [finess],
            )
            for table in WAREHOUSE_TABLES.values()
        )
        return StoredKey(None, has)

    return stored


def _record_fingerprints(con: duckdb.DuckDBPyConnection, keyring: Keyring, load_id: int) -> None:
    """Keep the fingerprint of every key this load used for the first time."""
    for finess, print_ in sorted(keyring.new_fingerprints.items()):
        con.execute(
            "insert into key_fingerprints values (?, ?, ?) on conflict do nothing",
            [finess, print_, load_id],
        )


def _peak_rss_mib() -> int | None:
    """The process's peak resident memory so far (None where the OS does not say)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _log_phases(
    target: Path | None,
    started: float,
    loaded: float,
    refreshed: float,
    committed: float,
    ingest_peak: int | None,
) -> None:
    """Append the load's phase durations (and the process's peak memory so far) to the
    file `target` (`CSI_PHASE_LOG`, `Settings.phase_log`), if any.

    For the benchmark (`benchmarks/run.py`), which reports the ingest itself (read,
    check, pseudonymise, insert) apart from the refresh of the stored models. Durations
    only: nothing of the extract's content.
    """
    if target is None:
        return
    phases = {
        "ingest_s": round(loaded - started, 3),
        "refresh_s": round(refreshed - loaded, 3),
        "commit_s": round(committed - refreshed, 3),
        "peak_rss_mib_ingest": ingest_peak,
        "peak_rss_mib": _peak_rss_mib(),
    }
    with open(target, "a", encoding="utf-8") as log:
        log.write(json.dumps(phases) + "\n")


def _write_tables(
    con: duckdb.DuckDBPyConnection, extract: Extract, load_id: int, hooks: Hooks
) -> list[int]:
    """Every table of the extract, refused as a whole if anything was found wrong:
    (inserted, replaced, unchanged)."""
    totals = [0, 0, 0]
    for table in extract.present:
        for i, n in enumerate(_load_table(con, extract, table, load_id, hooks)):
            totals[i] += n
        hooks.fault_point(table)  # the table written, the transaction open
    if extract.refused:
        findings = extract.all_findings()
        raise InputError(f"Extraction refusée : {len(findings)} problème(s) à corriger", findings)
    return totals


def _write_registers(
    con: duckdb.DuckDBPyConnection, extract: Extract, load_id: int
) -> list[tuple[str, int, str]]:
    """Store each register that changed; (FINESS, year, file) of those stored."""
    from pipeline.warehouse.register_tables import write_register

    registers: list[tuple[str, int, str]] = []
    for name, register in extract.registers:
        if _record_register_version(con, register, name, load_id):
            write_register(con, register, name, load_id)
            registers.append((register.finess, register.year, name))
    return registers


def _record_load(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    load_id: int,
    started: dt.datetime,
    totals: list[int],
    registers: list[tuple[str, int, str]],
) -> None:
    """The load's row in `loads`, its files and scopes, the keys' fingerprints."""
    con.execute(
        "insert into loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            started,
            dt.datetime.now(),
            str(extract.directory),
            extract.profile,
            __version__,
            "loaded" if totals[0] or totals[1] or registers else "unchanged",
            sum(extract.rows.values()),
            *totals,
        ],
    )
    _record_files(con, extract, load_id)
    _record_fingerprints(con, extract.keyring, load_id)


def load_extract(
    con: duckdb.DuckDBPyConnection, extract: Extract, settings: Settings
) -> LoadSummary:
    """Validate and write the extract in one transaction; on any failure nothing changes.

    Rows are checked and written batch by batch inside the transaction; a problem
    anywhere (a row, a duplicate, a register, a birth date) rolls everything back, as
    does a Ctrl-C, a SIGTERM or a SIGHUP (`signals_interrupt`). `settings` gives DuckDB's
    memory budget (it spills beyond it), the folder of the centres' keys and the test
    harness's fault points (`Hooks`, no-ops in the product).
    """
    con.execute(f"set memory_limit = '{settings.memory_limit}'")
    remove_stale()
    initialise(con)
    keys = con.cursor()
    extract.keyring = Keyring(stored=_stored_keys(keys), secrets_dir=settings.secrets_dir)
    started, clock = dt.datetime.now(), time.perf_counter()
    with signals_interrupt():
        con.execute("begin transaction")
        try:
            load_id = _next_load_id(con)
            totals = _write_tables(con, extract, load_id, settings.hooks)
            registers = _write_registers(con, extract, load_id)
            problems = _cross_table_findings(con, load_id)
            if problems:
                raise InputError("Extraction refusée : dates incohérentes", problems)
            _record_load(con, extract, load_id, started, totals, registers)
            loaded, ingest_peak = time.perf_counter(), _peak_rss_mib()
            # The stored models of the scopes this load touched; then the commit, whose
            # checkpoint has row groups to vacuum only if rows were deleted.
            deleted = refresh_load(con, load_id) + totals[1]
            refreshed = time.perf_counter()
            commit(con, merge_row_groups=deleted > 0)
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            keys.close()
    _log_phases(settings.phase_log, clock, loaded, refreshed, time.perf_counter(), ingest_peak)
    inserted, replaced, unchanged = totals
    return LoadSummary(
        load_id,
        sum(extract.rows.values()),
        inserted,
        replaced,
        unchanged,
        registers=tuple(sorted(registers)),
    )
