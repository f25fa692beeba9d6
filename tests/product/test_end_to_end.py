"""The sample centre through the CLI, checked against an independent polars computation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.extract.frenchify import frenchify
from tests.support import FINESS, SAMPLE_DIR

YEAR = 2025


def _csi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli.app", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("e2e")
    db, out = root / "wh.duckdb", root / "out"
    ingest = _csi("ingest", str(SAMPLE_DIR), "--db", str(db))
    assert ingest.returncode == 0, ingest.stderr
    report = _csi(
        "report", "--year", str(YEAR), "--db", str(db), "--out", str(out), "--format", "json,html"
    )
    assert report.returncode == 0, report.stderr
    html = (out / FINESS / str(YEAR) / "annexe3.html").read_text(encoding="utf-8")
    assert "Rapport d'activité 2025" in html and "Nombre d'assurés pris en charge" in html
    return json.loads((out / FINESS / str(YEAR) / "annexe3.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def counted() -> pl.DataFrame:
    lines = pl.read_csv(SAMPLE_DIR / "billing_2025.csv", infer_schema=False)
    return lines.filter(
        (pl.col("status") == "billed") & pl.col("act_date").str.starts_with(str(YEAR))
    ).with_columns(pl.col("quantity").cast(pl.Float64), pl.col("coefficient").cast(pl.Float64))


def test_all_sections_are_present(sample_report):
    expected = {"meta", "clientele", "monthly", "monthly_totals", "origin", "acts",
                "hospital_discharge", "staff", "means", "permanence", "prevention", "promotion",
                "training", "forfait", "engagements", "quality"}  # fmt: skip
    assert expected <= set(sample_report)
    assert [row["month"] for row in sample_report["monthly"]] == list(range(1, 13))
    assert len(sample_report["engagements"]["items"]) == 20


def test_patients_and_acts_match_an_independent_count(sample_report, counted):
    assert sample_report["clientele"]["insured_patients"] == counted["patient_id"].n_unique()
    assert sample_report["quality"]["counted_lines"] == counted.height
    for family, codes in {
        "AMI": ["AMI"],
        "AIS": ["AIS"],
        "DSI": ["DI", "BSA", "BSB", "BSC"],
    }.items():
        rows = counted.filter(pl.col("act_code").is_in(codes))
        acts = sample_report["acts"][family]
        assert acts["count"] == rows["quantity"].sum()
        expected_total = (rows["coefficient"] * rows["quantity"]).sum()
        assert acts["coefficient_total"] == pytest.approx(expected_total)
    ik = counted.filter(pl.col("act_code") == "IK")
    assert sample_report["acts"]["IK"]["count"] == ik.height
    assert sample_report["acts"]["IK"]["km"] == pytest.approx(ik["quantity"].sum())
    night = counted.filter(pl.col("act_code").is_in(["N", "MM"]))
    assert sample_report["acts"]["night"]["count"] == night["quantity"].sum()


def test_entries_match_an_independent_count(sample_report):
    episodes = pl.read_csv(SAMPLE_DIR / "episodes.csv", infer_schema=False)
    starting = episodes.filter(pl.col("start_date").str.starts_with(str(YEAR)))
    assert sample_report["clientele"]["entries"] == starting.height
    for reason in ("acute", "chronic", "palliative"):
        n = starting.filter(pl.col("reason") == reason).height
        assert sample_report["monthly_totals"][f"{reason}_entries"] == n


def test_monthly_totals_are_distinct_patients_not_sums(sample_report):
    for reason in ("acute", "chronic", "palliative"):
        months = [row[f"{reason}_patients"] for row in sample_report["monthly"]]
        total = sample_report["monthly_totals"][f"{reason}_patients"]
        assert max(months) <= total <= sum(months)


def test_sample_exercises_the_quality_checks(sample_report):
    found = sample_report["quality"]["findings"]
    for key in ("night_majoration_daytime", "sunday_majoration_working_day", "unknown_patient",
                "unattributed_lines", "unknown_episode_id", "nurse_not_in_register",
                "patient_without_birth_date"):  # fmt: skip
        assert found[key]["count"] > 0, key
        assert 0 < len(found[key]["examples"]) <= 5
    lines = found["unattributed_lines"]
    assert lines["share"] == round(lines["count"] / sample_report["quality"]["counted_lines"], 4)
    assert 0 < lines["share"] < 0.01


def test_sample_in_french_conventions_gives_the_same_report(sample_report, tmp_path):
    french = frenchify(SAMPLE_DIR, tmp_path / "fr")
    db = tmp_path / "fr.duckdb"
    assert _csi("ingest", str(french), "--db", str(db), "--profile", "logiciel-fr").returncode == 0
    result = _csi(
        "report",
        "--year",
        str(YEAR),
        "--db",
        str(db),
        "--out",
        str(tmp_path / "o"),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    again = json.loads((tmp_path / "o" / FINESS / str(YEAR) / "annexe3.json").read_text())
    for section in set(sample_report) - {"meta"}:
        assert again[section] == sample_report[section], section


def test_reloading_the_sample_changes_nothing(sample_report, tmp_path):
    db = tmp_path / "twice.duckdb"
    assert _csi("ingest", str(SAMPLE_DIR), "--db", str(db)).returncode == 0
    second = _csi("ingest", str(SAMPLE_DIR), "--db", str(db))
    assert "0 ajoutées, 0 remplacées" in second.stdout
    out = tmp_path / "o"
    _csi("report", "--year", str(YEAR), "--db", str(db), "--out", str(out), "--format", "json")
    again = json.loads((out / FINESS / str(YEAR) / "annexe3.json").read_text())
    assert again["acts"] == sample_report["acts"]
    assert again["meta"]["inputs_fingerprint"] == sample_report["meta"]["inputs_fingerprint"]


def test_help_explains_every_command():
    for command in ("ingest", "report", "run", "verify", "snapshot", "serve"):
        result = _csi(command, "--help")
        assert result.returncode == 0 and "--db" in result.stdout, command
    assert Path(SAMPLE_DIR / "centre_2025.yaml").exists()
