"""The report's readers: one centre × year at a time, or a group of centres read at once.

A hand-made warehouse of two centres: A (750000001) bills 1 line in 2024 and 3 in 2025,
B (670000002) bills 2 lines in 2025. Both readers must give the same rows; a group's
reader reads each query once for its centres, and refuses a centre of another group.
"""

from __future__ import annotations

import json

import pytest

from pipeline.report.build import build_report
from pipeline.report.scoped import CentreReader, GroupReader, OutsideGroup
from pipeline.warehouse.database import connect
from tests.support import billing_rows, patient_rows

A, B = "750000001", "670000002"
LINES = "select centre_finess, year, count(*) as lines from int_line_attribution group by all"
INVOICES = (
    "select centre_finess, year(act_date) as year, invoice_id, line_no, act_code from billing_lines"
)


@pytest.fixture
def two_centres(build, db, monkeypatch, tmp_path):
    """The warehouse of A and B, loaded by the real pipeline; its path."""
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(
        patients=patient_rows(
            {"patient_id": "P1"},
            {"patient_id": "P9", "centre_finess": B, "birth_date": "1950-06-01"},
        ),
        billing=[
            *billing_rows({"act_date": "2024-11-04"}, invoice="F0"),
            *billing_rows(
                {"act_date": "2025-01-06"},
                {"act_date": "2025-01-06", "act_code": "AIS", "coefficient": "3"},
                {"act_date": "2025-02-03"},
                invoice="F1",
            ),
            *billing_rows(
                {"centre_finess": B, "patient_id": "P9", "act_date": "2025-03-03"},
                {"centre_finess": B, "patient_id": "P9", "act_date": "2025-03-04"},
                invoice="F2",
            ),
        ],
    )
    return db


def test_both_readers_give_the_same_rows(two_centres):
    con = connect(two_centres, read_only=True)
    try:
        centre, group = CentreReader(con), GroupReader(con, (A, B))
        for reader in (centre, group):
            assert reader.rows(LINES, A, 2025) == [{"lines": 3}]
            assert reader.rows(LINES, A, 2024) == [{"lines": 1}]  # N-1 comes from the group too
            assert reader.rows(LINES, B, 2025) == [{"lines": 2}]
            assert reader.rows(LINES, B, 2024) == []
            assert reader.rows(INVOICES, A, 2025, order="line_no desc") == [
                {"invoice_id": "F1", "line_no": 3, "act_code": "AMI"},
                {"invoice_id": "F1", "line_no": 2, "act_code": "AIS"},
                {"invoice_id": "F1", "line_no": 1, "act_code": "AMI"},
            ]
            assert reader.value("select max(load_id) from loads") == 1
    finally:
        con.close()


def test_whole_reports_are_the_same_through_either_reader(two_centres):
    con = connect(two_centres, read_only=True)
    try:
        group = GroupReader(con, (B, A))
        epoch = 1_767_225_600  # one generation time for both: built a second apart, they differed
        for finess, lines in ((A, 3), (B, 2)):
            alone = build_report(CentreReader(con), finess, 2025, epoch)
            grouped = build_report(group, finess, 2025, epoch)
            assert json.dumps(grouped, default=str) == json.dumps(alone, default=str)
            assert grouped["quality"]["counted_lines"] == lines
        assert build_report(group, A, 2025)["previous_year"]["acts"]["AMI"]["count"] == 1
    finally:
        con.close()


def test_a_group_reads_each_query_once_for_all_its_centres(two_centres):
    """After A's read, a line added for B is not seen by the group (its rows were read with
    A's), while a centre's reader, which queries again, sees it."""
    con = connect(two_centres)
    try:
        group = GroupReader(con, (A, B))
        assert group.rows(INVOICES, A, 2025) != []
        con.execute(
            "insert into billing_lines by name "
            "select * replace ('F3' as invoice_id) from billing_lines where invoice_id = 'F2' "
            "and line_no = 1"
        )
        assert len(group.rows(INVOICES, B, 2025)) == 2
        assert len(CentreReader(con).rows(INVOICES, B, 2025)) == 3
        # Another query (or another order) is read afresh, for the whole group again.
        assert len(group.rows(INVOICES, B, 2025, order="invoice_id")) == 3
    finally:
        con.close()


def test_a_group_reader_refuses_a_centre_outside_its_group(two_centres):
    con = connect(two_centres, read_only=True)
    try:
        group = GroupReader(con, (A,))
        with pytest.raises(OutsideGroup, match=f"centre {B} is not in this group \\({A}\\)"):
            group.rows(LINES, B, 2025)
        with pytest.raises(OutsideGroup, match=B):
            build_report(group, B, 2025)
        with pytest.raises(ValueError, match="one centre at least"):
            GroupReader(con, ())
    finally:
        con.close()
