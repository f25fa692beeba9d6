"""NIRs never reach the warehouse in clear: checked, then replaced by a keyed hash."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.core.settings import Settings
from pipeline.extract.pseudonym import (
    Keyring,
    canonical_nir,
    compact,
    is_nir_shaped,
    nir_key,
    nir_key_is_valid,
)
from pipeline.extract.pseudonym import pseudonym as keyed_pseudonym
from tests.support import billing_rows, make_extract, patient_rows

runner = CliRunner()

VALID = "184127645108946"  # key 46 = 97 − (1841276451089 mod 97)
CORSICA_2A = "185072A12345665"  # 2A counts as 19: key 65
CORSICA_2B = "185072B12345692"  # 2B counts as 18: key 92


@pytest.fixture(autouse=True)
def secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))


def pseudonym(finess: str, nir: str) -> str:
    """The pseudonym under this test's keys, the folder a load reads (`CSI_SECRETS_DIR`)."""
    return keyed_pseudonym(finess, nir, Keyring(secrets_dir=Settings.from_environ().secrets_dir))


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


# --- Every written form of a NIR -------------------------------------------------------

GROUPS = (1, 2, 2, 2, 3, 3, 2)  # sex, year, month, department, commune, order, key


def _grouped(nir: str, separator: str, keyed: bool = True) -> str:
    """`184127645108946` → `1 84 12 76 451 089 46` (the way a NIR is printed)."""
    parts, start = [], 0
    for width in GROUPS if keyed else GROUPS[:-1]:
        parts.append(nir[start : start + width])
        start += width
    return separator.join(parts)


@pytest.mark.parametrize(
    "written",
    [
        "1 84 12 76 451 089 46",
        "1.84.12.76.451.089.46",
        "1-84-12-76-451-089-46",
        " 184127645108946 ",
        "1\u00a084\u00a012\u00a076\u00a0451\u00a0089\u00a046",  # non-breaking spaces (Excel)
        "1841276451089",  # without its key: 1841276451089 mod 97 = 51, key 46
        "1 84 12 76 451 089",
    ],
)
def test_every_written_form_gives_the_plain_form_s_pseudonym(written):
    assert pseudonym("750000001", written) == pseudonym("750000001", VALID)


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("1 85 07 2a 123 456 65", CORSICA_2A),
        ("185072a123456", CORSICA_2A),  # 2A → 19: 1850719123456 mod 97 = 32, key 65
        ("1.85.07.2b.123.456.92", CORSICA_2B),
        ("185072B123456", CORSICA_2B),
    ],
)
def test_corsican_nirs_in_either_case_with_or_without_key(written, same_as):
    assert canonical_nir(written) == same_as
    assert pseudonym("750000001", written) == pseudonym("750000001", same_as)


@pytest.mark.parametrize(
    "value",
    ["P42", "18412764510894", "1841276451089466", "584127645108946", "1 84 12 7A 451 089 46", ""],
)
def test_what_is_not_written_like_a_nir_is_left_alone(value):
    assert not is_nir_shaped(value)


def test_a_wrong_key_in_a_written_form_is_refused_and_never_staged(tmp_path):
    """The batches handed to the loader hold no NIR, even one whose key is wrong."""
    from pipeline.extract.folder import open_extract
    from pipeline.extract.profiles import load_profile

    bad = "1 84 12 76 451 089 47"
    extract = make_extract(
        tmp_path / "x",
        billing=billing_rows(
            {"patient_id": bad, "act_date": "2025-01-05"},
            {"patient_id": "1.85.07.2a.123.456", "act_date": "2025-01-06"},
        ),
    )
    opened = open_extract(extract, load_profile(None))
    opened.keyring = Keyring(secrets_dir=tmp_path / "secrets")  # as the loader gives it
    handed = "".join(batch.write_csv() for batch in opened.batches("billing")).encode()
    findings = opened.all_findings()
    assert [(f.row, f.column, f.value) for f in findings] == [(1, "patient_id", None)]
    for form in (bad, compact(bad), "1850719123456", "185072A123456", "1.85.07.2a.123.456"):
        assert form.encode() not in handed


_CORSICA = st.sampled_from(["2A", "2B", "2a", "2b"])
_DEPARTMENT = st.one_of(st.integers(1, 95).map(lambda d: f"{d:02d}"), _CORSICA)


@st.composite
def written_nirs(draw) -> tuple[str, str]:
    """A valid NIR as people write it, and its canonical 15-character form."""
    body = (
        draw(st.sampled_from("12"))
        + f"{draw(st.integers(0, 99)):02d}{draw(st.integers(1, 12)):02d}"
        + draw(_DEPARTMENT)
        + f"{draw(st.integers(1, 999)):03d}{draw(st.integers(1, 999)):03d}"
    )
    canonical = f"{body.upper()}{nir_key(body.upper()):02d}"
    keyed = draw(st.booleans())
    plain = canonical if keyed else canonical[:13]
    if draw(st.booleans()):
        plain = plain.replace(body[5:7].upper(), body[5:7], 1)  # the case it was typed in
    separator = draw(st.sampled_from(["", " ", ".", "-", "\u00a0"]))
    written = _grouped(plain, separator, keyed) if separator else plain
    return written, canonical


def _forms(written: str, canonical: str) -> set[bytes]:
    """Every way the NIR could show in a file: as written, compact, with or without key."""
    forms = {written, canonical, canonical[:13], compact(written)}
    forms |= {f.lower() for f in forms}
    return {f.encode() for f in forms}


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    people=st.lists(written_nirs(), min_size=1, max_size=4, unique_by=lambda p: p[1]),
    wrong_key=st.booleans(),
)
def test_no_nir_form_ever_reaches_the_warehouse_the_rejects_or_the_output(people, wrong_key):
    """Real ingest of NIRs in every written form into a real DuckDB file.

    The warehouse file (checkpointed on close), the rejection folder and everything the
    command printed hold none of the forms; the same person written two ways is one
    patient. With a NIR whose key is wrong, the extract is refused, without the value.
    """
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ["CSI_SECRETS_DIR"] = str(root / "secrets")
        rows = [{"patient_id": w, "act_date": "2025-03-01"} for w, _ in people]
        # The patients export writes each person another way: plain with its key.
        patients = [{"patient_id": c} for _, c in people]
        forms = set().union(*(_forms(w, c) for w, c in people))
        if wrong_key:
            good = people[0][1]
            bad = good[:13] + f"{(int(good[13:]) % 97) + 1:02d}"
            rows.append({"patient_id": _grouped(bad, " "), "act_date": "2025-03-02"})
            forms |= _forms(_grouped(bad, " "), bad)
        extract = make_extract(
            root / "extract", billing=billing_rows(*rows), patients=patient_rows(*patients)
        )
        db = root / "wh" / "warehouse.duckdb"
        result = runner.invoke(app, ["ingest", str(extract), "--db", str(db)])
        assert result.exit_code == (1 if wrong_key else 0), result.output
        output = result.output.encode()
        warehouse = _all_bytes(db.parent)  # the file, its WAL if any, the rejects folder
        for form in forms:
            assert form not in warehouse
            assert form not in output
        if wrong_key:
            assert "NIR invalide" in result.output
            assert list((db.parent / "rejets").iterdir())
            return
        con = duckdb.connect(str(db), read_only=True)
        billed = {r[0] for r in con.execute("select patient_id from billing_lines").fetchall()}
        known = {r[0] for r in con.execute("select patient_id from patients").fetchall()}
        con.close()
        assert billed == known == {pseudonym("750000001", c) for _, c in people}


def test_a_nir_on_a_row_without_a_valid_centre_is_hidden_too(tmp_path):
    """No FINESS, or a malformed one: the row is refused, its NIR still never staged, and
    no key file is named after what the column held."""
    from pipeline.extract.folder import open_extract
    from pipeline.extract.profiles import load_profile

    extract = make_extract(
        tmp_path / "x",
        billing=billing_rows(
            {"patient_id": VALID, "act_date": "2025-01-05", "centre_finess": ""},
            {"patient_id": CORSICA_2A, "act_date": "2025-01-06", "centre_finess": "../../evil"},
        ),
    )
    opened = open_extract(extract, load_profile(None))
    handed = "".join(batch.write_csv() for batch in opened.batches("billing")).encode()
    assert {(f.row, f.column) for f in opened.all_findings()} >= {
        (1, "centre_finess"),
        (2, "centre_finess"),
    }
    assert VALID.encode() not in handed and CORSICA_2A.encode() not in handed
    assert not (tmp_path / "secrets").exists()
    assert not list(tmp_path.rglob("*.key"))


def test_no_nir_form_reaches_the_report(tmp_path):
    """Every written form of three NIRs loaded, then reported in every format but PDF
    (its text is the HTML's): the report counts them as three patients and shows none."""
    people = [(VALID, VALID), (CORSICA_2A, CORSICA_2A), (CORSICA_2B, CORSICA_2B)]
    written = [
        form
        for nir, _ in people
        for form in (
            nir,
            nir[:13],
            _grouped(nir, " "),
            _grouped(nir, ".").lower(),
            _grouped(nir[:13], "-", keyed=False),
        )
    ]
    rows = [{"patient_id": w, "act_date": f"2025-03-{i + 1:02d}"} for i, w in enumerate(written)]
    extract = make_extract(
        tmp_path / "x",
        billing=billing_rows(*rows),
        patients=patient_rows(*({"patient_id": nir} for nir, _ in people)),
    )
    db = tmp_path / "wh.duckdb"
    assert runner.invoke(app, ["ingest", str(extract), "--db", str(db)]).exit_code == 0
    out = tmp_path / "reports"
    result = runner.invoke(
        app,
        [
            "report",
            "--year",
            "2025",
            "--db",
            str(db),
            "--out",
            str(out),
            "--format",
            "json,html,xlsx",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(next(out.rglob("annexe3.json")).read_text(encoding="utf-8"))
    assert report["clientele"]["insured_patients"] == 3
    produced = _all_bytes(out) + result.output.encode()
    for form in set().union(*(_forms(w, c) for (w, c) in people), {w.encode() for w in written}):
        assert form not in produced
