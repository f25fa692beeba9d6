"""The extract's key hashes: distinct keys spare the loader its duplicate query, a repeat
anywhere (another batch, another file) still reaches it and is reported at its rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import pipeline.extract.readers as readers
import pipeline.load.loader as loader
from pipeline.cli.app import app
from pipeline.extract.folder import Extract, open_extract
from pipeline.extract.profiles import canonical_profile
from pipeline.extract.pseudonym import Keyring, StoredKey
from tests.support import billing_rows, make_extract, write_table

runner = CliRunner()


def _read(directory: Path, secrets: Path) -> Extract:
    """Every billing batch of the extract read and checked, as a load would."""
    extract = open_extract(directory, canonical_profile())
    extract.keyring = Keyring(stored=lambda _: StoredKey(None, False), secrets_dir=secrets)
    for _ in extract.batches("billing"):
        pass
    return extract


def _days(*days: int, invoice: str = "F1") -> list[dict[str, object]]:
    return billing_rows(*({"act_date": f"2025-01-{d:02d}"} for d in days), invoice=invoice)


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(readers, "CSV_BATCH_ROWS", 2)


def test_distinct_keys_over_several_batches_are_known_distinct(tmp_path, small_batches):
    extract = _read(make_extract(tmp_path / "x", billing=_days(5, 6, 7, 8, 9)), tmp_path / "k")
    assert not extract.refused
    assert extract.keys_distinct("billing")


def test_a_key_repeated_in_a_later_batch_or_file_is_not(tmp_path, small_batches):
    rows = _days(5, 6, 7, 8, 9)
    rows[4]["line_no"] = 1  # the same line as the first row, two batches later
    assert not _read(make_extract(tmp_path / "x", billing=rows), tmp_path / "k").keys_distinct(
        "billing"
    )
    two_files = make_extract(tmp_path / "y", billing=_days(5, 6))
    write_table(two_files / "billing_2.csv", "billing", _days(7))  # F1/1 again
    assert not _read(two_files, tmp_path / "k").keys_distinct("billing")


def test_the_same_line_number_on_another_invoice_is_another_key(tmp_path, small_batches):
    directory = make_extract(tmp_path / "x", billing=_days(5, 6))
    write_table(directory / "billing_2.csv", "billing", _days(5, 6, invoice="F2"))
    assert _read(directory, tmp_path / "k").keys_distinct("billing")


def test_a_refused_extract_leaves_the_decision_to_the_warehouse(tmp_path):
    rows = _days(5, 6)
    rows[1]["act_date"] = "2025-02-30"
    extract = _read(make_extract(tmp_path / "x", billing=rows), tmp_path / "k")
    assert extract.refused and not extract.keys_distinct("billing")


def test_a_load_of_distinct_keys_skips_the_duplicate_query(tmp_path, monkeypatch):
    asked: list[str] = []
    real = loader._duplicates
    monkeypatch.setattr(
        loader, "_duplicates", lambda con, table, *a: asked.append(table) or real(con, table, *a)
    )
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "keys"))
    db = str(tmp_path / "w.duckdb")
    good = make_extract(tmp_path / "good", billing=_days(5, 6, 7))
    assert runner.invoke(app, ["ingest", str(good), "--db", db]).exit_code == 0
    assert asked == []
    repeated = _days(5, 6, 7)
    repeated[2]["line_no"] = 2
    bad = make_extract(tmp_path / "bad", billing=repeated)
    result = runner.invoke(app, ["ingest", str(bad), "--db", db])
    assert result.exit_code == 1 and asked == ["billing"]
    out = " ".join(result.output.split())
    assert "billing.csv, ligne 2 : ligne de facture répétée" in out
    assert "billing.csv, ligne 3 : ligne de facture répétée" in out
