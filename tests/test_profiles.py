"""Import profiles: French exports give exactly the canonical report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import steps
from pipeline.cli import app
from tests.conftest import billing_rows, episode_rows, make_extract, patient_rows
from tests.frenchify import frenchify

runner = CliRunner()


@pytest.fixture
def canonical_extract(tmp_path: Path) -> Path:
    return make_extract(
        tmp_path / "canonical",
        billing=billing_rows(
            {
                "act_date": "2025-03-10",
                "coefficient": "1.5",
                "amount_eur": "4.73",
                "episode_id": "E1",
                "act_time": "09:15",
            },
            {
                "act_date": "2025-03-10",
                "act_code": "N",
                "coefficient": None,
                "act_time": "21:30",
                "amount_eur": "9.15",
            },
            {
                "act_date": "2025-03-11",
                "act_code": "IK",
                "coefficient": None,
                "quantity": "12.5",
                "status": "cancelled",
            },
            {"act_date": "2025-04-01", "act_code": "AIS", "coefficient": "3", "patient_id": "P2"},
        ),
        patients=patient_rows(
            {
                "patient_id": "P1",
                "birth_date": "1945-05-02",
                "lives_alone": "true",
                "occupation": "retired",
                "sex": "F",
                "postcode": "75011",
            },
            {"patient_id": "P2", "birth_date": "2010-01-01", "occupation": "child"},
        ),
        episodes=episode_rows(
            {
                "episode_id": "E1",
                "patient_id": "P1",
                "start_date": "2025-03-01",
                "hospital_discharge": "true",
                "discharge_establishment": "Hôpital Saint-Louis",
                "discharge_service": "oncologie",
                "discharge_care_type": "chemotherapy",
                "referral_origin": "hospital",
            },
            {
                "episode_id": "E2",
                "patient_id": "P2",
                "start_date": "2025-04-01",
                "end_date": "2025-04-30",
                "reason": "acute",
                "hospital_discharge": "false",
            },
        ),
    )


def _report(extract: Path, db: Path, profile: str | None) -> dict:
    steps.ingest(extract, db, profile)
    paths = steps.report(2025, "750000001", db, db.parent / "out", ("json",))
    report = json.loads(paths[0].read_text(encoding="utf-8"))
    report.pop("meta")  # file names and fingerprints differ by construction
    return report


@pytest.mark.parametrize("excel", [False, True], ids=["csv-cp1252", "xlsx"])
def test_french_export_gives_the_canonical_report(tmp_path, canonical_extract, excel):
    expected = _report(canonical_extract, tmp_path / "a.duckdb", None)
    french = frenchify(canonical_extract, tmp_path / "fr", excel=excel)
    assert _report(french, tmp_path / "b.duckdb", "logiciel-fr") == expected
    assert expected["acts"]["AMI"]["by_coefficient"] == {"1.5": 1}
    assert expected["acts"]["night"]["count"] == 1


def test_utf8_bom_is_read(tmp_path, canonical_extract):
    expected = _report(canonical_extract, tmp_path / "a.duckdb", None)
    for path in canonical_extract.glob("*.csv"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert _report(canonical_extract, tmp_path / "b.duckdb", None) == expected


def test_parquet_extract_gives_the_canonical_report(tmp_path, canonical_extract):
    import polars as pl

    expected = _report(canonical_extract, tmp_path / "a.duckdb", None)
    parquet = tmp_path / "pq"
    parquet.mkdir()
    for path in canonical_extract.glob("*.csv"):
        pl.read_csv(path, try_parse_dates=True).write_parquet(parquet / f"{path.stem}.parquet")
    assert _report(parquet, tmp_path / "b.duckdb", None) == expected


def test_cp1252_file_read_as_utf8_is_a_clear_error(tmp_path, canonical_extract):
    french = frenchify(canonical_extract, tmp_path / "fr")
    profile = tmp_path / "wrong.yaml"
    text = (Path(__file__).parent.parent / "pipeline/profiles/logiciel-fr.yaml").read_text()
    profile.write_text(text.replace("encoding: cp1252", "encoding: utf-8"), encoding="utf-8")
    result = runner.invoke(
        app, ["ingest", str(french), "--db", str(tmp_path / "x.duckdb"), "--profile", str(profile)]
    )
    assert result.exit_code == 1
    assert "n'est pas encodé en utf-8" in result.output


def test_profile_naming_a_missing_column_says_which_and_what_the_file_has(
    tmp_path, canonical_extract
):
    french = frenchify(canonical_extract, tmp_path / "fr")
    profile = tmp_path / "typo.yaml"
    text = (Path(__file__).parent.parent / "pipeline/profiles/logiciel-fr.yaml").read_text()
    profile.write_text(text.replace('"Lettre clé"', '"Code acte"'), encoding="utf-8")
    result = runner.invoke(
        app, ["ingest", str(french), "--db", str(tmp_path / "x.duckdb"), "--profile", str(profile)]
    )
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "colonne « Code acte » absente (clé du profil : tables.billing.columns.act_code)" in out
    assert "Lettre clé" in out  # the headers the file does have
    check = runner.invoke(app, ["profile", "check", str(french), "--profile", str(profile)])
    assert check.exit_code == 1 and "act_code (« Code acte »)" in " ".join(check.output.split())


def test_value_the_profile_does_not_map_names_value_and_row(tmp_path, canonical_extract):
    french = frenchify(canonical_extract, tmp_path / "fr")
    path = french / "factures.csv"
    lines = path.read_bytes().decode("cp1252").splitlines()
    lines[2] = lines[2].replace("Facturé", "Payé")
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    result = runner.invoke(
        app, ["ingest", str(french), "--db", str(tmp_path / "x.duckdb"), "--profile", "logiciel-fr"]
    )
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "factures.csv, ligne 2, colonne « Statut » : valeur non prévue" in out
    assert "« Payé »" in out
    check = runner.invoke(app, ["profile", "check", str(french), "--profile", "logiciel-fr"])
    assert "Payé" in check.output and check.exit_code == 1


def test_profile_check_says_ok_for_a_good_export(tmp_path, canonical_extract):
    french = frenchify(canonical_extract, tmp_path / "fr")
    result = runner.invoke(app, ["profile", "check", str(french), "--profile", "logiciel-fr"])
    assert result.exit_code == 0, result.output
    assert "act_code                 ← « Lettre clé »" in result.output


def test_xlsx_named_sheet(tmp_path, canonical_extract):
    import polars as pl
    import xlsxwriter

    expected = _report(canonical_extract, tmp_path / "a.duckdb", None)
    target = tmp_path / "xl"
    target.mkdir()
    for path in canonical_extract.glob("*.csv"):
        frame = pl.read_csv(path, infer_schema=False)
        with xlsxwriter.Workbook(target / f"{path.stem}.xlsx") as workbook:
            frame.head(0).write_excel(workbook, worksheet="Notice")  # a cover sheet first
            frame.write_excel(workbook, worksheet="Export")
    profile = tmp_path / "xl.yaml"
    profile.write_text("name: xl\nformat: {sheet: Export}\n", encoding="utf-8")
    assert _report(target, tmp_path / "b.duckdb", str(profile)) == expected
