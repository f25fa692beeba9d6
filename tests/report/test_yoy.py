"""Year over year: `previous_year` in the JSON, and N-1 with its change in HTML and XLSX.

Two hand-made yearly extracts of one centre, loaded one after the other as a centre
would, with every figure and change worked by hand.
"""

from __future__ import annotations

import duckdb
import openpyxl
import pytest

from pipeline.core import labels
from pipeline.orchestrate import steps
from pipeline.render import formatting
from pipeline.render import write as render
from tests.support import billing_rows, episode_rows, patient_rows

NBSP = "\u00a0"
PATIENTS = patient_rows(
    {"patient_id": "P1", "birth_date": "1960-01-01"},
    {"patient_id": "P2", "birth_date": "1990-05-05", "occupation": "active"},
    {"patient_id": "P3", "birth_date": "1940-02-02", "lives_alone": "true"},
)
DISCHARGE = {
    "hospital_discharge": "true",
    "discharge_establishment": "Hôpital A",
    "discharge_service": "chirurgie",
    "discharge_care_type": "other",
    "discharge_care_detail": "pansements",
}


def load_2024(build) -> None:
    """2024: P1 chronic (2 AMI), P2 acute after a hospital stay (1 AIS, 1 IK of 10 km)."""
    build(
        patients=PATIENTS,
        episodes=episode_rows(
            {"episode_id": "E1", "patient_id": "P1", "start_date": "2024-01-05"},
            {
                "episode_id": "E2",
                "patient_id": "P2",
                "start_date": "2024-03-01",
                "end_date": "2024-03-20",
                "reason": "acute",
                **DISCHARGE,
            },
        ),
        billing=billing_rows(
            {"patient_id": "P1", "act_date": "2024-01-10", "amount_eur": "3.15"},
            {
                "patient_id": "P1",
                "act_date": "2024-02-10",
                "coefficient": "2",
                "amount_eur": "6.30",
            },
            {"patient_id": "P2", "act_date": "2024-03-05", "act_code": "AIS", "coefficient": "3"},
            {
                "patient_id": "P2",
                "act_date": "2024-03-05",
                "act_code": "IK",
                "coefficient": None,
                "quantity": "10",
            },
            invoice="F2024",
        ),
    )


def load_2025(build) -> None:
    """2025: P1 still chronic (3 AMI), P3 new chronic (1 AMI 2), P2 back from hospital (2 AIS)."""
    build(
        patients=PATIENTS,
        episodes=episode_rows(
            {"episode_id": "E3", "patient_id": "P3", "start_date": "2025-02-01"},
            {
                "episode_id": "E4",
                "patient_id": "P2",
                "start_date": "2025-04-01",
                "end_date": "2025-04-10",
                "reason": "acute",
                **DISCHARGE,
            },
        ),
        billing=billing_rows(
            {"patient_id": "P1", "act_date": "2025-01-10", "amount_eur": "3.15"},
            {"patient_id": "P1", "act_date": "2025-02-10", "amount_eur": "3.15"},
            {"patient_id": "P1", "act_date": "2025-03-10", "amount_eur": "3.15"},
            {
                "patient_id": "P3",
                "act_date": "2025-02-05",
                "coefficient": "2",
                "amount_eur": "6.30",
            },
            {"patient_id": "P2", "act_date": "2025-04-02", "act_code": "AIS", "coefficient": "3"},
            {"patient_id": "P2", "act_date": "2025-04-03", "act_code": "AIS", "coefficient": "4"},
            invoice="F2025",
        ),
    )


@pytest.fixture
def two_years(build):
    """The warehouse after the 2024 then the 2025 extract."""
    load_2024(build)
    load_2025(build)
    return build


def test_previous_year_holds_the_figures_of_year_minus_one(two_years):
    before = two_years.report()["previous_year"]
    assert before["year"] == 2024
    assert before["months_with_lines"] == 3  # January to March 2024
    assert before["clientele"]["insured_patients"] == 2
    assert before["clientele"]["entries"] == 2
    assert before["monthly_totals"]["chronic_patients"] == 1
    assert before["monthly_totals"]["acute_entries"] == 1
    assert before["acts"]["AMI"] == {"count": 2, "coefficient_total": 3, "amount_eur": 9.45}
    assert before["acts"]["AIS"] == {"count": 1, "coefficient_total": 3, "amount_eur": None}
    assert before["acts"]["IK"] == {"count": 1, "km": 10, "amount_eur": None}
    assert before["hospital_discharge"] == {"patients": 1, "episodes": 1}


def test_previous_year_equals_the_report_of_that_year(two_years):
    before, report_2024 = two_years.report()["previous_year"], two_years.report(2024)
    assert before["clientele"] == report_2024["clientele"]
    assert before["monthly_totals"] == report_2024["monthly_totals"]
    for family, block in before["acts"].items():
        assert block == {k: report_2024["acts"][family][k] for k in block}
    assert report_2024["previous_year"] is None  # nothing in 2023


def test_changes_worked_by_hand(two_years):
    report = two_years.report()
    now, before = report, report["previous_year"]
    assert now["clientele"]["insured_patients"] == 3
    assert formatting.change(3, before["clientele"]["insured_patients"]) == f"+1 (+50,0{NBSP}%)"
    ami, ami_before = now["acts"]["AMI"], before["acts"]["AMI"]
    assert (ami["count"], ami["coefficient_total"], ami["amount_eur"]) == (4, 5, 15.75)
    assert formatting.change(ami["count"], ami_before["count"]) == f"+2 (+100,0{NBSP}%)"
    assert formatting.change(5, ami_before["coefficient_total"]) == f"+2 (+66,7{NBSP}%)"
    assert formatting.change(15.75, ami_before["amount_eur"], 2) == f"+6,30 (+66,7{NBSP}%)"
    ik = formatting.change(now["acts"]["IK"]["count"], before["acts"]["IK"]["count"])
    assert ik == f"\u22121 (\u2212100,0{NBSP}%)"


def test_html_shows_n_minus_1_and_the_change_beside_the_figures(two_years):
    html = render.to_html(two_years.report())
    assert '<th scope="col">2024</th>' in html  # clientele and discharge tables
    assert f"+1 (+50,0{NBSP}%)" in html  # insured patients 3 vs 2
    assert f'N-1 : 2</span> <span class="delta">+2 (+100,0{NBSP}%)' in html  # AMI count
    assert f'N-1 : 9,45</span> <span class="delta">+6,30 (+66,7{NBSP}%)' in html  # AMI €
    assert "Année 2024" in html  # monthly totals of N-1
    assert "3 mois sur 12" in html  # the year before is incomplete: said so


def test_xlsx_has_n_minus_1_columns_with_numbers(two_years, tmp_path):
    path = render.write_report(two_years.report(), tmp_path, ("xlsx",))[0]
    book = openpyxl.load_workbook(path)
    sheet = book[labels.XLSX_SHEETS["clientele"]]
    rows = {r[0]: r[1:] for r in sheet.iter_rows(values_only=True) if r[0]}
    assert rows["Indicateur"] == ("2025", "2024", "Évolution", "Évolution (%)")
    assert rows[labels.CLIENTELE["insured_patients"]] == (3, 2, 1, 0.5)
    acts = {r[0]: r[1:] for r in book[labels.XLSX_SHEETS["acts"]].iter_rows(values_only=True)}
    assert acts["AMI"][:4] == (4, 2, 2, 1.0)  # count: 2025, 2024, change, change %
    assert acts["IK"][8:12] == (0, 10, -10, -1.0)  # km
    monthly = {r[0]: r[1:] for r in book[labels.XLSX_SHEETS["monthly"]].iter_rows(values_only=True)}
    assert monthly["Année 2024"][2] == 1  # chronic patients of 2024
    assert monthly["Évolution"][2] == 1  # 2 chronic patients in 2025 (P1, P3)


def test_json_with_previous_year_still_verifies(two_years, db, tmp_path):
    path = steps.report(2025, None, db, tmp_path / "out", ("json",))[0]
    assert steps.verify(path, db) == []


def test_no_previous_year_when_only_an_episode_started_then(build, db):
    build(
        patients=PATIENTS,
        episodes=episode_rows({"episode_id": "E1", "patient_id": "P1", "start_date": "2024-12-15"}),
        billing=billing_rows({"patient_id": "P1", "act_date": "2025-01-10"}),
    )
    with duckdb.connect(str(db), read_only=True) as con:
        years = con.execute("select year from int_centre_years order by 1").fetchall()
    assert years == [(2024,), (2025,)]  # the warehouse "holds" 2024 …
    assert build.report()["previous_year"] is None  # … but no billed activity to compare


def test_single_year_has_no_previous_year_and_no_n_minus_1(build, tmp_path):
    load_2025(build)
    report = build.report()
    assert report["previous_year"] is None
    assert "N-1 :" not in render.to_html(report)
    path = render.write_report(report, tmp_path, ("xlsx",))[0]
    sheet = openpyxl.load_workbook(path)[labels.XLSX_SHEETS["clientele"]]
    assert [c.value for c in sheet[3]] == ["Indicateur", "2025"]
