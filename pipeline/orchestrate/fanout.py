"""Reports of many centres: groups of centres, each computed once, in parallel.

Why: a report reads some forty small queries over the SQL models, stored as tables
by the loads (`pipeline.warehouse.materialise`). For a federation the cost is in the queries'
overhead: `report_group` runs each query once for a group of centres
(`pipeline.report.scoped.GroupReader`). A group holds about `GROUP_LINES` billing lines, in
the order the lines are stored, so its rows stay few, and groups are independent
tasks: threads here (`run_groups`), Prefect task runners or a Dask cluster
(`pipeline.orchestrate.flows`), each on a read-only connection.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline.report.scoped import GroupReader
from pipeline.warehouse.database import pack_in_groups

GROUP_LINES = 1_000_000  # billing lines per group of centres


@dataclass(frozen=True)
class CentreReport:
    finess: str
    paths: list[Path]
    report: dict[str, Any]


def centre_groups(
    con: duckdb.DuckDBPyConnection, centres: list[str], lines: int | None = None
) -> list[list[str]]:
    """The centres in groups of about `lines` billing lines (one centre at least).

    Centres are grouped in the order their lines are stored, not by FINESS: a group
    then covers a run of row groups, and the zone maps of `centre_finess` let each
    group's queries skip the rest of the table instead of scanning it all.
    """
    lines = lines or GROUP_LINES
    stored = {
        finess: (position, count)
        for finess, position, count in con.execute(
            "select centre_finess, min(rowid), count(*) from billing_lines group by all"
        ).fetchall()
    }
    unstored = (float("inf"), 0)  # centres with no billing line come last
    ordered = sorted(centres, key=lambda f: (stored.get(f, unstored)[0], f))
    return pack_in_groups(((f, stored.get(f, unstored)[1]) for f in ordered), lines)


def report_group(
    con: duckdb.DuckDBPyConnection,
    centres: list[str],
    year: int,
    out: Path,
    formats: tuple[str, ...],
    tell: Callable[[str], None] = lambda _message: None,
    epoch: int | None = None,
) -> list[CentreReport]:
    """Build and write each centre's report, each report query run once for the group.

    `epoch` (`Settings.source_date_epoch`) fixes the reports' generation time.
    """
    from pipeline.render.write import write_report
    from pipeline.report.build import build_report

    reader = GroupReader(con, tuple(centres))
    done = []
    for finess in centres:
        tell(f"Calcul des chiffres du centre {finess} ({year})")
        built = build_report(reader, finess, year, epoch)
        paths = write_report(built, Path(out), formats, tell)
        done.append(CentreReport(finess, paths, built))
    return done


def workers(configured: int | None = None) -> int:
    """Concurrent groups: `configured` (`--workers`, `Settings.report_workers`), else one
    per core."""
    return max(configured or os.cpu_count() or 1, 1)


def run_groups(
    con: duckdb.DuckDBPyConnection,
    groups: list[list[str]],
    year: int,
    out: Path,
    formats: tuple[str, ...],
    tell: Callable[[str], None] = lambda _message: None,
    threads: int | None = None,
    epoch: int | None = None,
) -> Iterator[CentreReport]:
    """The groups' reports, computed by a pool of threads, each on its own cursor.

    DuckDB runs the cursors' queries in parallel (the GIL is released while it
    works); the reports come back in the order of the groups.
    """

    def one(group: list[str]) -> list[CentreReport]:
        cursor = con.cursor()
        try:
            return report_group(cursor, group, year, out, formats, tell, epoch)
        finally:
            cursor.close()

    count = min(workers(threads), len(groups))
    if count <= 1:
        for group in groups:
            yield from one(group)
        return
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="csi-report") as pool:
        for done in pool.map(one, groups):
            yield from done
