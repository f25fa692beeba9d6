"""Import profiles: French exports give exactly the canonical report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.orchestrate import steps
from tests.extract.frenchify import frenchify
from tests.support import billing_rows, episode_rows, make_extract, patient_rows, warehouse_rows

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
    text = (
        Path(__file__).parents[2] / "pipeline/extract/shipped_profiles/logiciel-fr.yaml"
    ).read_text()
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
    text = (
        Path(__file__).parents[2] / "pipeline/extract/shipped_profiles/logiciel-fr.yaml"
    ).read_text()
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


def test_a_word_the_profile_lacks_and_a_bad_date_are_reported_in_the_same_run(
    tmp_path, canonical_extract
):
    """Every problem in one run: the unknown word does not hide the rest of the file."""
    french = frenchify(canonical_extract, tmp_path / "fr")
    path = french / "factures.csv"
    lines = path.read_bytes().decode("cp1252").splitlines()
    lines[2] = lines[2].replace("Facturé", "Payé")
    lines[3] = re.sub(r"\d{2}/\d{2}/\d{4}", "32/13/2025", lines[3], count=1)
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    result = runner.invoke(
        app, ["ingest", str(french), "--db", str(tmp_path / "x.duckdb"), "--profile", "logiciel-fr"]
    )
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "factures.csv, ligne 2, colonne « Statut » : valeur non prévue" in out
    assert "factures.csv, ligne 3" in out and "« 32/13/2025 »" in out
    assert out.count("ligne 2,") == 1  # the unknown word is not reported a second time


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


# --------------------------------------------------------------------------- issue 11, item 5

BILLING_FR = (
    "N° facture;N° ligne;FINESS;Patient;Infirmière;Date soin;Lettre clé;Coef;Montant;Statut\n"
    "F1;1;750000001;P1;Hélène;10/03/2025;AMI;1,5;4,73;Facturé\n"
    "F1;2;750000001;P1;Hélène;11/03/2025;AMI;2;6,30;\n"
    "F2;1;750000001;P2;Zoé;12/03/2025;AIS;3;7,95;Annulé\n"
)
PATIENTS_UTF8 = (
    "centre_finess,patient_id,birth_date,lives_alone,postcode\n"
    "750000001,P1,1945-05-02,Oui,75011\n"
    "750000001,P2,2010-01-01,,75012\n"
)
EPISODES_UTF8 = (
    "centre_finess,episode_id,patient_id,start_date,reason,hospital_discharge,"
    "discharge_establishment\n"
    "750000001,E1,P1,2025-03-01,chronic,Oui,Hôpital Bégin\n"
    "750000001,E2,P1,2025-03-05,acute,Non,\n"
    "750000001,E3,P2,2025-03-07,acute,,\n"
    "750000001,E4,P2,2025-03-09,acute,TRUE,Hôpital Bégin\n"
)
MIXED_PROFILE = """\
name: mixte
format: {delimiter: ",", encoding: utf-8}
tables:
  billing:
    files: "factures*.csv"
    format: {delimiter: ";", encoding: cp1252, decimal: ",", date_format: "%d/%m/%Y"}
    columns: {invoice_id: "N° facture", line_no: "N° ligne", centre_finess: "FINESS",
              patient_id: "Patient", nurse_id: "Infirmière", act_date: "Date soin",
              act_code: "Lettre clé", coefficient: "Coef", amount_eur: "Montant",
              status: "Statut"}
    values: {status: {"Facturé": billed, "Annulé": cancelled}}
  patients:
    values: {lives_alone: {"Oui": "True", "Non": "FALSE"}}
  episodes:
    values: {hospital_discharge: {"Oui": true, "Non": false}}
"""


@pytest.fixture(autouse=True)
def _secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))


def _mixed_extract(directory: Path) -> Path:
    directory.mkdir()
    (directory / "factures.csv").write_bytes(BILLING_FR.encode("cp1252"))
    (directory / "patients.csv").write_text(PATIENTS_UTF8, encoding="utf-8")
    (directory / "episodes.csv").write_text(EPISODES_UTF8, encoding="utf-8")
    return directory


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _ingest(extract: Path, db: Path, profile: Path | str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["ingest", str(extract), "--db", str(db), "--profile", str(profile)]
    )
    assert "Traceback" not in result.output
    return result.exit_code, " ".join(result.output.split())


def test_format_per_table_loads_cp1252_billing_beside_utf8_patients(tmp_path):
    extract = _mixed_extract(tmp_path / "mixte")
    profile = _write(tmp_path / "mixte.yaml", MIXED_PROFILE)
    db = tmp_path / "w.duckdb"
    code, out = _ingest(extract, db, profile)
    assert code == 0, out
    # cp1252 names read back as text, French decimals and dates, the empty status billed
    assert warehouse_rows(
        db,
        "select invoice_id, line_no, nurse_id, act_date::varchar, coefficient::varchar, "
        "amount_eur::varchar, status from billing_lines order by invoice_id, line_no",
    ) == [
        ("F1", 1, "Hélène", "2025-03-10", "1.50", "4.73", "billed"),
        ("F1", 2, "Hélène", "2025-03-11", "2.00", "6.30", "billed"),
        ("F2", 1, "Zoé", "2025-03-12", "3.00", "7.95", "cancelled"),
    ]
    # UTF-8 patients and episodes with "," beside them; accents intact
    assert warehouse_rows(db, "select count(*) from patients") == [(2,)]
    assert warehouse_rows(
        db,
        "select distinct discharge_establishment from episodes where "
        "discharge_establishment is not null",
    ) == [("Hôpital Bégin",)]


def test_one_format_for_all_tables_names_the_delimiter_of_the_billing_file(tmp_path):
    extract = _mixed_extract(tmp_path / "mixte")
    text = MIXED_PROFILE.replace(
        '    format: {delimiter: ";", encoding: cp1252, decimal: ",", date_format: "%d/%m/%Y"}\n',
        '    format: {encoding: cp1252, decimal: ",", date_format: "%d/%m/%Y"}\n',
    )
    db = tmp_path / "w.duckdb"
    code, out = _ingest(extract, db, _write(tmp_path / "p.yaml", text))
    assert code == 1
    assert (
        "factures.csv : séparateur incorrect : le profil attend « , » (format.delimiter), "
        "le fichier semble utiliser « ; »" in out
    )
    assert "absente" not in out  # no "missing column" for columns plainly in the file


def test_words_are_matched_before_defaults_and_boolean_targets_in_any_case(tmp_path):
    extract = _mixed_extract(tmp_path / "mixte")
    db = tmp_path / "w.duckdb"
    code, out = _ingest(extract, db, _write(tmp_path / "mixte.yaml", MIXED_PROFILE))
    assert code == 0, out
    # E1 Oui → true, E2 Non → false, E3 empty → the contract's default (false),
    # E4 the canonical TRUE, in capitals → true
    assert warehouse_rows(
        db, "select episode_id, hospital_discharge from episodes order by episode_id"
    ) == [
        ("E1", True),
        ("E2", False),
        ("E3", False),
        ("E4", True),
    ]
    # targets written "True" / "FALSE" in the profile; P2's empty cell has no default: NULL
    assert warehouse_rows(
        db, "select patient_id, lives_alone from patients order by patient_id"
    ) == [
        ("P1", True),
        ("P2", None),
    ]
    # F1/2 has an empty Statut: billed by default, after "Facturé" / "Annulé" are translated
    assert warehouse_rows(
        db, "select status, count(*) from billing_lines group by 1 order by 1"
    ) == [
        ("billed", 2),
        ("cancelled", 1),
    ]


def test_a_word_the_profile_lacks_is_still_refused_and_nothing_is_loaded(tmp_path):
    extract = _mixed_extract(tmp_path / "mixte")
    profile = _write(tmp_path / "mixte.yaml", MIXED_PROFILE)
    db = tmp_path / "w.duckdb"
    assert _ingest(extract, db, profile)[0] == 0
    episodes = extract / "episodes.csv"
    episodes.write_text(EPISODES_UTF8.replace(",Non,", ",Peut-être,"), encoding="utf-8")
    (extract / "patients.csv").write_text(
        PATIENTS_UTF8.replace("P2,2010-01-01,,", "P2,2010-01-01,Parfois,"), encoding="utf-8"
    )
    code, out = _ingest(extract, db, profile)
    assert code == 1
    assert "episodes.csv, ligne 2, colonne « hospital_discharge » : valeur non prévue" in out
    assert "(valeur lue : « Peut-être »)" in out
    assert "patients.csv, ligne 2, colonne « lives_alone » : valeur non prévue" in out
    assert warehouse_rows(db, "select count(*) from loads") == [(1,)]
    assert warehouse_rows(
        db, "select count(*) filter (where hospital_discharge) from episodes"
    ) == [(2,)]


@pytest.mark.parametrize(
    ("delimiter", "profile_text", "expected"),
    [
        (
            ";",
            None,
            "billing.csv : séparateur incorrect : le profil attend « , » (format.delimiter), "
            "le fichier semble utiliser « ; »",
        ),
        (
            "\t",
            None,
            "billing.csv : séparateur incorrect : le profil attend « , » (format.delimiter), "
            "le fichier semble utiliser tabulation",
        ),
        (
            ",",
            "tables: {billing: {format: {delimiter: '|'}}}\n",
            "billing.csv : séparateur incorrect : le profil attend « | » "
            "(tables.billing.format.delimiter), le fichier semble utiliser « , »",
        ),
    ],
    ids=["semicolon", "tab", "table-key"],
)
def test_wrong_delimiter_is_named_and_the_warehouse_unchanged(
    tmp_path, canonical_extract, delimiter, profile_text, expected
):
    db = tmp_path / "w.duckdb"
    assert _ingest(canonical_extract, db, "canonical")[0] == 0
    before = warehouse_rows(db, "select count(*), sum(coefficient)::double from billing_lines")
    assert before == [(4, 4.5)]  # the fixture's coefficients: AMI 1.5, AIS 3, two without
    billing = canonical_extract / "billing.csv"
    text = billing.read_text(encoding="utf-8")
    billing.write_text(text.replace(",", delimiter), encoding="utf-8")
    profile = _write(tmp_path / "p.yaml", profile_text) if profile_text else "canonical"
    code, out = _ingest(canonical_extract, db, profile)
    assert code == 1
    assert expected in out
    assert "absente" not in out
    assert (
        warehouse_rows(db, "select count(*), sum(coefficient)::double from billing_lines") == before
    )
    check = runner.invoke(
        app, ["profile", "check", str(canonical_extract), "--profile", str(profile)]
    )
    assert check.exit_code == 1
    assert expected.split(" : ", 1)[1] in " ".join(check.output.split())


def test_profile_check_lists_every_file_with_its_table_or_ignored(tmp_path, canonical_extract):
    french = frenchify(canonical_extract, tmp_path / "fr")
    (french / "notes.txt").write_text("export du 3 mars\n", encoding="utf-8")
    (french / "billing.csv").write_text("invoice_id\n", encoding="utf-8")  # canonical name
    (french / "~$factures.xlsx").write_bytes(b"lock")  # Excel's lock file
    (french / "centre.yaml").write_text("finess: '750000001'\n", encoding="utf-8")
    result = runner.invoke(app, ["profile", "check", str(french), "--profile", "logiciel-fr"])
    assert result.exit_code == 0, result.output
    listing = [line.split() for line in result.output.splitlines() if "→" in line]
    assert listing == [
        ["billing.csv", "→", "ignoré"],
        ["centre.yaml", "→", "registre", "du", "centre"],
        ["factures.csv", "→", "billing"],
        ["notes.txt", "→", "ignoré"],
        ["patients.csv", "→", "patients"],
        ["prises_en_charge.csv", "→", "episodes"],
        ["~$factures.xlsx", "→", "ignoré"],
    ]
    assert f"Fichiers de {french} (7) :" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: x\ncolour: red\n",
            ["p.yaml, colonne « colour » : clé inconnue (valeur lue : « red »)"],
        ),
        (
            "format: {delimiter: ';;', encoding: klingon, decimal: x, date_format: '%d/%m'}\n",
            [
                "p.yaml, colonne « format.delimiter » : un seul caractère attendu "
                '(ex. ";", "," ou "\\t" pour une tabulation) (valeur lue : « ;; »)',
                "p.yaml, colonne « format.encoding » : encodage inconnu "
                "(ex. utf-8, cp1252, latin-1) (valeur lue : « klingon »)",
                "p.yaml, colonne « format.decimal » : valeur non reconnue "
                "(permises : « . », « , ») (valeur lue : « x »)",
                "p.yaml, colonne « format.date_format » : format de date incomplet ou mal "
                "écrit (jour, mois et année : ex. %d/%m/%Y) (valeur lue : « %d/%m »)",
            ],
        ),
        (
            "format: {encoding: base64}\ntables: {patients: {format: {delimiter: '\"'}}}\n",
            [
                "p.yaml, colonne « format.encoding » : encodage inconnu "
                "(ex. utf-8, cp1252, latin-1) (valeur lue : « base64 »)",
                "p.yaml, colonne « tables.patients.format.delimiter » : un guillemet ou un saut "
                'de ligne ne peut pas séparer les colonnes (valeur lue : « " »)',
            ],
        ),
        (
            "tables: {invoices: {}, billing: {files: 3, colour: red}}\n",
            [
                "p.yaml, colonne « tables.billing.files » : motif de nom de fichier attendu, "
                'ou liste de motifs (ex. "factures*.csv") (valeur lue : « 3 »)',
                "p.yaml, colonne « tables.billing.colour » : clé inconnue (valeur lue : « red »)",
                "p.yaml, colonne « tables.invoices » : table inconnue "
                "(tables : billing, patients, episodes) (valeur lue : « {} »)",
            ],
        ),
        (
            "tables:\n  patients:\n    columns: {patient_id: Patient, name: Nom, sex: [F]}\n"
            "    defaults: {sex: female}\n",
            [
                "p.yaml, colonne « tables.patients.columns.sex » : texte attendu "
                "(valeur lue : « ['F'] »)",
                "p.yaml, colonne « tables.patients.columns.name » : colonne canonique inconnue "
                "(colonnes de patients : centre_finess, patient_id, birth_date, sex, "
                "occupation, coverage, complementary, lives_alone, postcode) "
                "(valeur lue : « Nom »)",
                "p.yaml, colonne « tables.patients.defaults.sex » : valeur canonique attendue "
                "(permises : F, M, U) (valeur lue : « female »)",
            ],
        ),
        (
            "tables:\n  billing:\n    values: {status: {Payé: paid, No: cancelled}}\n"
            "  episodes:\n    values: {hospital_discharge: {Oui: vrai}}\n",
            [
                "p.yaml, colonne « tables.billing.values.status.Payé » : valeur canonique "
                "attendue (permises : billed, cancelled, rejected) (valeur lue : « paid »)",
                "p.yaml, colonne « tables.billing.values.status » : lu par YAML comme oui/non "
                "(yes, no, on, off, true, false…) : écrivez ce mot entre guillemets, "
                'ex. "Yes" (valeur lue : « false »)',
                "p.yaml, colonne « tables.episodes.values.hospital_discharge.Oui » : true ou "
                "false attendu (valeur canonique) (valeur lue : « vrai »)",
            ],
        ),
        (
            "base: &base {delimiter: ';'}\nformat: *base\n",
            [
                "p.yaml, ligne 1 : YAML invalide (ligne 1, colonne 7) : ancre ou alias "
                "(& ou *) non admis dans un profil"
            ],
        ),
        (
            "name: !!python/object/apply:os.system [echo]\n",
            [
                "p.yaml, ligne 1 : YAML invalide (ligne 1, colonne 7) : étiquette YAML "
                "« tag:yaml.org,2002:python/object/apply:os.system » non admise dans un profil"
            ],
        ),
        (
            "name: " + "[" * 40 + "]" * 40 + "\n",
            [
                "p.yaml, ligne 1 : YAML invalide (ligne 1, colonne 26) : imbrication trop "
                "profonde (au plus 20 niveaux)"
            ],
        ),
        (
            "name: a\nname: b\n",
            [
                "p.yaml, ligne 2 : YAML invalide (ligne 2, colonne 1) : "
                "clé « name » écrite deux fois"
            ],
        ),
        ("- billing\n", ["p.yaml : le profil doit être une suite de clés (name, format, tables…)"]),
    ],
    ids=[
        "unknown-key",
        "format",
        "not-text",
        "tables",
        "columns",
        "values",
        "alias",
        "tag",
        "deep",
        "duplicate",
        "not-a-mapping",
    ],
)
def test_invalid_profile_is_refused_with_every_key_path(
    tmp_path, canonical_extract, text, expected
):
    db = tmp_path / "w.duckdb"
    assert _ingest(canonical_extract, db, "canonical")[0] == 0
    profile = _write(tmp_path / "p.yaml", text)
    code, out = _ingest(canonical_extract, db, profile)
    assert code == 1
    for line in expected:
        assert f"• {line}" in out
    assert out.count(" • ") == len(expected)  # each problem once, nothing else
    assert warehouse_rows(db, "select count(*) from loads") == [(1,)]
    check = runner.invoke(
        app, ["profile", "check", str(canonical_extract), "--profile", str(profile)]
    )
    assert check.exit_code == 1 and "Traceback" not in check.output
    assert all(line in " ".join(check.output.split()) for line in expected)


def test_profile_keys_written_as_numbers_are_read_as_text(tmp_path):
    """A status code, a FINESS or a header YAML reads as a number stays the text written."""
    extract = tmp_path / "codes"
    extract.mkdir()
    (extract / "lignes.csv").write_text(
        "facture,ligne,patient,date,code,etat\nF1,1,P1,2025-03-10,AMI,1\nF1,2,P1,2025-03-11,AMI,2\n"
        "F1,3,P2,2025-03-12,AMI,1\n",
        encoding="utf-8",
    )
    profile = _write(
        tmp_path / "codes.yaml",
        "tables:\n  billing:\n    files: lignes*.csv\n"
        "    columns: {invoice_id: facture, line_no: ligne, patient_id: patient, "
        "act_date: date, act_code: code, status: etat}\n"
        "    values: {status: {1: billed, 2: cancelled}}\n"
        "    defaults: {centre_finess: 750000001}\n",
    )
    db = tmp_path / "w.duckdb"
    code, out = _ingest(extract, db, profile)
    assert code == 0, out
    assert warehouse_rows(
        db, "select centre_finess, status, count(*) from billing_lines group by 1, 2 order by 2"
    ) == [("750000001", "billed", 2), ("750000001", "cancelled", 1)]


def test_oversized_profile_is_refused_without_reading_it(tmp_path, canonical_extract):
    profile = tmp_path / "big.yaml"
    profile.write_bytes(b"# " + b"x" * (5 << 20) + b"\n")
    code, out = _ingest(canonical_extract, tmp_path / "w.duckdb", profile)
    assert code == 1
    assert "big.yaml : profil trop volumineux (5 Mo au plus)" in out


def test_profile_check_lists_the_files_even_when_none_matches(tmp_path):
    extract = tmp_path / "vide"
    extract.mkdir()
    (extract / "export.txt").write_text("rien\n", encoding="utf-8")
    result = runner.invoke(app, ["profile", "check", str(extract), "--profile", "logiciel-fr"])
    assert result.exit_code == 1
    assert [line.split() for line in result.output.splitlines() if "→" in line] == [
        ["export.txt", "→", "ignoré"]
    ]
    assert "ne correspond aux motifs du profil" in " ".join(result.output.split())
    missing = runner.invoke(app, ["profile", "check", str(tmp_path / "absent")])
    assert missing.exit_code == 1
    assert "Dossier d'extraction introuvable" in missing.output
    a_file = runner.invoke(app, ["profile", "check", str(extract / "export.txt")])
    assert a_file.exit_code == 1  # named as what it is, as csi ingest names it
    assert "export.txt est un fichier, pas un dossier" in " ".join(a_file.output.split())
