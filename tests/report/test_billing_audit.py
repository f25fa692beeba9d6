"""The billing audit (`quality.billing_audit`): each item on a tiny real extract, the visits,
counts and euros worked out by hand at the reference's values on the act's date.

Values used (metropolitan, 2025): MAU 1.35, MIE 3.15, MCI 5.00, AMI 3.15, IFD 2.75.
"""

from __future__ import annotations

from typing import Any

from tests.support import billing_rows, episode_rows, patient_rows

ITEMS = (
    "amount_mismatch",
    "mau_possibly_unbilled",
    "mau_not_justified",
    "mie_possibly_unbilled",
    "mie_not_justified",
    "mci_possibly_unbilled",
    "ais_after_bsi",
)


def _counts(audit: dict[str, Any]) -> dict[str, int]:
    return {key: audit[key]["count"] for key in ITEMS}


def _only(**counts: int) -> dict[str, int]:
    return {key: counts.get(key, 0) for key in ITEMS}


def test_amount_mismatch_signed_difference_at_the_act_date(build):
    build(
        billing=billing_rows(
            # AMI 2 = 6.30: billed 6.00 → 0.30 under-billed
            {
                "act_date": "2024-03-01",
                "act_time": "08:00",
                "coefficient": "2",
                "amount_eur": "6.00",
            },
            # IFD 2.50 on 15 January 2024: right (2.75 from 28 January)
            {
                "act_date": "2024-01-15",
                "act_code": "IFD",
                "coefficient": None,
                "amount_eur": "2.50",
            },
            # IFD 2.50 on 1 February 2024: 0.25 under-billed
            {
                "act_date": "2024-02-01",
                "act_code": "IFD",
                "coefficient": None,
                "amount_eur": "2.50",
            },
            # AMI 2 billed 6.80 → 0.50 over-billed
            {
                "act_date": "2024-03-02",
                "act_time": "08:00",
                "coefficient": "2",
                "amount_eur": "6.80",
            },
            # IK 10 km = 3.50: right; a difference of 0.01 is tolerated
            {
                "act_date": "2024-03-02",
                "act_code": "IK",
                "coefficient": None,
                "quantity": "10",
                "amount_eur": "3.51",
            },
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    audit = build.report(2024)["quality"]["billing_audit"]
    assert _counts(audit) == _only(amount_mismatch=3)
    assert audit["amount_mismatch"]["eur"] == 0.05  # 0.30 + 0.25 − 0.50
    assert audit["amount_mismatch"]["examples"] == ["F1/1", "F1/3", "F1/4"]
    assert audit["total_eur"] == 0.05


def test_mau_possibly_unbilled_and_not_justified_by_visit(build):
    lines = billing_rows(
        # V1 08:00: one AMI 1, no MAU → possibly unbilled
        {"act_date": "2025-03-03", "act_time": "08:00"},
        # V2 18:00: AMI 1.5 with its MAU → right
        {"act_date": "2025-03-03", "act_time": "18:00", "coefficient": "1.5"},
        {"act_date": "2025-03-03", "act_time": "18:00", "act_code": "MAU", "coefficient": None},
        # V3: two act lines and a MAU → not justified
        {"act_date": "2025-03-04", "act_time": "08:00"},
        {"act_date": "2025-03-04", "act_time": "08:00"},
        {"act_date": "2025-03-04", "act_time": "08:00", "act_code": "MAU", "coefficient": None},
        # V4: AMI 2 with a MAU → not justified
        {"act_date": "2025-03-05", "act_time": "08:00", "coefficient": "2"},
        {"act_date": "2025-03-05", "act_time": "08:00", "act_code": "MAU", "coefficient": None},
        # V5: AMI 1 with quantity 2 → not a single act
        {"act_date": "2025-03-06", "act_time": "08:00", "quantity": "2"},
        # V6: AMX 1 alone → possibly unbilled
        {"act_date": "2025-03-07", "act_time": "08:00", "act_code": "AMX"},
        # V7: AMI 1 and an IFD (not an act) → one act line → possibly unbilled
        {"act_date": "2025-03-08", "act_time": "09:00"},
        {"act_date": "2025-03-08", "act_time": "09:00", "act_code": "IFD", "coefficient": None},
        # V8 without time: one visit per invoice and date; its MAU is on invoice F2
        {"act_date": "2025-03-10"},
    )
    other_invoice = billing_rows(
        {"act_date": "2025-03-10", "act_code": "MAU", "coefficient": None}, invoice="F2"
    )
    build(billing=lines + other_invoice, patients=patient_rows({"patient_id": "P1"}))
    audit = build.report()["quality"]["billing_audit"]
    # possibly unbilled: V1, V6, V7, V8 (its invoice has no MAU); not justified: V3, V4
    assert _counts(audit) == _only(mau_possibly_unbilled=4, mau_not_justified=2)
    assert audit["mau_possibly_unbilled"]["eur"] == 5.4  # 4 × 1.35
    assert audit["mau_possibly_unbilled"]["examples"] == ["F1/1", "F1/10", "F1/11", "F1/13"]
    assert audit["mau_not_justified"]["eur"] == -2.7  # 2 × −1.35
    assert audit["mau_not_justified"]["examples"] == ["F1/6", "F1/8"]
    assert audit["total_eur"] == 2.7


def test_a_visit_is_the_minute_of_its_lines(build):
    lines = billing_rows(
        # 09:15:10 and 09:15:50: one visit, AMI 1 with its MAU → right
        {"act_date": "2025-03-03", "act_time": "09:15:10"},
        {"act_date": "2025-03-03", "act_time": "09:15:50", "act_code": "MAU", "coefficient": None},
        # 09:16:00, another minute: one AMI 1 alone → possibly unbilled
        {"act_date": "2025-03-03", "act_time": "09:16:00"},
    )
    build(billing=lines, patients=patient_rows({"patient_id": "P1"}))
    audit = build.report()["quality"]["billing_audit"]
    assert _counts(audit) == _only(mau_possibly_unbilled=1)
    assert audit["mau_possibly_unbilled"]["examples"] == ["F1/3"]


def test_examples_are_at_most_five(build):
    build(
        billing=billing_rows(*({"act_date": f"2025-05-{d:02d}"} for d in range(1, 8))),
        patients=patient_rows({"patient_id": "P1"}),
    )
    audit = build.report()["quality"]["billing_audit"]
    assert audit["mau_possibly_unbilled"]["count"] == 7
    assert audit["mau_possibly_unbilled"]["eur"] == 9.45  # 7 × 1.35
    assert len(audit["mau_possibly_unbilled"]["examples"]) == 5


def test_mie_by_age_in_completed_years_on_the_act_date(build):
    build(
        billing=billing_rows(
            # child born 2018-06-10: 6 on 2025-06-09, without MIE → possibly unbilled
            {"patient_id": "C", "act_date": "2025-06-09", "coefficient": "2"},
            # 7 on 2025-06-10, with MIE → not justified
            {"patient_id": "C", "act_date": "2025-06-10", "act_time": "08:00", "coefficient": "2"},
            {
                "patient_id": "C",
                "act_date": "2025-06-10",
                "act_time": "08:00",
                "act_code": "MIE",
                "coefficient": None,
            },
            # 6 on 2025-06-08, with MIE → right
            {"patient_id": "C", "act_date": "2025-06-08", "act_time": "08:00", "coefficient": "2"},
            {
                "patient_id": "C",
                "act_date": "2025-06-08",
                "act_time": "08:00",
                "act_code": "MIE",
                "coefficient": None,
            },
            # child visit with a travel fee only: no act → nothing
            {"patient_id": "C", "act_date": "2025-06-07", "act_code": "IFD", "coefficient": None},
            # adult with MIE → not justified
            {"patient_id": "A", "act_date": "2025-06-09", "act_time": "10:00", "coefficient": "2"},
            {
                "patient_id": "A",
                "act_date": "2025-06-09",
                "act_time": "10:00",
                "act_code": "MIE",
                "coefficient": None,
            },
            # age unknown: nothing can be said
            {"patient_id": "U", "act_date": "2025-06-09", "act_time": "10:00", "coefficient": "2"},
            {
                "patient_id": "U",
                "act_date": "2025-06-09",
                "act_time": "10:00",
                "act_code": "MIE",
                "coefficient": None,
            },
        ),
        patients=patient_rows(
            {"patient_id": "C", "birth_date": "2018-06-10"},
            {"patient_id": "A", "birth_date": "1980-01-01"},
            {"patient_id": "U", "birth_date": None},
        ),
    )
    audit = build.report()["quality"]["billing_audit"]
    assert _counts(audit) == _only(mie_possibly_unbilled=1, mie_not_justified=2)
    assert audit["mie_possibly_unbilled"]["eur"] == 3.15
    assert audit["mie_possibly_unbilled"]["examples"] == ["F1/1"]
    assert audit["mie_not_justified"]["eur"] == -6.3  # 2 × −3.15
    assert audit["mie_not_justified"]["examples"] == ["F1/3", "F1/8"]
    assert audit["total_eur"] == -3.15


def test_mci_possibly_unbilled_on_palliative_visits(build):
    build(
        episodes=episode_rows(
            {
                "episode_id": "E1",
                "patient_id": "P1",
                "start_date": "2025-01-01",
                "reason": "palliative",
            },
            {"episode_id": "E2", "patient_id": "P2", "start_date": "2025-01-01"},
        ),
        billing=billing_rows(
            # palliative visit without MCI → possibly unbilled
            {"patient_id": "P1", "act_date": "2025-02-01", "act_time": "08:00", "coefficient": "2"},
            # palliative visit with MCI → right
            {"patient_id": "P1", "act_date": "2025-02-02", "act_time": "08:00", "coefficient": "2"},
            {
                "patient_id": "P1",
                "act_date": "2025-02-02",
                "act_time": "08:00",
                "act_code": "MCI",
                "coefficient": None,
            },
            # palliative patient, travel fee only: no act line → nothing
            {"patient_id": "P1", "act_date": "2025-02-03", "act_code": "IFD", "coefficient": None},
            # chronic episode → nothing
            {"patient_id": "P2", "act_date": "2025-02-01", "act_time": "08:00", "coefficient": "2"},
        ),
        patients=patient_rows({"patient_id": "P1"}, {"patient_id": "P2"}),
    )
    audit = build.report()["quality"]["billing_audit"]
    assert _counts(audit) == _only(mci_possibly_unbilled=1)
    assert audit["mci_possibly_unbilled"]["eur"] == 5
    assert audit["mci_possibly_unbilled"]["examples"] == ["F1/1"]
    assert audit["total_eur"] == 5


def test_ais_after_bsi_counts_lines_from_3_october_2023_without_euros(build):
    build(
        billing=billing_rows(
            {"act_code": "AIS", "coefficient": "3", "act_date": "2023-10-02", "act_time": "08:00"},
            {"act_code": "AIS", "coefficient": "3", "act_date": "2023-10-03", "act_time": "08:00"},
            {"act_code": "AIS", "coefficient": "4", "act_date": "2023-12-29", "act_time": "08:00"},
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    audit = build.report(2023)["quality"]["billing_audit"]
    assert _counts(audit) == _only(ais_after_bsi=2)
    assert audit["ais_after_bsi"]["eur"] is None
    assert audit["ais_after_bsi"]["examples"] == ["F1/2", "F1/3"]
    assert audit["total_eur"] == 0


def test_overseas_audit_reads_the_zone_values(build):
    overseas = "972000001"  # Martinique: AMI 3.30; MAU keeps its metropolitan 1.35
    build(
        billing=billing_rows(
            {
                "centre_finess": overseas,
                "act_date": "2025-03-03",
                "act_time": "08:00",
                "amount_eur": "3.15",
            },
        ),
        patients=patient_rows({"patient_id": "P1", "centre_finess": overseas}),
    )
    audit = build.report(finess=overseas)["quality"]["billing_audit"]
    assert _counts(audit) == _only(amount_mismatch=1, mau_possibly_unbilled=1)
    assert audit["amount_mismatch"]["eur"] == 0.15  # 3.30 − 3.15
    assert audit["total_eur"] == 1.5  # 0.15 + 1.35


def test_audit_other_acts_and_coordination_fee_in_the_html_and_the_workbook(build, tmp_path):
    import openpyxl

    from pipeline.render.write import to_html
    from pipeline.render.xlsx import write_xlsx

    build(
        billing=billing_rows(
            {"act_date": "2025-03-03", "act_time": "08:00"},  # MAU possibly unbilled: 1.35
            {"act_date": "2025-03-04", "act_time": "08:00", "act_code": "TLS", "coefficient": None,
             "amount_eur": "10"},
            {"act_date": "2025-03-05", "act_code": "CID", "coefficient": None, "amount_eur": "38"},
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )  # fmt: skip
    report = build.report()
    html = to_html(report)
    assert "Audit de facturation — indicatif, à vérifier" in html
    assert "1,35" in html and "F1/1" in html
    assert "Autres actes (télésoin, téléconsultation assistée)" in html
    assert "TLS : 1" in html
    assert "CID — forfait de coordination, début" in html
    path = tmp_path / "annexe3.xlsx"
    write_xlsx(report, path)
    workbook = openpyxl.load_workbook(path)
    rows = list(workbook["C Audit de facturation"].iter_rows(values_only=True))
    mau = next(r for r in rows if r[0] and str(r[0]).startswith("MAU peut-être oubliée"))
    assert mau[1:5] == (1, "passages", 1.35, "F1/1")
    acts = list(workbook["3 Actes"].iter_rows(values_only=True))
    other = next(r for r in acts if r[0] == "Autres actes (télésoin, téléconsultation assistée)")
    assert other[1] == 1 and 10 in other
