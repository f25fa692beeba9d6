"""Messages the centre's staff read: French words, no Python names, no stray folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli.app import app
from tests.support import billing_rows, make_extract

runner = CliRunner()
PYTHON_NAMES = ("Error", "Exception", "Traceback")


def test_a_mistyped_extract_folder_makes_no_rejection_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CSI_DB", raising=False)
    result = runner.invoke(app, ["ingest", "dossier-qui-n-existe-pas"])
    assert result.exit_code == 1
    assert "Dossier d'extraction introuvable : dossier-qui-n-existe-pas" in result.output
    assert not any(name in result.output for name in PYTHON_NAMES)
    assert list(tmp_path.rglob("rejets")) == []
    assert list(tmp_path.iterdir()) == []  # nor a warehouse, nor its folder


def test_a_file_given_for_the_extract_folder_is_named_as_such(tmp_path, db):
    billing = make_extract(tmp_path / "mars", billing=billing_rows({"act_date": "2025-03-01"}))
    result = runner.invoke(app, ["ingest", str(billing / "billing.csv"), "--db", str(db)])
    assert result.exit_code == 1
    assert "est un fichier, pas un dossier" in " ".join(result.output.split())
    assert not (tmp_path / "rejets").exists() and not db.exists()


def test_an_extract_read_and_refused_still_gets_its_rejection_folder(tmp_path, db):
    bad = make_extract(tmp_path / "mars", billing=billing_rows({"act_date": "2025-13-45"}))
    result = runner.invoke(app, ["ingest", str(bad), "--db", str(db)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    (folder,) = (tmp_path / "rejets").iterdir()
    assert folder.name.endswith("_mars")
    assert "billing.csv,1,act_date" in (folder / "quarantaine.csv").read_text(encoding="utf-8")


def test_an_unreadable_file_is_refused_in_words_not_python_names(tmp_path, db):
    extract = tmp_path / "mars"
    extract.mkdir()
    (extract / "billing.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(db)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert "billing.xlsx" in result.output
    assert not any(name in result.output for name in PYTHON_NAMES), result.output


def _csi(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CSI_SECRETS_DIR": str(tmp_path / "secrets"), "COLUMNS": "300"}
    env.pop("PREFECT_API_URL", None)  # csi run starts its own temporary server
    command = [str(Path(sys.executable).parent / "csi"), *args, "--db", str(tmp_path / "wh")]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_csi_run_on_a_good_extract_prints_the_counts_and_the_time(tmp_path):
    rows = billing_rows({"act_date": "2025-03-01"}, {"act_date": "2025-03-02"})
    good = make_extract(tmp_path / "mars", billing=rows)
    out = str(tmp_path / "out")
    first = _csi(tmp_path, "run", str(good), "--year", "2025", "--out", out, "--format", "json")
    assert first.returncode == 0, first.stderr
    assert "2 lignes lues, 2 ajoutées, 0 remplacées, 0 inchangées." in first.stdout
    assert "Terminé en " in first.stdout and " s." in first.stdout
    again = _csi(tmp_path, "run", str(good), "--year", "2025", "--out", out, "--format", "json")
    assert again.returncode == 0, again.stderr
    assert "2 lignes lues, 0 ajoutées, 0 remplacées, 2 inchangées." in again.stdout
    assert "Terminé en " in again.stdout
    assert "Traceback" not in first.stderr + again.stderr


# PyYAML's problem, and the French the secretary reads instead (row and column kept).
BROKEN_YAML = [
    (
        'name: x\nformat: {delimiter: ";"\ntables: [\n',
        "ligne 3 : YAML invalide (ligne 3, colonne 1) : « , » ou « } » attendu, trouvé : une "
        "valeur ; une accolade « { » n'est pas refermée",
    ),
    (
        "name: a: b\n",
        "ligne 1 : YAML invalide (ligne 1, colonne 8) : « : » inattendu ici : décalage de la "
        "ligne incorrect, ou valeur contenant « : » à mettre entre guillemets",
    ),
    (
        'name: "abc\n',
        "ligne 2 : YAML invalide (ligne 2, colonne 1) : fin du fichier inattendue : un "
        "guillemet ouvert n'est pas refermé",
    ),
    (
        "staff:\n  nurses: []\n secretaries: []\n",
        "ligne 3 : YAML invalide (ligne 3, colonne 2) : décalage incorrect : cette ligne n'est "
        "pas alignée sur les rubriques de son bloc (trouvé : une rubrique décalée)",
    ),
    (
        "name: @centre\n",
        "ligne 1 : YAML invalide (ligne 1, colonne 7) : caractère « @ » interdit en début de "
        "valeur : mettez la valeur entre guillemets",
    ),
    ("name: a\n---\nyear: 2025\n", "un seul document attendu : retirez la ligne « --- »"),
    ("name: a\x07\n", "centre_2025.yaml : YAML invalide : caractère de contrôle interdit"),
]
ENGLISH_YAML_WORDS = ("expected", "found", "but got", "not allowed", "<scalar>", "stream")


def test_a_broken_register_is_explained_in_french(tmp_path):
    for text, expected in BROKEN_YAML:
        path = tmp_path / "centre_2025.yaml"
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["register", "check", str(path)], env={"COLUMNS": "300"})
        assert result.exit_code == 1, text
        assert expected in result.output, (text, result.output)
        assert not any(word in result.output for word in ENGLISH_YAML_WORDS), result.output


def test_a_broken_profile_is_explained_in_french(tmp_path, db):
    extract = make_extract(tmp_path / "mars", billing=billing_rows({"act_date": "2025-03-01"}))
    profile = tmp_path / "profil.yaml"
    profile.write_text(BROKEN_YAML[0][0], encoding="utf-8")
    result = runner.invoke(
        app, ["ingest", str(extract), "--db", str(db), "--profile", str(profile)],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Profil d'import illisible : profil.yaml" in result.output
    assert f"profil.yaml, {BROKEN_YAML[0][1]}" in result.output
    assert not any(word in result.output for word in ENGLISH_YAML_WORDS), result.output
    assert not db.exists()
    assert not (db.parent / "rejets").exists()  # no extract was read: nothing to quarantine
    assert "Corrigez le profil d'import, puis relancez." in result.output


def test_an_unreadable_warehouse_is_explained_without_duckdbs_english(tmp_path):
    not_a_db = tmp_path / "entrepot.duckdb"
    not_a_db.write_text("ceci n'est pas un entrepôt\n", encoding="utf-8")
    folder = tmp_path / "dossier.duckdb"
    folder.mkdir()
    for db, reason in (
        (not_a_db, "ce fichier n'est pas un entrepôt DuckDB de csi."),
        (folder, "c'est un dossier, pas un fichier d'entrepôt."),
    ):
        for command in (["loads"], ["report", "--year", "2025"]):
            result = runner.invoke(app, [*command, "--db", str(db)], env={"COLUMNS": "300"})
            assert result.exit_code != 0, result.output
            assert f"Entrepôt illisible : {db} : {reason}" in result.output
            assert "IO Error" not in result.output and "Traceback" not in result.output
    assert not_a_db.read_text(encoding="utf-8") == "ceci n'est pas un entrepôt\n"


FRENCH_HEADER = (
    "N° facture;N° ligne;FINESS;Patient;Infirmière;Date soin;Heure;Lettre clé;Coef;Qté;"
    "Montant;Statut;Prise en charge"
)


def test_a_french_export_refused_names_the_date_format_in_french(tmp_path, db):
    """The logiciel-fr profile on a cp1252 file: row 1 has 31 April, row 2 a bad status."""
    folder = tmp_path / "avril"
    folder.mkdir()
    rows = [
        FRENCH_HEADER,
        "F1;1;750000001;P1;N1;31/04/2025;10h59;AMI;1,5;1;4,73;Facturé;",
        "F1;2;750000001;P1;N1;01/04/2025;10:59;IFD;;1;2,75;Facturée;",
    ]
    (folder / "factures_2025-04.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    result = runner.invoke(
        app, ["ingest", str(folder), "--db", str(db), "--profile", "logiciel-fr"],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    # Every problem in one run: the unknown word, and the impossible date beside it,
    # each in the column the file names (« Statut », « Date soin »).
    assert (
        "factures_2025-04.csv, ligne 2, colonne « Statut » : valeur non prévue par le profil"
    ) in out
    assert (
        "factures_2025-04.csv, ligne 1, colonne « Date soin » : date impossible ou mal écrite "
        "(format attendu : JJ/MM/AAAA) (valeur lue : « 31/04/2025 »)"
    ) in out
    assert "d/m/Y" not in out


# Run in a fresh interpreter: a Ctrl-C (KeyboardInterrupt) raised by the first import of
# typer, as if pressed while `csi` is still starting, then the console script's `main`.
_INTERRUPTED_WHILE_STARTING = """
import sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "typer":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, CtrlC())
from pipeline.cli.entry import main
main()
"""


def test_a_ctrl_c_while_csi_starts_ends_in_french_without_traceback():
    process = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_WHILE_STARTING, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 130
    assert process.stderr == "Interrompu : l'entrepôt est resté dans son état précédent.\n"
    assert process.stdout == ""


def test_the_console_script_is_the_entry_module():
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "csi"]
    assert script.value == "pipeline.cli.entry:main"


def test_a_warehouse_path_through_a_file_is_refused_in_french(tmp_path):
    taken = tmp_path / "notes.txt"
    taken.write_text("à garder", encoding="utf-8")
    extract = make_extract(tmp_path / "mars", billing=billing_rows({"act_date": "2025-03-01"}))
    db = taken / "entrepot.duckdb"
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(db)], env={"COLUMNS": "400"})
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert f"Entrepôt impossible à créer : {db} : un fichier porte déjà le nom" in said
    assert not any(name in result.output for name in PYTHON_NAMES)
    assert taken.read_text(encoding="utf-8") == "à garder"


def test_a_refusal_whose_rejection_folder_cannot_be_written_is_still_told(tmp_path):
    """A file named `rejets` where the rejection folder goes: the problems are printed all
    the same, with why their full list could not be written; exit 1, nothing loaded."""
    (tmp_path / "rejets").write_text("à garder", encoding="utf-8")
    bad = make_extract(tmp_path / "mars", billing=billing_rows({"act_date": "2025-13-45"}))
    db = tmp_path / "wh.duckdb"
    result = runner.invoke(app, ["ingest", str(bad), "--db", str(db)], env={"COLUMNS": "400"})
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "billing.csv, ligne 1, colonne « act_date » : date impossible" in said
    assert "Le dossier de rejet n'a pas pu être écrit (" in said
    assert "un élément du chemin est un fichier, pas un dossier) : seuls les premiers" in said
    assert not any(name in result.output for name in PYTHON_NAMES)
    assert (tmp_path / "rejets").read_text(encoding="utf-8") == "à garder"
