"""Models stored at load, refreshed for the scopes a load touches; readers read-only.

Hand-made extracts of two centres, loaded as centres would, month after month; every
figure below is worked out by hand from the rows written here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.core.resources import resource_dir
from pipeline.orchestrate import steps
from pipeline.warehouse.materialise import model_order, stored_models, touched_scopes
from pipeline.warehouse.models import model_sql
from tests.support import (
    FINESS,
    SAMPLE_DIR,
    billing_rows,
    episode_rows,
    make_extract,
    patient_rows,
)

OTHER = "930000003"


def _tables(db: Path) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(
            con.execute(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = 'main'"
            ).fetchall()
        )
    finally:
        con.close()


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _monthly(db: Path, finess: str, year: int, month: int) -> tuple:
    return _rows(
        db,
        "select acute_patients, chronic_patients, unattributed_patients, chronic_entries "
        "from monthly where centre_finess = ? and year = ? and month = ?",
        [finess, year, month],
    )[0]


def test_models_the_analyst_reads_are_stored_tables_with_the_documented_names(tmp_path):
    db = tmp_path / "w.duckdb"
    steps.ingest(
        make_extract(
            tmp_path / "x",
            billing=billing_rows({"patient_id": "P1", "act_date": "2025-03-02"}),
            patients=patient_rows({"patient_id": "P1"}),
        ),
        db,
    )
    kinds = _tables(db)
    for name in ("int_line_attribution", "int_reason_patients", "int_quality_findings"):
        assert kinds[name] == "BASE TABLE"
    for name in ("clientele", "monthly", "monthly_totals", "acts", "quality", "staff"):
        assert kinds[name] == "BASE TABLE"
    for name in ("stg_billing_lines", "stg_patients", "stg_episodes", "int_counted_lines"):
        assert kinds[name] == "VIEW"
    every_sql_file = {
        p.stem for layer in resource_dir("sql").iterdir() for p in layer.glob("*.sql")
    }
    assert set(model_order()) == every_sql_file  # one name per SQL file, nothing else
    # One line, no episode: an unattributed patient in March, 12 months stored.
    assert _rows(db, "select count(*) from monthly where centre_finess = ?", [FINESS]) == [(12,)]
    assert _monthly(db, FINESS, 2025, 3) == (0, 0, 1, 0)


def _two_centres_2025(tmp_path: Path, db: Path) -> None:
    """FINESS: P1 chronic from 2025-01-05 (lines 10 Jan, 10 Feb); OTHER: Q1 acute (1 line)."""
    steps.ingest(
        make_extract(
            tmp_path / "jan-feb",
            billing=[
                *billing_rows(
                    {"patient_id": "P1", "act_date": "2025-01-10"},
                    {"patient_id": "P1", "act_date": "2025-02-10"},
                ),
                *billing_rows(
                    {"centre_finess": OTHER, "patient_id": "Q1", "act_date": "2025-01-20"},
                    invoice="G1",
                ),
            ],
            patients=patient_rows(
                {"patient_id": "P1"}, {"centre_finess": OTHER, "patient_id": "Q1"}
            ),
            episodes=episode_rows(
                {"episode_id": "E1", "patient_id": "P1", "start_date": "2025-01-05"},
                {
                    "centre_finess": OTHER,
                    "episode_id": "E9",
                    "patient_id": "Q1",
                    "start_date": "2025-01-02",
                    "reason": "acute",
                },
            ),
        ),
        db,
    )


def _scopes_of_load(db: Path, load_id: int, lines: bool = True) -> set[tuple[str, int]]:
    """The scopes the load touched: through its data (`lines`), else through registers only."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(touched_scopes('"w"', load_id)).fetchall()
        return {(finess, year) for finess, year, data in rows if data == lines}
    finally:
        con.close()


def test_a_monthly_load_refreshes_only_the_scopes_it_touched(tmp_path):
    db = tmp_path / "w.duckdb"
    _two_centres_2025(tmp_path, db)
    assert _scopes_of_load(db, 1) == {(FINESS, 2025), (OTHER, 2025)}
    # Mark OTHER's stored rows: a refresh of its scope would overwrite the mark.
    con = duckdb.connect(str(db))
    con.execute("update monthly set acute_patients = 99 where centre_finess = ?", [OTHER])
    con.execute(
        "update int_line_attribution set nurse_id = 'marked' where centre_finess = ?", [OTHER]
    )
    con.close()
    # March: one more line of P1 at FINESS, the same patients and episodes sent again.
    steps.ingest(
        make_extract(
            tmp_path / "mar",
            billing=billing_rows({"patient_id": "P1", "act_date": "2025-03-10"}, invoice="F2"),
            patients=patient_rows({"patient_id": "P1"}),
            episodes=episode_rows(
                {"episode_id": "E1", "patient_id": "P1", "start_date": "2025-01-05"}
            ),
        ),
        db,
    )
    assert _scopes_of_load(db, 2) == {(FINESS, 2025)}  # unchanged patients/episodes: nothing
    # OTHER's stored rows were not recomputed (the marks are still there); FINESS's were.
    assert _rows(
        db, "select distinct acute_patients from monthly where centre_finess = ?", [OTHER]
    ) == [(99,)]
    assert _rows(
        db, "select distinct nurse_id from int_line_attribution where centre_finess = ?", [OTHER]
    ) == [("marked",)]
    assert _monthly(db, FINESS, 2025, 3) == (0, 1, 0, 0)
    assert _rows(
        db,
        "select chronic_patients, chronic_entries from monthly_totals where centre_finess = ?",
        [FINESS],
    ) == [(1, 1)]
    assert _rows(
        db,
        "select count from acts where centre_finess = ? and scope = 'all' and family = 'AMI'",
        [FINESS],
    ) == [(3,)]
    assert _rows(
        db, "select count(*) from int_line_attribution where centre_finess = ?", [FINESS]
    ) == [(3,)]


def test_an_episode_loaded_later_reattributes_the_lines_of_an_earlier_year(tmp_path):
    """Lines of 2025 loaded without episode are unattributed; an episode started in 2024 and
    loaded in 2026 covers them: the stored 2025 scope is recomputed (and 2024 for the entry)."""
    db = tmp_path / "w.duckdb"
    steps.ingest(
        make_extract(
            tmp_path / "lines",
            billing=billing_rows(
                {"patient_id": "P1", "act_date": "2025-01-10"},
                {"patient_id": "P1", "act_date": "2025-06-10"},
            ),
            patients=patient_rows({"patient_id": "P1"}),
        ),
        db,
    )
    assert _monthly(db, FINESS, 2025, 6) == (0, 0, 1, 0)
    steps.ingest(
        make_extract(
            tmp_path / "episodes",
            episodes=episode_rows(
                {"episode_id": "E1", "patient_id": "P1", "start_date": "2024-12-01"}
            ),
        ),
        db,
    )
    assert _scopes_of_load(db, 2) == {(FINESS, 2024), (FINESS, 2025)}
    assert _monthly(db, FINESS, 2025, 1) == (0, 1, 0, 0)
    assert _monthly(db, FINESS, 2025, 6) == (0, 1, 0, 0)
    assert _monthly(db, FINESS, 2024, 12) == (0, 0, 0, 1)  # the entry, in its start month
    assert (
        _rows(
            db,
            "select count from quality where centre_finess = ? and finding = ?",
            [FINESS, "unattributed_lines"],
        )
        == []
    )


def test_a_patient_replaced_later_changes_the_stored_ages(tmp_path):
    """P1 born 1960 (65 on 10 Jan 2025), then corrected to 1945 (80): now aged 75 and over."""
    db = tmp_path / "w.duckdb"
    line = billing_rows({"patient_id": "P1", "act_date": "2025-01-10"})
    steps.ingest(
        make_extract(tmp_path / "a", billing=line, patients=patient_rows({"patient_id": "P1"})),
        db,
    )
    query = "select insured_patients, aged_75_plus from clientele where centre_finess = ?"
    assert _rows(db, query, [FINESS]) == [(1, 0)]
    steps.ingest(
        make_extract(
            tmp_path / "b", patients=patient_rows({"patient_id": "P1", "birth_date": "1945-01-01"})
        ),
        db,
    )
    assert _scopes_of_load(db, 2) == {(FINESS, 2025)}
    assert _rows(db, query, [FINESS]) == [(1, 1)]


def test_a_register_loaded_later_recomputes_only_the_models_that_read_registers(tmp_path):
    """Two nurses registered for 2025 after the lines: one bills (…01), one never does (…02);
    a line billed by an unregistered nurse (…99) is a finding; acts stay as stored."""
    db = tmp_path / "w.duckdb"
    steps.ingest(
        make_extract(
            tmp_path / "lines",
            billing=billing_rows(
                {"act_date": "2025-02-03", "nurse_id": "10000000001"},
                {"act_date": "2025-02-03", "nurse_id": "19999999999"},
            ),
            patients=patient_rows({"patient_id": "P1"}),
        ),
        db,
    )
    con = duckdb.connect(str(db))  # a mark a recomputation of acts would overwrite
    con.execute("update acts set amount_eur = 1234 where centre_finess = ?", [FINESS])
    con.close()
    register = {
        "finess": FINESS, "name": "Centre", "year": 2025,
        "staff": {"nurses": [{"id": "10000000001", "fte": 1.0}, {"id": "10000000002", "fte": 0.5}]},
    }  # fmt: skip
    steps.ingest(make_extract(tmp_path / "register", register=register), db)
    assert _scopes_of_load(db, 2, lines=False) == {(FINESS, 2025)}
    assert _scopes_of_load(db, 2, lines=True) == set()
    assert _rows(
        db, "select nurses, nurse_fte from staff where centre_finess = ? and year = 2025", [FINESS]
    ) == [(2, 1.5)]
    assert _rows(
        db,
        "select finding, examples from quality where centre_finess = ? and finding like '%nurse%' "
        "order by finding",
        [FINESS],
    ) == [
        ("nurse_not_in_register", ["19999999999"]),
        ("registered_nurse_without_act", ["10000000002"]),
    ]
    assert _rows(db, "select distinct amount_eur from acts where centre_finess = ?", [FINESS]) == [
        (1234,)
    ]


def test_a_refused_load_leaves_the_stored_models_as_they_were(tmp_path):
    from pipeline.core.errors import InputError

    db = tmp_path / "w.duckdb"
    _two_centres_2025(tmp_path, db)
    before = _rows(db, "select * from monthly order by all")
    bad = billing_rows(
        {"patient_id": "P1", "act_date": "2025-03-10"},
        {"patient_id": "P1", "act_date": "pas une date"},
        invoice="F3",
    )
    with pytest.raises(InputError):
        steps.ingest(make_extract(tmp_path / "bad", billing=bad), db)
    assert _rows(db, "select * from monthly order by all") == before


def _old_version(db: Path) -> None:
    """Turn a warehouse into what the previous version wrote: every model a view, no stamp."""
    con = duckdb.connect(str(db))
    try:
        for name in reversed(model_order()):
            kind = "table" if name in stored_models() else "view"
            con.execute(f"drop {kind} {name}")
        con.execute("drop table model_stamp")
        for name in model_order():  # the graph's order: each view after those it reads
            con.execute(f"create view {name} as {model_sql(name)}")
    finally:
        con.close()


def test_a_warehouse_of_the_previous_version_is_migrated_once_with_the_same_figures(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    db = tmp_path / "w.duckdb"
    steps.ingest(SAMPLE_DIR, db)
    current = steps.report(2025, db=db, out=tmp_path / "now", formats=("json",))[0]
    _old_version(db)
    assert _tables(db)["monthly"] == "VIEW"
    again = steps.report(2025, db=db, out=tmp_path / "migrated", formats=("json",))[0]
    assert _tables(db)["monthly"] == "BASE TABLE"
    assert again.read_bytes() == current.read_bytes()
    report = json.loads(again.read_text(encoding="utf-8"))
    assert (
        report["clientele"]["insured_patients"]
        == _rows(db, "select count(distinct patient_id) from int_counted_lines where year = 2025")[
            0
        ][0]
    )


ANALYST = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from monthly").fetchall()[0][0], flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _csi(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli.app", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


def test_reports_and_verifies_run_while_an_analyst_holds_the_warehouse_open(tmp_path):
    env = {"CSI_SECRETS_DIR": str(tmp_path / "secrets"), "CSI_LOCK_TIMEOUT": "2"}
    db = tmp_path / "w.duckdb"
    assert _csi("ingest", str(SAMPLE_DIR), "--db", str(db), env=env).returncode == 0
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(db), "120"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert int(analyst.stdout.readline()) == 48  # 4 years × 12 months of the sample centre
        out = tmp_path / "reports"
        made = _csi(
            "report",
            "--year",
            "2025",
            "--db",
            str(db),
            "--out",
            str(out),
            "--format",
            "json",
            env=env,
        )
        assert made.returncode == 0, made.stderr
        checked = _csi(
            "verify", str(out / FINESS / "2025" / "annexe3.json"), "--db", str(db), env=env
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        # A load still needs the write lock: it waits its timeout, then says so.
        blocked = _csi("ingest", str(SAMPLE_DIR), "--db", str(db), env=env)
        assert blocked.returncode != 0
        said = " ".join((blocked.stdout + blocked.stderr).split())  # whatever the terminal width
        assert "ouvert par un autre programme" in said
        assert analyst.poll() is None  # the analyst's session was never disturbed
    finally:
        analyst.kill()
        analyst.wait()
