"""Quality findings: each check on a tiny hand-made case, with counts, shares and examples."""

from __future__ import annotations

from tests.support import billing_rows, patient_rows

ALSACE = "670000001"  # Bas-Rhin: Good Friday and 26 December are holidays there


def _findings(build, *rows, finess: str = "750000001", **tables) -> dict:
    build(
        billing=billing_rows(*rows),
        patients=patient_rows({"patient_id": "P1", "centre_finess": finess}),
        **tables,
    )
    return build.report(finess=finess)["quality"]["findings"]


def test_night_majoration_checked_against_act_time(build):
    found = _findings(
        build,
        {"act_code": "N", "coefficient": None, "act_date": "2025-03-03", "act_time": "20:00"},
        {"act_code": "N", "coefficient": None, "act_date": "2025-03-03", "act_time": "07:59"},
        {
            "act_code": "N",
            "coefficient": None,
            "act_date": "2025-03-03",
            "act_time": "08:00",
        },  # day
        {
            "act_code": "MM",
            "coefficient": None,
            "act_date": "2025-03-03",
            "act_time": "14h30",
        },  # day
        {"act_code": "N", "coefficient": None, "act_date": "2025-03-03", "act_time": "23:30"},  # MM
        {"act_code": "MM", "coefficient": None, "act_date": "2025-03-03", "act_time": "04:59"},
        {"act_code": "N", "coefficient": None, "act_date": "2025-03-03"},  # no time
        {"act_date": "2025-03-03", "act_time": "14:00"},  # an AMI by day: not a majoration
    )
    assert found["night_majoration_daytime"]["count"] == 2
    assert found["night_majoration_daytime"]["examples"] == ["F1/3 (08:00)", "F1/4 (14:30)"]
    assert found["night_majoration_daytime"]["share"] == round(2 / 8, 4)
    assert found["night_majoration_wrong_code"]["examples"] == ["F1/5 (N à 23:30)"]
    assert found["night_majoration_without_time"]["count"] == 1


def test_sunday_holiday_majoration_checked_against_the_calendar(build):
    found = _findings(
        build,
        {"act_code": "F", "coefficient": None, "act_date": "2025-03-02"},  # Sunday
        {"act_code": "F", "coefficient": None, "act_date": "2025-07-14"},  # Bastille Day
        {"act_code": "F", "coefficient": None, "act_date": "2025-04-18"},  # Good Friday
        {"act_code": "F", "coefficient": None, "act_date": "2025-12-26"},  # Saint-Étienne
        {"act_code": "F", "coefficient": None, "act_date": "2025-03-04"},  # a Tuesday
        {"act_code": "F", "coefficient": None, "act_date": "2025-03-08"},  # a Saturday
    )
    assert found["sunday_majoration_working_day"]["examples"] == [
        "F1/3 (18/04/2025)", "F1/4 (26/12/2025)", "F1/5 (04/03/2025)",
    ]  # fmt: skip
    assert found["sunday_majoration_saturday"]["count"] == 1


def test_alsace_moselle_has_good_friday_and_26_december(build):
    found = _findings(
        build,
        {"act_code": "F", "coefficient": None, "act_date": "2025-04-18", "centre_finess": ALSACE},
        {"act_code": "F", "coefficient": None, "act_date": "2025-12-26", "centre_finess": ALSACE},
        {"act_code": "F", "coefficient": None, "act_date": "2025-03-04", "centre_finess": ALSACE},
        finess=ALSACE,
    )
    assert found["sunday_majoration_working_day"]["examples"] == ["F1/3 (04/03/2025)"]


def test_unknown_codes_amounts_and_missing_coefficients(build):
    found = _findings(
        build,
        {"act_code": "XYZ", "act_date": "2025-02-03"},  # not in the NGAP reference
        {"act_code": "BSA", "act_date": "2019-06-03"},  # BSA did not exist before 2020
        {"act_date": "2025-02-03", "coefficient": "2", "amount_eur": "6.30"},  # 2 × 3.15: right
        {"act_date": "2025-02-03", "coefficient": "2", "amount_eur": "6.00"},  # wrong
        {"act_code": "IFD", "coefficient": None, "act_date": "2023-06-01", "amount_eur": "2.50"},
        {"act_code": "IFD", "coefficient": None, "act_date": "2025-06-01", "amount_eur": "2.50"},
        {"act_code": "AIS", "coefficient": None, "act_date": "2025-02-03"},
        {"act_code": "AIS", "coefficient": "3.5", "act_date": "2025-02-03"},  # AIS is 3 or 4
        {"act_code": "AIS", "coefficient": "4", "act_date": "2025-02-03"},
        {"act_code": "DI", "coefficient": "1.2", "act_date": "2025-02-03"},
    )
    assert found["unknown_act_code"]["examples"] == ["F1/1 (XYZ)"]  # 2019 is another year
    assert found["amount_mismatch"]["examples"] == ["F1/4", "F1/6"]  # IFD is 2.75 in 2025
    assert found["missing_coefficient"]["examples"] == ["F1/7"]
    assert found["unexpected_coefficient"]["examples"] == ["F1/8 (AIS 3.5)"]


def test_unknown_code_of_2019_is_reported_in_2019(build):
    build(billing=billing_rows({"act_code": "BSA", "act_date": "2019-06-03"}))
    found = build.report(year=2019)["quality"]["findings"]
    assert found["unknown_act_code"]["examples"] == ["F1/1 (BSA)"]
    assert build.report(year=2019)["acts"]["DSI"]["count"] == 0


def test_nurses_cross_checked_with_the_register(build):
    register = {
        "finess": "750000001", "name": "Centre", "year": 2025,
        "staff": {"nurses": [{"id": "10000000001", "fte": 1.0}, {"id": "10000000002", "fte": 0.5}]},
    }  # fmt: skip
    build(
        billing=billing_rows(
            {"act_date": "2025-02-03", "nurse_id": "10000000001"},
            {"act_date": "2025-02-03", "nurse_id": "19999999999"},  # bills, not registered
        ),
        register=register,
    )
    found = build.report()["quality"]["findings"]
    assert found["nurse_not_in_register"]["examples"] == ["19999999999"]
    assert found["registered_nurse_without_act"]["examples"] == ["10000000002"]


def test_patient_without_birth_date_counts_patients(build):
    build(
        billing=billing_rows(
            {"patient_id": "P1", "act_date": "2025-02-03"},
            {"patient_id": "P2", "act_date": "2025-02-03"},
        ),
        patients=patient_rows({"patient_id": "P1", "birth_date": None}, {"patient_id": "P2"}),
    )
    found = build.report()["quality"]["findings"]["patient_without_birth_date"]
    assert (found["count"], found["unit"], found["share"], found["examples"]) == (
        1, "patients", 0.5, ["P1"],
    )  # fmt: skip
