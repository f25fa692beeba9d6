"""The report as an A4 PDF: the HTML report printed by WeasyPrint.

Printing the very HTML the centre sees in its browser keeps one layout and one set of
figures; the print rules (cover, page numbers, running footer with the inputs'
fingerprint, page breaks) are the `@page` and `@media print` rules of `report.css`.
`render.Rendering` lays the page out once and hands the same HTML to the HTML file
and to `html_to_pdf`.
"""

from __future__ import annotations

import logging

from pipeline.core.resources import resource_dir


def html_to_pdf(html: str) -> bytes:
    """Print the report's HTML page (`render.to_html`) on A4: the PDF shows that very page."""
    from weasyprint import HTML

    # WeasyPrint warns about CSS meant for browsers only (e.g. `details`): not our reader's concern.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return HTML(string=html, base_url=str(resource_dir("report_templates"))).write_pdf()
