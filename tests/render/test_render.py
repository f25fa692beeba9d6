"""The report as people read it: HTML with charts, an A4 PDF, an XLSX workbook, the CLI.

The sample centre is rendered once (module fixture); every test reads the files a centre
would send, and checks them against the JSON, which is the contract.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import DEFAULT_FORMATS, app
from pipeline.core import labels
from pipeline.orchestrate import steps
from pipeline.render import charts, formatting
from pipeline.render import write as render
from tests.support import FINESS, SAMPLE_DIR, billing_rows, patient_rows

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict[str, Any]:
    """The sample centre's 2025 report, written in every format."""
    root = tmp_path_factory.mktemp("sample")
    db = root / "wh.duckdb"
    steps.ingest(SAMPLE_DIR, db)
    paths = steps.report(2025, FINESS, db, root / "out", render.FORMATS)
    by_format = {p.suffix.lstrip("."): p for p in paths}
    report = json.loads(by_format["json"].read_text(encoding="utf-8"))
    return {"report": report, **by_format}


def pdf_text(path: Path) -> str:
    """The PDF's text laid out as on the page (pdftotext, poppler-utils)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) absent")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def flat(text: str) -> str:
    """Whitespace collapsed: the PDF may break a title over two lines."""
    return re.sub(r"\s+", " ", text)


# --------------------------------------------------------------------------- PDF


def test_pdf_has_a_cover_numbered_sections_page_numbers_and_fingerprint(sample):
    text = pdf_text(sample["pdf"])
    pages = text.count("\f")
    assert pages > 1
    report, words = sample["report"], flat(text)
    cover = flat(text.split("\f")[0])
    assert "Rapport d'activité 2025" in cover
    assert report["meta"]["centre_name"] in cover
    assert "FINESS 750000001" in cover and "Sommaire" in cover
    for key in ("clientele", "monthly", "acts", "staff", "training", "forfait", "engagements"):
        title = labels.SECTIONS[key]
        if key in labels.SUPPLEMENTS:
            title = f"{labels.SUPPLEMENTS[key]}. {title}"
        assert words.count(title) >= 2, title  # in the contents and as a heading
    assert f"page 2 / {pages}" in words
    assert report["meta"]["inputs_fingerprint"] in words  # running footer


def test_pdf_shows_the_figures_and_charts_of_the_json(sample):
    words, report = flat(pdf_text(sample["pdf"])), sample["report"]
    assert flat(formatting.french_number(report["acts"]["AMI"]["count"])) in words
    assert flat(formatting.french_number(report["forfait"]["amount_eur"], 2) + " €") in words
    assert labels.CHARTS["monthly_patients"] in words
    assert labels.CHARTS["discharge_durations"] in words


# --------------------------------------------------------------------------- HTML and charts


def test_html_carries_inline_svg_charts(sample):
    html = sample["html"].read_text(encoding="utf-8")
    assert html.count("<svg") == 5
    for key in ("monthly_patients", "monthly_entries", "acts_by_family", "discharge_durations"):
        assert labels.CHARTS[key] in html
    assert "<img" not in html and "<script" not in html  # self-contained, prints anywhere


def test_a_report_without_register_renders_in_every_format(build, tmp_path):
    build(
        billing=billing_rows({"act_date": "2025-03-01"}),
        patients=patient_rows({"patient_id": "P1"}),
    )
    report = build.report()
    report["meta"]["centre_name"] = 'Centre "A & B" <script>'
    paths = render.write_report(report, tmp_path, render.FORMATS)
    html = paths[1].read_text(encoding="utf-8")
    assert "<script>" not in html and "Centre &#34;A &amp; B&#34; &lt;script&gt;" in html
    assert '"Centre \\"A & B\\" \\3c script> · FINESS 750000001"' in html  # PDF page header
    assert "Registre du centre absent" in html
    assert "Pas de données de l'année précédente" in flat(pdf_text(paths[2]))
    staff = openpyxl.load_workbook(paths[3])[labels.XLSX_SHEETS["staff"]]
    assert staff["A3"].value.startswith("Registre du centre absent")


def test_nice_ticks_are_whole_and_cover_the_maximum():
    assert charts.nice_ticks(138, 8) == [0, 20, 40, 60, 80, 100, 120, 140]
    assert charts.nice_ticks(3) == [0, 1, 2, 3]
    assert charts.nice_ticks(0) == [0, 1]


def test_charts_without_data_draw_nothing_or_an_empty_frame():
    empty_acts = {f: {"count": 0, "by_coefficient": {}} for f in labels.ACT_FAMILIES}
    assert charts.acts_by_family(empty_acts) == ""
    assert charts.coefficient_columns(empty_acts) == ""
    assert charts.duration_range({"max": None}) == ""
    zeros = [{"month": m, **dict.fromkeys(labels.MONTHLY, 0)} for m in range(1, 13)]
    assert charts.monthly_charts(zeros)["monthly_patients"].startswith("<svg")


def test_change_is_written_the_french_way():
    assert formatting.change(360, 348) == f"+12 (+3,4{NBSP}%)"
    assert formatting.change(10, 12) == f"\u22122 (\u221216,7{NBSP}%)"
    assert formatting.change(5, 0) == "+5"
    assert formatting.change(7, 7) == f"0 (0,0{NBSP}%)"
    assert formatting.change(15.75, 9.45, 2) == f"+6,30 (+66,7{NBSP}%)"
    assert formatting.change(None, 3) == "—"


# --------------------------------------------------------------------------- XLSX


def rows_by_label(sheet) -> dict[str, tuple]:
    """Rows of a sheet keyed by their first cell (the French label)."""
    return {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row[0] is not None}


def test_xlsx_has_one_sheet_per_section_and_numbers_as_numbers(sample):
    book = openpyxl.load_workbook(sample["xlsx"])
    assert book.sheetnames == list(labels.XLSX_SHEETS.values())
    report = sample["report"]
    clientele = rows_by_label(book[labels.XLSX_SHEETS["clientele"]])
    for key, label in labels.CLIENTELE.items():
        assert clientele[label][0] == report["clientele"][key]
        assert isinstance(clientele[label][0], int)
    monthly = rows_by_label(book[labels.XLSX_SHEETS["monthly"]])
    for row in report["monthly"]:
        expected = tuple(row[k] for k in labels.MONTHLY)
        assert monthly[labels.MONTHS[row["month"] - 1]] == expected
    totals = tuple(report["monthly_totals"][k] for k in labels.MONTHLY)
    assert monthly["Année 2025"] == totals


def test_xlsx_acts_discharge_forfait_and_commitments_equal_the_json(sample):
    book, report = openpyxl.load_workbook(sample["xlsx"]), sample["report"]
    acts = rows_by_label(book[labels.XLSX_SHEETS["acts"]])
    for family, label in labels.ACT_FAMILIES.items():
        block = report["acts"][family]
        measures = ("count", "coefficient_total", "km", "amount_eur")
        assert acts[label][:4] == tuple(block.get(k) for k in measures)
    discharge = rows_by_label(book[labels.XLSX_SHEETS["hospital_discharge"]])
    h = report["hospital_discharge"]
    assert discharge["Nombre d'assurés"][0] == h["patients"]
    assert discharge["Nombre de prises en charge"][0] == h["episodes"]
    assert discharge[labels.DURATION["mean"]][0] == h["duration_days"]["mean"]
    forfait = rows_by_label(book[labels.XLSX_SHEETS["forfait"]])
    assert forfait["Forfait annuel de coordination (€)"][0] == report["forfait"]["amount_eur"]
    engagements = rows_by_label(book[labels.XLSX_SHEETS["engagements"]])
    for status, word in labels.ENGAGEMENT_STATUS.items():
        assert engagements[word][0] == report["engagements"]["counts"][status]
    quality = rows_by_label(book[labels.XLSX_SHEETS["quality"]])
    for finding in report["quality"]["findings"].values():
        assert quality[finding["label"]][0] == finding["count"]


def test_xlsx_breakdowns_equal_the_json(sample):
    book, report = openpyxl.load_workbook(sample["xlsx"]), sample["report"]
    rows = list(book[labels.XLSX_SHEETS["acts_detail"]].iter_rows(min_row=4, values_only=True))
    ami = {r[3]: r[4] for r in rows if r[0] == "Tous les assurés" and r[1] == "AMI"}
    expected = {float(k): v for k, v in report["acts"]["AMI"]["by_coefficient"].items()}
    assert ami == expected


# --------------------------------------------------------------------------- CLI


def test_csi_report_prints_a_summary_and_writes_every_format_by_default(tmp_path, db):
    from tests.support import make_extract

    billing = billing_rows({"act_date": "2025-03-01"}, {"act_date": "2025-03-02"})
    steps.ingest(
        make_extract(tmp_path / "x", billing=billing, patients=patient_rows({"patient_id": "P1"})),
        db,
    )
    result = CliRunner().invoke(
        app, ["report", "--year", "2025", "--db", str(db), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert DEFAULT_FORMATS == "json,html,pdf,xlsx"
    for fmt in render.FORMATS:
        assert (tmp_path / "o" / FINESS / "2025" / f"annexe3.{fmt}").stat().st_size > 0
    out = flat(result.output)
    assert "FINESS 750000001" in out and "Actes AMI" in out
    assert "Engagements respectés" in out and "Contrôles qualité à corriger" in out
    assert out.count("Écrit :") == 4


def test_unknown_format_names_the_four_formats(tmp_path, db):
    result = CliRunner().invoke(app, ["report", "--year", "2025", "--format", "docx"])
    assert result.exit_code == 2
    assert "json, html, pdf, xlsx" in result.output


def test_cover_states_the_billed_period_of_the_sample(sample):
    """The sample's billed lines, read from its CSV, span the year: no month named missing."""
    import csv

    with (SAMPLE_DIR / "billing_2025.csv").open(encoding="utf-8") as handle:
        dates = sorted(
            row["act_date"]
            for row in csv.DictReader(handle)
            if row["status"] == "billed" and row["act_date"].startswith("2025")
        )
    months = sorted({int(d[5:7]) for d in dates})
    assert sample["report"]["meta"]["coverage"] == {
        "first_act_date": dates[0],
        "last_act_date": dates[-1],
        "months": months,
    }
    html = sample["html"].read_text(encoding="utf-8")
    assert f"données facturées du {formatting.french_long_date(dates[0])} au " in html
    assert "Mois sans données" not in html
