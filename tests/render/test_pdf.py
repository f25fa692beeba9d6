"""`pipeline.render.pdf`: the HTML page printed on A4 by WeasyPrint."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pipeline.render.pdf import html_to_pdf

PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<style>@page { size: A4; }</style></head>
<body><h1>Rapport d'activité 2025</h1><p>Patients assurés : 1 234</p></body></html>"""
POPPLER = pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils absent")


def _poppler(tool: str, pdf: bytes, tmp_path) -> str:
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool, str(path), "-"] if tool == "pdftotext" else [tool, str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_page_becomes_a_complete_pdf_file():
    pdf = html_to_pdf(PAGE)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")


@POPPLER
def test_one_a4_page(tmp_path):
    info = _poppler("pdfinfo", html_to_pdf(PAGE), tmp_path)
    assert "Pages:           1" in info
    assert "(A4)" in info


@POPPLER
def test_the_pdf_holds_the_page_text(tmp_path):
    text = _poppler("pdftotext", html_to_pdf(PAGE), tmp_path)
    assert "Rapport d'activité 2025" in text
    assert "Patients assurés : 1 234" in text
