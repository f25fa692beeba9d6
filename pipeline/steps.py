"""The pipeline's steps as plain functions.

The CLI calls them directly (answers in seconds); the Prefect flows of
`pipeline.flows` compose the very same functions for scheduled runs.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from pipeline.errors import InputError, UsageError
from pipeline.load import LoadSummary, load_extract
from pipeline.warehouse import connect, database_path, initialise


def ingest(extract_dir: Path, db: Path | None = None, profile: str | None = None) -> LoadSummary:
    """Validate an extract and load it into the warehouse, all or nothing."""
    from pipeline.extract import read_extract
    from pipeline.profiles import load_profile

    extract = read_extract(Path(extract_dir), load_profile(profile))
    con = connect(database_path(db))
    try:
        return load_extract(con, extract)
    finally:
        con.close()


def write_rejection(error: InputError, extract_dir: Path, db: Path | None = None) -> Path:
    """Write the error report and the quarantine file; return their folder."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = database_path(db).parent / "rejets" / f"{stamp}_{Path(extract_dir).name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "erreurs.txt").write_text(error.describe(limit=10_000) + "\n", encoding="utf-8")
    with (folder / "quarantaine.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "row", "column", "rule", "value"])
        writer.writeheader()
        writer.writerows(f.as_dict() for f in error.findings)
    return folder


def report(
    year: int,
    centre: str | None = None,
    db: Path | None = None,
    out: Path = Path("reports"),
    formats: tuple[str, ...] = ("json", "html"),
) -> list[Path]:
    """Write the annual report of one centre, or of every centre of the warehouse."""
    from pipeline.render import write_report
    from pipeline.report import build_report

    path = database_path(db)
    if not path.exists():
        raise UsageError(
            f"Entrepôt introuvable : {path}. Chargez d'abord une extraction avec « csi ingest »."
        )
    con = connect(path)
    try:
        initialise(con)
        centres = [centre] if centre else _centres_of_year(con, year)
        if not centres:
            raise UsageError(f"Aucune donnée pour l'année {year} dans {path}.")
        written: list[Path] = []
        for finess in centres:
            written += write_report(build_report(con, finess, year), Path(out), formats)
        return written
    finally:
        con.close()


def _centres_of_year(con, year: int) -> list[str]:
    rows = con.execute(
        "select centre_finess from int_centre_years where year = ? order by 1", [year]
    ).fetchall()
    return [r[0] for r in rows]
