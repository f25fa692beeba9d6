"""The monthly schedule, for centres that run a Prefect server or Prefect Cloud.

Imported by `csi serve` alone: the flows (and Prefect) load only when a deployment is built.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from uuid import UUID

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


def last_fire(cron: str, now: dt.datetime) -> dt.datetime:
    """The latest time at or before `now` the schedule fired, on the centre's clock."""
    from cronsim import CronSim

    from pipeline.orchestrate.flows import TIMEZONE

    # CronSim going back yields the times strictly before its start: `now` itself included
    # by starting a second later.
    local = now.astimezone(ZoneInfo(TIMEZONE)).replace(microsecond=0) + dt.timedelta(seconds=1)
    return next(CronSim(cron, local, reverse=True))


def missed_fire(
    cron: str, created: dt.datetime, ran_since: bool, now: dt.datetime
) -> dt.datetime | None:
    """The run the schedule owed since the deployment was registered and never got, if any.

    Why: Prefect pauses the deployment when `csi serve` stops, and never plans a run
    for a time that has passed. The 1st of the month spent with the machine off (or the
    service stopped) would go by without a load or a report, and nothing would say so.
    `ran_since`: whether any run of the deployment was due between the latest fire time
    and now (the scheduled one, still waiting or done, or one started by hand).
    """
    fired = last_fire(cron, now)
    if fired <= created or ran_since:
        return None
    return fired


def catch_up(deployment_id: UUID, cron: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """Plan now, on the server, the run the schedule missed (`missed_fire`); its date.

    The run is scheduled at the time it was owed, so that it reports the year it would
    have reported then (`flows.run_date`), and carries the name `rattrapage-<date>`.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
    )
    from prefect.states import Scheduled

    now = now or dt.datetime.now(dt.UTC)
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(deployment_id)
        fired = last_fire(cron, now)
        since = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(  # runs planned later do not stand for the one owed
                expected_start_time=FlowRunFilterExpectedStartTime.model_validate(
                    {"after_": fired, "before_": now}
                )
            ),
            limit=1,
        )
        created = deployment.created or now
        missed = missed_fire(cron, created, bool(since), now)
        if missed is not None:
            client.create_flow_run_from_deployment(
                deployment_id,
                state=Scheduled(scheduled_time=missed),
                name=f"rattrapage-{missed:%Y-%m-%d-%H%M}",
            )
    return missed
