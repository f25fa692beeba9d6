"""NIRs never reach the warehouse in clear: checked, then replaced by a keyed hash."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.pseudonym import nir_key_is_valid, pseudonym
from tests.conftest import billing_rows, make_extract, patient_rows

runner = CliRunner()

VALID = "184127645108946"  # key 46 = 97 − (1841276451089 mod 97)
CORSICA_2A = "185072A12345665"  # 2A counts as 19: key 65
CORSICA_2B = "185072B12345692"  # 2B counts as 18: key 92


@pytest.fixture(autouse=True)
def secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))


@pytest.mark.parametrize(
    ("nir", "valid"),
    [
        (VALID, True),
        ("1 84 12 76 451 089 46", True),
        ("184127645108947", False),
        (CORSICA_2A, True),
        (CORSICA_2B, True),
        ("185072A12345692", False),  # 2B's key on a 2A number
        ("18412764510894", False),  # 14 characters
    ],
)
def test_nir_key(nir, valid):
    assert nir_key_is_valid(nir) is valid


def test_same_nir_same_pseudonym_per_centre_different_across_centres():
    assert pseudonym("750000001", VALID) == pseudonym("750000001", "1 84 12 76 451 089 46")
    assert pseudonym("750000001", VALID) != pseudonym("750000002", VALID)
    assert VALID not in pseudonym("750000001", VALID)


def test_nirs_are_pseudonymised_before_the_warehouse(tmp_path, build, db):
    build(
        billing=billing_rows(
            {"patient_id": VALID, "act_date": "2025-01-05"},
            {"patient_id": CORSICA_2A, "act_date": "2025-01-06"},
            {"patient_id": "P42", "act_date": "2025-01-07"},  # internal id, kept
        ),
        patients=patient_rows(
            {"patient_id": VALID, "birth_date": "1940-01-01"},
            {"patient_id": CORSICA_2A},
            {"patient_id": "P42"},
        ),
    )
    # A later extract with the same NIR joins the same patient.
    build(billing=billing_rows({"patient_id": VALID, "act_date": "2025-02-05"}, invoice="F2"))
    report = build.report()
    assert report["clientele"]["insured_patients"] == 3
    assert report["clientele"]["aged_75_plus"] == 1
    assert report["quality"]["findings"]["unknown_patient"]["count"] == 0
    dump = duckdb.connect(str(db), read_only=True)
    ids = {r[0] for r in dump.execute("select patient_id from billing_lines").fetchall()}
    dump.close()
    assert ids == {pseudonym("750000001", VALID), pseudonym("750000001", CORSICA_2A), "P42"}
    raw = db.read_bytes()
    assert VALID.encode() not in raw and CORSICA_2A.encode() not in raw


def test_nir_with_a_bad_key_is_refused_without_printing_it(tmp_path):
    bad = "184127645108947"
    extract = make_extract(
        tmp_path / "x", billing=billing_rows({"patient_id": bad, "act_date": "2025-01-05"})
    )
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(tmp_path / "w.duckdb")])
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "billing.csv, ligne 1, colonne « patient_id » : NIR invalide" in out
    assert bad not in result.output
    quarantine = next((tmp_path / "rejets").iterdir()) / "quarantaine.csv"
    assert bad not in quarantine.read_text(encoding="utf-8")
