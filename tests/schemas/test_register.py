"""The centre register: strict loading, warehouse tables, sections 4–9, forfait, commitments.

Every register here is hand-made and tiny, so that each expected figure can be worked
out by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from pipeline.core.errors import Finding, InputError
from pipeline.report.register_sections import (
    ENGAGEMENTS,
    build_register_sections,
    evaluate_engagements,
    forfait,
)
from pipeline.report.scoped import CentreReader
from pipeline.warehouse.register_tables import REGISTER_DDL, REGISTER_TABLES, write_register
from schemas.register import CentreRegister, load_register

FINESS = "750000001"
YEAR = 2025
MARTS = Path(__file__).resolve().parents[2] / "sql" / "marts"

CONTRACT_EXAMPLE = """\
finess: "750000001"
name: Centre de soins infirmiers Exemple
year: 2025
staff:
  nurses:
    - id: "10001234567"
      fte: 1.0
      chemotherapy_qualified: true
      other_competences: [plaies et cicatrisation]
      role: nurse
  secretaries: [{fte: 0.8}, {fte: 0.5}]
internal_meetings: [2025-01-14, 2025-02-11]
partners:
  - name: Hôpital Saint-Louis
    nature: hospital
    convention_signed: 2019-03-01
    meetings: [2025-06-05]
patient_file: {specific: true, computerised: true, shared: true, mobile_access: true,
               dmp_secure_messaging: true}
transmission_log: true
planning_formalised: true
care_directory_updated: 2025-09-01
external_data_procedure: true
flu_vaccination_gp_info: true
access_24_7: true
phone_message_outside_hours: true
coordinator_nurse: "10001234567"
charter_displayed: true
permanence:
  - astreinte téléphonique 20h-8h, week-ends et jours fériés
prevention_actions:
  - {title: Octobre Rose, level: national, date: 2025-10-10}
promotion_actions:
  - {title: Vaccination antigrippale gratuite, date: 2025-11-05}
trainings:
  - {kind: professional, description: Plaies chroniques, nurses_trained: 4, days: 2}
internships: [{school: IFSI Exemple, start: 2025-03-03, weeks: 5}]
"""

MINIMAL = {"finess": FINESS, "name": "Centre test", "year": YEAR, "staff": {}}


# --------------------------------------------------------------------------- helpers


def write(tmp_path: Path, text: str, name: str = "centre.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def as_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def reg(**keys: Any) -> CentreRegister:
    """A register from the minimal one plus `keys` (validated like a file would be)."""
    return CentreRegister.model_validate({**MINIMAL, **keys})


def refused(path: Path) -> list[Finding]:
    with pytest.raises(InputError) as caught:
        load_register(path)
    assert "Traceback" not in caught.value.describe()
    return caught.value.findings


def one_finding(tmp_path: Path, text: str) -> Finding:
    findings = refused(write(tmp_path, text))
    assert len(findings) == 1, findings
    assert findings[0].file == "centre.yaml"
    return findings[0]


def nurse(id_: str, fte: float, **more: Any) -> dict[str, Any]:
    return {"id": id_, "fte": fte, **more}


def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A real DuckDB file with the register tables and the staff/means views."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for ddl in REGISTER_DDL:
        con.execute(ddl)
    for view in ("staff", "means"):
        con.execute(f"create view {view} as\n{(MARTS / f'{view}.sql').read_text()}")
    return con


def sections(tmp_path: Path, register: CentreRegister, **kwargs: Any) -> dict[str, Any]:
    con = warehouse(tmp_path)
    write_register(con, register, "centre.yaml", 1)
    result = build_register_sections(CentreReader(con), register.finess, register.year, **kwargs)
    con.close()
    return result


def status(register: CentreRegister | None, engagement: str) -> dict[str, str]:
    return evaluate_engagements(register, YEAR)["items"][engagement]


# --------------------------------------------------------------------------- loading


def test_contract_example_loads(tmp_path: Path) -> None:
    register = load_register(write(tmp_path, CONTRACT_EXAMPLE))
    assert register.finess == FINESS
    assert register.staff.nurses[0].fte == 1.0
    assert register.internal_meetings == [dt.date(2025, 1, 14), dt.date(2025, 2, 11)]
    assert register.partners[0].convention_signed == dt.date(2019, 3, 1)
    assert register.trainings[0].days == 2.0


def test_absent_optional_keys_are_none_not_false(tmp_path: Path) -> None:
    register = load_register(write(tmp_path, as_yaml(MINIMAL)))
    assert register.transmission_log is None
    assert register.internal_meetings is None
    assert register.partners is None
    assert register.patient_file is None
    assert register.staff.nurses == []


def test_iso_strings_and_unquoted_ids_are_accepted(tmp_path: Path) -> None:
    text = as_yaml({**MINIMAL, "finess": 750000001, "internal_meetings": ["2025-03-04"]})
    register = load_register(write(tmp_path, text.replace("'2025-03-04'", '"2025-03-04"')))
    assert register.finess == FINESS
    assert register.internal_meetings == [dt.date(2025, 3, 4)]


def test_unknown_key_is_refused_with_its_path(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace("      role: nurse", "      role: nurse\n      grade: 2")
    finding = one_finding(tmp_path, text)
    assert (finding.rule, finding.column, finding.value) == (
        "clé inconnue",
        "staff.nurses[1].grade",
        "2",
    )


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    finding = one_finding(tmp_path, CONTRACT_EXAMPLE + "transmision_log: true\n")
    assert (finding.rule, finding.column) == (
        "clé inconnue (vouliez-vous dire « transmission_log » ?)",
        "transmision_log",
    )
    # A key that resembles none is refused without a guess.
    finding = one_finding(tmp_path, CONTRACT_EXAMPLE + "couleur: bleu\n")
    assert (finding.rule, finding.column) == ("clé inconnue", "couleur")


def test_missing_staff_is_refused(tmp_path: Path) -> None:
    data = {k: v for k, v in MINIMAL.items() if k != "staff"}
    finding = one_finding(tmp_path, as_yaml(data))
    assert (finding.rule, finding.column, finding.value) == (
        "clé obligatoire manquante",
        "staff",
        None,
    )


def test_missing_required_keys_are_all_listed(tmp_path: Path) -> None:
    findings = refused(write(tmp_path, "staff: {}\n"))
    assert {f.column for f in findings} == {"finess", "name", "year"}
    assert {f.rule for f in findings} == {"clé obligatoire manquante"}


@pytest.mark.parametrize("fte", [0, 1.2, -0.5, "beaucoup"])
def test_fte_outside_zero_one_is_refused(tmp_path: Path, fte: Any) -> None:
    data = {**MINIMAL, "staff": {"nurses": [nurse("A", 1.0), nurse("B", 0.5), nurse("C", fte)]}}
    finding = one_finding(tmp_path, as_yaml(data))
    assert finding.rule == "l'ETP doit être compris entre 0 (exclu) et 1"
    assert finding.column == "staff.nurses[3].fte"
    assert finding.value == str(fte)


def test_secretary_fte_is_checked_too(tmp_path: Path) -> None:
    finding = one_finding(tmp_path, as_yaml({**MINIMAL, "staff": {"secretaries": [{"fte": 2}]}}))
    assert finding.column == "staff.secretaries[1].fte"


def test_fte_of_exactly_one_is_accepted(tmp_path: Path) -> None:
    data = {**MINIMAL, "staff": {"nurses": [nurse("A", 1.0), nurse("B", 1)]}}
    assert [n.fte for n in load_register(write(tmp_path, as_yaml(data))).staff.nurses] == [1, 1]


def test_bad_nested_enum_value_names_its_path(tmp_path: Path) -> None:
    partners = [
        {"name": "Hôpital", "nature": "hospital"},
        {"name": "Clinique", "nature": "clinique"},
    ]
    finding = one_finding(tmp_path, as_yaml({**MINIMAL, "partners": partners}))
    assert finding.column == "partners[2].nature"
    assert finding.value == "clinique"
    assert finding.rule == (
        "valeur non reconnue (permises : hospital, network, had, ssiad, ehpad, "
        "medico_social, other)"
    )


def test_bad_role_lists_the_permitted_values(tmp_path: Path) -> None:
    data = {**MINIMAL, "staff": {"nurses": [nurse("A", 1.0, role="cadre")]}}
    finding = one_finding(tmp_path, as_yaml(data))
    assert finding.column == "staff.nurses[1].role"
    assert finding.rule == "valeur non reconnue (permises : nurse, coordinator, manager)"


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ("2025-13-01", "date attendue (AAAA-MM-JJ)"),
        ("14/01/2025", "date attendue (AAAA-MM-JJ), écrite 2025-01-14"),  # the French way
        ("20250114", "date attendue (AAAA-MM-JJ)"),
        ("2025-01-14 10:00", "date attendue (AAAA-MM-JJ)"),
    ],
)
def test_bad_date_is_refused_with_its_path(tmp_path: Path, bad: str, rule: str) -> None:
    text = CONTRACT_EXAMPLE.replace("[2025-01-14, 2025-02-11]", f"[2025-01-14, {bad}]")
    finding = one_finding(tmp_path, text)
    assert (finding.rule, finding.column) == (rule, "internal_meetings[2]")


def test_malformed_finess_is_refused(tmp_path: Path) -> None:
    finding = one_finding(tmp_path, CONTRACT_EXAMPLE.replace('"750000001"', '"75000001"'))
    assert finding.column == "finess"
    assert finding.rule.startswith("FINESS mal formé")


def test_unquoted_finess_with_leading_zero_is_refused(tmp_path: Path) -> None:
    """YAML reads 010000001 as an octal number: refuse it rather than store a wrong id."""
    finding = one_finding(tmp_path, CONTRACT_EXAMPLE.replace('"750000001"', "010000001"))
    assert finding.rule.startswith("FINESS mal formé")


@pytest.mark.parametrize(
    "text",
    ["finess: [unclosed\n", "- a list\n- not a mapping\n", "", "name: a\nname: b\n"],
)
def test_unreadable_or_non_mapping_yaml_is_refused(tmp_path: Path, text: str) -> None:
    findings = refused(write(tmp_path, text))
    assert findings and all(f.file == "centre.yaml" for f in findings)


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "centre.yaml"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    assert refused(path)


# --------------------------------------------------------------------------- tables


def test_write_register_twice_keeps_one_copy(tmp_path: Path) -> None:
    register = load_register(write(tmp_path, CONTRACT_EXAMPLE))
    con = warehouse(tmp_path)
    write_register(con, register, "centre.yaml", 1)
    write_register(con, register, "centre.yaml", 2)
    counts = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in REGISTER_TABLES}
    assert counts == {
        "register_centres": 1,
        "register_nurses": 1,
        "register_secretaries": 2,
        "register_internal_meetings": 2,
        "register_partners": 1,
        "register_partner_meetings": 1,
        "register_permanence": 1,
        "register_actions": 2,
        "register_trainings": 1,
        "register_internships": 1,
    }
    assert con.execute("select load_id from register_centres").fetchone() == (2,)
    con.close()


def test_newer_register_replaces_every_row_of_its_centre_year_only(tmp_path: Path) -> None:
    con = warehouse(tmp_path)
    write_register(con, load_register(write(tmp_path, CONTRACT_EXAMPLE)), "centre.yaml", 1)
    write_register(con, reg(year=2024, partners=[]), "centre_2024.yaml", 1)
    write_register(con, reg(partners=[]), "centre.yaml", 2)
    assert (
        con.execute("select year, count(*) from register_partners group by year").fetchall() == []
    )
    assert con.execute("select count(*) from register_centres").fetchone() == (2,)
    con.close()


def test_register_json_is_deterministic_and_keeps_absent_keys_null(tmp_path: Path) -> None:
    con = warehouse(tmp_path)
    write_register(con, reg(internal_meetings=[dt.date(2025, 1, 2)]), "centre.yaml", 1)
    stored = con.execute("select register_json from register_centres").fetchone()[0]
    con.close()
    data = json.loads(stored)
    assert list(data) == sorted(data)
    assert data["internal_meetings"] == ["2025-01-02"]
    assert data["partners"] is None


def test_absent_scalar_flags_are_null_columns(tmp_path: Path) -> None:
    con = warehouse(tmp_path)
    write_register(con, reg(transmission_log=False), "centre.yaml", 1)
    row = con.execute(
        "select transmission_log, charter_displayed, patient_file_shared from register_centres"
    ).fetchone()
    con.close()
    assert row == (False, None, None)


# --------------------------------------------------------------------------- sections 4–9

HAND_STAFF = {
    "nurses": [
        nurse("N1", 1.0, chemotherapy_qualified=True, other_competences=["plaies"]),
        nurse("N2", 0.5, role="coordinator", other_competences=["plaies", "diabète"]),
        nurse("N3", 0.8, role="manager", chemotherapy_qualified=False),
    ],
    "secretaries": [{"fte": 0.8}, {"fte": 0.5}],
}


def test_staff_figures_worked_out_by_hand(tmp_path: Path) -> None:
    staff = sections(tmp_path, reg(staff=HAND_STAFF))["staff"]
    assert staff == {
        "nurses": 3,
        "nurse_fte": 2.3,  # 1.0 + 0.5 + 0.8, coordinator and manager included
        "chemotherapy_qualified": 1,
        "other_competence": 2,
        "other_competences": ["diabète", "plaies"],
        "secretaries": 2,
        "secretary_fte": 1.3,
        "managers": 1,
        "manager_fte": 0.8,
    }


def test_staff_without_nurses_is_zero(tmp_path: Path) -> None:
    staff = sections(tmp_path, reg())["staff"]
    assert (staff["nurses"], staff["nurse_fte"], staff["managers"]) == (0, 0.0, 0)


def test_means_counts_meetings_of_the_year_and_partners(tmp_path: Path) -> None:
    register = reg(
        internal_meetings=["2024-12-10", "2025-01-14", "2025-02-11"],
        partners=[
            {"name": "Hôpital A", "nature": "hospital", "convention_signed": "2019-03-01",
             "meetings": ["2025-06-05", "2024-06-05"]},
            {"name": "SSIAD B", "nature": "ssiad"},
            {"name": "Hôpital C", "nature": "hospital"},
        ],
        patient_file={"specific": True},
        transmission_log=True,
    )  # fmt: skip
    means = sections(tmp_path, register)["means"]
    assert means["internal_meetings"] == 2
    assert means["partners"] == {
        "by_nature": {
            "hospital": {"with_convention": 1, "without_convention": 1},
            "ssiad": {"with_convention": 0, "without_convention": 1},
        },
        "total": 3,
        "with_convention": 1,
        "without_convention": 2,
    }
    assert means["meetings_by_partner"] == [
        {
            "name": "Hôpital A",
            "nature": "hospital",
            "convention_signed": "2019-03-01",
            "meetings": 1,
        },
        {"name": "SSIAD B", "nature": "ssiad", "convention_signed": None, "meetings": 0},
        {"name": "Hôpital C", "nature": "hospital", "convention_signed": None, "meetings": 0},
    ]
    assert means["patient_file"]["specific"] is True
    assert means["patient_file"]["shared"] is None
    assert means["transmission_log"] is True


def test_means_absent_lists_are_null_empty_lists_are_zero(tmp_path: Path) -> None:
    means = sections(tmp_path, reg(internal_meetings=[]))["means"]
    assert means["internal_meetings"] == 0
    assert means["partners"]["total"] is None
    assert means["patient_file"] is None
    assert means["transmission_log"] is None


def test_sections_6_to_9(tmp_path: Path) -> None:
    register = load_register(write(tmp_path, CONTRACT_EXAMPLE))
    result = sections(tmp_path, register)
    assert result["permanence"] == ["astreinte téléphonique 20h-8h, week-ends et jours fériés"]
    assert result["prevention"] == {
        "by_level": {
            "national": [{"title": "Octobre Rose", "date": "2025-10-10"}],
            "regional": [],
            "local": [],
        },
        "count": 1,
    }
    assert result["promotion"] == {
        "actions": [{"title": "Vaccination antigrippale gratuite", "date": "2025-11-05"}],
        "count": 1,
    }
    assert result["training"] == {
        "by_kind": {
            "conventional": [],
            "professional": [
                {"description": "Plaies chroniques", "nurses_trained": 4, "days": 2.0}
            ],
            "local": [],
        },
        "total_days": 2.0,
    }
    assert json.loads(json.dumps(result)) == result  # JSON-ready


def test_absent_lists_give_none_sections(tmp_path: Path) -> None:
    result = sections(tmp_path, reg(permanence=[]))
    assert result["permanence"] == []
    assert (result["prevention"], result["promotion"], result["training"]) == (None, None, None)


def test_no_register_gives_empty_sections_and_unknown_commitments(tmp_path: Path) -> None:
    con = warehouse(tmp_path)
    result = build_register_sections(
        CentreReader(con), FINESS, YEAR, ["âge inconnu pour 3 assuré(s)"]
    )
    con.close()
    assert all(result[k] is None for k in ("staff", "means", "permanence", "training"))
    assert result["forfait"]["amount_eur"] is None
    engagements = result["engagements"]
    assert engagements["counts"] == {"met": 1, "not_met": 0, "unknown": 19}
    report = engagements["items"]["activity_report"]
    assert report["status"] == "met"
    assert "âge inconnu pour 3 assuré(s)" in report["evidence"]
    assert "registre du centre absent" in report["evidence"]
    assert len(engagements["to_fix"]) == 19


# --------------------------------------------------------------------------- forfait


@pytest.mark.parametrize(
    ("fte", "amount", "half"),
    [
        (0.5, 7622, 3811),
        (3.99, 7622, 3811),
        (4.0, 12928, 6464),
        (6.99, 12928, 6464),
        (7.0, 16160, 8080),
        (9.99, 16160, 8080),
        (10.0, 19391, 9695.5),
        (14.2, 19391, 9695.5),
    ],
)
def test_forfait_bands(fte: float, amount: float, half: float) -> None:
    assert forfait(fte) == {
        "nurse_fte": fte,
        "amount_eur": amount,
        "at_adhesion_eur": half,
        "after_one_year_eur": half,
    }


def test_forfait_band_is_not_fooled_by_floating_point(tmp_path: Path) -> None:
    """Forty nurses at 0.1 FTE are 4 FTE, although 0.1 summed forty times is not 4.0."""
    staff = {"nurses": [nurse(f"N{i}", 0.1) for i in range(40)]}
    assert sections(tmp_path, reg(staff=staff))["forfait"]["amount_eur"] == 12928


def test_forfait_from_the_register(tmp_path: Path) -> None:
    result = sections(tmp_path, reg(staff=HAND_STAFF))["forfait"]
    assert result == {
        "nurse_fte": 2.3,
        "amount_eur": 7622,
        "at_adhesion_eur": 3811,
        "after_one_year_eur": 3811,
    }


# --------------------------------------------------------------------------- commitments


def test_the_twenty_commitments_in_order(tmp_path: Path) -> None:
    register = load_register(write(tmp_path, CONTRACT_EXAMPLE))
    engagements = sections(tmp_path, register)["engagements"]
    assert list(engagements["items"]) == list(ENGAGEMENTS)
    assert len(ENGAGEMENTS) == 20
    for item in engagements["items"].values():
        assert set(item) == {"status", "evidence", "source", "label"}
        assert item["evidence"] and item["label"]
    # The example has one meeting in two months only: the other commitments are met.
    assert engagements["counts"] == {"met": 17, "not_met": 3, "unknown": 0}
    not_met = [k for k, v in engagements["items"].items() if v["status"] == "not_met"]
    assert not_met == ["monthly_team_meetings", "coordination_meetings_6", "conventions_2015"]
    assert len(engagements["to_fix"]) == 3


def test_a_fully_absent_register_is_unknown_never_met() -> None:
    items = evaluate_engagements(reg(), YEAR)["items"]
    statuses = {k: v["status"] for k, v in items.items()}
    assert statuses.pop("activity_report") == "met"
    assert statuses.pop("coordinator_nurse") == "unknown"
    assert set(statuses.values()) == {"unknown"}


def monthly(*months: int, year: int = YEAR) -> list[str]:
    return [f"{year}-{m:02d}-10" for m in months]


def test_monthly_team_meetings() -> None:
    assert (
        status(reg(internal_meetings=monthly(*range(1, 13))), "monthly_team_meetings")["status"]
        == "met"
    )
    eleven = status(
        reg(internal_meetings=monthly(*range(1, 8), *range(9, 13))), "monthly_team_meetings"
    )
    assert eleven["status"] == "not_met"
    assert "août" in eleven["evidence"]
    assert "juillet" not in eleven["evidence"]
    assert status(reg(), "monthly_team_meetings")["status"] == "unknown"


def test_monthly_team_meetings_ignores_other_years() -> None:
    meetings = [*monthly(*range(1, 12)), "2024-12-10"]
    result = status(reg(internal_meetings=meetings), "monthly_team_meetings")
    assert result["status"] == "not_met"
    assert "décembre" in result["evidence"]


def test_empty_meeting_list_is_not_met_absent_is_unknown() -> None:
    assert status(reg(internal_meetings=[]), "monthly_team_meetings")["status"] == "not_met"
    assert status(reg(internal_meetings=[]), "coordination_meetings_6")["status"] == "not_met"
    assert status(reg(), "coordination_meetings_6")["status"] == "unknown"


def test_coordination_meetings_6() -> None:
    assert (
        status(reg(internal_meetings=monthly(*range(1, 7))), "coordination_meetings_6")["status"]
        == "met"
    )
    five = status(reg(internal_meetings=monthly(*range(1, 6))), "coordination_meetings_6")
    assert five["status"] == "not_met"
    assert five["evidence"].startswith("5 réunion(s)")


@pytest.mark.parametrize(
    ("updated", "expected"),
    [
        ("2025-09-01", "met"),
        ("2024-01-01", "met"),  # the previous year still counts
        ("2023-12-31", "not_met"),
        ("2026-01-05", "not_met"),
        (None, "unknown"),
    ],
)
def test_care_directory(updated: str | None, expected: str) -> None:
    register = reg(care_directory_updated=updated) if updated else reg()
    assert status(register, "care_directory")["status"] == expected


def partner(nature: str, signed: str | None = "2020-01-01", name: str = "P") -> dict[str, Any]:
    return {"name": name, "nature": nature, "convention_signed": signed}


def test_conventions_2003() -> None:
    assert status(reg(partners=[partner("network")]), "conventions_2003")["status"] == "met"
    unsigned = reg(partners=[partner("hospital", None)])
    assert status(unsigned, "conventions_2003")["status"] == "not_met"
    assert status(reg(partners=[]), "conventions_2003")["status"] == "not_met"
    assert status(reg(), "conventions_2003")["status"] == "unknown"


def test_conventions_2015_counts_health_and_medico_social_establishments() -> None:
    two = reg(partners=[partner("hospital"), partner("ehpad")])
    assert status(two, "conventions_2015")["status"] == "met"
    # a network and an "other" structure are not establishments; an unsigned one does not count
    not_enough = reg(
        partners=[
            partner("hospital"),
            partner("network"),
            partner("other"),
            partner("ssiad", None),
        ]
    )
    result = status(not_enough, "conventions_2015")
    assert result["status"] == "not_met"
    assert result["evidence"].startswith("1 convention(s)")
    assert status(reg(), "conventions_2015")["status"] == "unknown"


def training(days: float | None) -> dict[str, Any]:
    return {"kind": "local", "description": "Formation", "days": days}


def test_training_2_days() -> None:
    assert status(reg(trainings=[training(1), training(1)]), "training_2_days")["status"] == "met"
    result = status(reg(trainings=[training(1.5)]), "training_2_days")
    assert result["status"] == "not_met"
    assert "1,5 jour(s)" in result["evidence"]
    assert status(reg(trainings=[]), "training_2_days")["status"] == "not_met"
    assert status(reg(), "training_2_days")["status"] == "unknown"
    # days missing on a training that might reach the 2 days: cannot tell
    assert (
        status(reg(trainings=[training(1), training(None)]), "training_2_days")["status"]
        == "unknown"
    )


def test_coordinator_nurse_must_be_a_registered_nurse() -> None:
    staff = {"nurses": [nurse("10001234567", 0.6, role="coordinator")]}
    met = status(reg(staff=staff, coordinator_nurse="10001234567"), "coordinator_nurse")
    assert met["status"] == "met"
    assert "10001234567" in met["evidence"]
    stranger = status(reg(staff=staff, coordinator_nurse="99999999999"), "coordinator_nurse")
    assert stranger["status"] == "not_met"
    assert status(reg(staff=staff), "coordinator_nurse")["status"] == "unknown"


def test_information_system_needs_all_four() -> None:
    full = {
        "computerised": True,
        "shared": True,
        "mobile_access": True,
        "dmp_secure_messaging": True,
    }
    assert status(reg(patient_file=full), "information_system")["status"] == "met"
    no_dmp = {**full, "dmp_secure_messaging": False}
    assert status(reg(patient_file=no_dmp), "information_system")["status"] == "not_met"
    partial = {"computerised": True, "shared": True}
    assert status(reg(patient_file=partial), "information_system")["status"] == "unknown"
    assert status(reg(), "information_system")["status"] == "unknown"


def test_patient_file() -> None:
    good = {"specific": True, "computerised": True, "shared": True}
    assert status(reg(patient_file=good), "patient_file")["status"] == "met"
    paper = {**good, "computerised": False}
    assert status(reg(patient_file=paper), "patient_file")["status"] == "not_met"
    assert status(reg(patient_file={"specific": True}), "patient_file")["status"] == "unknown"


@pytest.mark.parametrize(
    ("engagement", "key"),
    [
        ("planning", "planning_formalised"),
        ("transmission_log", "transmission_log"),
        ("external_data_procedure", "external_data_procedure"),
        ("flu_vaccination_gp_info", "flu_vaccination_gp_info"),
        ("charter", "charter_displayed"),
    ],
)
def test_simple_flags(engagement: str, key: str) -> None:
    assert status(reg(**{key: True}), engagement)["status"] == "met"
    assert status(reg(**{key: False}), engagement)["status"] == "not_met"
    unknown = status(reg(), engagement)
    assert unknown["status"] == "unknown"
    assert key in unknown["evidence"]


def test_access_24_7_needs_both_keys() -> None:
    both = reg(access_24_7=True, phone_message_outside_hours=True)
    assert status(both, "access_24_7")["status"] == "met"
    no_message = reg(access_24_7=True, phone_message_outside_hours=False)
    assert status(no_message, "access_24_7")["status"] == "not_met"
    assert status(reg(access_24_7=True), "access_24_7")["status"] == "unknown"


def test_prevention_and_promotion_actions_of_the_year() -> None:
    action = {"title": "Octobre Rose", "level": "national", "date": "2025-10-10"}
    assert status(reg(prevention_actions=[action]), "prevention_action")["status"] == "met"
    last_year = {**action, "date": "2024-10-10"}
    result = status(reg(prevention_actions=[last_year]), "prevention_action")
    assert result["status"] == "not_met"
    assert "hors de 2025" in result["evidence"]
    assert status(reg(), "prevention_action")["status"] == "unknown"
    promo = {"title": "Vaccination gratuite"}  # undated: the register's year
    assert status(reg(promotion_actions=[promo]), "promotion_action")["status"] == "met"
    assert status(reg(promotion_actions=[]), "promotion_action")["status"] == "not_met"
    assert status(reg(), "promotion_action")["status"] == "unknown"


def test_public_health_missions_is_optional_and_shows_the_count() -> None:
    actions = reg(
        prevention_actions=[{"title": "Mois sans tabac", "level": "national"}],
        promotion_actions=[{"title": "Atelier nutrition"}],
    )
    met = status(actions, "public_health_missions")
    assert met["status"] == "met"
    assert met["evidence"].startswith("2 action(s)")
    none = status(reg(prevention_actions=[]), "public_health_missions")
    assert none["status"] == "not_met"
    assert none["evidence"].startswith("0 action(s)")
    assert status(reg(), "public_health_missions")["status"] == "unknown"


def test_internship() -> None:
    this_year = {"school": "IFSI", "start": "2025-03-03", "weeks": 5}
    assert status(reg(internships=[this_year]), "internship")["status"] == "met"
    old = {**this_year, "start": "2024-03-03"}
    assert status(reg(internships=[old]), "internship")["status"] == "not_met"
    assert status(reg(), "internship")["status"] == "unknown"


def test_activity_report_is_met_and_lists_what_is_missing() -> None:
    items = evaluate_engagements(reg(), YEAR, ["origine inconnue pour une partie des assurés"])
    report = items["items"]["activity_report"]
    assert report["status"] == "met"
    assert "origine inconnue" in report["evidence"]
    assert "actions de formation (section 9)" in report["evidence"]


def test_to_fix_has_one_french_sentence_per_problem() -> None:
    result = evaluate_engagements(reg(transmission_log=False), YEAR)
    assert result["counts"] == {"met": 1, "not_met": 1, "unknown": 18}
    assert len(result["to_fix"]) == 19
    assert result["to_fix"][0].startswith("Planning des soins")
    assert any("non respecté" in t and "transmission" in t for t in result["to_fix"])


# --------------------------------------------------------------------------- bounds


def _bomb(levels: int, width: int = 10) -> str:
    """The « billion laughs »: each level an anchor listing the previous one `width` times."""
    lines = [f'finess: "{FINESS}"', "name: Centre test", f"year: {YEAR}", "staff: {}", "l0: &l0 x"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _nested(depth: int) -> str:
    return as_yaml(MINIMAL) + "extra: " + "[" * depth + "]" * depth + "\n"


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    """9 levels × 10 aliases = 90 aliases expanding to 10⁹ values: refused in milliseconds."""
    import time

    started = time.perf_counter()
    finding = one_finding(tmp_path, _bomb(9))
    assert time.perf_counter() - started < 5
    assert (
        finding.rule
        == "les alias YAML se développeraient en plus de 100000 valeurs (bombe d'alias)"
    )
    assert finding.row == 10  # l5: 1 + 10 × 11 111 = 111 111 values, the first beyond


def test_more_than_a_hundred_aliases_is_refused(tmp_path: Path) -> None:
    text = as_yaml(MINIMAL) + "a: &a x\nb: [" + ", ".join(["*a"] * 101) + "]\n"
    finding = one_finding(tmp_path, text)
    assert finding.rule == "plus de 100 alias YAML (*nom) : un registre n'en a pas besoin"
    assert finding.row == 6


def test_a_hundred_aliases_are_still_read(tmp_path: Path) -> None:
    dates = ", ".join(['&d "2025-03-04"'] + ["*d"] * 100)
    register = load_register(write(tmp_path, as_yaml(MINIMAL) + f"internal_meetings: [{dates}]\n"))
    assert len(register.internal_meetings) == 101


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    finding = one_finding(tmp_path, as_yaml(MINIMAL) + "a: &a [1, *a]\n")
    assert finding.rule == "alias YAML circulaire : *a dans &a"


@pytest.mark.parametrize("depth", [21, 10_000])
def test_nesting_deeper_than_twenty_levels_is_refused(tmp_path: Path, depth: int) -> None:
    """10 000 levels once ended in a RecursionError; the walk over events never recurses."""
    finding = one_finding(tmp_path, _nested(depth))
    assert finding.rule == (
        "imbrication trop profonde : plus de 20 niveaux de listes ou de rubriques"
    )
    assert finding.row == 5


def test_twenty_levels_are_still_read(tmp_path: Path) -> None:
    finding = one_finding(tmp_path, _nested(19))  # the document itself is the 20th level
    assert finding.column == "extra"


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("name: !!python/object:os.system x\n", "tag:yaml.org,2002:python/object:os.system"),
        ("name: !!str Centre\n", "tag:yaml.org,2002:str"),
        ("staff: !rubrique {}\n", "!rubrique"),
        ("notes: !!binary aGVsbG8=\n", "tag:yaml.org,2002:binary"),
    ],
)
def test_tags_are_refused(tmp_path: Path, text: str, tag: str) -> None:
    base = {k: v for k, v in MINIMAL.items() if k not in text.split(":")[0]}
    finding = one_finding(tmp_path, as_yaml(base) + text)
    assert finding.rule == (
        f"étiquette YAML « {tag} » non permise : un registre ne contient que des données "
        "simples (texte, nombres, listes, rubriques)"
    )


def test_a_file_over_five_megabytes_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, as_yaml(MINIMAL) + "# " + "x" * (5 * 1024 * 1024) + "\n")
    (finding,) = refused(path)
    assert finding.rule == "fichier trop gros pour un registre : plus de 5 Mo"


def test_a_bomb_in_an_extract_refuses_it_and_leaves_the_warehouse_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from pipeline.cli.app import app
    from pipeline.orchestrate import steps
    from tests.support import billing_rows, make_extract

    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))
    db = tmp_path / "wh.duckdb"
    steps.ingest(
        make_extract(tmp_path / "m1", billing=billing_rows({"act_date": "2025-01-05"})), db
    )
    con = duckdb.connect(str(db), read_only=True)
    before = (
        con.execute("select * from loads").fetchall(),
        con.execute("select count(*) from billing_lines").fetchall(),
    )
    con.close()
    extract = make_extract(
        tmp_path / "m2", billing=billing_rows({"act_date": "2025-02-05"}, invoice="F2")
    )
    (extract / "centre.yaml").write_text(_bomb(9), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["ingest", str(extract), "--db", str(db)], env={"COLUMNS": "300"}
    )
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "centre.yaml, ligne 10 : les alias YAML se développeraient" in out
    assert "Traceback" not in out
    con = duckdb.connect(str(db), read_only=True)
    after = (
        con.execute("select * from loads").fetchall(),
        con.execute("select count(*) from billing_lines").fetchall(),
    )
    con.close()
    assert after == before


def test_the_pure_parser_walks_the_events_too(tmp_path: Path) -> None:
    """A tab sends the text to the pure parser (`_PURE_ONLY`): the bounds hold there too."""
    tab = ("name: Centre test", 'name: "Centre\ttest"')
    finding = one_finding(tmp_path, _bomb(9).replace(*tab))
    assert finding.rule.startswith("les alias YAML se développeraient")
    finding = one_finding(tmp_path, _nested(5000).replace(*tab))
    assert finding.rule.startswith("imbrication trop profonde")


def test_oui_and_non_are_booleans_wherever_a_boolean_is(tmp_path: Path) -> None:
    text = as_yaml(MINIMAL) + (
        "transmission_log: oui\nplanning_formalised: Non\ncharter_displayed: OUI\n"
        "patient_file: {specific: oui, shared: non}\n"
    )
    register = load_register(write(tmp_path, text))
    assert register.transmission_log is True
    assert register.planning_formalised is False
    assert register.charter_displayed is True
    assert (register.patient_file.specific, register.patient_file.shared) == (True, False)


def test_a_word_that_is_neither_oui_nor_non_is_refused(tmp_path: Path) -> None:
    finding = one_finding(tmp_path, as_yaml(MINIMAL) + "transmission_log: peut-être\n")
    assert "transmission_log" in (finding.column or "") + finding.rule
    assert "oui ou non attendu" in finding.rule
