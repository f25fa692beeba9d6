"""The workbook's number formats follow the kind declared with each column or row.

Why: they were once chosen by sniffing French header text (« € », « ETP », « Jours »…), so
renaming a label changed a format — a count of unexpected coefficients read « 0,00 » and
an integral nurse FTE lost its decimals. A hand-made centre: P1 bills an AMI in 2024; in
2025 P1 an AMI and P2 an AIS of coefficient 3.5 (not in the NGAP: one quality finding); the
register lists two nurses of 1.0 FTE each.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipeline.core import labels
from pipeline.render import xlsx
from pipeline.render.xlsx import Kind, number_format, write_xlsx
from tests.support import billing_rows, patient_rows

INT, DEC = "#,##0", "#,##0.00"
CHANGE_INT, PCT = "+#,##0;-#,##0;0", "+0.0%;-0.0%;0.0%"
REGISTER = {
    "finess": "750000001", "name": "Centre", "year": 2025,
    "staff": {"nurses": [{"id": "10000000001", "fte": 1.0}, {"id": "10000000002", "fte": 1.0}]},
}  # fmt: skip


@pytest.fixture
def report(build, monkeypatch, tmp_path) -> dict[str, Any]:
    """The 2025 report of the hand-made centre, with 2024 as N-1."""
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(
        patients=patient_rows({"patient_id": "P1"}, {"patient_id": "P2"}),
        billing=billing_rows(
            {"patient_id": "P1", "act_date": "2024-03-04"},
            {"patient_id": "P1", "act_date": "2025-02-03"},
            {"patient_id": "P2", "act_date": "2025-02-03", "act_code": "AIS", "coefficient": "3.5"},
        ),
        register=REGISTER,
    )
    return build.report()


def _row(path: Path, sheet: str, label: str) -> list[openpyxl.cell.Cell]:
    """The cells of the row whose first cell is `label`, in sheet `labels.XLSX_SHEETS[sheet]`."""
    ws = openpyxl.load_workbook(path)[labels.XLSX_SHEETS[sheet]]
    return next(list(r) for r in ws.iter_rows() if r[0].value == label)


def _number_formats(path: Path) -> dict[tuple[int, str], tuple[Any, str]]:
    """Every numeric cell, by sheet position and coordinate: its value and its format."""
    book = openpyxl.load_workbook(path)
    return {
        (index, cell.coordinate): (cell.value, cell.number_format)
        for index, ws in enumerate(book.worksheets)
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
    }


def test_numbers_take_the_format_of_their_declared_kind(report, tmp_path):
    path = tmp_path / "annexe3.xlsx"
    write_xlsx(report, path)
    fte = _row(path, "staff", "Nombre d'équivalents temps plein")  # FTE, no « ETP » in it
    assert (fte[1].value, fte[1].number_format) == (2, DEC)
    nurses = _row(path, "staff", "Nombre total d'infirmières exerçant dans le centre")
    assert (nurses[1].value, nurses[1].number_format) == (2, INT)
    label = labels.QUALITY["unexpected_coefficient"]  # « Coefficients non prévus… »: a count
    unexpected = _row(path, "quality", label)
    assert (unexpected[1].value, unexpected[1].number_format) == (1, INT)
    assert (unexpected[3].value, unexpected[3].number_format) == (0.5, "0.0%")  # 1 line of 2
    fee = _row(path, "forfait", "Forfait annuel de coordination (€)")  # 2 FTE: under 4
    assert (fee[1].value, fee[1].number_format) == (7622, DEC)
    # Patients: 2 in 2025, 1 in 2024, so +1 and +100 %.
    patients = _row(path, "clientele", labels.CLIENTELE["insured_patients"])
    assert [(c.value, c.number_format) for c in patients[1:]] == [
        (2, INT),
        (1, INT),
        (1, CHANGE_INT),
        (1, PCT),
    ]


def test_the_year_and_load_number_read_without_a_thousands_separator(report, tmp_path):
    path = tmp_path / "annexe3.xlsx"
    write_xlsx(report, path)
    year = _row(path, "meta", "Année")
    assert (year[1].value, year[1].number_format) == (2025, "0")
    previous = _row(path, "meta", "Année de comparaison (N-1)")
    assert (previous[1].value, previous[1].number_format) == (2024, "0")


def test_renaming_labels_leaves_every_format_as_it_was(report, tmp_path, monkeypatch):
    """Labels full of the words the old sniffing looked for change no format."""
    write_xlsx(report, tmp_path / "before.xlsx")
    misleading = "Montant (€) en ETP, Jours, Coefficients, Durée moyenne"
    for name in ("CLIENTELE", "MONTHLY", "DURATION", "ACT_FAMILIES", "MONTHS"):
        table = getattr(labels, name)
        renamed = (
            [f"{misleading} {i}" for i, _ in enumerate(table)]
            if isinstance(table, list)
            else {key: f"{misleading} {key}" for key in table}
        )
        monkeypatch.setattr(labels, name, renamed)
    monkeypatch.setattr(
        xlsx,
        "ACT_MEASURES",
        {key: (f"{misleading} {key}", kind) for key, (_, kind) in xlsx.ACT_MEASURES.items()},
    )
    relabelled = copy.deepcopy(report)
    for finding in relabelled["quality"]["findings"].values():
        finding["label"] = misleading
    for item in relabelled["meta"]["inputs"]:
        item["file"] = "facturation € ETP Jours.csv"
    write_xlsx(relabelled, tmp_path / "after.xlsx")
    before, after = (
        _number_formats(tmp_path / "before.xlsx"),
        _number_formats(tmp_path / "after.xlsx"),
    )
    assert len(before) > 100
    assert after == before


def test_each_kind_has_its_format():
    assert number_format(3, Kind.COUNT) == "int"
    assert number_format(2.5, Kind.COUNT) == "dec"  # a whole-number format never rounds 2.5
    assert number_format(2024, Kind.IDENTIFIER) == "identifier"  # « 2024 », not « 2 024 »
    assert number_format(12, Kind.NUMBER) == "int"
    assert number_format(1.5, Kind.NUMBER) == "dec"  # a coefficient as written
    for kind in (Kind.EUROS, Kind.FTE, Kind.COEFFICIENTS, Kind.DAYS):
        assert number_format(12928, kind) == "dec"
    assert number_format(-3, Kind.COUNT, "change_") == "change_int"
    assert number_format(-3, Kind.EUROS, "change_") == "change_dec"
    assert number_format(0.0287, Kind.SHARE) == "share"  # 2,9 %
    assert number_format(0.0003, Kind.SHARE) == "share_fine"  # 0,03 %, not « 0,0 % »
    assert number_format(0, Kind.SHARE) == "share"
    with pytest.raises(ValueError, match="no declared kind"):
        number_format(3, None)
