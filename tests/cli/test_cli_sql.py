"""`csi sql`: the analyst's query on a fresh machine, read-only, with csi's own DuckDB."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.orchestrate import steps
from tests.support import billing_rows, make_extract

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


@pytest.fixture
def loaded(tmp_path, db) -> Path:
    """A warehouse of three billing lines (two AMI 1, one AMI 2) on two days."""
    rows = billing_rows(
        {"act_date": "2025-03-01"},
        {"act_date": "2025-03-01"},
        {"act_date": "2025-03-02", "coefficient": "2"},
    )
    steps.ingest(make_extract(tmp_path / "mars", billing=rows), db)
    return db


def _cells(output: str) -> list[list[str]]:
    """The cells of a rich table's rows (header included), stripped."""
    lines = [line.replace("┃", "│") for line in output.splitlines()]
    return [[c.strip() for c in line.split("│")[1:-1]] for line in lines if "│" in line]


def test_a_query_prints_its_result_as_a_table(loaded):
    result = runner.invoke(
        app, ["sql", "select count(*) as n from billing_lines", "--db", str(loaded)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert _cells(result.output) == [["n"], ["3"]]
    assert "1 ligne." in result.output


def test_a_grouped_query_shows_every_row_and_column(loaded):
    query = "select act_date, count(*) as lignes from billing_lines group by act_date order by 1"
    result = runner.invoke(app, ["sql", query, "--db", str(loaded)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert _cells(result.output) == [
        ["act_date", "lignes"],
        ["2025-03-01", "2"],
        ["2025-03-02", "1"],
    ]
    assert "2 lignes." in result.output


def test_a_bad_query_is_a_french_refusal_without_traceback(loaded):
    result = runner.invoke(app, ["sql", "select * from nulle_part", "--db", str(loaded)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "Erreur : Requête refusée par DuckDB" in text
    assert "nulle_part" in text
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not a DuckDB error


@pytest.mark.parametrize("query", [";", "  ", "-- rien"])
def test_a_text_without_a_statement_runs_nothing_and_says_so(loaded, query):
    result = runner.invoke(app, ["sql", "--db", str(loaded), "--", query])
    assert result.exit_code == 0, result.output
    assert "Requête exécutée (aucun résultat à afficher)." in result.output
    assert result.exception is None


def test_the_warehouse_is_opened_read_only(loaded):
    result = runner.invoke(app, ["sql", "delete from billing_lines", "--db", str(loaded)])
    assert result.exit_code == 1
    assert "Requête refusée par DuckDB" in result.output
    con = duckdb.connect(str(loaded), read_only=True)
    try:
        assert con.execute("select count(*) from billing_lines").fetchone()[0] == 3
    finally:
        con.close()


def test_a_long_result_is_cut_and_says_so(loaded):
    result = runner.invoke(app, ["sql", "select range as i from range(1500)", "--db", str(loaded)])
    assert result.exit_code == 0, result.output
    rows = _cells(result.output)
    assert len(rows) == 1 + steps.SQL_ROWS_SHOWN
    assert rows[-1] == [str(steps.SQL_ROWS_SHOWN - 1)]
    assert f"{steps.SQL_ROWS_SHOWN} premières lignes affichées" in result.output


def test_a_missing_warehouse_is_refused_and_not_created(tmp_path):
    absent = tmp_path / "absent.duckdb"
    for args in (["sql", "select 1"], ["sql"]):
        result = runner.invoke(app, [*args, "--db", str(absent)])
        assert result.exit_code == 1
        assert "Entrepôt introuvable" in result.output
    assert not absent.exists()


def test_without_a_query_nor_harlequin_the_install_hint_is_printed(loaded, monkeypatch):
    venv_bin = Path(sys.executable).parent
    if shutil.which("harlequin", path=str(venv_bin)) or shutil.which("harlequin"):
        pytest.skip("harlequin is installed here: `csi sql` would open it")
    result = runner.invoke(app, ["sql", "--db", str(loaded)], env=WIDE)
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "harlequin" in text and "n'est pas installé" in text
    assert "pip install '.[sql]'" in text
