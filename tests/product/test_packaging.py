"""A plain (non-editable) `pip install .` ships the SQL models and templates, and only the product.

The wheel holds `pipeline` and `schemas`: no sample generator, no test code. Each runtime
dependency is imported by them; a library only the tests use is a `dev` extra.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "schemas")

# Runtime dependencies that the package uses without importing them, and through what.
USED_INDIRECTLY = {"fastexcel": 'polars reads XLSX with it: pl.read_excel(engine="calamine")'}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file names inside the wheel `pip wheel .` builds (built once for this module)."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(ROOT)],
        check=True,
    )
    wheel = next(folder.glob("csi-*.whl"))
    return set(zipfile.ZipFile(wheel).namelist())


def test_wheel_contains_sql_models_templates_and_reference(wheel_names):
    for sql in (ROOT / "sql").rglob("*.sql"):
        assert f"pipeline/_resources/sql/{sql.relative_to(ROOT / 'sql')}" in wheel_names
    assert "pipeline/_resources/report_templates/annexe3.html.j2" in wheel_names
    assert "pipeline/core/reference_data/ngap_reference.csv" in wheel_names
    assert "schemas/billing.py" in wheel_names


def test_wheel_holds_no_sample_generator_and_no_test_code(wheel_names):
    assert (ROOT / "data" / "samplegen.py").exists()  # it lives in the repository…
    assert (ROOT / "tests" / "faulty_csi.py").exists()
    assert [n for n in wheel_names if "samplegen" in n] == []  # … not in the wheel
    tops = {name.split("/")[0] for name in wheel_names}
    assert tops == {*PACKAGES, "csi-0.1.0.dist-info"}, tops  # no tests/, no data/
    assert [n for n in wheel_names if re.search(r"(^|/)(test_[^/]*|conftest)\.py$", n)] == []
    assert [n for n in wheel_names if "faulty_csi" in n] == []


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    """`pandera[polars]>=0.22` → `pandera`; `csi[cluster]` (an extra of our own) is skipped."""
    names = {_normalised(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}
    return names - {"csi"}


def _imported_distributions(folders: list[Path]) -> set[str]:
    """The distributions whose modules the code under `folders` imports (deferred ones too)."""
    modules: set[str] = set()
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules.add(node.module.split(".")[0])
    owners = packages_distributions()
    return {_normalised(d) for module in modules for d in owners.get(module, [])}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_every_runtime_dependency_is_imported_by_the_package():
    runtime = _requirement_names(_project()["dependencies"])
    imported = _imported_distributions([ROOT / p for p in PACKAGES])
    assert runtime - imported == set(USED_INDIRECTLY), runtime - imported


def test_libraries_only_the_tests_use_are_dev_extras_not_runtime_dependencies():
    project = _project()
    runtime = _requirement_names(project["dependencies"])
    dev = _requirement_names(project["optional-dependencies"]["dev"])
    product = _imported_distributions([ROOT / p for p in PACKAGES])
    tests_only = _imported_distributions([ROOT / "tests"]) - product
    assert {"openpyxl", "hypothesis", "pytest"} <= tests_only
    assert tests_only & runtime == set()
    assert {"openpyxl", "hypothesis", "pytest"} <= dev
