"""The NGAP reference on the act's date: every boundary of the table, the overseas zone,
the B2 aliases, telehealth acts and the coordination fee, each on a tiny real extract.

Expected values are read from the sourced table (arrêté du 17 octobre 2008, avenants 3, 5,
6, 9, 10 of the nurses' convention), written here by hand, not from the package's CSV.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.core.reference import b2_aliases, ngap_zone
from pipeline.warehouse.database import connect
from tests.support import billing_rows, patient_rows

OVERSEAS = "971000001"  # Guadeloupe

# (code, act date, family, value € of the row valid that day; None: no value, not checked)
BOUNDARIES = [
    ("AMI", "2009-04-14", "AMI", None),  # before the table's proof: family kept, not checked
    ("AMI", "2009-04-15", "AMI", "3.15"),
    ("AMX", "2019-12-31", None, None),  # unknown before the BSI
    ("AMX", "2020-01-01", "AMX", "3.15"),
    ("IFD", "2012-05-26", "IFD", "2.30"),
    ("IFD", "2012-05-27", "IFD", "2.50"),
    ("IFD", "2024-01-27", "IFD", "2.50"),
    ("IFD", "2024-01-28", "IFD", "2.75"),
    ("IFI", "2019-12-31", None, None),
    ("IFI", "2020-01-01", "IFD", "2.50"),
    ("IFI", "2024-01-27", "IFD", "2.50"),
    ("IFI", "2024-01-28", "IFD", "2.75"),
    ("F", "2018-07-31", "sunday_holiday", "8.00"),
    ("F", "2018-08-01", "sunday_holiday", "8.50"),
    ("MCI", "2012-05-26", None, None),
    ("MCI", "2012-05-27", "other_majorations", "5.00"),
    ("MAU", "2012-05-26", None, None),
    ("MAU", "2012-05-27", "other_majorations", "1.35"),
    ("MIE", "2019-12-31", None, None),
    ("MIE", "2020-01-01", "other_majorations", "3.15"),
    ("BSA", "2020-01-01", "DSI", "13.00"),
    ("TLS", "2019-12-31", None, None),
    ("TLS", "2020-01-01", "other_acts", "10.00"),
    ("TLL", "2020-01-01", "other_acts", "12.00"),
    ("TLD", "2020-01-01", "other_acts", "15.00"),
    ("TMI", "2021-12-31", None, None),
    ("TMI", "2022-01-01", "other_acts", "3.15"),
    ("CID", "2003-04-19", "coordination_fee", None),
    ("IK", "2025-06-02", "IK", "0.35"),
    ("IKS", "2025-06-02", "IK", "3.40"),
]


def _staged(db: Path) -> dict[str, tuple]:
    con = connect(db)
    try:
        rows = con.execute(
            "select line_ref, family, reference_value_eur from stg_billing_lines"
        ).fetchall()
    finally:
        con.close()
    return {ref: (family, value) for ref, family, value in rows}


def test_each_boundary_date_of_the_table_gives_the_row_valid_that_day(build, db):
    build(
        billing=billing_rows(
            *(
                {"act_code": code, "act_date": day, "coefficient": None}
                for code, day, _, _ in BOUNDARIES
            )
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    staged = _staged(db)
    for line_no, (code, day, family, value) in enumerate(BOUNDARIES, start=1):
        expected = (family, None if value is None else Decimal(value))
        assert staged[f"F1/{line_no}"] == expected, (code, day)


def test_the_issue_cases_are_right_amounts_and_a_code_unknown_that_day_is_a_finding(build):
    build(
        billing=billing_rows(
            # IFD 2.50 on 15 January 2024: right (2.75 only from 28 January)
            {
                "act_code": "IFD",
                "act_date": "2024-01-15",
                "coefficient": None,
                "amount_eur": "2.50",
            },
            # IFD 2.50 on 1 February 2024: 0.25 short
            {
                "act_code": "IFD",
                "act_date": "2024-02-01",
                "coefficient": None,
                "amount_eur": "2.50",
            },
            # AMX in 2019: the code did not exist yet
            {"act_code": "AMX", "act_date": "2019-06-03", "amount_eur": "3.15"},
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    findings_2024 = build.report(2024)["quality"]["findings"]
    assert findings_2024["amount_mismatch"]["count"] == 1
    assert findings_2024["amount_mismatch"]["examples"] == ["F1/2"]
    report_2019 = build.report(2019)
    assert report_2019["quality"]["findings"]["unknown_act_code"]["examples"] == ["F1/3 (AMX)"]
    assert report_2019["acts"]["AMX"]["count"] == 0


def test_sunday_majoration_at_8_50_in_september_2018_is_right(build):
    build(
        billing=billing_rows(
            # Sunday 16 September 2018: 8.50 from 1 August 2018
            {"act_code": "F", "act_date": "2018-09-16", "coefficient": None, "amount_eur": "8.50"},
            # Sunday 15 July 2018: still 8.00, so 8.50 is 0.50 too much
            {"act_code": "F", "act_date": "2018-07-15", "coefficient": None, "amount_eur": "8.50"},
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    quality = build.report(2018)["quality"]
    assert quality["findings"]["amount_mismatch"]["examples"] == ["F1/2"]
    assert quality["findings"]["sunday_majoration_working_day"]["count"] == 0
    assert quality["billing_audit"]["amount_mismatch"]["eur"] == -0.5  # 8.00 − 8.50


def test_overseas_centre_reads_the_dom_values_and_metropolitan_ones_elsewhere(build):
    assert ngap_zone(OVERSEAS) == "dom" and ngap_zone("976000001") == "dom"
    assert ngap_zone("750000001") == "metropole" and ngap_zone("2A0000001") == "metropole"
    rows = [
        {"act_code": "AMI", "coefficient": "2", "amount_eur": "6.60"},  # 3.30 × 2: right
        {"act_code": "AIS", "coefficient": "3", "amount_eur": "8.10"},  # 2.70 × 3: right
        {"act_code": "BSA", "coefficient": "1", "amount_eur": "13.25"},  # right
        {"act_code": "IKS", "coefficient": None, "quantity": "2", "amount_eur": "7.32"},  # 3.66 × 2
        {"act_code": "IFD", "coefficient": None, "amount_eur": "2.75"},  # metropolitan value
        {"act_code": "AMI", "coefficient": "1", "amount_eur": "3.15"},  # metropolitan: 0.15 short
    ]
    build(
        billing=billing_rows(
            *({**r, "centre_finess": OVERSEAS, "act_date": "2025-03-03"} for r in rows)
        ),
        patients=patient_rows({"patient_id": "P1", "centre_finess": OVERSEAS}),
    )
    report = build.report(finess=OVERSEAS)
    assert report["quality"]["findings"]["amount_mismatch"]["examples"] == ["F1/6"]
    assert report["quality"]["billing_audit"]["amount_mismatch"]["eur"] == 0.15
    assert report["acts"]["AMI"]["amount_eur"] == 9.75  # 6.60 + 3.15


def test_b2_aliases_are_read_as_the_codes_they_stand_for(build, db):
    assert b2_aliases() == {"IFA": "IFD", "IKP": "IK"}
    build(
        billing=billing_rows(
            *({"act_code": "IFD", "coefficient": None, "act_date": "2025-02-03"} for _ in range(4)),
            {
                "act_code": "IFA",
                "coefficient": None,
                "act_date": "2025-02-03",
                "amount_eur": "2.75",
            },
            {"act_code": "ikp", "coefficient": None, "act_date": "2025-02-03", "quantity": "10"},
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    report = build.report()
    assert report["acts"]["IFD"]["count"] == 5
    assert (report["acts"]["IK"]["count"], report["acts"]["IK"]["km"]) == (1, 10)
    findings = report["quality"]["findings"]
    assert findings["unknown_act_code"]["count"] == 0
    assert findings["amount_mismatch"]["count"] == 0
    con = connect(db)
    try:
        codes = con.execute("select act_code from billing_lines order by line_no").fetchall()
    finally:
        con.close()
    assert [c[0] for c in codes] == ["IFD"] * 5 + ["IK"]


def test_telehealth_acts_are_other_acts_with_codes_and_amounts(build):
    build(
        billing=billing_rows(
            {"act_code": "TLS", "coefficient": None, "act_date": "2025-04-01", "amount_eur": "10"},
            {"act_code": "TLS", "coefficient": None, "act_date": "2025-04-02", "amount_eur": "10"},
            {"act_code": "TLD", "coefficient": None, "act_date": "2025-04-03", "amount_eur": "15"},
            {"act_code": "TMI", "coefficient": "2", "act_date": "2025-04-04", "amount_eur": "6.30"},
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    report = build.report()
    assert report["acts"]["other_acts"] == {
        "count": 4,
        "by_code": {"TLD": 1, "TLS": 2, "TMI": 1},
        "amount_eur": 41.3,  # 10 + 10 + 15 + 6.30
    }
    assert report["quality"]["findings"]["unknown_act_code"]["count"] == 0
    assert report["quality"]["findings"]["amount_mismatch"]["count"] == 0


def test_coordination_fee_lines_are_beside_the_forfait_never_acts(build):
    build(
        billing=billing_rows(
            {"act_code": "AMI", "act_date": "2025-01-06"},
            {
                "act_code": "CID",
                "coefficient": None,
                "act_date": "2025-01-06",
                "amount_eur": "3811",
            },
            {
                "act_code": "CIF",
                "coefficient": None,
                "act_date": "2025-12-01",
                "amount_eur": "3811",
            },
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    report = build.report()
    assert "coordination_fee" not in report["acts"]
    assert sum(block["count"] for block in report["acts"].values()) == 1  # the AMI only
    assert report["forfait"]["coordination_fee"] == {
        "count": 2,
        "by_code": {"CID": 1, "CIF": 1},
        "amount_eur": 7622,
    }
    assert report["quality"]["findings"]["unknown_act_code"]["count"] == 0


def test_reference_rows_marked_verify_stay_flagged_and_every_zone_is_complete(db, build):
    build(
        billing=billing_rows({"act_date": "2025-01-06"}),
        patients=patient_rows({"patient_id": "P1"}),
    )
    con = connect(db)
    try:
        flagged = con.execute(
            "select distinct code from ngap_reference where to_verify and zone = 'metropole' "
            "order by code"
        ).fetchall()
        dom_only = con.execute(
            "select count(*) from ngap_reference where zone = 'dom' and to_verify"
        ).fetchall()[0][0]
        per_zone = con.execute(
            "select zone, count(*) from ngap_reference group by zone order by zone"
        ).fetchall()
        unsourced = con.execute(
            "select count(*) from ngap_reference where source is null or source = ''"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert [c[0] for c in flagged] == ["MIE", "TMI"]
    # 7 overseas values (AMI, AMX, AIS, BSA, BSB, BSC, IKS) + MIE and TMI copied from metropole
    assert dom_only == 9
    assert per_zone == [("dom", 28), ("metropole", 28)]
    assert unsourced == 0


@pytest.mark.parametrize("day", [dt.date(2009, 4, 14), dt.date(2008, 12, 31)])
def test_before_the_table_an_act_keeps_its_family_but_its_amount_is_not_checked(build, day):
    build(
        billing=billing_rows({"act_date": day.isoformat(), "coefficient": "2", "amount_eur": "99"}),
        patients=patient_rows({"patient_id": "P1"}),
    )
    report = build.report(day.year)
    assert report["acts"]["AMI"]["count"] == 1
    assert report["quality"]["findings"]["amount_mismatch"]["count"] == 0
    assert report["quality"]["findings"]["unknown_act_code"]["count"] == 0
