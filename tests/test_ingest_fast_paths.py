"""The ingest's fast paths give the results of the slow ones.

Replays are told apart by comparing columns (no stored fingerprint), and a warehouse
written by a version that stored one (`row_hash`) is brought to the current layout.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import billing_rows, make_extract

from pipeline import steps
from pipeline.warehouse import CANONICAL_DDL

BASES = ("billing_lines", "patients", "episodes")


def _lines(**changes: dict) -> list[dict]:
    """Four lines of one invoice; `changes` maps a line number to the values it changes."""
    base = [
        {"act_date": "2025-03-01", "nurse_id": None, "amount_eur": "7.5"},
        {"act_date": "2025-03-02", "nurse_id": "N1", "amount_eur": "7.50"},
        {"act_date": "2025-03-03", "nurse_id": "N1", "amount_eur": None},
        {"act_date": "2025-03-04", "nurse_id": "N2", "amount_eur": "12.00"},
    ]
    for line, values in changes.items():
        base[int(line.removeprefix("l")) - 1].update(values)
    return billing_rows(*base)


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _counts(summary) -> tuple[int, int, int]:
    return summary.rows_inserted, summary.rows_replaced, summary.rows_unchanged


def test_reloading_with_nulls_and_decimals_changes_nothing(tmp_path, db):
    steps.ingest(make_extract(tmp_path / "e1", billing=_lines()), db)
    again = steps.ingest(
        make_extract(tmp_path / "e2", billing=_lines(l1={"amount_eur": "7.50"})), db
    )
    assert _counts(again) == (0, 0, 4)  # 7.5 and 7.50 are the same amount
    assert _rows(db, "select count(*) from billing_lines_history") == [(0,)]


@pytest.mark.parametrize(
    "changes",
    [
        {"l1": {"nurse_id": "N9"}},  # NULL becomes a value
        {"l2": {"nurse_id": None}},  # a value becomes NULL
        {"l3": {"amount_eur": "0"}},  # NULL becomes zero
        {"l4": {"amount_eur": "12.01"}},  # one cent
        {"l4": {"act_time": "08:00"}},  # a column that was NULL on every line
    ],
    ids=["null-to-value", "value-to-null", "null-to-zero", "one-cent", "new-time"],
)
def test_a_replay_changing_one_value_replaces_that_line_only(tmp_path, db, changes):
    steps.ingest(make_extract(tmp_path / "e1", billing=_lines()), db)
    replay = steps.ingest(make_extract(tmp_path / "e2", billing=_lines(**changes)), db)
    assert _counts(replay) == (0, 1, 3)
    line = int(next(iter(changes)).removeprefix("l"))
    assert _rows(db, "select line_no, replaced_by_load from billing_lines_history") == [(line, 2)]
    again = steps.ingest(make_extract(tmp_path / "e3", billing=_lines(**changes)), db)
    assert _counts(again) == (0, 0, 4)


def _old_ddl() -> list[str]:
    """The canonical tables as the version that stored `row_hash` created them."""
    tables = [
        ddl.replace("load_id bigint not null", "row_hash varchar not null, load_id bigint not null")
        for ddl in CANONICAL_DDL[:3]
    ]
    return tables + CANONICAL_DDL[3:6]


def _as_old_layout(fresh: Path, old: Path) -> None:
    """Copy a warehouse into `old`, its canonical tables in the layout with `row_hash`."""
    con = duckdb.connect(str(old))
    try:
        con.execute(f"attach '{fresh}' as fresh (read_only)")
        con.execute(f"copy from database fresh to {old.stem}")
        for base in BASES:
            con.execute(f"drop table {base}_history")
            con.execute(f"drop table {base}")
        for ddl in _old_ddl():
            con.execute(ddl)
        for base in BASES:
            con.execute(
                f"insert into {base} by name select *, md5(source_file || source_row) as row_hash "
                f"from fresh.{base}"
            )
        con.execute("detach fresh")
    finally:
        con.close()


def test_a_warehouse_with_row_hash_is_migrated_and_replays_still_apply(tmp_path):
    fresh, old = tmp_path / "fresh.duckdb", tmp_path / "old.duckdb"
    steps.ingest(make_extract(tmp_path / "e1", billing=_lines()), fresh)
    _as_old_layout(fresh, old)
    assert ("row_hash",) in _rows(old, "select column_name from (describe billing_lines_history)")

    replay = steps.ingest(make_extract(tmp_path / "e2", billing=_lines(l1={"nurse_id": "N9"})), old)

    assert _counts(replay) == (0, 1, 3)
    hashes = "select count(*) from information_schema.columns where column_name = 'row_hash'"
    assert _rows(old, hashes) == [(0,)]
    history = "select line_no, nurse_id, load_id, replaced_by_load from billing_lines_history"
    assert _rows(old, history) == [(1, None, 1, 2)]
    again = steps.ingest(make_extract(tmp_path / "e3", billing=_lines(l1={"nurse_id": "N9"})), old)
    assert _counts(again) == (0, 0, 4)


def test_the_as_of_copy_of_a_migrated_warehouse_holds_the_replaced_version(tmp_path):
    from pipeline.asof import open_as_of

    fresh, old = tmp_path / "fresh.duckdb", tmp_path / "old.duckdb"
    steps.ingest(make_extract(tmp_path / "e1", billing=_lines()), fresh)
    _as_old_layout(fresh, old)
    steps.ingest(make_extract(tmp_path / "e2", billing=_lines(l1={"nurse_id": "N9"})), old)
    con = open_as_of(old, 1)
    try:
        first = con.execute("select nurse_id from billing_lines where line_no = 1").fetchall()
    finally:
        con.close()
    assert first == [(None,)]
