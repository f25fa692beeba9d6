"""Prefect flows: the monthly ingest and the annual report, for orchestrated runs.

The flows compose the plain functions of `pipeline.orchestrate.steps`. Run in-process, Prefect
starts its own temporary API server: nothing to start by hand. `csi serve` registers
the monthly schedule with a Prefect server or Prefect Cloud.

A monthly run reports the year of the month just ended; nothing new is « inchangé », a
success; a refused extract fails the run with its French message, logged once and
without traceback (`ExpectedErrorFilter`); a warehouse held by a reader is retried.

The annual report fans out: one task per group of centres (`pipeline.orchestrate.fanout`), each
opening the warehouse read-only. The flows run them on a thread pool (every core of
the machine); `dask_report_flow` runs the same flow on a Dask cluster, a local one or
one at `address`, for a federation that outgrows one machine (the workers need the
warehouse file at the same path, e.g. on a shared volume, and the output folder).

Each flow is an edge: it reads `Settings.from_environ()` when it starts (a served run
starts in a process of its own) and hands the settings to its tasks. Prefect's own
variables are given csi's defaults before Prefect is imported, by whoever starts it
(`pipeline.core.settings.prepare_prefect`: the CLI, the test harness).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, runtime, task, unmapped
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from pipeline.core.errors import InputError, UsageError, WarehouseBusy
from pipeline.core.settings import Settings
from pipeline.orchestrate import steps
from pipeline.orchestrate.fanout import workers
from pipeline.render.write import FORMATS

if TYPE_CHECKING:
    from prefect import Flow, Task
    from prefect.client.schemas import TaskRun
    from prefect.futures import PrefectFuture
    from prefect.states import State

FLOW_NAME = "csi-monthly-run"
TIMEZONE = "Europe/Paris"  # the centre's clock: the cron and the run date are read in it

# A warehouse held by a reader (an analyst's session) is retried: each attempt waits
# `CSI_LOCK_TIMEOUT` (120 s) for the lock, then the task waits this long and tries again.
LOCK_RETRIES = 3
LOCK_RETRY_DELAY_SECONDS = 60
EXPECTED_ERRORS = (InputError, UsageError)  # the user's to fix: a French message, no traceback
PREFECT_RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")


class ExpectedErrorFilter(logging.Filter):
    """Prefect logs a failed task's exception, then the flow's, each with its traceback.

    For an error the user can act on (a refused extract, a warehouse still held after
    the retries) that is a wall of Python in the terminal and the UI: the record keeps
    its level but says the French message instead, once (the flow's repeat is dropped).
    Records are marked `csi_expected` so that `csi run`, which prints the message
    itself, can keep them off its terminal.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, EXPECTED_ERRORS):
            if _names_expected_error(record):  # "Finished in state Failed(…)": keep, marked
                record.csi_expected = True
            return True
        if getattr(error, "csi_logged", False):
            return False
        error.csi_logged = True
        record.msg, record.args = expected_message(error), ()
        record.exc_info = record.exc_text = None
        record.csi_expected = True
        return True


def _names_expected_error(record: logging.LogRecord) -> bool:
    """Whether a record without exception (a run's final state) names an expected error."""
    if record.levelno < logging.ERROR or not isinstance(record.msg, str):
        return False
    names = {InputError.__name__, UsageError.__name__, WarehouseBusy.__name__}
    return any(f"exception {name}:" in record.msg for name in names)


def expected_message(error: Exception) -> str:
    """The French text of an expected error, as `csi ingest` prints it."""
    folder = getattr(error, "rejection_folder", None)
    if isinstance(error, InputError):
        told = folder or error.rejection_problem
        return "\n".join(steps.refusal_lines(error, folder)) if told else error.describe()
    return str(error)


def quiet_expected_errors() -> None:
    """Install `ExpectedErrorFilter` on Prefect's run loggers (once; called by each flow).

    Called from inside the flows rather than at import, so that it holds whatever
    Prefect's logging setup did before, in `csi run` as in a served run's process.
    """
    for name in PREFECT_RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ExpectedErrorFilter) for f in logger.filters):
            logger.addFilter(ExpectedErrorFilter())


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _retry_if_busy(task: Task[..., Any], task_run: TaskRun, state: State) -> bool:
    """Retry the load only when the warehouse was held by another program."""
    try:
        state.result()
    except WarehouseBusy:
        return True
    except Exception:
        return False
    return False


def _runner(runner: TaskRunner[Any]) -> TaskRunner[PrefectFuture[Any]]:
    """A task runner as `@flow` and `with_options` annotate it: Prefect's `TaskRunner` is
    invariant in its future type, so its own runners fail that annotation
    (PrefectHQ/prefect#16938)."""
    return cast("TaskRunner[PrefectFuture[Any]]", runner)


@task(
    name="ingest-extract",
    retries=LOCK_RETRIES,
    retry_delay_seconds=LOCK_RETRY_DELAY_SECONDS,
    retry_condition_fn=_retry_if_busy,
)
def ingest_task(extract_dir: str, db: str | None, profile: str | None, settings: Settings) -> dict:
    """Load the extract (`steps.monthly_ingest`); a refusal writes its rejection folder."""
    try:
        return steps.monthly_ingest(Path(extract_dir), _path(db), profile, settings=settings)
    except InputError as error:
        error.rejection_folder = steps.write_rejection(
            error, Path(extract_dir), _path(db), settings=settings
        )
        raise
    except WarehouseBusy as error:
        attempt, retries = runtime.task_run.run_count, ingest_task.retries
        if attempt <= retries:
            get_run_logger().warning(
                f"{error} Nouvel essai dans {ingest_task.retry_delay_seconds} s "
                f"(essai {attempt + 1} sur {retries + 1})."
            )
        raise


@task(name="plan-report")
def plan_task(year: int, centre: str | None, db: str | None, settings: Settings) -> list[list[str]]:
    return steps.report_plan(year, centre, _path(db), settings=settings)


@task(name="report-centres")
def report_centres_task(
    year: int,
    centres: list[str],
    db: str | None,
    out: str,
    formats: tuple[str, ...],
    settings: Settings,
) -> list[str]:
    """The reports of one group of centres (runs in a thread, a process or on a Dask worker)."""
    paths = steps.report_centres(year, centres, _path(db), Path(out), formats, settings=settings)
    return [str(p) for p in paths]


def _reports(
    year: int,
    centre: str | None,
    db: str | None,
    out: str,
    formats: tuple[str, ...],
    settings: Settings,
) -> list[str]:
    """Plan the groups, then report them concurrently on the flow's task runner."""
    groups = plan_task(year, centre, db, settings)
    futures = report_centres_task.map(
        unmapped(year),
        groups,
        unmapped(db),
        unmapped(out),
        unmapped(tuple(formats)),
        unmapped(settings),
    )
    # The groups follow the storage order (`fanout.centre_groups`); list by centre.
    return sorted(path for future in futures for path in future.result())


@flow(name="csi-ingest", log_prints=False)
def ingest_flow(extract_dir: str, db: str | None = None, profile: str | None = None) -> dict:
    quiet_expected_errors()
    return ingest_task(extract_dir, db, profile, Settings.from_environ())


@flow(
    name="csi-annual-report",
    log_prints=False,
    task_runner=_runner(ThreadPoolTaskRunner(max_workers=workers())),
)
def annual_report_flow(
    year: int,
    centre: str | None = None,
    db: str | None = None,
    out: str = "reports",
    formats: tuple[str, ...] = FORMATS,  # as `csi report`: the PDF is what is sent
) -> list[str]:
    """Every centre's report (or one centre's), groups of centres in parallel."""
    quiet_expected_errors()
    return _reports(year, centre, db, out, formats, Settings.from_environ())


def threads_report_flow(max_workers: int | None = None) -> Flow[..., list[str]]:
    """`annual_report_flow` on a thread pool of `max_workers` (default: one per core)."""
    return annual_report_flow.with_options(
        task_runner=_runner(ThreadPoolTaskRunner(max_workers=workers(max_workers)))
    )


def dask_report_flow(
    address: str | None = None, n_workers: int | None = None
) -> Flow[..., list[str]]:
    """`annual_report_flow` on a Dask cluster: the one at `address`, else a local one.

    A local cluster has `n_workers` single-threaded worker processes (one per core by
    default). Call the result like the flow: `dask_report_flow("tcp://…:8786")(2025)`.
    """
    from prefect_dask import DaskTaskRunner

    if address:
        runner = DaskTaskRunner(address=address)
    else:
        size = workers(n_workers)
        runner = DaskTaskRunner(cluster_kwargs={"n_workers": size, "threads_per_worker": 1})
    return annual_report_flow.with_options(task_runner=_runner(runner))


@flow(
    name=FLOW_NAME,
    log_prints=False,
    task_runner=_runner(ThreadPoolTaskRunner(max_workers=workers())),
)
def monthly_flow(
    extract_dir: str,
    year: int | None = None,
    db: str | None = None,
    profile: str | None = None,
    out: str = "reports",
    formats: tuple[str, ...] = FORMATS,  # as `csi report`: the PDF is what is sent
) -> dict:
    """Ingest the month's extract, then refresh the year's reports.

    Without a year (scheduled runs), the year of the month that just ended at the run's
    scheduled date (`steps.reported_year`). Nothing new this month is « inchangé », a
    success: the reports are rewritten all the same if the warehouse holds that year.
    """
    quiet_expected_errors()
    settings = Settings.from_environ()
    logger = get_run_logger()
    if year is None:
        year = steps.reported_year(run_date())
    load = ingest_task(extract_dir, db, profile, settings)
    logger.info(load_message(load, extract_dir))
    result = {"status": load["status"], "year": year, "load": load, "reports": []}
    if load["status"] == steps.UNCHANGED and not steps.has_year(year, _path(db), settings=settings):
        logger.warning(f"Aucune donnée de {year} dans l'entrepôt : pas de rapport à écrire.")
        return result
    result["reports"] = _reports(year, None, db, out, formats, settings)
    logger.info(f"Rapport {year} : {len(result['reports'])} fichier(s) écrit(s) dans {out}.")
    return result


def threads_monthly_flow(max_workers: int | None = None) -> Flow[..., dict]:
    """`monthly_flow` on a thread pool of `max_workers` (default: one per core).

    Why: the decorators' pools are sized when this module is imported, from the cores
    alone; `csi run` and `csi serve` size them from `Settings.report_workers`.
    """
    return monthly_flow.with_options(
        task_runner=_runner(ThreadPoolTaskRunner(max_workers=workers(max_workers)))
    )


def run_date() -> dt.date:
    """The date, at the centre, the run was scheduled for (today for a run started by hand).

    A run of 1 January that starts late, or is retried, still reports the year just ended.
    """
    scheduled = runtime.flow_run.scheduled_start_time
    return scheduled.astimezone(ZoneInfo(TIMEZONE)).date()


def load_message(load: dict, extract_dir: str) -> str:
    """One French line on what the month's load did."""
    if load["load_id"] is None:
        return f"Aucune nouvelle extraction dans {extract_dir} : rien à charger (inchangé)."
    text = (
        f"Chargement n° {load['load_id']} : {load['rows_read']} lignes lues, "
        f"{load['rows_inserted']} ajoutées, {load['rows_replaced']} remplacées, "
        f"{load['rows_unchanged']} inchangées."
    )
    if load["status"] == steps.UNCHANGED:
        text += " Extraction déjà chargée : entrepôt inchangé."
    return text
