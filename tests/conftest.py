"""Fixtures to build tiny hand-made extracts and load them into a real DuckDB file."""

from __future__ import annotations

import atexit
import csv
import itertools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.canonical import TABLES

# Prefect keeps its database under PREFECT_HOME: a home shared with another Prefect version
# (an older venv, a developer's own server) fails with « Can't locate revision ». The tests
# get a private one, and never talk to a server the developer may have configured.
_PREFECT_HOME = tempfile.mkdtemp(prefix="csi-tests-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.pop("PREFECT_API_URL", None)
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)

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


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def build(tmp_path: Path, db: Path):
    """Load one or more hand-made extracts, then return the report of FINESS × year."""
    from pipeline import steps
    from pipeline.report import build_report
    from pipeline.warehouse import connect

    counter = itertools.count(1)

    def _load(**tables: Any) -> None:
        steps.ingest(make_extract(tmp_path / f"extract{next(counter)}", **tables), db)

    def _report(year: int = 2025, finess: str = FINESS) -> dict[str, Any]:
        con = connect(db)
        try:
            return build_report(con, finess, year)
        finally:
            con.close()

    _load.report = _report  # type: ignore[attr-defined]
    return _load


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-long",
        action="store_true",
        help="also run the long fuzz run (tests marked fuzz_long, about 450 cases, minutes)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the long fuzz run unless --fuzz-long: `-m 'not slow'` must not start it."""
    if config.getoption("--fuzz-long"):
        return
    long_run = [item for item in items if item.get_closest_marker("fuzz_long")]
    if long_run:
        config.hook.pytest_deselected(items=long_run)
        items[:] = [item for item in items if not item.get_closest_marker("fuzz_long")]
