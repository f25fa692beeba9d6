"""Reference tables: rebuilt from the package's files when, and only when, they change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipeline.core.reference import reference_stamp
from pipeline.warehouse.schema import initialise


def _holiday_rows(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(*) from public_holidays").fetchall()[0][0]


def test_reference_tables_are_rebuilt_only_when_their_stamp_changes(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        initialise(con)
        built = _holiday_rows(con)
        assert con.execute("select stamp from reference_stamp").fetchall() == [(reference_stamp(),)]
        # 14 July 2025 is in the package's calendar, both zones.
        assert con.execute(
            "select count(*) from public_holidays where holiday_date = ?", [dt.date(2025, 7, 14)]
        ).fetchall() == [(2,)]
        con.execute("insert into public_holidays values ('2025-07-15', 'metropole', 'marque')")
        initialise(con)  # same package: left as it is
        assert _holiday_rows(con) == built + 1
        con.execute("update reference_stamp set stamp = 'ngap=older'")
        initialise(con)  # another package version wrote them: rebuilt
        assert _holiday_rows(con) == built
        con.execute("drop table public_holidays")
        initialise(con)  # a table missing: rebuilt whatever the stamp
        assert _holiday_rows(con) == built
    finally:
        con.close()


# --------------------------------------------------------------------------- commitments as data


def test_every_commitment_row_names_a_rule_and_an_agreement():
    from pipeline.report.register_sections import RULES, agreements, commitments

    rows = commitments()
    assert len({c.id for c in rows}) == 20
    for c in rows:
        assert c.rule == "activity_report" or c.rule in RULES, c
        assert c.text in agreements(), c
        assert c.label and c.source
    for year in range(2003, 2031):  # an id never has two rows valid the same year
        ids = [c.id for c in rows if c.applies(year)]
        assert len(ids) == len(set(ids)), year


def test_the_commitments_valid_in_the_year_and_the_texts_named():
    from pipeline.report.register_sections import evaluate_engagements

    # 2010: the 2003 option only, with its own patient-file rule (specific file)
    before = evaluate_engagements(None, 2010)
    assert list(before["items"]) == [
        "planning", "patient_file", "transmission_log", "monthly_team_meetings",
        "care_directory", "conventions_2003", "training_2_days", "prevention_action",
        "promotion_action", "activity_report",
    ]  # fmt: skip
    assert before["items"]["patient_file"]["source"] == "2003 annexe 1"
    assert len(before["texts"]) == 1 and "2003" in before["texts"][0]
    assert before["counts"] == {"met": 1, "not_met": 0, "unknown": 9}

    # 2016 and 2025: both texts, the twenty commitments, nothing to confirm
    for year in (2016, 2025):
        both = evaluate_engagements(None, year)
        assert len(both["items"]) == 20 and len(both["texts"]) == 2
        assert not any("note" in item for item in both["items"].values())
        assert both["items"]["patient_file"]["source"] == "2003 annexe 1 ; 2015 8.4.2"

    # 2026: the 2015 agreement was replaced on 2025-08-28 → its rows « texte à confirmer »
    after = evaluate_engagements(None, 2026)
    noted = sorted(k for k, item in after["items"].items() if item.get("note"))
    assert noted == sorted(
        [
            "patient_file", "coordination_meetings_6", "conventions_2015",
            "external_data_procedure", "flu_vaccination_gp_info", "public_health_missions",
            "access_24_7", "coordinator_nurse", "charter", "internship", "information_system",
        ]
    )  # fmt: skip
    assert {after["items"][k]["note"] for k in noted} == {"texte à confirmer"}
    assert "texte à confirmer" in after["texts"][1] and "28 août 2025" in after["texts"][1]
    assert "note" not in after["items"]["planning"]


def test_the_2003_patient_file_needs_only_a_specific_file():
    from pipeline.report.register_sections import evaluate_engagements
    from schemas.register import CentreRegister

    register = CentreRegister.model_validate(
        {
            "finess": "750000001",
            "name": "Centre",
            "year": 2010,
            "staff": {"nurses": [{"id": "N1", "fte": 1.0}]},
            "patient_file": {"specific": True, "computerised": False, "shared": False},
        }
    )
    assert evaluate_engagements(register, 2010)["items"]["patient_file"]["status"] == "met"
    later = register.model_copy(update={"year": 2020})
    assert evaluate_engagements(later, 2020)["items"]["patient_file"]["status"] == "not_met"


def test_the_rule_tables_restate_the_families_and_departments_of_the_python_side(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        initialise(con)
        families = con.execute(
            "select family, coefficient_counted, visit_act from ngap_families order by family"
        ).fetchall()
        zones = con.execute(
            "select finess_prefix, ngap_zone, holiday_zone from finess_zones "
            "where ngap_zone <> 'metropole' or holiday_zone <> 'metropole' order by 1"
        ).fetchall()
        prefixes = con.execute("select count(*), count(distinct finess_prefix) from finess_zones")
        counted = prefixes.fetchall()
        corsica = con.execute(
            "select ngap_zone, holiday_zone from finess_zones where finess_prefix in ('2A', '2B')"
        ).fetchall()
    finally:
        con.close()
    # The 11 families of ngap_reference.csv; coefficients counted for AMI, AMX, AIS, DSI;
    # a visit's acts are those and other_acts.
    assert families == [
        ("AIS", True, True),
        ("AMI", True, True),
        ("AMX", True, True),
        ("DSI", True, True),
        ("IFD", False, False),
        ("IK", False, False),
        ("coordination_fee", False, False),
        ("night", False, False),
        ("other_acts", False, True),
        ("other_majorations", False, False),
        ("sunday_holiday", False, False),
    ]
    # 00…99, 2A and 2B: only Moselle, Bas-Rhin, Haut-Rhin and the overseas 97 differ.
    assert counted == [(102, 102)]
    assert zones == [
        ("57", "metropole", "alsace_moselle"),
        ("67", "metropole", "alsace_moselle"),
        ("68", "metropole", "alsace_moselle"),
        ("97", "dom", "metropole"),
    ]
    assert corsica == [("metropole", "metropole")] * 2


def test_a_changed_rule_changes_the_reference_stamp(monkeypatch):
    from pipeline.core import reference

    before = reference_stamp()
    monkeypatch.setattr(reference, "COEFFICIENT_FAMILIES", ("AMI", "AMX", "AIS"))
    assert reference_stamp() != before
