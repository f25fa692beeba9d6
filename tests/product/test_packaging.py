"""A plain (non-editable) `pip install .` ships the SQL models and templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_sql_models_templates_and_reference(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    wheel = next(tmp_path.glob("csi-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for sql in (ROOT / "sql").rglob("*.sql"):
        assert f"pipeline/_resources/sql/{sql.relative_to(ROOT / 'sql')}" in names
    assert "pipeline/_resources/report_templates/annexe3.html.j2" in names
    assert "pipeline/core/reference_data/ngap_reference.csv" in names
    assert "schemas/billing.py" in names
