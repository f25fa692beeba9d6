"""`csi loads`: the register of loads, newest first, so that `--as-of N` needs no SQL."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.orchestrate import steps
from tests.support import billing_rows, make_extract


def test_loads_lists_every_load_newest_first_with_its_counts(tmp_path, db):
    march = billing_rows({"act_date": "2025-03-01"}, {"act_date": "2025-03-02"})
    steps.ingest(make_extract(tmp_path / "mars", billing=march), db)
    april = billing_rows(
        {"act_date": "2025-03-01", "status": "cancelled"},  # replaces line 1
        {"act_date": "2025-03-02"},  # unchanged
        {"act_date": "2025-04-02"},  # new
    )
    steps.ingest(make_extract(tmp_path / "avril", billing=april), db)
    steps.ingest(make_extract(tmp_path / "avril-bis", billing=april), db)

    rows = steps.list_loads(db)
    assert [r["load_id"] for r in rows] == [3, 2, 1]
    assert [r["outcome"] for r in rows] == ["unchanged", "loaded", "loaded"]
    assert [(r["rows_read"], r["rows_inserted"], r["rows_replaced"]) for r in rows][1:] == [
        (3, 1, 1),
        (2, 2, 0),
    ]

    result = CliRunner().invoke(app, ["loads", "--db", str(db)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "│" in line]
    assert [line.split("│")[1].strip() for line in lines] == ["3", "2", "1"]
    assert "inchangé" in lines[0] and "avril-bis" in lines[0]
    assert "chargé" in lines[2] and "mars" in lines[2]


def test_loads_of_a_missing_warehouse_is_a_french_refusal(tmp_path):
    result = CliRunner().invoke(app, ["loads", "--db", str(tmp_path / "absent.duckdb")])
    assert result.exit_code == 1
    assert "Entrepôt introuvable" in result.output
    assert not (tmp_path / "absent.duckdb").exists()
