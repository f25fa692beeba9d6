"""Reports of many centres: groups of centres, each computed once, in parallel.

Why: a report reads some forty small queries over the SQL models, and each model
query re-reads the billing lines behind it. For a federation, `report_group` first
materialises every intermediate and mart model for a group of centres into
temporary tables that shadow the views (DuckDB looks up temporary objects first,
views included), so the group's line-level work is done once; the reports of its
centres then read small tables. A group holds about `GROUP_LINES` billing lines, so
memory is bounded whatever the federation's size, and groups are independent tasks:
threads here (`run_groups`), Prefect task runners or a Dask cluster (`pipeline.flows`).

The temporary tables hold every year of the group's centres, so whatever year a
report reads (the previous year too) it reads exactly what the views would give.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline.scoped import group_rows
from pipeline.warehouse import catalog, model_files

GROUP_LINES = 1_000_000  # billing lines per group of centres: about 500 MB of temporary tables
# Read through rather than copied: a thin union, and the lines before the status filter
# (copying a million wide lines costs more, ~0.4 s, than the NGAP join it would save).
NOT_MATERIALISED = ("int_scoped_lines", "stg_billing_lines")


@dataclass(frozen=True)
class CentreReport:
    finess: str
    paths: list[Path]
    report: dict[str, Any]


@functools.cache
def _models() -> tuple[str, ...]:
    """The models to materialise, each after every model it reads (directly or not).

    Read from the SQL files once per process: every group asks twice (`materialise`,
    `release`), and parsing 22 files costs ≈ 13 ms.
    """
    files = model_files()
    code = {p.stem: re.sub(r"--[^\n]*", "", p.read_text(encoding="utf-8")) for p in files}
    reads = {
        name: {
            other
            for other in code
            if other != name and re.search(rf"\b(from|join)\s+{other}\b", text, re.IGNORECASE)
        }
        for name, text in code.items()
    }
    ordered: list[str] = []
    while len(ordered) < len(code):
        ready = sorted(n for n in code if n not in ordered and reads[n] <= set(ordered))
        if not ready:
            raise RuntimeError(f"SQL models read each other in a cycle: {sorted(code)}")
        ordered += ready
    return tuple(name for name in ordered if name not in NOT_MATERIALISED)


# The base tables the models read row by row: copied for the group first, so that each
# is scanned once per group (not once per model reading it).
GROUP_TABLES = ("billing_lines", "episodes", "patients")


def materialise(con: duckdb.DuckDBPyConnection, centres: list[str]) -> None:
    """Shadow the base tables, then the intermediate and mart views, with temporary tables
    holding these centres' rows only."""
    database = catalog(con)
    listed = ", ".join("'" + c.replace("'", "''") + "'" for c in centres)
    lines = con.execute(
        f"select min(rowid), max(rowid) from {database}.main.billing_lines "
        f"where centre_finess in ({listed})"
    ).fetchall()[0]
    # The group's lines lie in a run of rowids (`centre_groups`): a rowid range lets the
    # scan skip the other row groups, which a list of FINESS values cannot.
    run = f" and rowid between {lines[0]} and {lines[1]}" if lines[0] is not None else ""
    for name in (*GROUP_TABLES, *_models()):
        within = run if name == "billing_lines" else ""
        con.execute(
            f"create or replace temp table {name} as select * from {database}.main.{name} "
            f"where centre_finess in ({listed}){within}"
        )


def release(con: duckdb.DuckDBPyConnection) -> None:
    for name in (*GROUP_TABLES, *_models()):
        con.execute(f"drop table if exists temp.main.{name}")


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
    groups: list[list[str]] = [[]]
    size = 0
    for finess in ordered:
        count = stored.get(finess, unstored)[1]
        if groups[-1] and size + count > lines:
            groups.append([])
            size = 0
        groups[-1].append(finess)
        size += count
    return [g for g in groups if g]


def report_group(
    con: duckdb.DuckDBPyConnection,
    centres: list[str],
    year: int,
    out: Path,
    formats: tuple[str, ...],
    tell: Callable[[str], None] = lambda _message: None,
) -> list[CentreReport]:
    """Materialise the group's models, then build and write each centre's report."""
    from pipeline.render import write_report
    from pipeline.report import build_report

    materialise(con, centres)
    try:
        done = []
        with group_rows(con):  # each report query runs once for the whole group
            for finess in centres:
                tell(f"Calcul des chiffres du centre {finess} ({year})")
                built = build_report(con, finess, year)
                paths: list[Path] = []
                for fmt in formats:
                    tell(f"Centre {finess} : écriture du rapport {fmt.upper()}")
                    paths += write_report(built, Path(out), (fmt,))
                done.append(CentreReport(finess, paths, built))
        return done
    finally:
        release(con)


def workers() -> int:
    """Concurrent groups: `CSI_REPORT_WORKERS`, else one per core."""
    return max(int(os.environ.get("CSI_REPORT_WORKERS") or os.cpu_count() or 1), 1)


def run_groups(
    con: duckdb.DuckDBPyConnection,
    groups: list[list[str]],
    year: int,
    out: Path,
    formats: tuple[str, ...],
    tell: Callable[[str], None] = lambda _message: None,
    threads: int | None = None,
) -> Iterator[CentreReport]:
    """The groups' reports, computed by a pool of threads, each on its own cursor.

    DuckDB runs the cursors' queries in parallel (the GIL is released while it
    works); the reports come back in the order of the groups.
    """

    def one(group: list[str]) -> list[CentreReport]:
        cursor = con.cursor()
        try:
            return report_group(cursor, group, year, out, formats, tell)
        finally:
            cursor.close()

    count = min(threads or workers(), len(groups))
    if count <= 1:
        for group in groups:
            yield from one(group)
        return
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="csi-report") as pool:
        for done in pool.map(one, groups):
            yield from done
