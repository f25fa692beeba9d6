"""Bad input: a clear French message (file, row, column, rule), exit ≠ 0, warehouse untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from tests.support import billing_rows, episode_rows, make_extract, patient_rows, write_table

runner = CliRunner()

GOOD_BILLING = billing_rows({"act_date": "2025-01-05"}, {"act_date": "2025-01-06"})
GOOD_PATIENTS = patient_rows({"patient_id": "P1"})


def _warehouse_state(db: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = ["billing_lines", "patients", "episodes", "loads", "load_files"]
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables}
    finally:
        con.close()


@pytest.fixture
def loaded_db(tmp_path: Path) -> Path:
    db = tmp_path / "wh.duckdb"
    extract = make_extract(tmp_path / "good", billing=GOOD_BILLING, patients=GOOD_PATIENTS)
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def _refused(tmp_path: Path, db: Path, **tables) -> str:
    before = _warehouse_state(db)
    extract = make_extract(tmp_path / "bad", **tables)
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert _warehouse_state(db) == before
    return " ".join(result.output.split())


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {"act_date": "2025-02-30"},
            "billing.csv, ligne 2, colonne « act_date » : date impossible",
        ),
        ({"act_time": "24:30"}, "colonne « act_time » : heure impossible"),
        ({"coefficient": "-1"}, "colonne « coefficient » : le coefficient doit être positif"),
        ({"coefficient": "abc"}, "colonne « coefficient » : nombre attendu"),
        ({"coefficient": "1.555"}, "colonne « coefficient » : au plus 2 décimales"),
        ({"quantity": "0"}, "colonne « quantity » : la quantité doit être > 0"),
        ({"line_no": "0"}, "colonne « line_no » : le numéro de ligne doit être ≥ 1"),
        ({"status": "payé"}, "colonne « status » : valeur non reconnue"),
        ({"centre_finess": "75000001"}, "colonne « centre_finess » : FINESS mal formé"),
        ({"patient_id": ""}, "colonne « patient_id » : valeur obligatoire manquante"),
        ({"act_date": "2099-01-01"}, "colonne « act_date » : date dans le futur"),
    ],
)
def test_bad_billing_value_is_refused_with_file_row_column_rule(tmp_path, loaded_db, row, expected):
    bad = billing_rows({"act_date": "2025-01-05"}, {"act_date": "2025-01-07", **row})
    message = _refused(tmp_path, loaded_db, billing=bad, patients=GOOD_PATIENTS)
    assert expected in message
    assert "Rien n'a été chargé" in message


def test_missing_required_column_names_the_headers_present(tmp_path, loaded_db):
    extract = tmp_path / "bad"
    extract.mkdir()
    (extract / "billing.csv").write_text("invoice_id,line_no\nF1,1\n", encoding="utf-8")
    before = _warehouse_state(loaded_db)
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(loaded_db)])
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "colonne « act_date » absente" in out and "invoice_id, line_no" in out
    assert _warehouse_state(loaded_db) == before


def test_repeated_line_id_inside_one_extract(tmp_path, loaded_db):
    rows = billing_rows({"act_date": "2025-01-05"}, {"act_date": "2025-01-06"})
    rows[1]["line_no"] = 1
    message = _refused(tmp_path, loaded_db, billing=rows)
    assert "ligne de facture répétée" in message and "ligne 2" in message


def test_repeated_line_across_two_files_of_one_extract(tmp_path, loaded_db):
    extract = make_extract(tmp_path / "bad", billing=GOOD_BILLING)
    write_table(extract / "billing_2.csv", "billing", GOOD_BILLING[:1])
    before = _warehouse_state(loaded_db)
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(loaded_db)])
    assert result.exit_code == 1 and "répétée" in result.output
    assert _warehouse_state(loaded_db) == before


def test_repeated_patient_and_end_before_start(tmp_path, loaded_db):
    message = _refused(
        tmp_path,
        loaded_db,
        patients=patient_rows({"patient_id": "P9"}, {"patient_id": "P9"}),
        episodes=episode_rows(
            {
                "episode_id": "E1",
                "patient_id": "P9",
                "start_date": "2025-03-01",
                "end_date": "2025-02-01",
            }
        ),
    )
    assert "patients.csv, ligne 2" in message and "patient répété" in message
    assert "episodes.csv, ligne 1, colonne « end_date » : la date de fin est antérieure" in message


def test_birth_date_after_an_act_is_refused(tmp_path, loaded_db):
    message = _refused(
        tmp_path,
        loaded_db,
        billing=billing_rows({"act_date": "2025-01-05", "patient_id": "P7"}),
        patients=patient_rows({"patient_id": "P7", "birth_date": "2025-02-01"}),
    )
    assert "postérieure à la date de l'acte" in message


def test_empty_and_binary_files_are_refused(tmp_path, loaded_db):
    extract = tmp_path / "bad"
    extract.mkdir()
    (extract / "billing.csv").write_text("", encoding="utf-8")
    (extract / "patients.csv").write_bytes(b"\x00\x01\x02PK\x03\x04")
    before = _warehouse_state(loaded_db)
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(loaded_db)])
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "billing.csv : le fichier est vide" in out
    assert "patients.csv : fichier binaire ou corrompu" in out
    assert _warehouse_state(loaded_db) == before


def test_wrong_column_count_names_the_row(tmp_path, loaded_db):
    extract = tmp_path / "bad"
    extract.mkdir()
    header = ",".join(["centre_finess", "patient_id", "birth_date"])
    (extract / "patients.csv").write_text(
        f"{header}\n750000001,P1,1950-01-01\n750000001,P2\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(loaded_db)])
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "patients.csv, ligne 2 : 2 colonnes au lieu de 3" in out


def test_rejection_writes_error_report_and_quarantine(tmp_path, loaded_db):
    bad = billing_rows({"act_date": "2025-13-01"})
    _refused(tmp_path, loaded_db, billing=bad)
    folders = list((loaded_db.parent / "rejets").iterdir())
    assert len(folders) == 1
    quarantine = (folders[0] / "quarantaine.csv").read_text(encoding="utf-8")
    assert "billing.csv,1,act_date,date impossible" in quarantine


def test_missing_extract_dir_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope"), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "Dossier d'extraction introuvable" in result.output


def test_report_without_warehouse_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["report", "--year", "2025", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert "Entrepôt introuvable" in result.output


def test_patient_data_is_never_echoed_in_messages(tmp_path, loaded_db):
    message = _refused(
        tmp_path,
        loaded_db,
        patients=patient_rows({"patient_id": "P9", "birth_date": "1950-13-45"}),
    )
    assert "patients.csv, ligne 1, colonne « birth_date » : date impossible" in message
    assert "1950-13-45" not in message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[a, b]: c\n", "ligne 2 : YAML invalide (ligne 2, colonne 1) : une clé doit être un"),
        ('centre_finess: "750000002"\n', "ligne 2 : YAML invalide (ligne 2, colonne 1) : clé « "),
    ],
    ids=["list-as-key", "key-twice"],
)
def test_a_register_alone_and_unreadable_is_named_with_its_line(
    tmp_path, loaded_db, text, expected
):
    """An extract holding only a bad `centre*.yaml` says what is wrong in it (not « no file
    recognised »), and a list used as a key is a finding, not a crash."""
    extract = tmp_path / "bad"
    extract.mkdir()
    (extract / "centre_2025.yaml").write_text('centre_finess: "750000001"\n' + text, "utf-8")
    before = _warehouse_state(loaded_db)
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(loaded_db)])
    out = " ".join(result.output.split())
    assert result.exit_code == 1, out
    assert isinstance(result.exception, SystemExit), result.exception  # no crash
    assert f"centre_2025.yaml, {expected}" in out
    assert _warehouse_state(loaded_db) == before


def test_entries_no_file_can_be_read_from_are_refused_not_skipped(tmp_path):
    """A billing file replaced by a broken link, a pipe named as patients: skipped, they
    would load a part of the extract as the whole. A folder beside the files is ignored."""
    import os

    extract = make_extract(
        tmp_path / "mars",
        billing=billing_rows({"act_date": "2025-03-01"}),
        patients=patient_rows({"patient_id": "P1"}),
    )
    (extract / "billing_2025-02.csv").symlink_to(tmp_path / "parti-ailleurs.csv")
    os.mkfifo(extract / "patients_suite.csv")  # opened, it would wait for a writer forever
    (extract / "billing_archives").mkdir()
    db = tmp_path / "wh.duckdb"
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(db)], env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert "Extraction refusée : 2 problème(s) à corriger" in said
    assert "billing_2025-02.csv : lien cassé, pas un fichier à lire" in said
    assert "patients_suite.csv : fichier spécial (tube, périphérique), pas un fichier" in said
    assert "billing_archives" not in said
    checked = runner.invoke(
        app, ["profile", "check", str(extract), "--profile", "canonical"], env={"COLUMNS": "300"}
    )
    assert checked.exit_code == 1
    told = " ".join(checked.output.split())
    assert "billing_2025-02.csv (billing, non lu) : À corriger lien cassé" in told
    assert "patients_suite.csv (patients, non lu) : À corriger fichier spécial" in told
