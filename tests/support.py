"""Builders of tiny hand-made extracts, shared by the tests of every stage."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.canonical import TABLES

FINESS = "750000001"
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"

_BILLING_DEFAULTS = {
    "centre_finess": FINESS,
    "patient_id": "P1",
    "act_code": "AMI",
    "coefficient": "1",
    "quantity": "1",
    "status": "billed",
}
_PATIENT_DEFAULTS = {"centre_finess": FINESS, "birth_date": "1960-01-01"}
_EPISODE_DEFAULTS = {"centre_finess": FINESS, "reason": "chronic"}


def warehouse_rows(db: Path, sql: str) -> list[tuple]:
    """The rows of one query on the warehouse file `db`, opened read-only and closed again."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def write_table(path: Path, table: str, rows: list[dict[str, Any]]) -> Path:
    """Write canonical CSV rows; missing columns are left empty."""
    columns = [c.name for c in TABLES[table]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return path


def billing_rows(*rows: dict[str, Any], invoice: str = "F1") -> list[dict[str, Any]]:
    """Fill defaults and number the lines of one invoice (line_no 1, 2, …)."""
    counter = itertools.count(1)
    return [
        {**_BILLING_DEFAULTS, "invoice_id": invoice, "line_no": next(counter), **row}
        for row in rows
    ]


def patient_rows(*rows: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**_PATIENT_DEFAULTS, **row} for row in rows]


def episode_rows(*rows: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**_EPISODE_DEFAULTS, **row} for row in rows]


def make_extract(
    directory: Path,
    billing: list[dict[str, Any]] | None = None,
    patients: list[dict[str, Any]] | None = None,
    episodes: list[dict[str, Any]] | None = None,
    register: dict[str, Any] | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    if billing is not None:
        write_table(directory / "billing.csv", "billing", billing)
    if patients is not None:
        write_table(directory / "patients.csv", "patients", patients)
    if episodes is not None:
        write_table(directory / "episodes.csv", "episodes", episodes)
    if register is not None:
        (directory / "centre.yaml").write_text(
            yaml.safe_dump(register, allow_unicode=True), encoding="utf-8"
        )
    return directory
