"""`csi register template` and `csi register check`, through the real CLI and a real warehouse.

The warehouse holds a hand-written 2024 register (nurses N1 at 0.8 ETP and N5 at 0.3, two
partners, a patient file, meetings of 2024) and 2025 billing by N1 and N2 (N2 new), plus
one cancelled 2025 line by N3 and one 2024 line by N4: the 2025 template lists N1 and N2
(billed), then N5 (flagged: no act in 2025), carries the 2024 facts that still hold and
none of the 2024 dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.orchestrate import steps
from schemas.register import load_register
from tests.support import FINESS, billing_rows, make_extract, patient_rows

REGISTER_2024 = {
    "finess": FINESS,
    "name": "Centre de soins infirmiers Exemple",
    "year": 2024,
    "staff": {
        "nurses": [
            {"id": "N1", "fte": 0.8, "chemotherapy_qualified": True, "role": "coordinator"},
            {"id": "N5", "fte": 0.3},
        ],
        "secretaries": [{"fte": 0.5}],
    },
    "internal_meetings": ["2024-01-10", "2024-02-14"],
    "partners": [
        {
            "name": "Hôpital Saint-Louis",
            "nature": "hospital",
            "convention_signed": "2019-03-01",
            "meetings": ["2024-06-05"],
        },
        {"name": "Réseau Plaies", "nature": "network"},
    ],
    "patient_file": {"specific": "oui", "computerised": "oui", "shared": "non"},
    "transmission_log": "oui",
    "coordinator_nurse": "N1",
    "trainings": [{"kind": "professional", "description": "Plaies", "days": 2}],
}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """2024: the register and one line by N4; 2025: N2, N1 billed, N3 cancelled."""
    db = tmp_path / "warehouse.duckdb"
    patients = patient_rows({"patient_id": "P1"})
    steps.ingest(
        make_extract(
            tmp_path / "x2024",
            billing=billing_rows({"nurse_id": "N4", "act_date": "2024-05-02"}, invoice="A"),
            patients=patients,
            register=REGISTER_2024,
        ),
        db,
    )
    billing_2025 = billing_rows(
        {"nurse_id": "N2", "act_date": "2025-03-01"},
        {"nurse_id": "N1", "act_date": "2025-03-02"},
        {"nurse_id": "N1", "act_date": "2025-04-02"},
        {"nurse_id": "N3", "act_date": "2025-05-02", "status": "cancelled"},
        invoice="B",
    )
    steps.ingest(make_extract(tmp_path / "x2025", billing=billing_2025, patients=patients), db)
    return db


def _fill_fte(path: Path, fte: float) -> list[str]:
    """Fill every blank `fte` in place, comments kept (as a secretary would); their ids."""
    editor = YAML()
    data = editor.load(path.read_text(encoding="utf-8"))
    filled = []
    for nurse in data["staff"]["nurses"]:
        if nurse["fte"] is None:
            nurse["fte"] = fte
            filled.append(nurse["id"])
    with path.open("w", encoding="utf-8") as handle:
        editor.dump(data, handle)
    return filled


def test_template_carries_last_year_and_the_billed_nurses(tmp_path, warehouse):
    out = tmp_path / "centre_2025.yaml"
    result = run("register", "template", "--centre", FINESS, "--year", "2025",
                 "--db", str(warehouse), "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Écrit : {out}" in result.output
    text = out.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["year"] == 2025
    assert data["finess"] == FINESS and data["name"] == REGISTER_2024["name"]
    # N1 (billed twice, in the 2024 register) keeps her 2024 facts; N2 is new, ETP blank;
    # N3 only cancelled, N4 only in 2024: neither is listed.
    assert data["staff"]["nurses"] == [
        {"id": "N1", "fte": 0.8, "chemotherapy_qualified": "oui", "role": "coordinator"},
        {"id": "N2", "fte": None},
        {"id": "N5", "fte": 0.3, "role": "nurse"},  # the default role, stored in 2024
    ]
    assert '- id: "N2"  # vue dans la facturation 2025' in text
    assert 'N5"  # au registre 2024, sans acte facturé en 2025 : à retirer si' in text
    assert data["staff"]["secretaries"] == [{"fte": 0.5}]
    # Partners kept with their convention, without the 2024 meetings.
    assert data["partners"] == [
        {"name": "Hôpital Saint-Louis", "nature": "hospital",
         "convention_signed": dt.date(2019, 3, 1), "meetings": []},
        {"name": "Réseau Plaies", "nature": "network", "meetings": []},
    ]  # fmt: skip
    assert data["patient_file"] == {"specific": "oui", "computerised": "oui", "shared": "non"}
    assert data["transmission_log"] == "oui" and data["coordinator_nurse"] == "N1"
    # The year's own facts are not carried over: they stay commented examples.
    for key in ("internal_meetings", "trainings", "prevention_actions", "planning_formalised"):
        assert key not in data
        assert f"# {key}:" in text
    assert "2024-01-10" not in text and "2024-06-05" not in text
    assert "fte: null  # à remplir" in text

    # As written, the blank ETP is the one finding; filled, the template is a valid register.
    refused = run("register", "check", str(out))
    assert refused.exit_code == 1
    assert "staff.nurses[2].fte » : l'ETP doit être compris entre 0 (exclu) et 1" in refused.output
    assert _fill_fte(out, 0.5) == ["N2"]
    register = load_register(out)
    assert register.year == 2025
    assert [(n.id, n.fte) for n in register.staff.nurses] == [
        ("N1", 0.8),
        ("N2", 0.5),
        ("N5", 0.3),
    ]
    assert register.transmission_log is True and register.patient_file.shared is False
    assert register.internal_meetings is None  # unknown, not "no meeting"
    assert "# transmission_log :" in out.read_text(encoding="utf-8")  # the docs stayed


def test_template_without_warehouse_has_every_key_commented(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("register", "template", "--centre", "2A0000001", "--year", "2026",
                 "--db", str(tmp_path / "absent.duckdb"))  # fmt: skip
    assert result.exit_code == 0, result.output
    written = tmp_path / "centre_2026.yaml"
    text = written.read_text(encoding="utf-8")
    assert not (tmp_path / "absent.duckdb").exists()  # reading made no warehouse
    data = yaml.safe_load(text)
    assert data == {
        "finess": "2A0000001",
        "name": None,
        "year": 2026,
        "staff": {"nurses": [], "secretaries": []},
    }
    for key in ("staff", "partners", "patient_file", "access_24_7", "internships", "address"):
        assert f"# {key} : " in text
    # The one blank is the name: the load names it, in French.
    refused = run("register", "check", str(written))
    assert refused.exit_code == 1
    assert "colonne « name » : texte attendu" in refused.output
    # Never overwrite the file the centre may have started to fill.
    again = run("register", "template", "--centre", "2A0000001", "--year", "2026")
    assert again.exit_code == 1
    assert "existe déjà" in again.output and "Traceback" not in again.output
    assert written.read_text(encoding="utf-8") == text


def test_template_refuses_a_bad_finess_or_a_missing_folder(tmp_path):
    out = tmp_path / "centre.yaml"
    result = run("register", "template", "--centre", "75000001", "--year", "2025",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 1
    assert "FINESS mal formé" in result.output
    assert not out.exists()
    result = run("register", "template", "--centre", FINESS, "--year", "2025",
                 "--out", str(tmp_path / "absent" / "centre.yaml"))  # fmt: skip
    assert result.exit_code == 1
    assert "Dossier introuvable pour écrire le registre" in result.output
    assert not (tmp_path / "absent").exists()


def test_check_good_register_prints_its_summary(tmp_path):
    path = tmp_path / "centre_2024.yaml"
    path.write_text(yaml.safe_dump(REGISTER_2024, allow_unicode=True), encoding="utf-8")
    result = run("register", "check", str(path))
    assert result.exit_code == 0, result.output
    assert f"Registre conforme : {path} (centre {FINESS}, année 2024)" in result.output
    # 2 nurses 0.8 + 0.3 = 1.1 ETP, 1 secretary 0.5, 2 partners of which 1 signed, 2 meetings;
    # declared: finess, name, year, staff, internal_meetings, partners, patient_file,
    # transmission_log, coordinator_nurse, trainings = 10 of the 23 keys.
    assert (
        "2 infirmière(s), 1,1 ETP ; 1 secrétaire(s), 0,5 ETP ; 2 partenaire(s) dont 1 avec "
        "convention ; 2 réunion(s) d'équipe ; 10 rubrique(s) renseignée(s) sur 23."
    ) in result.output


def test_check_bad_register_gives_the_load_findings(tmp_path):
    path = tmp_path / "centre_2024.yaml"
    bad = {**REGISTER_2024, "transmision_log": "oui", "access_24_7": "peut-être"}
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    result = run("register", "check", str(path))
    assert result.exit_code == 1
    assert "Registre du centre refusé : 2 problème(s) à corriger" in result.output
    assert "centre_2024.yaml, colonne « transmision_log » : clé inconnue" in result.output
    assert (
        "colonne « access_24_7 » : oui ou non attendu (oui, non, true ou false) "
        "(valeur lue : « peut-être »)"
    ) in result.output
    assert "Traceback" not in result.output and "conforme" not in result.output


def test_check_missing_file(tmp_path):
    result = run("register", "check", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 1
    assert "Registre introuvable" in result.output


def test_template_before_any_billing_of_the_year_keeps_last_year_nurses(tmp_path, warehouse):
    """2026 has no billing yet: N1 comes from the 2024 register, ETP kept, to be checked;
    nothing is blank, so the template is a valid register as written."""
    out = tmp_path / "registre.yaml"
    result = run("register", "template", "--centre", FINESS, "--year", "2026",
                 "--db", str(warehouse), "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "csi register check registre.yaml" in text
    assert '- id: "N1"  # au registre 2024 : ETP à vérifier' in text
    register = load_register(out)
    assert register.year == 2026
    assert [(n.id, n.fte, n.role) for n in register.staff.nurses] == [
        ("N1", 0.8, "coordinator"),
        ("N5", 0.3, "nurse"),
    ]
    assert [p.name for p in register.partners] == ["Hôpital Saint-Louis", "Réseau Plaies"]


REGISTER_2025_MID_YEAR = {
    "finess": FINESS,
    "name": "Centre de soins infirmiers Exemple",
    "year": 2025,
    "staff": {"nurses": [{"id": "N1", "fte": 1.0, "role": "coordinator"}], "secretaries": []},
    "internal_meetings": ["2025-01-21", "2025-02-18"],
    "partners": [{"name": "Réseau Plaies", "nature": "network", "meetings": ["2025-03-12"]}],
    "trainings": [{"kind": "local", "description": "Douleur", "days": 1}],
    "transmission_log": "non",
}


def test_template_starts_from_the_same_years_register_when_loaded(tmp_path, warehouse):
    """A centre that loaded its 2025 register in June and re-generates the 2025 template
    gets its 2025 facts back, dates included, not the 2024 register; the 2026 template then
    starts from 2025 (the latest before it), without the 2025 dates."""
    steps.ingest(make_extract(tmp_path / "r2025", register=REGISTER_2025_MID_YEAR), warehouse)
    out = tmp_path / "centre_2025.yaml"
    result = run("register", "template", "--centre", FINESS, "--year", "2025",
                 "--db", str(warehouse), "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "# Pré-rempli avec : registre 2025 déjà chargé dans l'entrepôt (dates comprises)" in text
    assert "le registre 2025 s'il est déjà chargé dans l'entrepôt, sinon celui\n" in text
    data = yaml.safe_load(text)
    # N1 at the 2025 ETP (1.0, not 2024's 0.8); N2 billed in 2025, not declared yet: blank;
    # N5 was only in the 2024 register: gone.
    assert data["staff"]["nurses"] == [
        {"id": "N1", "fte": 1.0, "role": "coordinator"},
        {"id": "N2", "fte": None},
    ]
    assert '- id: "N1"  # au registre 2025\n' in text
    assert data["internal_meetings"] == [dt.date(2025, 1, 21), dt.date(2025, 2, 18)]
    assert data["partners"] == [
        {"name": "Réseau Plaies", "nature": "network", "meetings": [dt.date(2025, 3, 12)]}
    ]
    assert data["trainings"] == [{"kind": "local", "description": "Douleur", "days": 1}]
    assert data["transmission_log"] == "non"
    assert "patient_file" not in data and "Hôpital Saint-Louis" not in text  # 2024 only

    nxt = tmp_path / "centre_2026.yaml"
    result = run("register", "template", "--centre", FINESS, "--year", "2026",
                 "--db", str(warehouse), "--out", str(nxt))  # fmt: skip
    assert result.exit_code == 0, result.output
    text = nxt.read_text(encoding="utf-8")
    assert "# Pré-rempli avec : registre 2025 de l'entrepôt (valeurs à vérifier)." in text
    data = yaml.safe_load(text)
    assert data["staff"]["nurses"] == [{"id": "N1", "fte": 1.0, "role": "coordinator"}]
    assert data["partners"] == [{"name": "Réseau Plaies", "nature": "network", "meetings": []}]
    assert "internal_meetings" not in data and "trainings" not in data
    assert "2025-01-21" not in text and "2025-03-12" not in text


def test_check_names_how_to_write_a_french_comma_a_french_date_and_a_mistyped_key(tmp_path):
    path = tmp_path / "centre_2024.yaml"
    text = yaml.safe_dump(REGISTER_2024, allow_unicode=True, sort_keys=False)
    text = text.replace("fte: 0.3", "fte: 0,3").replace("- '2024-02-14'", "- 14/2/2024")
    text = text.replace("transmission_log:", "transmision_log:")
    path.write_text(text, encoding="utf-8")
    result = run("register", "check", str(path))
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert "Registre du centre refusé : 3 problème(s) à corriger" in out
    assert (
        "colonne « staff.nurses[2].fte » : l'ETP doit être compris entre 0 (exclu) et 1, écrit "
        "avec un point : 0.3 (valeur lue : « 0,3 »)"
    ) in out
    assert (
        "colonne « internal_meetings[2] » : date attendue (AAAA-MM-JJ), écrite 2024-02-14 "
        "(valeur lue : « 14/2/2024 »)"
    ) in out
    assert (
        "colonne « transmision_log » : clé inconnue (vouliez-vous dire « transmission_log » ?)"
    ) in out
    assert "Corrigez le fichier, puis vérifiez-le à nouveau : csi register check" in out
    assert "Erreur" not in out


def test_loading_a_register_alone_says_it_was_loaded(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    extract = make_extract(tmp_path / "registre-2024", register=REGISTER_2024)
    result = run("ingest", str(extract), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert f"Chargement n° 1 : registre du centre {FINESS} pour 2024 chargé (centre.yaml)." in (
        result.output
    )
    assert "0 lignes lues" not in result.output
    # With billing beside it, both are said.
    both = make_extract(
        tmp_path / "avec-facturation",
        billing=billing_rows({"nurse_id": "N1", "act_date": "2024-05-02"}, invoice="A"),
        patients=patient_rows({"patient_id": "P1"}),
        register={**REGISTER_2024, "transmission_log": "non"},
    )
    result = run("ingest", str(both), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "Chargement n° 2 : 2 lignes lues, 2 ajoutées, 0 remplacées, 0 inchangées." in (
        result.output
    )
    assert f"Chargement n° 2 : registre du centre {FINESS} pour 2024 chargé" in result.output


def test_the_template_documents_every_key_of_the_register():
    """A key the template does not show is a key the centre never learns about (the
    attestation's address and legal representative were missing)."""
    from pipeline.cli.register_template import DOCUMENTED_KEYS
    from schemas.register import CentreRegister

    assert sorted(DOCUMENTED_KEYS) == sorted(CentreRegister.model_fields)
    assert len(DOCUMENTED_KEYS) == len(set(DOCUMENTED_KEYS)) == 23
