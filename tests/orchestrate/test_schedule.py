"""The monthly schedule: `csi serve` against a real, self-hosted Prefect server.

The first tests read the deployment `csi serve` registers and the run date rule; the
last one starts `prefect server start` and `csi serve` as a centre's IT person would,
runs the deployment and checks that the warehouse and the report were written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pytest

from pipeline.orchestrate.flows import FLOW_NAME, TIMEZONE
from pipeline.orchestrate.schedule import DEPLOYMENT_NAME, missed_fire, monthly_deployment
from pipeline.orchestrate.steps import reported_year

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PARIS = ZoneInfo(TIMEZONE)
SERVER_START_TIMEOUT = 180  # seconds: a busy two-core machine starts it in 15-60 s
RUN_TIMEOUT = 240  # seconds, from the trigger to the run's final state


def _next_run(deployment, after: dt.datetime) -> dt.datetime:
    """The next date the deployment's schedule fires after `after`, as the server computes it."""
    from prefect.server.schemas.schedules import CronSchedule

    schedule = deployment.schedules[0].schedule
    server_side = CronSchedule(cron=schedule.cron, timezone=schedule.timezone)
    (date,) = asyncio.run(server_side.get_dates(n=1, start=after))
    return date.astimezone(PARIS)


def test_monthly_deployment_registers_absolute_paths_and_no_year(tmp_path):
    deployment = monthly_deployment(Path("extracts"), tmp_path / "wh.duckdb", "logiciel-fr")
    params = deployment.parameters
    assert Path(params["extract_dir"]).is_absolute()
    assert params["db"] == str((tmp_path / "wh.duckdb").resolve())
    assert params["profile"] == "logiciel-fr"
    assert "year" not in params  # each run reports the year of the month just ended
    assert (deployment.flow_name, deployment.name) == (FLOW_NAME, DEPLOYMENT_NAME)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # mid-month: the 1st of next month, 06:00 at the centre
        (dt.datetime(2026, 12, 1, 21, 0, tzinfo=PARIS), dt.datetime(2027, 1, 1, 6, 0)),
        # just before the run of the 1st: that very run
        (dt.datetime(2027, 3, 1, 5, 59, tzinfo=PARIS), dt.datetime(2027, 3, 1, 6, 0)),
        # summer time: still 06:00 on the centre's clock (04:00 UTC)
        (dt.datetime(2027, 6, 15, 12, 0, tzinfo=PARIS), dt.datetime(2027, 7, 1, 6, 0)),
    ],
)
def test_the_schedule_fires_on_the_first_at_six_paris_time(after, expected):
    deployment = monthly_deployment(Path("extracts"))
    assert _next_run(deployment, after) == expected.replace(tzinfo=PARIS)


@pytest.mark.parametrize(
    ("run_date", "year"),
    [
        (dt.date(2027, 1, 1), 2026),  # the run of 1 January completes December
        (dt.date(2027, 1, 31), 2026),  # a January run started late: still December's year
        (dt.date(2027, 2, 1), 2027),  # January 2027 just ended
        (dt.date(2026, 12, 1), 2026),
        (dt.date(2026, 12, 31), 2026),
        (dt.date(2028, 3, 1), 2028),  # after a 29 February
    ],
)
def test_a_run_reports_the_year_of_the_month_just_ended(run_date, year):
    assert reported_year(run_date) == year


# --- A real Prefect server and `csi serve` -------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop a process and its children (its own session), by force if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _start(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    handle = log.open("wb")
    try:
        return subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a process group of its own, stopped whole
        )
    finally:
        handle.close()


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-chars:] if log.exists() else ""


@pytest.fixture
def prefect_server(tmp_path) -> Iterator[tuple[str, dict[str, str]]]:
    """`prefect server start` on a free loopback port, its home in the test's folder."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "CSI_"))
    }
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_API_URL=api,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        # the scheduler looks for deployments to schedule every 5 s instead of 60
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="5",
        CSI_SECRETS_DIR=str(tmp_path / "secrets"),
    )
    log = tmp_path / "prefect-server.log"
    server = _start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        log,
        tmp_path,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            assert server.poll() is None, f"prefect server stopped:\n{_tail(log)}"
            try:
                if httpx.get(f"{api}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"prefect server not healthy:\n{_tail(log)}"
            time.sleep(1)
        yield api, env
    finally:
        _stop(server)


def _wait_for(what: str, probe, timeout: float, logs: list[Path]):
    """Call `probe` every 2 s until it returns something truthy, at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} after {timeout} s\n" + "\n".join(_tail(p) for p in logs))
        time.sleep(2)


def _deployment(api: str) -> dict | None:
    response = httpx.get(f"{api}/deployments/name/{FLOW_NAME}/{DEPLOYMENT_NAME}", timeout=10)
    return response.json() if response.status_code == 200 else None


def _scheduled_runs(api: str, deployment_id: str) -> list[dict]:
    body = {
        "deployments": {"id": {"any_": [deployment_id]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
        "sort": "EXPECTED_START_TIME_ASC",
    }
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()


def _first_of_next_month_at_six(now: dt.datetime) -> dt.datetime:
    """Worked out by hand: the 1st of the month after `now`, 06:00 at the centre."""
    if now.day == 1 and now.hour < 6:
        return now.replace(hour=6, minute=0, second=0, microsecond=0)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return dt.datetime(year, month, 1, 6, 0, tzinfo=PARIS)


@pytest.mark.slow
def test_csi_serve_on_a_real_server_schedules_loads_and_reports(prefect_server, tmp_path):
    api, env = prefect_server
    extract, db, out = tmp_path / "depot", tmp_path / "entrepot.duckdb", tmp_path / "rapports"
    shutil.copytree(ROOT / "data" / "sample", extract)
    billing_lines = len((extract / "billing_2025.csv").read_text().splitlines()) - 1
    serve_log = tmp_path / "csi-serve.log"
    started = dt.datetime.now()
    serve = _start(
        [str(BIN / "csi"), "serve", str(extract), "--db", str(db), "--out", str(out)],
        env,
        serve_log,
        tmp_path,
    )
    logs = [serve_log, tmp_path / "prefect-server.log"]
    try:
        deployment = _wait_for("no deployment registered", lambda: _deployment(api), 120, logs)

        # The server's scheduler (what Prefect 3.8.8 could not do) plans the monthly run.
        runs = _wait_for(
            "no scheduled run", lambda: _scheduled_runs(api, deployment["id"]), 60, logs
        )
        first = dt.datetime.fromisoformat(runs[0]["expected_start_time"]).astimezone(PARIS)
        assert first == _first_of_next_month_at_six(dt.datetime.now(PARIS))

        # Run it now, through the Prefect CLI, as the IT person would to test the install:
        # the sample is of 2025, so the year is given (a scheduled run leaves it empty).
        state = _run_deployment(api, env, ["--param", "year=2025"], logs)
        assert state["type"] == "COMPLETED", f"{state}\n{_tail(serve_log)}"
        loaded = _loads(db)
        # The same folder a month later: already loaded, « inchangé », and a success; the
        # year is then the one of the month just ended, of which the sample has no data.
        state = _run_deployment(api, env, [], logs)
        assert state["type"] == "COMPLETED", f"{state}\n{_tail(serve_log)}"
        # A refused extract: the run fails, says why in French in the UI, loads nothing.
        billing = extract / "billing_2025.csv"
        lines = billing.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[1] = lines[1].replace("2025-01-01", "2025-13-45", 1)
        billing.write_text("".join(lines), encoding="utf-8")
        state, run_id = _run_deployment(api, env, [], logs, with_id=True)
        assert state["type"] == "FAILED"
        assert "Extraction refusée : 1 problème(s) à corriger" in state["message"]
        # The run's logs reach the server in batches: wait for the refusal's line.
        shown = _wait_for("no refusal in the logs", lambda: _refusal_logged(api, run_id), 60, logs)
        assert sum("Rien n'a été chargé" in line for line in shown) == 1  # told once
        assert any(
            "billing_2025.csv, ligne 1, colonne « act_date » : date impossible" in line
            for line in shown
        ), shown
        assert not any("Traceback" in line for line in shown)
    finally:
        _stop(serve)

    assert [(load_id, status) for load_id, status, _ in loaded] == [(1, "loaded")]
    assert [(load_id, status) for load_id, status, _ in _loads(db)] == [
        (1, "loaded"),
        (2, "unchanged"),  # and nothing of the refused third run
    ]
    assert len(list((tmp_path / "rejets").iterdir())) == 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from billing_lines").fetchone()[0] == billing_lines
    finally:
        con.close()
    report_dir = out / "750000001" / "2025"
    report = json.loads((report_dir / "annexe3.json").read_text(encoding="utf-8"))
    assert report["meta"]["year"] == 2025
    assert report["meta"]["as_of_load"] == 1
    for suffix in ("html", "pdf", "xlsx"):
        assert (report_dir / f"annexe3.{suffix}").stat().st_size > 0
    this_year = reported_year(dt.datetime.now(PARIS).date())
    if this_year != 2025:
        assert not (out / "750000001" / str(this_year)).exists()
    log = _tail(serve_log, 100_000)
    assert "Extraction déjà chargée : entrepôt inchangé." in log
    assert "Traceback" not in log
    print(f"csi serve → load in the warehouse: {(loaded[0][2] - started).total_seconds():.0f} s")


def _run_deployment(
    api: str, env: dict[str, str], options: list[str], logs: list[Path], with_id: bool = False
):
    """`prefect deployment run` the monthly deployment; its final state (bounded wait)."""
    trigger = subprocess.run(
        [str(BIN / "prefect"), "deployment", "run", f"{FLOW_NAME}/{DEPLOYMENT_NAME}", *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert trigger.returncode == 0, trigger.stdout + trigger.stderr
    run_id = next(line.split()[-1] for line in trigger.stdout.splitlines() if "UUID" in line)

    def final_state() -> dict | None:
        state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"]
        return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

    state = _wait_for("the run did not finish", final_state, RUN_TIMEOUT, logs)
    return (state, run_id) if with_id else state


def _refusal_logged(api: str, run_id: str) -> list[str] | None:
    """The run's log lines once one of them tells the refusal."""
    lines = _run_logs(api, run_id)
    return lines if any("Rien n'a été chargé" in line for line in lines) else None


def _run_logs(api: str, run_id: str) -> list[str]:
    """The lines the Prefect UI shows for a flow run."""
    body = {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC"}
    return [log["message"] for log in httpx.post(f"{api}/logs/filter", json=body).json()]


def _loads(db: Path) -> list[tuple]:
    """The warehouse's loads, read as an analyst would (read-only)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select load_id, outcome, finished_at from loads order by 1").fetchall()
    finally:
        con.close()


# --- The run a stopped `csi serve` missed --------------------------------------------

MONTHLY = "0 6 1 * *"


def _paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("created", "ran_since", "now", "missed"),
    [
        # registered in November, the machine off on 1 December, back on the 3rd
        (_paris(2026, 11, 10), False, _paris(2026, 12, 3, 9), _paris(2026, 12, 1, 6)),
        # the same, but the run of the 1st took place (or was started by hand since)
        (_paris(2026, 11, 10), True, _paris(2026, 12, 3, 9), None),
        # registered on the 2nd: nothing was owed yet
        (_paris(2026, 12, 2), False, _paris(2026, 12, 3, 9), None),
        # back at 06:00 sharp on the 1st: that very run is owed
        (_paris(2026, 11, 10), False, _paris(2026, 12, 1, 6), _paris(2026, 12, 1, 6)),
        # back at 05:59 on the 1st: November's, if it never ran
        (_paris(2026, 10, 10), False, _paris(2026, 12, 1, 5, 59), _paris(2026, 11, 1, 6)),
        # summer time: 06:00 on the centre's clock, 04:00 UTC
        (_paris(2027, 5, 2), False, dt.datetime(2027, 6, 2, tzinfo=dt.UTC), _paris(2027, 6, 1, 6)),
    ],
)
def test_the_run_owed_is_the_latest_fire_since_registration_without_a_run(
    created, ran_since, now, missed
):
    assert missed_fire(MONTHLY, created, ran_since, now) == missed


# Registered, then paused as `csi serve` pauses its deployment when it stops; every minute.
_REGISTERED_THEN_STOPPED = """
import sys
from pathlib import Path

from prefect.client.orchestration import get_client

from pipeline.orchestrate.schedule import monthly_deployment

extract, db, out = map(Path, sys.argv[1:4])
deployment_id = monthly_deployment(extract, db, None, out, cron="* * * * *").apply()
with get_client(sync_client=True) as client:
    client.pause_deployment(deployment_id)
print(deployment_id)
"""


def _sample_of_the_year(extract: Path, today: dt.date) -> None:
    """The sample's billing lines moved to the year a run of `today` reports (the year of
    the month just ended), those up to that month only (a date in the future is refused),
    without the register of 2025."""
    shutil.copytree(ROOT / "data" / "sample", extract)
    (extract / "centre_2025.yaml").unlink()
    billing = extract / "billing_2025.csv"
    header, *rows = billing.read_text(encoding="utf-8").splitlines(keepends=True)
    date_column = header.split(",").index("act_date")
    year, first_of_month = reported_year(today), today.replace(day=1).isoformat()
    moved = [row.replace(",2025-", f",{year}-") for row in rows]
    kept = [row for row in moved if row.split(",")[date_column] < first_of_month]
    billing.write_text(header + "".join(kept), encoding="utf-8")


def _runs(api: str, deployment_id: str) -> list[dict]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC"}
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()


@pytest.mark.slow
def test_csi_serve_starts_with_the_run_its_schedule_missed(prefect_server, tmp_path):
    api, env = prefect_server
    extract, db, out = tmp_path / "depot", tmp_path / "entrepot.duckdb", tmp_path / "rapports"
    _sample_of_the_year(extract, dt.datetime.now(PARIS).date())
    while dt.datetime.now().second > 40:  # registered and paused within the same minute
        time.sleep(1)
    registered = subprocess.run(
        [sys.executable, "-c", _REGISTERED_THEN_STOPPED, str(extract), str(db), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert registered.returncode == 0, registered.stderr
    deployment_id = registered.stdout.split()[-1]
    stopped_at = dt.datetime.now(dt.UTC)
    # The schedule fires at the next minute while nothing serves it.
    next_minute = stopped_at.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    time.sleep((next_minute - dt.datetime.now(dt.UTC)).total_seconds() + 3)
    assert _runs(api, deployment_id) == []  # paused: Prefect plans nothing, runs nothing

    serve_log = tmp_path / "csi-serve.log"
    command = [str(BIN / "csi"), "serve", str(extract), "--db", str(db), "--out", str(out)]
    serve = _start([*command, "--cron", "* * * * *"], env, serve_log, tmp_path)
    logs = [serve_log, tmp_path / "prefect-server.log"]
    try:

        def caught_up() -> dict | None:
            named = [r for r in _runs(api, deployment_id) if r["name"].startswith("rattrapage-")]
            done = [r for r in named if r["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED")]
            return done[0] if done else None

        run = _wait_for("the missed run did not run", caught_up, RUN_TIMEOUT, logs)
    finally:
        _stop(serve)
    assert run["state"]["type"] == "COMPLETED", _tail(serve_log)
    owed = dt.datetime.fromisoformat(run["expected_start_time"])
    assert owed.second == 0 and next_minute <= owed <= dt.datetime.now(dt.UTC)
    assert run["name"] == f"rattrapage-{owed.astimezone(PARIS):%Y-%m-%d-%H%M}"
    assert (1, "loaded") in [(load_id, status) for load_id, status, _ in _loads(db)]
    log = " ".join(_tail(serve_log, 100_000).split())
    assert "n'a pas eu lieu (machine éteinte ou service arrêté) : il est lancé maintenant." in log
    assert "Traceback" not in log


@pytest.mark.parametrize(
    ("command", "told"),
    [
        (["serve"], "Erreur : Le serveur Prefect {url} ne répond pas"),
        (["run", "--year", "2025"], "Erreur : Chargement et rapport impossible : Prefect"),
    ],
)
def test_without_the_prefect_server_it_names_csi_says_so_in_french(tmp_path, command, told):
    """PREFECT_API_URL set (as for `csi serve`) and its server down, at boot say: one
    French sentence and exit 1, not a traceback, and nothing loaded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CSI_"))}
    url = f"http://127.0.0.1:{_free_port()}/api"  # nothing listens there
    env.update(
        PREFECT_API_URL=url,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        CSI_SECRETS_DIR=str(tmp_path / "secrets"),
    )
    db = tmp_path / "wh.duckdb"
    name, *options = command
    done = subprocess.run(
        [str(BIN / "csi"), name, str(ROOT / "data" / "sample"), *options, "--db", str(db)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert message.startswith(told.format(url=url)), message
    assert "prefect server start" in message
    assert "Traceback" not in done.stdout + done.stderr
    assert not db.exists()
