"""The Prefect flows run the same steps, in-process, with Prefect's temporary server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from pipeline.flows import annual_report_flow, ingest_flow, monthly_flow
from tests.conftest import billing_rows, make_extract, patient_rows


@pytest.fixture(scope="module", autouse=True)
def prefect_server():
    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_monthly_flow_ingests_then_writes_the_report(tmp_path):
    db = tmp_path / "wh.duckdb"
    extract = make_extract(
        tmp_path / "m1",
        billing=billing_rows({"act_date": "2025-01-05", "coefficient": "2"}),
        patients=patient_rows({"patient_id": "P1"}),
    )
    result = monthly_flow(str(extract), 2025, str(db), None, str(tmp_path / "out"), ("json",))
    assert result["load"]["rows_inserted"] == 2
    report = json.loads((tmp_path / "out/750000001/2025/annexe3.json").read_text())
    assert report["acts"]["AMI"]["coefficient_total"] == 2


def test_ingest_and_annual_report_flows_compose(tmp_path):
    db = tmp_path / "wh.duckdb"
    extract = make_extract(
        tmp_path / "m1",
        billing=billing_rows({"act_date": "2025-06-05", "act_code": "AIS", "coefficient": "3"}),
    )
    assert ingest_flow(str(extract), str(db))["rows_inserted"] == 1
    paths = annual_report_flow(2025, None, str(db), str(tmp_path / "out"), ("json",))
    report = json.loads(Path(paths[0]).read_text())
    assert report["acts"]["AIS"]["by_coefficient"] == {"3": 1}
