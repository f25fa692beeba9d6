"""The README stays true: its quick start is what CI runs, its analyst queries work."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipeline.orchestrate import steps
from tests.support import SAMPLE_DIR

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_quick_start_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    quick_start = README.split("## Démarrage rapide")[1].split("## ")[0]
    commands = [b.strip() for b in re.findall(r"```bash\n(.*?)```", quick_start, flags=re.S)]
    assert len(commands) == 2
    for command in commands:
        assert command in ci


def test_analyst_queries_run_read_only_on_the_sample(tmp_path):
    db = tmp_path / "wh.duckdb"
    steps.ingest(SAMPLE_DIR, db)
    steps.report(2025, None, db, tmp_path / "out", ("json",))  # creates the views
    con = duckdb.connect(str(db), read_only=True)
    try:
        queries = [q for block in _blocks("sql") for q in block.split(";") if q.strip()]
        assert len(queries) >= 2
        for query in queries:
            assert con.execute(query).fetchall(), query
    finally:
        con.close()
