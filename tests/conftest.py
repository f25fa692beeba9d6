"""Fixtures: a private Prefect home, a real DuckDB file per test, the fuzz options.

The extract builders live in `tests/support.py` (imported, not injected).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.settings import prepare_prefect
from tests.support import (
    FINESS,
    make_extract,
)

# Prefect keeps its database under PREFECT_HOME: a home shared with another Prefect version
# (an older venv, a developer's own server) fails with « Can't locate revision ». The tests
# get a private one, and never talk to a server the developer may have configured.
_PREFECT_HOME = tempfile.mkdtemp(prefix="csi-tests-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.pop("PREFECT_API_URL", None)
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
# The test harness starts Prefect in-process (the flow tests): csi's Prefect defaults
# first, as the CLI gives them before importing Prefect.
prepare_prefect()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def build(tmp_path: Path, db: Path):
    """Load one or more hand-made extracts, then return the report of FINESS × year."""
    from pipeline.orchestrate import steps
    from pipeline.report.build import build_report
    from pipeline.report.scoped import CentreReader
    from pipeline.warehouse.database import connect

    counter = itertools.count(1)

    def _load(**tables: Any) -> None:
        steps.ingest(make_extract(tmp_path / f"extract{next(counter)}", **tables), db)

    def _report(year: int = 2025, finess: str = FINESS) -> dict[str, Any]:
        con = connect(db)
        try:
            return build_report(CentreReader(con), finess, year)
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
