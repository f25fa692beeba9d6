"""DuckDB's spill files (patient data) never outlive a process killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from pipeline.warehouse.database import connect
from pipeline.warehouse.spill import remove_stale_spill, spill_folder

# A DuckDB process sorting more than its memory budget holds: it spills to the
# warehouse's temporary folder, and is killed there, mid-statement, by SIGKILL.
_SPILLS_THEN_DIES = """
import os, signal, sys, threading, time
import duckdb

con = duckdb.connect(sys.argv[1])
con.execute("set memory_limit = '64MB'")
con.execute("set threads = 1")
folder = sys.argv[1] + ".tmp"

def spill():
    con.execute(
        "select * from (select i, md5(i::varchar) || md5((i + 1)::varchar) as s "
        "from range(4000000) t(i)) order by s"
    ).fetchall()

threading.Thread(target=spill, daemon=True).start()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    if os.path.isdir(folder) and any("storage" in name for name in os.listdir(folder)):
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
sys.exit(3)  # never spilled: the test cannot show anything
"""


def test_spill_files_of_a_killed_process_are_removed_at_the_next_opening(tmp_path):
    db = tmp_path / "wh.duckdb"
    duckdb.connect(str(db)).close()
    process = subprocess.run(
        [sys.executable, "-c", _SPILLS_THEN_DIES, str(db)], capture_output=True, timeout=120
    )
    assert process.returncode == -signal.SIGKILL, process.stderr
    left = list(spill_folder(db).iterdir())
    assert any("storage" in path.name and path.stat().st_size > 0 for path in left)

    connect(db, read_only=True).close()  # a report, say

    assert not spill_folder(db).exists()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_the_files_of_processes_that_are_gone_are_removed(tmp_path):
    db = tmp_path / "wh.duckdb"
    folder = spill_folder(db)
    folder.mkdir()
    dead, live = _dead_pid(), os.getpid()
    stale = [folder / f"duckdb_temp_{dead}_0_owner", folder / f"duckdb_temp_{dead}_0_storage-0.tmp"]
    kept = [folder / f"duckdb_temp_{live}_0_storage-0.tmp", folder / "notes.txt"]
    for path in stale + kept:
        path.write_bytes(b"rows")

    assert sorted(remove_stale_spill(db)) == sorted(stale)
    assert sorted(folder.iterdir()) == sorted(kept)


def test_a_warehouse_that_never_spilled_gets_no_folder(tmp_path):
    assert remove_stale_spill(tmp_path / "wh.duckdb") == []
    assert not spill_folder(tmp_path / "wh.duckdb").exists()


def test_a_report_as_of_an_old_load_spills_beside_the_warehouse(tmp_path, monkeypatch):
    """Not in `.tmp` of whatever folder the user ran `csi` from: the next opening would
    never find it."""
    from pipeline.orchestrate import steps
    from pipeline.warehouse.asof import open_as_of
    from tests.support import billing_rows, make_extract, patient_rows

    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "wh.duckdb"
    billing, patients = billing_rows({"act_date": "2025-01-05"}), patient_rows({"patient_id": "P1"})
    steps.ingest(make_extract(tmp_path / "m1", billing=billing, patients=patients), db)
    con = open_as_of(db, 1)
    try:
        setting = con.execute("select current_setting('temp_directory')").fetchall()[0][0]
    finally:
        con.close()
    assert Path(setting) == spill_folder(db)
