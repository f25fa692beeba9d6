"""Runs of batches: appended one statement per run, ended where the replay path begins.

Small batches (50 rows) stand for big files: a few hundred lines make runs of several
batches, broken by batches that replay stored rows, by another file's types or by an
error raised while the next batch is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.extract import readers
from pipeline.extract.pseudonym import KeyFileError
from pipeline.load import batches as batches_module
from pipeline.load.batches import CheckedBatch, Lookahead, run_stream
from pipeline.orchestrate import steps
from tests.support import billing_rows, make_extract, patient_rows, warehouse_rows

NIR = "184127645108946"


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(readers, "CSV_BATCH_ROWS", 50)
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))


def _lines(count: int, invoice: str, **values: str) -> list[dict]:
    return billing_rows(
        *({"act_date": "2025-03-02", **values} for _ in range(count)), invoice=invoice
    )


def test_new_batches_around_replayed_ones_are_appended_and_the_replays_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "wh.duckdb"
    steps.ingest(make_extract(tmp_path / "m1", billing=_lines(100, "F1")), db)
    replay = _lines(100, "F1")
    for row in replay[60:80]:
        row["status"] = "cancelled"
    # 120 new lines, the 100 stored ones (20 changed), 130 new lines: batches of 50 rows.
    second = _lines(120, "F0") + replay + _lines(130, "F2")
    statements: list[int] = []
    streamed = batches_module.run_stream

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        statements.append(1)
        return streamed(*args, **kwargs)

    monkeypatch.setattr("pipeline.load.loader.run_stream", counted)
    summary = steps.ingest(make_extract(tmp_path / "m2", billing=second), db)
    assert (summary.rows_inserted, summary.rows_replaced, summary.rows_unchanged) == (250, 20, 80)
    # Rows 1–100 and 101–150 hold no stored key, 101–200 and 201–250 do (the replay spans
    # rows 121–220), 251–350 none: two runs, before and after the replayed batches.
    assert len(statements) == 2
    counts = "select invoice_id, status, count(*) from billing_lines group by all order by all"
    assert warehouse_rows(db, counts) == [
        ("F0", "billed", 120),
        ("F1", "billed", 80),
        ("F1", "cancelled", 20),
        ("F2", "billed", 130),
    ]
    assert warehouse_rows(db, "select count(*) from billing_lines_history") == [(20,)]
    rows = warehouse_rows(
        db, "select source_row from billing_lines where invoice_id = 'F2' order by 1"
    )
    assert [r[0] for r in rows] == list(range(221, 351))


def test_a_key_refused_in_the_middle_of_a_run_stops_the_load_with_its_own_message(
    tmp_path: Path,
) -> None:
    db = tmp_path / "wh.duckdb"
    steps.ingest(make_extract(tmp_path / "m1", billing=_lines(10, "F0")), db)
    before = warehouse_rows(db, "select count(*), max(load_id) from billing_lines")
    other = "750000002"
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700, exist_ok=True)
    (secrets / f"{other}.key").write_text("pas une clé hexadécimale\n", encoding="utf-8")
    (secrets / f"{other}.key").chmod(0o600)
    # A NIR of another centre, whose key file is damaged, in the fourth batch of 50 rows.
    lines = _lines(180, "F1") + _lines(1, "F9", centre_finess=other, patient_id=NIR)
    extract = make_extract(
        tmp_path / "m2", billing=lines, patients=patient_rows({"patient_id": "P1"})
    )
    with pytest.raises(KeyFileError) as refused:
        steps.ingest(extract, db)
    assert other in str(refused.value) and "Restaurez" in str(refused.value)
    assert warehouse_rows(db, "select count(*), max(load_id) from billing_lines") == before


def _batch(values: list[int], dtype: pl.DataType = pl.Int64) -> CheckedBatch:
    return CheckedBatch(pl.DataFrame({"n": values}, schema={"n": dtype}))


def _insert(batches: Lookahead, ends=lambda batch: batch.matched):  # type: ignore[no-untyped-def]
    con = duckdb.connect()
    con.execute("create table t (n bigint)")
    stream, end = run_stream(batches, ends)
    con.register("s", stream)
    con.execute("insert into t select n from s").fetchall()
    return [r[0] for r in con.execute("select n from t order by n").fetchall()], end


def test_a_run_ends_before_a_matched_batch_and_before_another_file_s_types() -> None:
    source = iter(
        [
            _batch([1, 2]),
            _batch([3]),
            CheckedBatch(pl.DataFrame({"n": [4]}), matched=True),
            _batch([5]),
        ]
    )
    batches = Lookahead(source)
    assert _insert(batches)[0] == [1, 2, 3]
    head = batches.head
    assert head is not None and head.matched  # left for the replay path
    batches.take()
    mixed = Lookahead(iter([_batch([5]), _batch([6], pl.Int32), _batch([7], pl.Int32)]))
    assert _insert(mixed)[0] == [5]
    assert _insert(mixed)[0] == [6, 7]  # the next run starts with the other types
    assert mixed.head is None


def test_an_error_raised_while_the_next_batch_is_read_is_kept_for_the_caller() -> None:
    class Refused(Exception):
        pass

    def source() -> Iterator[CheckedBatch]:
        yield _batch([1])
        yield _batch([2])
        raise Refused("la clé du centre est illisible")

    written, end = _insert(Lookahead(source()))
    assert written == [1, 2]
    assert isinstance(end.error, Refused)
