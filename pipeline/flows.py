"""Prefect flows: the monthly ingest and the annual report, for orchestrated runs.

The flows compose the plain functions of `pipeline.steps`. Run in-process, Prefect
starts its own temporary API server: nothing to start by hand. `csi serve` registers
the monthly schedule with a Prefect server or Prefect Cloud.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from prefect import flow, task

from pipeline import steps

MONTHLY_CRON = "0 6 1 * *"  # 06:00 on the first day of every month


@task(name="ingest-extract")
def ingest_task(extract_dir: str, db: str | None, profile: str | None) -> dict[str, int]:
    summary = steps.ingest(Path(extract_dir), Path(db) if db else None, profile)
    return summary.__dict__


@task(name="write-report")
def report_task(
    year: int, centre: str | None, db: str | None, out: str, formats: tuple[str, ...]
) -> list[str]:
    paths = steps.report(year, centre, Path(db) if db else None, Path(out), formats)
    return [str(p) for p in paths]


@flow(name="csi-ingest", log_prints=False)
def ingest_flow(extract_dir: str, db: str | None = None, profile: str | None = None) -> dict:
    return ingest_task(extract_dir, db, profile)


@flow(name="csi-annual-report", log_prints=False)
def annual_report_flow(
    year: int,
    centre: str | None = None,
    db: str | None = None,
    out: str = "reports",
    formats: tuple[str, ...] = ("json", "html"),
) -> list[str]:
    return report_task(year, centre, db, out, formats)


@flow(name="csi-monthly-run", log_prints=False)
def monthly_flow(
    extract_dir: str,
    year: int | None = None,
    db: str | None = None,
    profile: str | None = None,
    out: str = "reports",
    formats: tuple[str, ...] = ("json", "html"),
) -> dict:
    """Ingest the month's extract, then refresh the year's figures.

    Without a year (scheduled runs), the year of the month that just ended.
    """
    if year is None:
        year = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).year
    summary = ingest_task(extract_dir, db, profile)
    paths = report_task(year, None, db, out, formats)
    return {"load": summary, "reports": paths}
