"""The monthly schedule, for centres that run a Prefect server or Prefect Cloud.

Imported by `csi serve` alone: the flows (and Prefect) load only when a deployment is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

MONTHLY_CRON = "0 6 1 * *"  # 06:00 on the first day of every month
DEPLOYMENT_NAME = "csi-mensuel"


def monthly_deployment(
    extract_dir: Path,
    db: Path | None = None,
    profile: str | None = None,
    out: Path = Path("reports"),
    cron: str = MONTHLY_CRON,
    workers: int | None = None,
) -> RunnerDeployment:
    """The monthly run as a Prefect deployment: ingest the month's extract, refresh the year.

    Paths are made absolute because the scheduled run does not start in the user's folder.
    The year is left empty so that each run reports the year of the month that just ended.
    The cron is read on the centre's clock (`TIMEZONE`), not the server's UTC. The runs
    report on `workers` threads (`Settings.report_workers`; default: one per core).
    """
    from prefect.schedules import Cron

    from pipeline.orchestrate.flows import TIMEZONE, threads_monthly_flow

    # Called outside an event loop, Prefect's dispatching method returns the deployment itself
    # (its annotation also admits the coroutine of the async variant).
    deployment = threads_monthly_flow(workers).to_deployment(
        name=DEPLOYMENT_NAME,
        schedules=[Cron(cron, timezone=TIMEZONE)],
        parameters={
            "extract_dir": str(Path(extract_dir).resolve()),
            "db": str(Path(db).resolve()) if db else None,
            "profile": profile,
            "out": str(Path(out).resolve()),
        },
        description="Chargement de l'extraction du mois puis rapport annuel à jour (csi).",
    )
    return cast("RunnerDeployment", deployment)
