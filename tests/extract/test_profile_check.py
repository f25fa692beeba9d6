"""`pipeline.extract.profile_check`: which file each table reads, before any load."""

from __future__ import annotations

from pipeline.extract.profile_check import check_extract, list_files
from pipeline.extract.profiles import canonical_profile
from tests.support import billing_rows, make_extract, patient_rows


def test_every_file_is_listed_with_its_table_register_or_ignored(tmp_path):
    extract = make_extract(
        tmp_path / "x",
        billing=billing_rows({"act_date": "2025-01-02"}),
        patients=patient_rows({"patient_id": "P1"}),
        register={"centre_finess": "750000001", "year": 2025},
    )
    (extract / "notes.txt").write_text("à lire", encoding="utf-8")
    listed = dict(list_files(extract, canonical_profile()))
    assert listed["billing.csv"] == "billing"
    assert listed["patients.csv"] == "patients"
    assert listed["notes.txt"] == "ignoré"
    assert listed["centre.yaml"] != "ignoré"
    assert sorted(listed) == ["billing.csv", "centre.yaml", "notes.txt", "patients.csv"]


def test_check_extract_covers_the_files_the_profile_reads(tmp_path):
    extract = make_extract(tmp_path / "x", billing=billing_rows({"act_date": "2025-01-02"}))
    checks = check_extract(extract, canonical_profile())
    assert [check.table for check in checks] == ["billing"]
