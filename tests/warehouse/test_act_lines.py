"""`int_act_lines`: the counted acts summed per scope × family × code × coefficient, the one
pass over the lines that `acts`, `acts_by_code` and `acts_by_coefficient` add up.

Worked out by hand: P1's lines fall in a hospital-discharge episode (both scopes), P2's
in none (scope `all` only); a cancelled line and an unknown code are no act.
"""

from __future__ import annotations

from decimal import Decimal as D

from pipeline.orchestrate import steps
from tests.support import (
    FINESS,
    billing_rows,
    episode_rows,
    make_extract,
    patient_rows,
    warehouse_rows,
)


def test_the_acts_are_summed_once_and_the_marts_add_them_up(tmp_path):
    db = tmp_path / "w.duckdb"
    lines = billing_rows(
        {"act_date": "2025-03-02", "coefficient": "2", "amount_eur": "6.30"},
        {"act_date": "2025-03-03", "coefficient": "2", "quantity": "2", "amount_eur": "12.60"},
        {"act_date": "2025-03-04", "coefficient": "1.5", "amount_eur": "4.73", "patient_id": "P2"},
        {"act_date": "2025-03-05", "act_code": "IK", "coefficient": None, "quantity": "10",
         "amount_eur": "3.50"},
        {"act_date": "2025-03-06", "coefficient": "2", "status": "cancelled"},
        {"act_date": "2025-03-07", "act_code": "ZZZ", "coefficient": None},
    )  # fmt: skip
    extract = make_extract(
        tmp_path / "x",
        billing=lines,
        patients=patient_rows({"patient_id": "P1"}, {"patient_id": "P2"}),
        episodes=episode_rows(
            {
                "episode_id": "E1",
                "patient_id": "P1",
                "start_date": "2025-03-01",
                "hospital_discharge": "true",
            },
        ),
    )
    steps.ingest(extract, db)
    sums = warehouse_rows(
        db,
        "select scope, family::varchar, act_code, coefficient, lines, quantity, "
        f"coefficient_quantity, amount_eur from int_act_lines where centre_finess = '{FINESS}' "
        "and year = 2025 order by all",
    )
    assert sums == [
        ("all", "AMI", "AMI", D("1.50"), 1, D("1.00"), D("1.5000"), D("4.73")),
        ("all", "AMI", "AMI", D("2.00"), 2, D("3.00"), D("6.0000"), D("18.90")),
        ("all", "IK", "IK", None, 1, D("10.00"), D("0.0000"), D("3.50")),
        ("hospital_discharge", "AMI", "AMI", D("2.00"), 2, D("3.00"), D("6.0000"), D("18.90")),
        ("hospital_discharge", "IK", "IK", None, 1, D("10.00"), D("0.0000"), D("3.50")),
    ]
    acts = warehouse_rows(
        db,
        "select scope, family::varchar, lines, count, coefficient_total, km, amount_eur "
        "from acts order by all",
    )
    assert acts == [
        ("all", "AMI", 3, D("4.00"), D("7.5000"), None, D("23.63")),
        ("all", "IK", 1, D("1.00"), None, D("10.00"), D("3.50")),  # IK counts its trips
        ("hospital_discharge", "AMI", 2, D("3.00"), D("6.0000"), None, D("18.90")),
        ("hospital_discharge", "IK", 1, D("1.00"), None, D("10.00"), D("3.50")),
    ]
    by_coefficient = warehouse_rows(
        db, "select scope, coefficient, count from acts_by_coefficient order by all"
    )
    assert by_coefficient == [
        ("all", "1.5", D("1.00")),
        ("all", "2", D("3.00")),
        ("hospital_discharge", "2", D("3.00")),
    ]
