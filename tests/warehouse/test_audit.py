"""Audit: history of replaced rows, reports regenerated as of a load, `csi verify`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.orchestrate import steps
from tests.report.test_report_safety import part_year
from tests.support import FINESS, billing_rows, make_extract, patient_rows

runner = CliRunner()


def test_report_as_of_a_load_ignores_later_loads_and_verify_agrees(tmp_path, db):
    march = billing_rows({"act_date": "2025-03-01"}, {"act_date": "2025-03-02"})
    steps.ingest(
        make_extract(tmp_path / "m3", billing=march, patients=patient_rows({"patient_id": "P1"})),
        db,
    )
    first = steps.report(2025, None, db, tmp_path / "out1", ("json",))[0]
    report1 = json.loads(first.read_text(encoding="utf-8"))
    assert report1["meta"]["as_of_load"] == 1
    assert report1["acts"]["AMI"]["count"] == 2
    # April: line 1 cancelled, a new line: the current report changes…
    april = billing_rows(
        {"act_date": "2025-03-01", "status": "cancelled"},
        {"act_date": "2025-03-02"},
        {"act_date": "2025-04-02", "coefficient": "3"},
    )
    steps.ingest(make_extract(tmp_path / "m4", billing=april), db)
    now = json.loads(steps.report(2025, None, db, tmp_path / "out2", ("json",))[0].read_text())
    assert now["acts"]["AMI"]["coefficient_total"] == 4
    # … but the report as of load 1 is the same as the one written then.
    again = steps.report(2025, None, db, tmp_path / "out3", ("json",), as_of=1)[0]
    report_again = json.loads(again.read_text(encoding="utf-8"))
    report_again["meta"].pop("generated_at"), report1["meta"].pop("generated_at")
    assert report_again == report1
    result = runner.invoke(app, ["verify", str(first), "--db", str(db)])
    assert result.exit_code == 0 and "Conforme" in result.output


def test_verify_names_the_figures_that_differ(tmp_path, db):
    steps.ingest(make_extract(tmp_path / "m", billing=billing_rows({"act_date": "2025-03-01"})), db)
    path = steps.report(2025, None, db, tmp_path / "out", ("json",))[0]
    report = json.loads(path.read_text(encoding="utf-8"))
    report["acts"]["AMI"]["count"] = 5
    path.write_text(json.dumps(report), encoding="utf-8")
    result = runner.invoke(app, ["verify", str(path), "--db", str(db)])
    assert result.exit_code == 1
    assert "acts.AMI.count: 5 → 1" in result.output


def test_unknown_load_is_a_clear_error(tmp_path, db):
    steps.ingest(make_extract(tmp_path / "m", billing=billing_rows({"act_date": "2025-03-01"})), db)
    result = runner.invoke(
        app,
        ["report", "--year", "2025", "--db", str(db), "--as-of", "9", "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 2 and "Chargement n° 9 inconnu" in result.output


def test_regeneration_is_identical_byte_for_byte(tmp_path, db, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    steps.ingest(make_extract(tmp_path / "m", billing=billing_rows({"act_date": "2025-03-01"})), db)
    first = steps.report(2025, None, db, tmp_path / "a", ("json", "html"))
    steps.ingest(
        make_extract(
            tmp_path / "n", billing=billing_rows({"act_date": "2025-05-01"}, invoice="F2")
        ),
        db,
    )
    again = steps.report(2025, None, db, tmp_path / "b", ("json", "html"), as_of=1)
    for a, b in zip(first, again, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert json.loads(first[0].read_text())["meta"]["generated_at"] == "2026-01-01T00:00:00+00:00"


def test_inputs_list_each_file_that_fed_the_year_once_with_its_first_load(tmp_path, db):
    """meta.inputs, worked out by hand: load 1 brings billing (2024 and 2025 lines) and
    patients (no year: they feed every year); load 2 brings the same billing file again,
    unchanged, and an episodes file starting in 2025."""
    from tests.support import episode_rows

    billing = billing_rows(
        {"act_date": "2025-03-01"}, {"act_date": "2025-03-02"}, {"act_date": "2024-12-30"}
    )
    patients = patient_rows({"patient_id": "P1"})
    steps.ingest(make_extract(tmp_path / "m1", billing=billing, patients=patients), db)
    episodes = episode_rows({"episode_id": "E1", "patient_id": "P1", "start_date": "2025-01-02"})
    steps.ingest(make_extract(tmp_path / "m2", billing=billing, episodes=episodes), db)

    def listed(year: int) -> list[tuple]:
        [path] = steps.report(year, None, db, tmp_path / f"out{year}", ("json",))
        inputs = json.loads(path.read_text(encoding="utf-8"))["meta"]["inputs"]
        return [(i["load_id"], i["file"], i["table"], i["rows"]) for i in inputs]

    assert listed(2025) == [
        (1, "billing.csv", "billing", 3),
        (1, "patients.csv", "patients", 1),
        (2, "episodes.csv", "episodes", 1),
    ]
    assert listed(2024) == [(1, "billing.csv", "billing", 3), (1, "patients.csv", "patients", 1)]


def test_verify_against_another_warehouse_names_the_missing_inputs(tmp_path, db):
    part_year(tmp_path, db)
    path = steps.report(2025, FINESS, db, tmp_path / "out", ("json",))[0]
    inputs = json.loads(path.read_text())["meta"]["inputs"]
    assert sorted(f["file"] for f in inputs) == ["billing.csv", "patients.csv"]
    other = tmp_path / "other.duckdb"
    steps.ingest(
        make_extract(tmp_path / "o", billing=billing_rows({"act_date": "2025-01-03"})), other
    )
    result = runner.invoke(app, ["verify", str(path), "--db", str(other)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    # billing.csv has other bytes there; patients.csv was never loaded: both are missing.
    assert "2 des 2 fichier(s) source cité(s)" in text
    for item in inputs:
        assert f"{item['file']} {item['sha256']}" in text
    assert "Différences" not in text
    same = runner.invoke(app, ["verify", str(path), "--db", str(db)])
    assert same.exit_code == 0
    said = " ".join(same.output.split())
    assert said.index("les 2 fichier(s) cité(s) par le rapport sont dans l'entrepôt") < said.index(
        "Conforme"
    )


def test_verify_lists_only_the_input_that_is_not_loaded(tmp_path, db):
    """The other warehouse loaded the very same billing.csv (same bytes), not patients.csv."""
    import shutil

    part_year(tmp_path, db)
    path = steps.report(2025, FINESS, db, tmp_path / "out", ("json",))[0]
    inputs = {f["file"]: f["sha256"] for f in json.loads(path.read_text())["meta"]["inputs"]}
    alone = tmp_path / "billing-only"
    alone.mkdir()
    shutil.copy(tmp_path / "jan-feb" / "billing.csv", alone / "billing.csv")
    other = tmp_path / "other.duckdb"
    steps.ingest(alone, other)
    result = runner.invoke(app, ["verify", str(path), "--db", str(other)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "1 des 2 fichier(s) source cité(s)" in text
    assert f"patients.csv {inputs['patients.csv']}" in text
    assert "billing.csv" not in text.split("(nom, SHA-256) :")[1]


def test_the_report_fingerprints_every_reference_table_it_read(tmp_path, db):
    import hashlib
    from pathlib import Path

    import pipeline

    steps.ingest(
        make_extract(tmp_path / "m3", billing=billing_rows({"act_date": "2025-03-01"})), db
    )
    meta = json.loads(steps.report(2025, None, db, tmp_path / "out", ("json",))[0].read_text())[
        "meta"
    ]
    shipped = Path(pipeline.__file__).parent / "core" / "reference_data"

    def sha(name: str) -> str:
        return hashlib.sha256((shipped / name).read_bytes()).hexdigest()

    assert meta["reference"]["ngap_sha256"] == sha("ngap_reference.csv")
    assert meta["reference"]["engagements_sha256"] == sha("engagements.csv")
    assert meta["reference"]["agreements_sha256"] == sha("agreements.csv")


def test_an_audit_of_a_warehouse_without_the_rule_tables_uses_the_package_s(tmp_path, db):
    """A warehouse last written before `ngap_families` and `finess_zones` existed, opened
    read-only as of a load: the models still find the families and zones."""
    import duckdb

    from pipeline.warehouse.asof import open_as_of

    lines = billing_rows({"act_date": "2025-03-01", "coefficient": "2"}, {"act_date": "2025-03-02"})
    steps.ingest(make_extract(tmp_path / "m3", billing=lines), db)
    con = duckdb.connect(str(db))
    con.execute("drop table ngap_families")
    con.execute("drop table finess_zones")
    con.close()
    audit = open_as_of(db, 1)
    try:
        rows = audit.execute(
            "select family, count, coefficient_total from acts where scope = 'all'"
        ).fetchall()
    finally:
        audit.close()
    assert rows == [("AMI", 2, 3)]  # coefficients 2 and 1 (the builder's default)
