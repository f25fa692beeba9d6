"""A load is one transaction: killed, interrupted or blocked, it leaves the warehouse as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.orchestrate import steps
from tests.support import billing_rows, make_extract, patient_rows

TABLES = ("billing_lines", "patients", "episodes", "loads", "load_files", "billing_lines_history")


def _state(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=str) for t in TABLES}
    finally:
        con.close()


def _csi(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`csi` in a child process; `CSI_FAULT_AFTER` in `env`: the test entry that stops there."""
    faults = ("CSI_FAULT_AFTER", "CSI_SIGNAL_AFTER", "CSI_RAISE_AFTER")
    entry = "tests.faulty_csi" if any(f in (env or {}) for f in faults) else "pipeline.cli.app"
    return subprocess.Popen(
        [sys.executable, "-m", entry, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse with one load, and a second extract that would change it."""
    db = tmp_path / "wh.duckdb"
    first = billing_rows({"act_date": "2025-01-05"}, {"act_date": "2025-01-06"})
    steps.ingest(
        make_extract(tmp_path / "m1", billing=first, patients=patient_rows({"patient_id": "P1"})),
        db,
    )
    second = billing_rows(
        {"act_date": "2025-01-05", "status": "cancelled"},
        {"act_date": "2025-02-06"},
        {"act_date": "2025-02-07"},
    )
    return db, make_extract(
        tmp_path / "m2", billing=second, patients=patient_rows({"patient_id": "P2"})
    )


def _wait_for_fault_point(process: subprocess.Popen) -> None:
    for line in process.stderr:
        if line.startswith("csi-fault-point"):
            return
    pytest.fail("the load never reached its fault point")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_load_stopped_mid_transaction_leaves_the_warehouse_as_before(loaded, sig):
    db, extract = loaded
    before = _state(db)
    process = _csi("ingest", str(extract), "--db", str(db), env={"CSI_FAULT_AFTER": "billing"})
    _wait_for_fault_point(process)
    process.send_signal(sig)
    process.wait(timeout=60)
    assert process.returncode != 0
    assert _state(db) == before
    # … and the same extract loads fine afterwards.
    summary = steps.ingest(extract, db)
    assert (summary.rows_inserted, summary.rows_replaced) == (2, 2)  # line 3 + P2; lines 1, 2


@pytest.fixture(scope="module")
def long_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 000 new lines: about a second of work after the billing table is written."""
    lines = billing_rows(*({"act_date": "2025-03-02"} for _ in range(300_000)), invoice="G1")
    return make_extract(
        tmp_path_factory.mktemp("long"), billing=lines, patients=patient_rows({"patient_id": "P1"})
    )


@pytest.mark.parametrize(
    ("sig", "delay"),
    [("SIGTERM", 0.0), ("SIGTERM", 0.2), ("SIGINT", 0.2), ("SIGTERM", 0.5)],
    ids=["term-at-once", "term-later", "ctrl-c-later", "term-in-the-refresh"],
)
def test_a_signal_wherever_it_lands_rolls_back_in_french(loaded, long_extract, sig, delay):
    """Ctrl-C or SIGTERM, in Python code or in the middle of a DuckDB statement.

    DuckDB stops a statement it was running with its own error, and refuses every
    statement but a rollback afterwards: the load still ends as an interruption (exit
    130, a French sentence, no traceback) with the warehouse as it was.
    """
    db, _ = loaded
    before = _state(db)
    plan = {"CSI_SIGNAL_AFTER": f"billing:{delay}:{sig}"}
    process = _csi("ingest", str(long_extract), "--db", str(db), env=plan)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Interrompu : l'entrepôt est resté dans son état précédent." in " ".join(err.split())
    assert "Traceback" not in err
    assert _state(db) == before


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        ("OutOfMemoryException", "DuckDB n'a pas eu assez de mémoire pour terminer."),
        ("IOException", "DuckDB a rencontré une erreur inattendue (IOException"),
    ],
)
def test_duckdb_failing_mid_load_rolls_back_in_french(loaded, failure, said):
    """DuckDB stopping on its own (out of memory, an I/O error) with the billing table
    written and the transaction open: exit 1, the cause and the remedy in French, no
    traceback, the warehouse as it was."""
    db, extract = loaded
    before = _state(db)
    process = _csi(
        "ingest", str(extract), "--db", str(db), env={"CSI_RAISE_AFTER": f"billing:{failure}"}
    )
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    told = " ".join(err.split())
    assert said in told
    assert "Rien n'a été enregistré : l'entrepôt est dans son état précédent." in told
    assert "Traceback" not in err
    assert _state(db) == before


def test_reader_holding_the_file_makes_the_load_wait_then_stop_clearly(loaded, tmp_path):
    db, extract = loaded
    before = _state(db)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}, read_only=True); "
            "print('open', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        blocked = _csi("ingest", str(extract), "--db", str(db), env={"CSI_LOCK_TIMEOUT": "2"})
        _, err = blocked.communicate(timeout=60)
        assert blocked.returncode == 1
        assert "ouvert par un autre programme" in " ".join(err.split())
        assert "Traceback" not in err
    finally:
        reader.kill()
        reader.wait()
    assert _state(db) == before
    assert steps.ingest(extract, db).rows_inserted == 2


def test_reader_during_a_load_in_the_same_process_sees_the_state_before(loaded):
    """Within one process DuckDB's MVCC isolates a reader from the open load transaction."""
    db, extract = loaded
    from pipeline.extract.folder import open_extract
    from pipeline.extract.profiles import load_profile
    from pipeline.load.loader import _load_table
    from pipeline.warehouse.database import connect

    con = connect(db)
    reader = con.cursor()
    con.execute("begin transaction")
    _load_table(con, open_extract(extract, load_profile(None)), "billing", 99)
    query = "select count(*), count(*) filter (status = 'cancelled') from billing_lines"
    written = con.execute(query).fetchall()
    seen = reader.execute(query).fetchall()
    con.execute("rollback")
    con.close()
    assert written == [(3, 1)]  # inside the load: line 3 added, line 1 cancelled
    assert seen == [(2, 0)]  # the reader still sees the first load


@pytest.mark.parametrize("name", ["wh.duckdb", "entrepot-2025.duckdb"])
def test_snapshot_copies_tables_and_views(loaded, tmp_path, name):
    """Whatever the file is called: DuckDB names the database after it (a dash included)."""
    from typer.testing import CliRunner

    from pipeline.cli.app import app

    db, _ = loaded
    if db.name != name:
        db = db.rename(db.with_name(name))
    copy = tmp_path / "copy.duckdb"
    result = CliRunner().invoke(app, ["snapshot", str(copy), "--db", str(db)])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(copy), read_only=True)
    assert con.execute("select insured_patients from clientele where year = 2025").fetchall() == [
        (1,)
    ]
    con.close()


def test_a_refused_first_load_leaves_no_warehouse_file(tmp_path):
    """Nothing was loaded: no empty warehouse is left for the next command to find."""
    from pipeline.core.errors import InputError

    db = tmp_path / "neuf" / "wh.duckdb"
    bad = make_extract(tmp_path / "m1", billing=billing_rows({"act_date": "2025-13-40"}))
    with pytest.raises(InputError):
        steps.ingest(bad, db)
    assert not db.exists()
    assert not db.with_name("wh.duckdb.wal").exists()


def test_a_refused_load_keeps_an_existing_warehouse(loaded, tmp_path):
    db, _ = loaded
    before = _state(db)
    bad = make_extract(tmp_path / "m3", billing=billing_rows({"act_date": "2025-13-40"}))
    from pipeline.core.errors import InputError

    with pytest.raises(InputError):
        steps.ingest(bad, db)
    assert _state(db) == before
