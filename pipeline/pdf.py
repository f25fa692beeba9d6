"""The report as an A4 PDF: the HTML report printed by WeasyPrint.

Printing the very HTML the centre sees in its browser keeps one layout and one set of
figures; the print rules (cover, page numbers, running footer with the inputs'
fingerprint, page breaks) are the `@page` and `@media print` rules of `report.css`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipeline.render import to_html
from pipeline.resources import resource_dir


def to_pdf(report: dict[str, Any]) -> bytes:
    """The PDF document of one report, as bytes."""
    return html_to_pdf(to_html(report))


def html_to_pdf(html: str) -> bytes:
    """Print the report's HTML page (`render.to_html`) on A4: the PDF shows that very page."""
    from weasyprint import HTML

    # WeasyPrint warns about CSS meant for browsers only (e.g. `details`): not our reader's concern.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return HTML(string=html, base_url=str(resource_dir("report_templates"))).write_pdf()


def write_pdf(report: dict[str, Any], path: Path) -> None:
    """Write the PDF of one report to `path`."""
    Path(path).write_bytes(to_pdf(report))
