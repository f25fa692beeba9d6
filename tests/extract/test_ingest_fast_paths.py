"""The ingest's fast paths give the results of the slow ones.

Replays are told apart by comparing columns (no stored fingerprint), and a warehouse
written by a version that stored one (`row_hash`), and its few-word columns as text, is
brought to the current layout.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.extract.profiles import FileFormat
from pipeline.extract.readers import ROW
from pipeline.orchestrate import steps
from pipeline.warehouse.schema import CANONICAL_DDL
from tests.support import billing_rows, make_extract, warehouse_rows

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


def _counts(summary) -> tuple[int, int, int]:
    return summary.rows_inserted, summary.rows_replaced, summary.rows_unchanged


def test_reloading_with_nulls_and_decimals_changes_nothing(tmp_path, db):
    steps.ingest(make_extract(tmp_path / "e1", billing=_lines()), db)
    again = steps.ingest(
        make_extract(tmp_path / "e2", billing=_lines(l1={"amount_eur": "7.50"})), db
    )
    assert _counts(again) == (0, 0, 4)  # 7.5 and 7.50 are the same amount
    assert warehouse_rows(db, "select count(*) from billing_lines_history") == [(0,)]


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
    assert warehouse_rows(db, "select line_no, replaced_by_load from billing_lines_history") == [
        (line, 2)
    ]
    again = steps.ingest(make_extract(tmp_path / "e3", billing=_lines(**changes)), db)
    assert _counts(again) == (0, 0, 4)


def _old_ddl() -> list[str]:
    """The canonical tables as the version that stored `row_hash` created them (its
    `status`, `reason`… were text)."""
    tables = [
        re.sub(r"ENUM\([^)]*\)", "varchar", ddl).replace(
            "load_id bigint not null", "row_hash varchar not null, load_id bigint not null"
        )
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
    assert ("row_hash",) in warehouse_rows(
        old, "select column_name from (describe billing_lines_history)"
    )
    status = "select data_type from information_schema.columns where column_name = 'status' "
    assert set(warehouse_rows(old, status + "and table_name like 'billing_lines%'")) == {
        ("VARCHAR",)
    }

    replay = steps.ingest(make_extract(tmp_path / "e2", billing=_lines(l1={"nurse_id": "N9"})), old)

    assert _counts(replay) == (0, 1, 3)
    hashes = "select count(*) from information_schema.columns where column_name = 'row_hash'"
    assert warehouse_rows(old, hashes) == [(0,)]
    # The tables, their history and the stored models read from them: all enums now.
    assert (
        warehouse_rows(old, status + "order by table_name")
        == [("ENUM('billed', 'cancelled', 'rejected')",)] * 6
    )
    history = "select line_no, nurse_id, load_id, replaced_by_load from billing_lines_history"
    assert warehouse_rows(old, history) == [(1, None, 1, 2)]
    again = steps.ingest(make_extract(tmp_path / "e3", billing=_lines(l1={"nurse_id": "N9"})), old)
    assert _counts(again) == (0, 0, 4)


def test_the_as_of_copy_of_a_migrated_warehouse_holds_the_replaced_version(tmp_path):
    from pipeline.warehouse.asof import open_as_of

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


def test_an_audit_reads_a_warehouse_not_yet_migrated(tmp_path):
    """`csi report --as-of` / `csi verify` open the file read-only: no migration happens,
    and the copy still takes the current columns from the old layout."""
    from pipeline.warehouse.asof import open_as_of

    fresh, old = tmp_path / "fresh.duckdb", tmp_path / "old.duckdb"
    steps.ingest(make_extract(tmp_path / "e1", billing=_lines()), fresh)
    _as_old_layout(fresh, old)
    con = open_as_of(old, 1)
    try:
        lines = con.execute("select line_no, nurse_id from billing_lines order by 1").fetchall()
    finally:
        con.close()
    assert lines == [(1, None), (2, "N1"), (3, "N1"), (4, "N2")]
    assert ("row_hash",) in warehouse_rows(old, "select column_name from (describe billing_lines)")


# Typed Parquet columns are kept typed when their text would parse back to the same value.

_ODD_FLOATS = [1.0, 1.5, -0.0, 0.1 + 0.2, 1.2349996, 1e-7, 2.5e-6, 1e20, float("nan"), None]


def _typed_billing() -> pl.DataFrame:
    """Billing lines whose columns have the types a Parquet export may give them."""
    n = len(_ODD_FLOATS)
    return pl.DataFrame(
        {
            "invoice_id": ["F1"] * n,
            "line_no": pl.Series(range(1, n + 1), dtype=pl.Int32),
            "centre_finess": ["750000001"] * n,
            "patient_id": ["P1"] * n,
            "nurse_id": [None, " N1 ", "N2", "", None, "N3", "N3", "N3", "N3", "N3"],
            "act_date": [dt.date(2025, 3, d) for d in range(1, n)] + [dt.date(1, 1, 1)],
            "act_time": [dt.time(7, 30, 59), None] + [dt.time(23, 59, 1)] * (n - 2),
            "act_code": ["ami"] * n,
            "coefficient": _ODD_FLOATS,
            "quantity": pl.Series([1, 2, None] + [3] * (n - 3), dtype=pl.Int64),
            "amount_eur": pl.Series(_ODD_FLOATS, dtype=pl.Float32),
            "status": ["billed"] * n,
            "episode_id": [None] * n,
        }
    )


def _batches(path: Path, table: str, profile) -> list[tuple[pl.DataFrame, list]]:
    """Each batch of one file, typed by `coerce`, with the findings of its values."""
    from pipeline.extract.coerce import coerce
    from pipeline.extract.readers import SourceFile, source_batches

    source = SourceFile(table, path)
    return [coerce(batch, table, profile.format) for batch in source_batches(source, profile)]


def _through_text(monkeypatch) -> None:
    """Force the reference path: every typed column written as text, then parsed."""
    from pipeline.extract import readers

    monkeypatch.setattr(readers, "_typed_value", lambda *args: None)


def _profiles():
    from pipeline.extract.profiles import canonical_profile

    canonical = canonical_profile()
    french = FileFormat(delimiter=";", decimal=",", date_format="%d/%m/%Y")
    odd = FileFormat(date_format="%Y-%d-%m")  # an ISO date may read differently
    return [
        canonical,
        dataclasses.replace(canonical, format=french),
        dataclasses.replace(canonical, format=odd),
    ]


@pytest.mark.parametrize("profile", _profiles(), ids=["canonical", "french", "odd-date"])
def test_typed_parquet_values_equal_the_text_path(tmp_path, monkeypatch, profile):
    path = tmp_path / "billing.parquet"
    _typed_billing().write_parquet(path)
    fast = _batches(path, "billing", profile)
    _through_text(monkeypatch)
    slow = _batches(path, "billing", profile)
    assert len(fast) == len(slow) == 1
    (fast_frame, fast_findings), (slow_frame, slow_findings) = fast[0], slow[0]
    assert fast_frame.schema == slow_frame.schema
    assert fast_frame.equals(slow_frame, null_equal=True)
    assert fast_findings == slow_findings


def test_parquet_defaults_and_booleans_equal_the_text_path(tmp_path, monkeypatch):
    from pipeline.extract.profiles import canonical_profile

    episodes = pl.DataFrame(
        {
            "centre_finess": ["750000001"] * 3,
            "episode_id": ["E1", "E2", "E3"],
            "patient_id": ["P1"] * 3,
            "start_date": [dt.date(2025, 1, 1), dt.date(2025, 2, 1), None],
            "end_date": pl.Series([dt.datetime(2025, 1, 2, 10, 30), None, None]),
            "reason": ["chronic"] * 3,
            "hospital_discharge": [True, None, False],  # defaults to false
        }
    )
    path = tmp_path / "episodes.parquet"
    episodes.write_parquet(path)
    fast = _batches(path, "episodes", canonical_profile())
    _through_text(monkeypatch)
    slow = _batches(path, "episodes", canonical_profile())
    assert fast[0][0].equals(slow[0][0], null_equal=True)
    assert fast[0][1] == slow[0][1]


@pytest.mark.parametrize(
    "column, values, rule, rows",
    [
        ("line_no", [1.0, 1.5], "nombre entier attendu", [2]),
        ("act_date", [dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 1, 10, 0)], "date", [2]),
        ("amount_eur", [True, None], "nombre attendu", [1]),  # NULL stays a missing amount
    ],
    ids=["float-line-number", "datetime-with-time", "boolean-amount"],
)
def test_bad_typed_values_are_found_as_with_text(tmp_path, monkeypatch, column, values, rule, rows):
    from pipeline.extract.profiles import canonical_profile

    frame = _typed_billing().head(2).with_columns(pl.Series(column, values))
    path = tmp_path / "billing.parquet"
    frame.write_parquet(path)
    fast = _batches(path, "billing", canonical_profile())[0][1]
    _through_text(monkeypatch)
    slow = _batches(path, "billing", canonical_profile())[0][1]
    assert fast == slow
    assert [(f.file, f.row, f.column) for f in fast] == [
        ("billing.parquet", r, column) for r in rows
    ]
    assert rule in fast[0].rule


def _as_parquet(csv_dir: Path, target: Path) -> Path:
    """The same extract as Parquet files, with the types a Parquet export would have."""
    target.mkdir()
    for path in csv_dir.glob("*.csv"):
        frame = pl.read_csv(path, try_parse_dates=True)
        frame.write_parquet(target / f"{path.stem}.parquet")
    return target


def test_a_parquet_extract_loads_the_same_rows_as_its_csv(tmp_path):
    from tests.support import episode_rows, patient_rows

    lines = billing_rows(
        {"act_date": "2025-03-01", "act_time": "07:30", "amount_eur": "7.5", "nurse_id": "N1"},
        {"act_date": "2025-03-02", "coefficient": "2.5", "quantity": "2", "episode_id": "E1"},
        {"act_date": "2025-03-03", "amount_eur": None, "status": "cancelled"},
    )
    patients = patient_rows(
        {"patient_id": "P1", "lives_alone": "true", "postcode": "75010"},
        {"patient_id": "P2", "lives_alone": None},  # unknown, not « no »: NULL either way
    )
    episodes = episode_rows(
        {"episode_id": "E1", "patient_id": "P1", "start_date": "2025-01-01"},
        {
            "episode_id": "E2",
            "patient_id": "P1",
            "start_date": "2025-02-01",
            "end_date": "2025-02-03",
            "hospital_discharge": "true",
        },
    )
    csv_dir = make_extract(tmp_path / "csv", billing=lines, patients=patients, episodes=episodes)
    parquet_dir = _as_parquet(csv_dir, tmp_path / "parquet")
    steps.ingest(csv_dir, tmp_path / "csv.duckdb")
    steps.ingest(parquet_dir, tmp_path / "parquet.duckdb")
    for table in BASES:
        query = f"select * exclude (source_file) from {table} order by all"
        assert warehouse_rows(tmp_path / "csv.duckdb", query) == warehouse_rows(
            tmp_path / "parquet.duckdb", query
        )


@pytest.mark.parametrize("profile", _profiles()[:2], ids=["canonical", "french"])
def test_parquet_decimals_read_as_their_value_whatever_the_decimal_mark(tmp_path, profile):
    """A Decimal column is written out with the profile's mark: 12.50 stays 12.5 when the
    profile reads "," as the decimal mark (and "." as a thousands separator)."""
    from decimal import Decimal

    frame = pl.DataFrame(
        {
            "centre_finess": ["750000001"] * 2,
            "invoice_id": ["F1"] * 2,
            "line_no": [1, 2],
            "patient_id": ["P1"] * 2,
            "act_date": [dt.date(2025, 3, 1)] * 2,
            "act_code": ["AMI"] * 2,
            "coefficient": pl.Series([Decimal("2.50"), Decimal("1")], dtype=pl.Decimal(8, 2)),
            "amount_eur": pl.Series([Decimal("1234.56"), None], dtype=pl.Decimal(12, 2)),
        }
    )
    path = tmp_path / "billing.parquet"
    frame.write_parquet(path)
    [(typed, findings)] = _batches(path, "billing", profile)
    assert findings == []
    assert typed.get_column("coefficient").to_list() == [2.5, 1.0]
    assert typed.get_column("amount_eur").to_list() == [1234.56, None]


def test_only_columns_whose_text_would_parse_back_stay_typed(tmp_path):
    from pipeline.extract.readers import SourceFile, source_batches

    path = tmp_path / "billing.parquet"
    _typed_billing().write_parquet(path)
    canonical, _, odd = _profiles()
    batch = next(source_batches(SourceFile("billing", path), canonical))
    typed = {name for name, dtype in batch.schema.items() if dtype != pl.String}
    # quantity has a default and a NULL to fill: the text path parses the default;
    # coefficient holds NaN and 1e20, which the text path refuses with their rows
    assert typed == {"line_no", "act_date", "act_time", ROW}
    finite = pl.col("coefficient").fill_nan(None).replace(1e20, 20.0)
    _typed_billing().with_columns(pl.col("quantity").fill_null(1), finite).write_parquet(path)
    batch = next(source_batches(SourceFile("billing", path), canonical))
    assert batch.schema["quantity"] == pl.Float64  # integers read as a decimal
    assert batch.schema["coefficient"] == pl.Float64
    odd_batch = next(source_batches(SourceFile("billing", path), odd))
    assert odd_batch.schema["act_date"] == pl.String
