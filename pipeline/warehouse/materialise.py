"""The SQL models stored as tables, refreshed by the loads for the scopes they touch.

Why: a model read as a view recomputes its chain of views from the billing lines on
every query (8 s for `select count(*) from monthly` at 6M lines). The loads (and the
migrations) keep a stored result of every intermediate and mart model instead, so the
analyst and the report read small tables, and a report never writes to the warehouse.

Each model keeps one definition, its SQL file. A refresh runs those very files over
temporary tables that shadow the canonical tables with the rows of the refreshed
scopes (DuckDB looks up temporary objects before the warehouse's), and writes each
model's rows of those scopes straight into its stored table; the models after it read
them there, through a temporary view of the refreshed scopes' stored rows. A
scope is a centre × year: every stored model has `centre_finess` and `year` columns,
and the rows of a centre × year depend only on that centre × year's billing lines,
the centre's episodes and patients, and the registers and reference tables (so a
model reading the refreshed scopes' rows of another reads all it needs).
The staging models, `int_counted_lines`, `int_scoped_lines` and `int_visits` stay
views (`VIEW_MODELS`): the first are a cheap projection of the canonical tables, the
others line-level inputs that only stored models read.

Scopes are refreshed in groups of about `GROUP_LINES` billing lines, so memory stays
bounded whatever the size of a load or of a migration. A group of new centres whose
FINESS numbers fall among the stored ones' reads its rows from temporary copies instead
(`_scattered`): read from the stored tables, each read would scan them whole.
"""

from __future__ import annotations

import functools

import duckdb

from pipeline.core.sql import literals
from pipeline.warehouse.database import catalog, pack_in_groups, scalar, tidying
from pipeline.warehouse.models import graph, model_order, model_stamp, register_readers

# Billing lines refreshed at once. Each group re-reads the canonical lines of its centres
# (an export's row groups mix centres, so the scan prunes little): few large groups
# read them fewer times. The refresh holds no line-level temporary table, and DuckDB
# spills its joins beyond `REFRESH_MEMORY`, so memory stays bounded all the same.
GROUP_LINES = 2_000_000
# Models kept as views: line-level projections no report query reads.
VIEW_MODELS = (
    "stg_billing_lines",
    "stg_episodes",
    "stg_patients",
    "int_counted_lines",
    "int_scoped_lines",
    "int_visits",  # one row per visit, read by the billing audit's items alone
)
# The canonical tables shadowed by the rows of the refreshed scopes: the lines through
# a view (read once, by `int_counted_lines`), a centre's episodes and patients copied.
SHADOWED = ("billing_lines", "episodes", "patients")
# View models read, once a refreshed group's rows of a stored model are written, from
# that model's rows, as the many models reading them would each recompute them (the
# quality findings read the counted lines a dozen times): every counted line is one row
# of the line attribution, which begins with all its columns. The stored model is
# computed as early as its inputs allow; the view's own query runs once, for it.
READ_FROM = {"int_counted_lines": "int_line_attribution"}
STAMP_TABLE = "model_stamp"
# A group's rows of each stored model are computed into a temporary copy, which the
# models after it read, when reading them from the stored table would scan this many
# times more rows than the group's billing lines (`_scattered`), as judged from the
# committed row groups of `ZONE_MODEL`.
SCATTERED = 2
ZONE_MODEL = "int_line_attribution"
GROUP_COPY = "_group"  # suffix of that temporary copy
REFRESH_MEMORY = "512MB"  # DuckDB's budget while a load refreshes its scopes


def _model_code() -> dict[str, str]:
    """Each model's SQL, in dependency order (`pipeline.warehouse.models` reads the files)."""
    return {name: model.sql for name, model in graph().items()}


@functools.cache
def refresh_order() -> tuple[str, ...]:
    """`model_order`, with each model of `READ_FROM` moved up right after its inputs."""
    order = list(model_order())
    for provider in READ_FROM.values():
        order.remove(provider)
        after = max(order.index(name) for name in graph()[provider].reads if name in order)
        order.insert(after + 1, provider)
    return tuple(order)


def stored_models() -> tuple[str, ...]:
    """The models kept as tables, in dependency order."""
    return tuple(name for name in model_order() if name not in VIEW_MODELS)


def register_models() -> tuple[str, ...]:
    """The stored models that read a register table, directly or through another model.

    A load that changes only a centre × year's register recomputes these alone; the
    others (line attribution, patients by reason, acts…) cannot have changed.
    """
    readers = register_readers()
    return tuple(name for name in stored_models() if name in readers)


def _main_objects(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Tables and views of the warehouse's main schema: name → 'table' | 'view'."""
    rows = con.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_schema = 'main' and table_catalog = current_database()"
    ).fetchall()
    return {name: "view" if kind == "VIEW" else "table" for name, kind in rows}


def models_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the stored models exist and were computed by this package's models."""
    objects = _main_objects(con)
    if STAMP_TABLE not in objects:
        return False
    if any(objects.get(name) != "table" for name in stored_models()):
        return False
    if any(objects.get(name) != "view" for name in VIEW_MODELS):
        return False
    return con.execute(f"select stamp from {STAMP_TABLE}").fetchall() == [(model_stamp(),)]


def ensure_models(con: duckdb.DuckDBPyConnection) -> bool:
    """Build every model if they are missing or stale (a migration); True if it did.

    One transaction: a warehouse of the previous version (views only) is either
    migrated entirely or left as it was.
    """
    if models_current(con):
        return False
    con.execute("begin transaction")
    try:
        build_models(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return True


def build_models(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every model, views and empty tables, then compute every scope.

    Runs inside the caller's transaction.
    """
    database = catalog(con)
    objects = _main_objects(con)
    for name in reversed(model_order()):
        kind = objects.get(name)
        if kind:
            con.execute(f"drop {kind} if exists {database}.main.{name}")
    for name in model_order():
        body = _model_code()[name]
        if name in VIEW_MODELS:
            _create(con, f"create view {database}.main.{name} as\n{body}", name)
        else:
            _create(con, f"create table {database}.main.{name} as\n{body}\nwith no data", name)
    con.execute(f"create or replace table {STAMP_TABLE} as select ? as stamp", [model_stamp()])
    con.execute(f"create or replace temp table refresh_scopes as {all_scopes(database)}")
    refresh(con)


def _create(con: duckdb.DuckDBPyConnection, sql: str, name: str) -> None:
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise RuntimeError(f"SQL model {name}.sql is invalid: {exc}") from exc


def all_scopes(database: str) -> str:
    """Every centre × year the warehouse holds anything for (lines, episodes, registers)."""
    return f"""
    select *, true as lines from (
    select distinct centre_finess, extract(year from act_date)::integer as year
    from {database}.main.billing_lines
    union select distinct centre_finess, extract(year from start_date)::integer
    from {database}.main.episodes
    union select distinct centre_finess, year from {database}.main.register_versions
    union select distinct centre_finess, year from {database}.main.register_centres
    )
    """


def touched_scopes(database: str, load_id: int) -> str:
    """The centre × years whose models load `load_id` may change.

    A billing line changes its own year (new and replaced versions alike); an episode
    its start year and every year of its patient's lines (attribution follows the
    patient, explicit ids included); a patient every year of their lines; a register
    its own year.
    """
    lid, w = int(load_id), f"{database}.main"
    return f"""
    with changed_episodes as (
        select centre_finess, patient_id, start_date from {w}.episodes where load_id = {lid}
        union all
        select centre_finess, patient_id, start_date from {w}.episodes_history
        where replaced_by_load = {lid}
    ),
    changed_patients as (
        select centre_finess, patient_id from {w}.patients where load_id = {lid}
        union all
        select centre_finess, patient_id from {w}.patients_history where replaced_by_load = {lid}
    ),
    changed_people as (
        select centre_finess, patient_id from changed_episodes
        union select centre_finess, patient_id from changed_patients
    )
    , scopes as (
    select centre_finess, extract(year from act_date)::integer as year, true as lines
    from {w}.billing_lines where load_id = {lid}
    union
    select centre_finess, extract(year from act_date)::integer, true
    from {w}.billing_lines_history where replaced_by_load = {lid}
    union
    select centre_finess, extract(year from start_date)::integer, true from changed_episodes
    union
    select b.centre_finess, extract(year from b.act_date)::integer, true
    from {w}.billing_lines b semi join changed_people p using (centre_finess, patient_id)
    union
    select centre_finess, year, false from {w}.register_versions where load_id = {lid}
    )
    select centre_finess, year, bool_or(lines) as lines from scopes group by all
    """


def refresh_load(con: duckdb.DuckDBPyConnection, load_id: int) -> int:
    """Refresh the stored models of the scopes load `load_id` touched; return how many
    stored rows it deleted (those of scopes computed before).

    Runs inside the load's transaction, after its rows are written.
    """
    con.execute(
        f"create or replace temp table refresh_scopes as {touched_scopes(catalog(con), load_id)}"
    )
    # The load's batches may still hold the process's memory: DuckDB gets less for the
    # refresh (it spills beyond), so that the peak stays within the load's own.
    limit = scalar(con, "select current_setting('memory_limit')")
    con.execute(f"set memory_limit = '{REFRESH_MEMORY}'")
    try:
        return refresh(con)
    finally:
        with tidying():
            con.execute(f"set memory_limit = '{limit}'")


def refresh(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute the stored models of the scopes in the temporary table `refresh_scopes`;
    return how many stored rows were deleted (replaced by their recomputed version).

    Its rows are (centre_finess, year, lines): `lines` false for a scope whose register
    alone changed, where only `register_models` are recomputed.
    """
    zones = _stored_zones(con, catalog(con))
    deleted = 0
    for lines in (True, False):
        for group, group_lines in _groups(con, lines):
            deleted += _refresh_group(con, group, _scattered(zones, group, group_lines), lines)
    con.execute("drop table if exists temp.main.refresh_scopes")
    return deleted


def _groups(con: duckdb.DuckDBPyConnection, lines: bool) -> list[tuple[list[str], int]]:
    """The refreshed centres in groups of about `GROUP_LINES` lines of the refreshed
    years, each with its number of those lines."""
    sizes = con.execute(
        "select s.centre_finess, coalesce(sum(n.lines), 0) "
        f"from (select * from refresh_scopes where lines = {lines}) s "
        "left join (select centre_finess, extract(year from act_date)::integer as year, "
        f"count(*) as lines from {catalog(con)}.main.billing_lines "
        "where centre_finess in (select centre_finess from refresh_scopes) group by all) n "
        "using (centre_finess, year) group by all order by 1"
    ).fetchall()
    lines_of = dict(sizes)
    return [(g, sum(lines_of[c] for c in g)) for g in pack_in_groups(sizes, GROUP_LINES)]


def _refresh_group(
    con: duckdb.DuckDBPyConnection, centres: list[str], copied: bool, lines: bool
) -> int:
    """Run the models over these centres' refreshed scopes and store their rows (return
    how many stored rows they replaced); `copied`: through temporary copies (`_scattered`).

    With `lines` false (registers changed, nothing else), the models that read no
    register are read from their stored rows instead of recomputed.
    """
    database = catalog(con)
    listed = literals(centres)
    recomputed = stored_models() if lines else register_models()
    con.execute(
        "create or replace temp table group_scopes as select centre_finess, year "
        f"from refresh_scopes where lines = {lines} and centre_finess in ({listed})"
    )
    con.execute(
        "create or replace temp view billing_lines as select b.* "
        f"from {database}.main.billing_lines b semi join group_scopes s "
        "on s.centre_finess = b.centre_finess and s.year = extract(year from b.act_date) "
        f"where b.centre_finess in ({listed}){_first_load(con, database, listed) if copied else ''}"
    )
    for table in SHADOWED[1:]:
        con.execute(
            f"create or replace temp table {table} as select * from {database}.main.{table} "
            f"where centre_finess in ({listed})"
        )
    deleted = 0
    try:
        for name in refresh_order():
            code = _model_code()[name]
            if name in VIEW_MODELS:
                con.execute(f"create or replace temp view {name} as\n{code}")
                continue
            rows = (  # the group's stored rows, which the models after it read
                f"select * from {database}.main.{name} semi join group_scopes "
                f"using (centre_finess, year) where centre_finess in ({listed})"
            )
            if name in recomputed:
                copy = f"{name}{GROUP_COPY}" if copied else None
                deleted += _store(con, f"{database}.main.{name}", code, copy)
                rows = f"select * from {copy}" if copy else rows
            con.execute(f"create or replace temp view {name} as {rows}")
            for view in (v for v, provider in READ_FROM.items() if provider == name):
                _read_from(con, view, name)
    finally:
        with tidying():
            _drop_temporaries(con)
    return deleted


Zone = tuple[str, str, int]  # a row group's lowest and highest FINESS, its rows


def _stored_zones(con: duckdb.DuckDBPyConnection, database: str) -> list[Zone]:
    """Each committed row group of the stored line attribution, as the range of FINESS
    numbers its zone map holds and its row count.

    Read on a cursor of its own (the state committed before this transaction, which is
    what a read of the table scans besides the transaction's own rows), so that a
    DuckDB reporting its storage otherwise leaves the load's transaction intact: then no
    zone is known, and every group reads the stored tables (the same rows, more slowly).
    """
    cursor = con.cursor()
    try:
        return cursor.execute(
            "select stats.min::varchar, stats.max::varchar, count from pragma_storage_info(?) "
            "where column_name = 'centre_finess' and segment_type = 'VARCHAR' "
            "and stats.min is not null",
            [f"{database}.main.{ZONE_MODEL}"],
        ).fetchall()
    except duckdb.Error:
        return []
    finally:
        cursor.close()


def _scattered(zones: list[Zone], centres: list[str], group_lines: int) -> bool:
    """Whether a read of the group's stored rows would scan `SCATTERED` times more rows
    than its `group_lines` billing lines.

    Then the models after a stored model read its rows of the group from a temporary
    copy rather than from its table. A group of centres with consecutive FINESS numbers
    (a first load, a month of the same centres) has its rows in row groups of their
    own, which DuckDB skips or reads by their zone maps; new centres loaded into a full
    warehouse fall within the stored row groups' ranges, so every read of a stored model
    would scan its whole table (a million new lines into ten: 3 s more than into an
    empty warehouse). The line attribution's zones stand for every model's.
    """
    scanned = sum(rows for low, high, rows in zones if any(low <= c <= high for c in centres))
    return bool(group_lines) and scanned > SCATTERED * group_lines


def _first_load(con: duckdb.DuckDBPyConnection, database: str, listed: str) -> str:
    """A filter on the first load holding lines of these centres: their lines then lie
    in the latest row groups, which the zone maps of `load_id` tell DuckDB to read alone
    (new centres among stored ones: `_scattered`)."""
    first = scalar(
        con,
        f"select min(load_id) from {database}.main.billing_lines where centre_finess in ({listed})",
    )
    return f" and b.load_id >= {int(first)}" if first is not None else ""


def _read_from(con: duckdb.DuckDBPyConnection, view: str, provider: str) -> None:
    """Redefine the temporary view `view` as the leading columns of `provider`'s rows.

    Only if `provider` begins with exactly `view`'s columns (names and types); else
    `view` is computed once into a temporary table, as its many readers would each
    recompute it.
    """
    columns = _columns(con, view)
    if _columns(con, provider)[: len(columns)] == columns:
        listed = ", ".join(f'"{name}"' for name, _ in columns)
        con.execute(f"create or replace temp view {view} as select {listed} from {provider}")
        return
    con.execute(f"create or replace temp table {view}_once as select * from {view}")
    con.execute(f"create or replace temp view {view} as select * from {view}_once")


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    described = con.execute(f"select * from {relation} limit 0").description
    return [(d[0], str(d[1])) for d in described]


def _store(con: duckdb.DuckDBPyConnection, target: str, code: str, copy: str | None) -> int:
    """Replace the group's rows of a stored model by its query's; return how many stored
    rows it deleted.

    Computed straight into the stored table; or, given a `copy` name, into that
    temporary table first, then copied in (`_scattered`). A copy always would write
    every row twice: about 0.6 s more per million lines than it saves when the group's
    rows can be read back from the stored table.
    """
    deleted = scalar(
        con,
        f"delete from {target} t using group_scopes s "
        "where t.centre_finess = s.centre_finess and t.year = s.year",
    )
    rows = f"select * from (\n{code}\n) semi join group_scopes using (centre_finess, year)"
    if copy:
        con.execute(f"create or replace temp table {copy} as {rows}")
        rows = f"select * from {copy}"
    con.execute(f"insert into {target} {rows}")
    return int(deleted or 0)


def _drop_temporaries(con: duckdb.DuckDBPyConnection) -> None:
    kinds = dict(
        con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_catalog = 'temp'"
        ).fetchall()
    )
    for name in reversed(model_order()):
        if name in kinds:
            kind = "view" if kinds[name] == "VIEW" else "table"
            con.execute(f"drop {kind} temp.main.{name}")
    con.execute("drop view if exists temp.main.billing_lines")
    for table in (*SHADOWED[1:], *(f"{view}_once" for view in READ_FROM), "group_scopes"):
        con.execute(f"drop table if exists temp.main.{table}")
    for name in stored_models():
        con.execute(f"drop table if exists temp.main.{name}{GROUP_COPY}")
