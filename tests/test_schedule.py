"""`csi serve` registers the monthly run: cron on the 1st, absolute paths, year left open."""

from __future__ import annotations

from pathlib import Path

from pipeline.schedule import MONTHLY_CRON, monthly_deployment


def test_monthly_deployment_runs_on_the_first_of_the_month(tmp_path):
    deployment = monthly_deployment(Path("extracts"), tmp_path / "wh.duckdb", "logiciel-fr")
    assert [s.schedule.cron for s in deployment.schedules] == [MONTHLY_CRON]
    assert MONTHLY_CRON.split()[2] == "1"
    params = deployment.parameters
    assert Path(params["extract_dir"]).is_absolute()
    assert params["db"] == str((tmp_path / "wh.duckdb").resolve())
    assert params["profile"] == "logiciel-fr"
    assert "year" not in params  # each run reports the year of the month just ended
    assert deployment.flow_name == "csi-monthly-run"
