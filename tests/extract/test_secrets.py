"""The pseudonymisation key cannot silently change: a lost or damaged key file refuses the load.

Each test loads real extracts into a real DuckDB file with a secrets folder of its own,
then damages the key file the way a careless hand would and loads again.
"""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.extract.pseudonym import KeyFileError, Keyring, fingerprint, pseudonym
from pipeline.orchestrate import steps
from tests.support import FINESS, billing_rows, make_extract, patient_rows

runner = CliRunner()
NIR_A = "184127645108946"
NIR_B = "285072A12345615"  # 2A counts as 19: 2850719123456 mod 97 = 82, key 15
STATE_TABLES = ("billing_lines", "patients", "loads", "load_files", "key_fingerprints")


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cles"
    monkeypatch.setenv("CSI_SECRETS_DIR", str(folder))
    return folder


def _extract(directory: Path, invoice: str = "F1") -> Path:
    return make_extract(
        directory,
        billing=billing_rows(
            {"patient_id": NIR_A, "act_date": "2025-01-05"},
            {"patient_id": NIR_B, "act_date": "2025-01-06"},
            invoice=invoice,
        ),
        patients=patient_rows({"patient_id": NIR_A}, {"patient_id": NIR_B}),
    )


def _state(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: sorted(con.execute(f"select * from {t}").fetchall(), key=str) for t in STATE_TABLES
        }
    finally:
        con.close()


def _ingest(extract: Path, db: Path):
    return runner.invoke(app, ["ingest", str(extract), "--db", str(db)], env={"COLUMNS": "400"})


@pytest.fixture
def loaded(tmp_path: Path, secrets: Path) -> tuple[Path, Path]:
    """A warehouse holding two NIR patients of FINESS, and the next month's extract."""
    db = tmp_path / "wh.duckdb"
    steps.ingest(_extract(tmp_path / "m1"), db)
    return db, _extract(tmp_path / "m2", invoice="F2")


def test_first_load_creates_a_private_key_and_keeps_its_fingerprint_only(loaded, secrets):
    db, _ = loaded
    key_file = secrets / f"{FINESS}.key"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    secret = bytes.fromhex(key_file.read_text().strip())
    assert len(secret) == 32
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "select centre_finess, fingerprint, load_id from key_fingerprints"
    ).fetchall()
    ids = {r[0] for r in con.execute("select patient_id from patients").fetchall()}
    con.close()
    assert rows == [(FINESS, fingerprint(secret), 1)]
    keys = Keyring(secrets_dir=secrets)
    assert ids == {pseudonym(FINESS, NIR_A, keys), pseudonym(FINESS, NIR_B, keys)}
    raw = db.read_bytes()
    assert secret.hex().encode() not in raw and secret not in raw


def _refused(result, *phrases: str) -> str:
    out = " ".join(result.output.split())
    assert result.exit_code == 1, out
    assert "Traceback" not in out and "ValueError" not in out
    for phrase in phrases:
        assert phrase in out
    return out


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda f: f.unlink(), "introuvable alors que l'entrepôt contient déjà des patients"),
        (lambda f: f.write_text(""), "vide"),
        (lambda f: f.write_text("\n  \n"), "vide"),
        (
            lambda f: f.write_text("ceci n'est pas une clé\n"),
            "illisible (64 caractères hexadécimaux",
        ),
        (lambda f: f.write_text("ab" * 16 + "\n"), "trop courte (16 octets, au moins 32 attendus)"),
        (
            lambda f: f.write_text("ab" * 32 + "\n"),
            "différente de celle des chargements précédents",
        ),
    ],
    ids=["missing", "empty", "blank", "not-hex", "short", "other-key"],
)
def test_a_damaged_key_refuses_the_load_and_says_how_to_restore_it(
    loaded, secrets, damage, problem
):
    db, extract = loaded
    key_file = secrets / f"{FINESS}.key"
    backup = key_file.read_bytes()
    before = _state(db)
    damage(key_file)
    damaged = key_file.read_bytes() if key_file.exists() else None
    out = _refused(
        _ingest(extract, db),
        f"Clé de pseudonymisation du centre {FINESS} {problem}",
        str(key_file),
        "Restaurez ce fichier depuis sa sauvegarde",
        "CSI_SECRETS_DIR",
    )
    assert "supprimer ce fichier" not in out  # the warehouse knows this centre: never re-key
    assert _state(db) == before
    assert (key_file.read_bytes() if key_file.exists() else None) == damaged  # no new key
    # Restored from its backup, the key loads the next month onto the same two patients.
    key_file.write_bytes(backup)
    summary = steps.ingest(extract, db)
    assert (summary.rows_inserted, summary.rows_replaced, summary.rows_unchanged) == (2, 0, 2)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(distinct patient_id) from billing_lines").fetchall() == [(2,)]
    con.close()


def test_a_warehouse_without_fingerprint_but_with_pseudonyms_is_not_rekeyed(loaded, secrets):
    """A warehouse written before fingerprints were kept: its pseudonyms are what tells."""
    db, extract = loaded
    con = duckdb.connect(str(db))
    con.execute("delete from key_fingerprints")
    con.close()
    key_file = secrets / f"{FINESS}.key"
    backup = key_file.read_bytes()
    key_file.unlink()
    _refused(_ingest(extract, db), "introuvable alors que l'entrepôt contient déjà des patients")
    assert not key_file.exists()
    key_file.write_bytes(backup)
    assert _ingest(extract, db).exit_code == 0  # the existing key is adopted…
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute("select fingerprint, load_id from key_fingerprints").fetchall()
    con.close()
    assert stored == [(fingerprint(bytes.fromhex(backup.decode().strip())), 2)]  # … and recorded


def test_an_empty_key_on_first_use_is_refused_too_with_the_way_out(tmp_path, secrets):
    secrets.mkdir(mode=0o700)
    (secrets / f"{FINESS}.key").write_text("")
    db = tmp_path / "wh.duckdb"
    _refused(
        _ingest(_extract(tmp_path / "m1"), db),
        "vide",
        "vous pouvez aussi supprimer ce fichier : une nouvelle clé sera créée",
    )
    (secrets / f"{FINESS}.key").unlink()
    assert _ingest(_extract(tmp_path / "m1"), db).exit_code == 0


def test_a_refused_first_load_keeps_its_new_key_for_the_next_try(tmp_path, secrets):
    """The key is created before the rows are checked; the fingerprint waits for a load."""
    db = tmp_path / "wh.duckdb"
    bad = make_extract(
        tmp_path / "bad",
        billing=billing_rows({"patient_id": NIR_A, "act_date": "2025-01-05", "status": "perdu"}),
    )
    assert _ingest(bad, db).exit_code == 1
    key = (secrets / f"{FINESS}.key").read_bytes()
    assert _ingest(_extract(tmp_path / "m1"), db).exit_code == 0
    assert (secrets / f"{FINESS}.key").read_bytes() == key
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute("select fingerprint from key_fingerprints").fetchall()
    con.close()
    assert stored == [(fingerprint(bytes.fromhex(key.decode().strip())),)]


def test_a_loose_folder_of_keys_is_tightened(tmp_path, secrets, caplog):
    secrets.mkdir()
    secrets.chmod(0o755)
    key_file = secrets / f"{FINESS}.key"
    key_file.write_text("cd" * 32 + "\n")
    key_file.chmod(0o644)
    Keyring(secrets_dir=secrets).secret(FINESS)
    assert "resserrés à 700" in caplog.text and "resserrés à 600" in caplog.text
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_shared_folder_named_by_the_variable_is_left_as_it_is(tmp_path, secrets, caplog):
    secrets.mkdir()
    secrets.chmod(0o755)
    (secrets / "notes.txt").write_text("pas une clé")
    Keyring(secrets_dir=secrets).secret(FINESS)
    assert "csi n'en change pas les droits" in caplog.text
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o755
    assert stat.S_IMODE((secrets / f"{FINESS}.key").stat().st_mode) == 0o600


def test_key_problems_are_usage_errors_not_tracebacks(tmp_path, secrets):
    secrets.mkdir(mode=0o700)
    (secrets / f"{FINESS}.key").write_text("zz" * 32)
    with pytest.raises(KeyFileError, match="illisible"):
        Keyring(secrets_dir=secrets).secret(FINESS)


def test_a_secrets_folder_that_cannot_be_made_refuses_the_load_in_french(tmp_path, monkeypatch):
    """CSI_SECRETS_DIR through a file: no key can be kept, so nothing is loaded."""
    taken = tmp_path / "notes.txt"
    taken.write_text("à garder", encoding="utf-8")
    monkeypatch.setenv("CSI_SECRETS_DIR", str(taken / "cles"))
    db = tmp_path / "wh.duckdb"
    result = _ingest(_extract(tmp_path / "m1"), db)
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert (
        f"Dossier des clés de pseudonymisation inutilisable : {taken / 'cles'} : un élément "
        "du chemin est un fichier, pas un dossier." in said
    )
    assert "Traceback" not in said and "Error" not in said
    assert taken.read_text(encoding="utf-8") == "à garder"
    if db.exists():
        assert _state(db)["billing_lines"] == [] and _state(db)["loads"] == []
