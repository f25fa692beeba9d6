"""The Prefect flows run the same steps, in-process, with Prefect's temporary server."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from prefect.testing.utilities import prefect_test_harness

from pipeline.orchestrate import flows
from pipeline.orchestrate.flows import annual_report_flow, ingest_flow, monthly_flow
from tests.support import billing_rows, make_extract, patient_rows


@pytest.fixture(scope="module", autouse=True)
def prefect_server():
    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_monthly_flow_ingests_then_writes_the_report(tmp_path):
    db = tmp_path / "wh.duckdb"
    extract = make_extract(
        tmp_path / "m1",
        billing=billing_rows({"act_date": "2025-01-05", "coefficient": "2"}),
        patients=patient_rows({"patient_id": "P1"}),
    )
    result = monthly_flow(str(extract), 2025, str(db), None, str(tmp_path / "out"), ("json",))
    assert result["load"]["rows_inserted"] == 2
    report = json.loads((tmp_path / "out/750000001/2025/annexe3.json").read_text())
    assert report["acts"]["AMI"]["coefficient_total"] == 2


def test_ingest_and_annual_report_flows_compose(tmp_path):
    db = tmp_path / "wh.duckdb"
    extract = make_extract(
        tmp_path / "m1",
        billing=billing_rows({"act_date": "2025-06-05", "act_code": "AIS", "coefficient": "3"}),
    )
    assert ingest_flow(str(extract), str(db))["rows_inserted"] == 1
    paths = annual_report_flow(2025, None, str(db), str(tmp_path / "out"), ("json",))
    report = json.loads(Path(paths[0]).read_text())
    assert report["acts"]["AIS"]["by_coefficient"] == {"3": 1}


# --- The monthly run's semantics ------------------------------------------------------


def _one_visit(directory: Path, day: str = "2025-03-05") -> Path:
    return make_extract(
        directory,
        billing=billing_rows({"act_date": day, "coefficient": "2"}),
        patients=patient_rows({"patient_id": "P1"}),
    )


def _outcomes(db: Path) -> list[tuple[int, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select load_id, outcome from loads order by 1").fetchall()
    finally:
        con.close()


def test_an_extract_already_loaded_is_an_unchanged_success(tmp_path):
    db, out, extract = tmp_path / "wh.duckdb", tmp_path / "out", _one_visit(tmp_path / "m1")
    first = monthly_flow(str(extract), 2025, str(db), None, str(out), ("json",))
    again = monthly_flow(str(extract), 2025, str(db), None, str(out), ("json",))
    assert (first["status"], again["status"]) == ("chargé", "inchangé")
    assert again["load"]["rows_unchanged"] == 2  # one billing line, one patient
    assert _outcomes(db) == [(1, "loaded"), (2, "unchanged")]
    assert again["reports"] == [str(out / "750000001/2025/annexe3.json")]


def test_an_empty_folder_is_an_unchanged_success_and_loads_nothing(tmp_path):
    db, out = tmp_path / "wh.duckdb", tmp_path / "out"
    monthly_flow(str(_one_visit(tmp_path / "m1")), 2025, str(db), None, str(out), ("json",))
    (out / "750000001/2025/annexe3.json").unlink()
    (tmp_path / "m2").mkdir()
    result = monthly_flow(str(tmp_path / "m2"), 2025, str(db), None, str(out), ("json",))
    assert (result["status"], result["load"]["load_id"]) == ("inchangé", None)
    assert _outcomes(db) == [(1, "loaded")]
    report = json.loads((out / "750000001/2025/annexe3.json").read_text())  # rewritten
    assert report["acts"]["AMI"]["coefficient_total"] == 2
    # Nothing new and nothing of that year: no report, still a success.
    result = monthly_flow(str(tmp_path / "m2"), 2026, str(db), None, str(out), ("json",))
    assert (result["status"], result["reports"]) == ("inchangé", [])


def test_a_refused_extract_fails_the_run_once_in_french_and_loads_nothing(tmp_path, caplog):
    db, out = tmp_path / "wh.duckdb", tmp_path / "out"
    monthly_flow(str(_one_visit(tmp_path / "m1")), 2025, str(db), None, str(out), ("json",))
    bad = make_extract(
        tmp_path / "m2",
        billing=billing_rows({"act_date": "2025-13-45"}, {"act_date": "2025-04-01"}),
    )
    caplog.set_level(logging.WARNING)
    state = monthly_flow(str(bad), 2025, str(db), None, str(out), ("json",), return_state=True)
    assert state.is_failed()
    assert "Extraction refusée : 1 problème(s) à corriger" in state.message
    assert _outcomes(db) == [(1, "loaded")]
    said = [r for r in caplog.records if "Extraction refusée" in r.getMessage()]
    told = [r for r in said if "billing.csv, ligne 1, colonne « act_date »" in r.getMessage()]
    assert len(told) == 1  # the French message with its finding, once
    assert told[0].levelno == logging.ERROR
    assert "Rien n'a été chargé" in told[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # no traceback anywhere
    (folder,) = (tmp_path / "rejets").iterdir()
    assert str(folder) in told[0].getMessage()
    assert "act_date" in (folder / "quarantaine.csv").read_text(encoding="utf-8")


def test_a_warehouse_held_by_a_reader_is_retried_not_failed(tmp_path, monkeypatch, caplog):
    db, out = tmp_path / "wh.duckdb", tmp_path / "out"
    monthly_flow(str(_one_visit(tmp_path / "m1")), 2025, str(db), None, str(out), ("json",))
    monkeypatch.setenv("CSI_LOCK_TIMEOUT", "1")
    monkeypatch.setattr(flows.ingest_task, "retry_delay_seconds", 1)
    # An analyst's session, in another process, holds the file until told to close.
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "ouvert"

        class CloseTheReader(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if "Nouvel essai" in record.getMessage() and not reader.stdin.closed:
                    reader.stdin.close()

        caplog.set_level(logging.WARNING)
        handler = CloseTheReader()
        logging.getLogger("prefect.task_runs").addHandler(handler)
        try:
            second = _one_visit(tmp_path / "m2", day="2025-04-02")
            result = monthly_flow(str(second), 2025, str(db), None, str(out), ("json",))
        finally:
            logging.getLogger("prefect.task_runs").removeHandler(handler)
    finally:
        reader.kill()
        reader.wait(timeout=10)
    assert result["status"] == "chargé"
    assert _outcomes(db) == [(1, "loaded"), (2, "loaded")]
    retries = [r.getMessage() for r in caplog.records if "Nouvel essai" in r.getMessage()]
    assert retries and "est ouvert par un autre programme" in retries[0]
    assert "Nouvel essai dans 1 s (essai 2 sur 4)." in retries[0]


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("ouvert", flush=True)
sys.stdin.read()
"""


def test_csi_run_on_a_refused_extract_says_what_csi_ingest_says(tmp_path):
    bad = make_extract(tmp_path / "m1", billing=billing_rows({"act_date": "2025-13-45"}))
    env = {**os.environ, "CSI_SECRETS_DIR": str(tmp_path / "secrets"), "COLUMNS": "500"}
    env.pop("PREFECT_API_URL", None)  # csi run starts its own temporary server

    def csi(*args: str) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).parent / "csi"), *args, "--db", str(tmp_path / "wh")]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    run = csi("run", str(bad), "--year", "2025", "--out", str(tmp_path / "out"))
    ingest = csi("ingest", str(bad))
    assert (run.returncode, ingest.returncode) == (1, 1)
    folders = sorted(str(p) for p in (tmp_path / "rejets").iterdir())
    assert len(folders) == 2  # one each: the flow's task wrote csi run's
    assert run.stderr.replace(folders[0], "F") == ingest.stderr.replace(folders[1], "F")
    assert "Traceback" not in run.stderr + run.stdout
    assert "Task run" not in run.stderr and "Flow run" not in run.stderr
    assert "billing.csv, ligne 1, colonne « act_date »" in run.stderr
