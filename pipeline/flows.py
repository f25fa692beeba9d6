"""Prefect flows: the monthly ingest and the annual report, for orchestrated runs.

The flows compose the plain functions of `pipeline.steps`. Run in-process, Prefect
starts its own temporary API server: nothing to start by hand. `csi serve` registers
the monthly schedule with a Prefect server or Prefect Cloud.

The annual report fans out: one task per group of centres (`pipeline.fanout`), each
opening the warehouse read-only. The flows run them on a thread pool (every core of
the machine); `dask_report_flow` runs the same flow on a Dask cluster, a local one or
one at `address`, for a federation that outgrows one machine (the workers need the
warehouse file at the same path, e.g. on a shared volume, and the output folder).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary API server starts in ~10 s; on a busy two-core machine it can take longer
# than Prefect's default wait of 20 s.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

from prefect import flow, task, unmapped
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline import steps
from pipeline.fanout import workers
from pipeline.render import FORMATS


@task(name="ingest-extract")
def ingest_task(extract_dir: str, db: str | None, profile: str | None) -> dict[str, int]:
    summary = steps.ingest(Path(extract_dir), Path(db) if db else None, profile)
    return summary.__dict__


@task(name="plan-report")
def plan_task(year: int, centre: str | None, db: str | None) -> list[list[str]]:
    return steps.report_plan(year, centre, Path(db) if db else None)


@task(name="report-centres")
def report_centres_task(
    year: int, centres: list[str], db: str | None, out: str, formats: tuple[str, ...]
) -> list[str]:
    """The reports of one group of centres (runs in a thread, a process or on a Dask worker)."""
    paths = steps.report_centres(year, centres, Path(db) if db else None, Path(out), formats)
    return [str(p) for p in paths]


def _reports(
    year: int, centre: str | None, db: str | None, out: str, formats: tuple[str, ...]
) -> list[str]:
    """Plan the groups, then report them concurrently on the flow's task runner."""
    groups = plan_task(year, centre, db)
    futures = report_centres_task.map(
        unmapped(year), groups, unmapped(db), unmapped(out), unmapped(tuple(formats))
    )
    # The groups follow the storage order (`fanout.centre_groups`); list by centre.
    return sorted(path for future in futures for path in future.result())


@flow(name="csi-ingest", log_prints=False)
def ingest_flow(extract_dir: str, db: str | None = None, profile: str | None = None) -> dict:
    return ingest_task(extract_dir, db, profile)


@flow(
    name="csi-annual-report",
    log_prints=False,
    task_runner=ThreadPoolTaskRunner(max_workers=workers()),
)
def annual_report_flow(
    year: int,
    centre: str | None = None,
    db: str | None = None,
    out: str = "reports",
    formats: tuple[str, ...] = FORMATS,  # as `csi report`: the PDF is what is sent
) -> list[str]:
    """Every centre's report (or one centre's), groups of centres in parallel."""
    return _reports(year, centre, db, out, formats)


def threads_report_flow(max_workers: int | None = None):
    """`annual_report_flow` on a thread pool of `max_workers` (default: one per core)."""
    return annual_report_flow.with_options(
        task_runner=ThreadPoolTaskRunner(max_workers=max_workers or workers())
    )


def dask_report_flow(address: str | None = None, n_workers: int | None = None):
    """`annual_report_flow` on a Dask cluster: the one at `address`, else a local one.

    A local cluster has `n_workers` single-threaded worker processes (one per core by
    default). Call the result like the flow: `dask_report_flow("tcp://…:8786")(2025)`.
    """
    from prefect_dask import DaskTaskRunner

    if address:
        runner = DaskTaskRunner(address=address)
    else:
        size = n_workers or workers()
        runner = DaskTaskRunner(cluster_kwargs={"n_workers": size, "threads_per_worker": 1})
    return annual_report_flow.with_options(task_runner=runner)


@flow(
    name="csi-monthly-run",
    log_prints=False,
    task_runner=ThreadPoolTaskRunner(max_workers=workers()),
)
def monthly_flow(
    extract_dir: str,
    year: int | None = None,
    db: str | None = None,
    profile: str | None = None,
    out: str = "reports",
    formats: tuple[str, ...] = FORMATS,  # as `csi report`: the PDF is what is sent
) -> dict:
    """Ingest the month's extract, then refresh the year's figures.

    Without a year (scheduled runs), the year of the month that just ended.
    """
    if year is None:
        year = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).year
    summary = ingest_task(extract_dir, db, profile)
    return {"load": summary, "reports": _reports(year, None, db, out, formats)}
