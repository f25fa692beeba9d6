"""The pipeline's steps as plain functions.

The CLI calls them directly (answers in seconds); the Prefect flows of
`pipeline.orchestrate.flows` compose the very same functions for scheduled runs.

Each takes the `Settings` its caller read at the edge (`settings=`) and hands their
values down. A Python caller that passes none (a test, a notebook) is its own edge:
the environment is read then, once per call (`_settings`).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import (
    InputError,
    ProfileError,
    UsageError,
    plain_reason,
    write_reason,
)
from pipeline.core.settings import Settings
from pipeline.core.sql import literal
from pipeline.warehouse.database import catalog, connect, make_folder, scalar
from pipeline.warehouse.schema import initialise

if TYPE_CHECKING:  # the loader imports pandera and pandas: only `ingest` needs them
    import duckdb

    from pipeline.load.loader import LoadSummary


def _settings(settings: Settings | None) -> Settings:
    """The caller's settings, or the environment's for a caller that is its own edge."""
    return settings if settings is not None else Settings.from_environ()


def ingest(
    extract_dir: Path,
    db: Path | None = None,
    profile: str | None = None,
    *,
    settings: Settings | None = None,
) -> LoadSummary:
    """Validate an extract and load it into the warehouse, all or nothing.

    The rows are read, checked and written batch by batch inside one transaction
    (`load_extract`): memory holds a batch, never the extract.
    """
    return _load(extract_dir, db, profile, _settings(settings))[0]


UNCHANGED = "inchangé"  # a monthly run that found nothing new: a success
LOADED = "chargé"
REFUSAL_FINDINGS_SHOWN = 30  # findings printed or logged; the rejection folder has them all


def reported_year(run_date: dt.date) -> int:
    """The year a monthly run reports: that of the month that just ended.

    The run of 1 January 2027 completes December 2026, so it reports 2026; every other
    run of 2027 reports 2027.
    """
    return (run_date.replace(day=1) - dt.timedelta(days=1)).year


def monthly_ingest(
    extract_dir: Path,
    db: Path | None = None,
    profile: str | None = None,
    *,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The month's load, as a monthly run sees it: « chargé » or « inchangé ».

    An empty folder (the software has not dropped this month's extract yet) loads
    nothing and is « inchangé », as is an extract already loaded (the load records an
    `unchanged` row and changes nothing): neither is a failure. A missing folder, or
    files that cannot be read, still raise (`UsageError`, `InputError`).
    """
    directory = Path(extract_dir)
    if directory.is_dir() and not any(not p.name.startswith(".") for p in directory.iterdir()):
        return {
            "status": UNCHANGED,
            "load_id": None,
            "rows_read": 0,
            "rows_inserted": 0,
            "rows_replaced": 0,
            "rows_unchanged": 0,
        }
    summary, status = _load(directory, db, profile, _settings(settings))
    return {"status": LOADED if status == "loaded" else UNCHANGED, **summary.__dict__}


def _load(
    extract_dir: Path, db: Path | None, profile: str | None, settings: Settings
) -> tuple[LoadSummary, str]:
    """Load an extract; return its summary and the outcome the `loads` table records."""
    from pipeline.extract.folder import open_extract
    from pipeline.extract.profiles import load_profile
    from pipeline.load.loader import load_extract

    check_extract_dir(Path(extract_dir))
    extract = open_extract(Path(extract_dir), load_profile(profile))
    path = settings.warehouse(db)
    created = not path.exists()
    con = connect(path, lock_timeout=settings.lock_timeout)
    try:
        summary = load_extract(con, extract, settings)
        return summary, scalar(
            con, "select outcome from loads where load_id = ?", [summary.load_id]
        )
    except InputError:
        if created:  # the first load, refused: leave no empty warehouse behind
            con.close()
            _remove_warehouse_file(path)
        raise
    finally:
        con.close()


def _remove_warehouse_file(path: Path) -> None:
    """Remove a warehouse this very load created (and its write-ahead log)."""
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def check_extract_dir(directory: Path) -> None:
    """Refuse a mistyped folder as a usage error, before anything is read.

    Nothing was read, so nothing is quarantined: an `InputError` here would make a
    `rejets/` folder for a typo (`csi ingest dossier-qui-n-existe-pas`).
    """
    if directory.is_dir():
        return
    if directory.exists():
        raise UsageError(
            f"{directory} est un fichier, pas un dossier : indiquez le dossier de l'extraction."
        )
    raise UsageError(f"Dossier d'extraction introuvable : {directory}")


def has_year(year: int, db: Path | None = None, *, settings: Settings | None = None) -> bool:
    """Whether the warehouse exists and holds counted lines of `year` (read-only)."""
    settings = _settings(settings)
    if not settings.warehouse(db).exists():
        return False
    from pipeline.report.build import counted_centres

    con = open_warehouse(db, settings=settings)
    try:
        return bool(counted_centres(con, year))
    finally:
        con.close()


def refusal_lines(error: InputError, folder: Path | None) -> list[str]:
    """What a refused extract tells the user, in `csi ingest`, `csi run` and Prefect's logs.

    `folder` is None for a refused profile: the extract was not read, nothing is quarantined.
    """
    lines = [error.summary]
    lines += [f"  • {f.describe()}" for f in error.findings[:REFUSAL_FINDINGS_SHOWN]]
    if len(error.findings) > REFUSAL_FINDINGS_SHOWN:
        lines.append(f"  … et {len(error.findings) - REFUSAL_FINDINGS_SHOWN} autre(s).")
    if folder is None and error.rejection_problem:
        lines.append(
            "Rien n'a été chargé : l'entrepôt est inchangé. Le dossier de rejet n'a pas pu "
            f"être écrit ({error.rejection_problem}) : seuls les premiers problèmes sont "
            "listés ici ; corrigez ce dossier pour avoir le détail complet."
        )
    elif folder is None:
        lines.append(
            "Rien n'a été chargé : l'entrepôt est inchangé. Corrigez le profil d'import, "
            "puis relancez."
        )
    else:
        lines.append(
            "Rien n'a été chargé : l'entrepôt est inchangé. Détail complet et lignes rejetées : "
            f"{folder}"
        )
    return lines


def write_rejection(
    error: InputError,
    extract_dir: Path,
    db: Path | None = None,
    *,
    settings: Settings | None = None,
) -> Path | None:
    """Write the error report and the quarantine file; return their folder.

    None for a refused profile (`ProfileError`): no extract was read, there is nothing
    to quarantine, and a `rejets/` folder would only puzzle the centre.
    """
    if isinstance(error, ProfileError):
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = (
        _settings(settings).warehouse(db).parent / "rejets" / f"{stamp}_{Path(extract_dir).name}"
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "erreurs.txt").write_text(error.describe(limit=10_000) + "\n", encoding="utf-8")
        with (folder / "quarantaine.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["file", "row", "column", "rule", "value"])
            writer.writeheader()
            writer.writerows(f.as_dict() for f in error.findings)
    except OSError as problem:  # the refusal itself must still be told
        shutil.rmtree(folder, ignore_errors=True)
        error.rejection_problem = f"{folder} : {write_reason(problem)}"
        return None
    return folder


def report(
    year: int,
    centre: str | None = None,
    db: Path | None = None,
    out: Path = Path("reports"),
    formats: tuple[str, ...] = ("json", "html"),
    as_of: int | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    on_report: Callable[[dict[str, Any]], None] | None = None,
    workers: int | None = None,
    settings: Settings | None = None,
) -> list[Path]:
    """Write the annual report of one centre, or of every centre of the warehouse.

    With `as_of`, the report reads the warehouse as it stood right after that load.
    `progress` hears what is being done (the PDF takes seconds: the CLI shows it) and
    `on_report` receives each report built, for a summary, in the order of the centres.
    Centres are reported in groups, each report query run once per group, the groups in
    parallel on `workers` threads (default: `CSI_REPORT_WORKERS`, else one per core).
    """
    from pipeline.orchestrate.fanout import run_groups

    settings = _settings(settings)
    tell = progress or (lambda _message: None)
    con = open_warehouse(db, as_of, settings=settings)
    try:
        centres, groups = _plan(con, year, centre, settings.warehouse(db))
        threads = workers or settings.report_workers
        epoch = settings.source_date_epoch
        done = list(run_groups(con, groups, year, Path(out), formats, tell, threads, epoch))
        rank = {finess: i for i, finess in enumerate(centres)}
        done.sort(key=lambda d: rank[d.finess])  # the groups follow the storage order
        for centre_report in done:
            if on_report:
                on_report(centre_report.report)
        return [path for d in done for path in d.paths]
    finally:
        con.close()


def report_plan(
    year: int,
    centre: str | None = None,
    db: Path | None = None,
    *,
    settings: Settings | None = None,
) -> list[list[str]]:
    """The groups of centres to report (`pipeline.orchestrate.fanout`).

    The warehouse is closed on return, so that tasks in other threads, processes or
    machines can open it read-only (`report_centres`).
    """
    settings = _settings(settings)
    con = open_warehouse(db, settings=settings)
    try:
        return _plan(con, year, centre, settings.warehouse(db))[1]
    finally:
        con.close()


def _plan(
    con: duckdb.DuckDBPyConnection, year: int, centre: str | None, path: Path
) -> tuple[list[str], list[list[str]]]:
    """The centres to report (one, or every centre with data that year) and their groups."""
    from pipeline.orchestrate.fanout import centre_groups
    from pipeline.report.build import check_reportable, counted_centres

    if centre:
        check_reportable(con, centre, year)
    centres = [centre] if centre else counted_centres(con, year)
    if not centres:
        raise UsageError(
            f"Aucune ligne de facturation comptée pour l'année {year} dans "
            f"{path} : aucun rapport n'a été écrit."
        )
    return centres, centre_groups(con, centres)


def report_centres(
    year: int,
    centres: list[str],
    db: Path | None = None,
    out: Path = Path("reports"),
    formats: tuple[str, ...] = ("json", "html"),
    *,
    settings: Settings | None = None,
) -> list[Path]:
    """Write the reports of one group of centres, on a read-only connection of its own.

    A unit of work for a task runner: it needs nothing but the warehouse file.
    """
    from pipeline.orchestrate.fanout import report_group

    settings = _settings(settings)
    con = connect(settings.warehouse(db), read_only=True, lock_timeout=settings.lock_timeout)
    try:
        epoch = settings.source_date_epoch
        built = report_group(con, centres, year, Path(out), formats, epoch=epoch)
        return [p for done in built for p in done.paths]
    finally:
        con.close()


def snapshot(
    destination: Path, db: Path | None = None, *, settings: Settings | None = None
) -> None:
    """Copy the warehouse, tables and views, into a new DuckDB file.

    The copy is written to a hidden file beside the destination, then renamed: a copy
    killed midway leaves no empty or half-written file under the name asked for (which
    would make the next attempt fail with « existe déjà »).
    """
    import duckdb

    settings = _settings(settings)
    path, destination = settings.warehouse(db), Path(destination)
    if not path.exists():
        raise UsageError(f"Entrepôt introuvable : {path}.")
    if destination.exists():
        raise UsageError(f"{destination} existe déjà : choisissez un autre nom.")
    blocking = next((p for p in destination.parents if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise UsageError(
            f"{blocking} est un fichier, pas un dossier : copie impossible vers {destination}."
        )
    make_folder(destination.parent, f"Impossible de créer le dossier {destination.parent}")
    _remove_abandoned_copies(destination)
    partial = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    con = connect(path, read_only=True, lock_timeout=settings.lock_timeout)
    try:
        con.execute(f"attach {literal(partial)} as copy (read_only false)")
        con.execute(f"copy from database {catalog(con)} to copy")
        con.execute("detach copy")
        if destination.exists():
            raise UsageError(f"{destination} a été créé pendant la copie : copie abandonnée.")
        os.rename(partial, destination)
    except (duckdb.Error, OSError) as exc:
        raise UsageError(
            f"Copie impossible vers {destination} : {' '.join(str(exc).split())}"
        ) from None
    finally:
        con.close()
        for leftover in (partial, partial.with_name(partial.name + ".wal")):
            leftover.unlink(missing_ok=True)


def _remove_abandoned_copies(destination: Path) -> None:
    """Delete the hidden partial copies that killed snapshots left beside `destination`.

    Why: each is as large as the warehouse. A copy in progress writes all the time, so
    a partial file untouched for an hour was abandoned.
    """
    from pipeline.render.write import STALE_PARTIAL_SECONDS

    for leftover in destination.parent.glob(f".{destination.name}.partial-*"):
        try:
            if time.time() - leftover.stat().st_mtime > STALE_PARTIAL_SECONDS:
                leftover.unlink()
        except OSError:  # removed meanwhile, or not ours to remove
            continue


LOAD_COLUMNS = (
    "load_id",
    "started_at",
    "extract_dir",
    "profile",
    "rows_read",
    "rows_inserted",
    "rows_replaced",
    "rows_unchanged",
    "outcome",
)


def list_loads(db: Path | None = None, *, settings: Settings | None = None) -> list[dict[str, Any]]:
    """The register of loads, newest first: what `--as-of N` can name (read-only)."""
    settings = _settings(settings)
    path = settings.warehouse(db)
    if not path.exists():
        raise UsageError(
            f"Entrepôt introuvable : {path}. Chargez d'abord une extraction avec « csi ingest »."
        )
    con = connect(path, read_only=True, lock_timeout=settings.lock_timeout)
    try:
        cursor = con.execute(f"select {', '.join(LOAD_COLUMNS)} from loads order by load_id desc")
        return [dict(zip(LOAD_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def open_warehouse(
    db: Path | None, as_of: int | None = None, *, settings: Settings | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the warehouse, or on its state right after a load.

    Loads keep the stored models up to date, so readers never write and any number of
    them (reports, verifies, analysts) read at once. A warehouse written by an earlier
    version is migrated first, once (`pipeline.warehouse.materialise.ensure_models`). As of the
    latest load, the warehouse itself is that state: no need to rebuild it.
    """
    from pipeline.warehouse.asof import open_as_of
    from pipeline.warehouse.materialise import models_current

    settings = _settings(settings)
    path, wait = settings.warehouse(db), settings.lock_timeout
    if not path.exists():
        raise UsageError(
            f"Entrepôt introuvable : {path}. Chargez d'abord une extraction avec « csi ingest »."
        )
    con = connect(path, read_only=True, lock_timeout=wait)
    if not models_current(con):  # its stamp covers the SQL files and the references
        con.close()
        _migrate(path, wait)
        con = connect(path, read_only=True, lock_timeout=wait)
    if as_of is not None and as_of != scalar(con, "select max(load_id) from loads"):
        con.close()
        return open_as_of(path, as_of)
    return con


def _migrate(path: Path, lock_timeout: float) -> None:
    """Bring a warehouse of an earlier version to this one (the only write a reader makes)."""
    con = connect(path, lock_timeout=lock_timeout)
    try:
        initialise(con)
    finally:
        con.close()


def verify(
    report_path: Path,
    db: Path | None = None,
    on_inputs: Callable[[int], None] | None = None,
    *,
    settings: Settings | None = None,
) -> list[str]:
    """Recompute a report from the warehouse as of its load; return the differences.

    First, the report's input files must all be in this warehouse (`MissingInputs`
    otherwise); `on_inputs` hears how many were found, before the slower comparison.
    """
    import json

    from pipeline.report.build import build_report
    from pipeline.report.scoped import CentreReader
    from pipeline.report.verify import check_inputs, differences

    try:
        original = json.loads(Path(report_path).read_text(encoding="utf-8"))
        meta = original["meta"]
        finess, year, as_of = meta["centre_finess"], meta["year"], meta["as_of_load"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"Rapport JSON illisible : {report_path} ({plain_reason(exc)})") from None
    if not (
        isinstance(finess, str)
        and _whole(year)
        and _whole(as_of)
        and isinstance(meta.get("inputs"), list)
    ):
        raise UsageError(
            f"Rapport JSON illisible : {report_path} (meta.centre_finess, meta.year, "
            "meta.as_of_load ou meta.inputs n'ont pas la forme d'un rapport de csi)."
        )
    settings = _settings(settings)
    path = settings.warehouse(db)
    if not path.exists():
        raise UsageError(f"Entrepôt introuvable : {path}.")
    check_inputs(path, meta, lock_timeout=settings.lock_timeout)
    if on_inputs:
        on_inputs(len(meta.get("inputs") or []))
    con = open_warehouse(db, as_of, settings=settings)
    try:
        built = build_report(CentreReader(con), finess, year, settings.source_date_epoch)
        again = json.loads(json.dumps(built, default=str))
    finally:
        con.close()
    return differences(original, again)


def _whole(value: object) -> bool:
    """A whole number as JSON holds it (not a boolean, not a string of digits)."""
    return isinstance(value, int) and not isinstance(value, bool)


SQL_ROWS_SHOWN = 1_000  # `csi sql` prints at most this many rows: a terminal is no export


def query(
    sql: str, db: Path | None = None, *, settings: Settings | None = None
) -> tuple[list[str], list[tuple], bool]:
    """Run one analyst's query on the warehouse opened read-only.

    Returns the column names, at most `SQL_ROWS_SHOWN` rows, and whether rows were left
    off. Read-only, so a mistyped `delete` cannot harm the figures; DuckDB's own words
    on a bad query are kept (they name the table or column), inside a French sentence.
    """
    import duckdb

    con = open_warehouse(db, settings=settings)
    try:
        # None for a text holding no statement (";", a comment), whatever the stubs say.
        cursor: duckdb.DuckDBPyConnection | None = con.execute(sql)
        if cursor is None or cursor.description is None:
            return [], [], False
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchmany(SQL_ROWS_SHOWN + 1)
        return columns, rows[:SQL_ROWS_SHOWN], len(rows) > SQL_ROWS_SHOWN
    except duckdb.Error as exc:
        raise UsageError(f"Requête refusée par DuckDB : {' '.join(str(exc).split())}") from None
    finally:
        con.close()
