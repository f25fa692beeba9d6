"""Nothing left behind: what a load stages (patient data) never outlives it.

Real `csi ingest` processes, stopped at a fault point while a staged file exists (the
UTF-8 copy of an extract written in cp1252), with a temporary directory of their own
(`TMPDIR`) so that only their folders are looked at.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.extract.staging import PREFIX, remove_stale
from pipeline.orchestrate import steps
from tests.support import billing_rows, make_extract, patient_rows

TABLES = ("billing_lines", "patients", "loads", "load_files")
PROFILE = "cp1252.yaml"


def _state(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=str) for t in TABLES}
    finally:
        con.close()


def _in_cp1252(extract: Path) -> Path:
    """The extract's CSV files re-encoded in cp1252: a load reads them through a UTF-8
    copy in its staging folder."""
    for path in extract.glob("*.csv"):
        path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    return extract


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, dict[str, str]]:
    """A loaded warehouse, the next extract (cp1252, with its profile), and the
    environment of a csi process."""
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))
    db = tmp_path / "wh.duckdb"
    steps.ingest(
        make_extract(
            tmp_path / "m1",
            billing=billing_rows({"act_date": "2025-01-05"}),
            patients=patient_rows({"patient_id": "P1"}),
        ),
        db,
    )
    extract = _in_cp1252(
        make_extract(
            tmp_path / "m2",
            billing=billing_rows(
                {"act_date": "2025-02-05"}, {"act_date": "2025-02-06"}, invoice="F2"
            ),
        )
    )
    (tmp_path / PROFILE).write_text("name: cp1252\nformat:\n  encoding: cp1252\n")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "CSI_SECRETS_DIR": str(tmp_path / "secrets")}
    return db, extract, env


def _csi(env: dict[str, str], *args: str, fault: str | None = None) -> subprocess.Popen:
    """`csi` in a child process; with `fault`, the test entry that stops there."""
    extra = {"CSI_FAULT_AFTER": fault} if fault else {}
    entry = "tests.faulty_csi" if fault else "pipeline.cli.app"
    return subprocess.Popen(
        [sys.executable, "-m", entry, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, **extra},
        # as a terminal starts it: a test run under `nohup` would hand the child SIGHUP
        # ignored, which csi then rightly leaves alone (`staging.signals_interrupt`)
        preexec_fn=_default_sighup,
    )


def _default_sighup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _ingest(extract: Path, db: Path) -> list[str]:
    """`csi ingest` arguments for the cp1252 extract of `setup`."""
    return ["ingest", str(extract), "--db", str(db), "--profile", str(extract.parent / PROFILE)]


def _staged_while_stopped(process: subprocess.Popen, temp: Path) -> Path:
    """Wait for the fault point; return the staging folder, which holds the UTF-8 copy of
    the file being read by then."""
    for line in process.stderr:
        if line.startswith("csi-fault-point"):
            break
    else:
        pytest.fail("the load never reached its fault point")
    (folder,) = temp.glob(f"{PREFIX}*")
    assert folder.name.startswith(f"{PREFIX}{process.pid}-")
    assert [p.name for p in folder.iterdir()] == ["billing.utf8.csv"]
    return folder


def test_a_killed_load_s_folder_is_removed_at_the_next_start(setup):
    db, extract, env = setup
    temp = Path(env["TMPDIR"])
    before = _state(db)
    process = _csi(env, *_ingest(extract, db), fault="billing-batch")
    folder = _staged_while_stopped(process, temp)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert folder.exists()  # a killed process cannot clean up…
    assert _state(db) == before
    again = _csi(env, *_ingest(extract, db))
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert "2 ajoutées" in out
    assert not folder.exists()  # … the next start does
    assert list(temp.glob(f"{PREFIX}*")) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_terminated_or_interrupted_load_removes_its_folder(setup, sig):
    db, extract, env = setup
    temp = Path(env["TMPDIR"])
    before = _state(db)
    process = _csi(env, *_ingest(extract, db), fault="billing-batch")
    folder = _staged_while_stopped(process, temp)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130  # as Ctrl-C: typer ends an interruption with 130
    assert "Traceback" not in err
    assert not folder.exists()
    assert _state(db) == before


def test_loaded_or_refused_no_folder_is_left(setup):
    db, extract, env = setup
    temp = Path(env["TMPDIR"])
    done = _csi(env, *_ingest(extract, db))
    assert done.wait(timeout=300) == 0
    refused = make_extract(
        extract.parent / "bad", billing=billing_rows({"act_date": "2025-02-05", "status": "?"})
    )
    failed = _csi(env, "ingest", str(refused), "--db", str(db))
    assert failed.wait(timeout=300) == 1
    assert list(temp.glob(f"{PREFIX}*")) == []


def test_only_folders_of_dead_processes_are_removed(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    try:
        live = tmp_path / f"{PREFIX}{sleeper.pid}-abcd"
        dead = tmp_path / f"{PREFIX}{finished.pid}-efgh"
        mine = tmp_path / f"{PREFIX}{os.getpid()}-ijkl"
        recent_legacy = tmp_path / f"{PREFIX}x1y2z3w4"
        old_legacy = tmp_path / f"{PREFIX}a1b2c3d4"
        for folder in (live, dead, mine, recent_legacy, old_legacy):
            folder.mkdir()
            (folder / "billing-0.parquet").write_bytes(b"PAR1")
        two_days_ago = time.time() - 2 * 24 * 3600
        os.utime(old_legacy, (two_days_ago, two_days_ago))
        assert sorted(remove_stale(tmp_path)) == sorted([dead, old_legacy])
        assert live.exists() and mine.exists() and recent_legacy.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
