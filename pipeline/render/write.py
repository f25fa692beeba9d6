"""Write a report dict to files: JSON (the machine contract), HTML, PDF and XLSX (for people).

The HTML is the single layout: the PDF is that HTML printed by WeasyPrint (print rules
live in `report.css`), so a figure cannot differ between the two. The XLSX is built
from the same dict by `pipeline.render.xlsx`.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipeline.core import labels
from pipeline.core.errors import UsageError, write_reason
from pipeline.core.resources import resource_dir
from pipeline.render.formatting import (
    act_parts,
    age_gap,
    change,
    coverage_text,
    css_string,
    dig,
    french_date,
    french_datetime,
    french_number,
    french_percent,
    french_share,
    missing_months,
    with_unit,
)

FORMATS = ("json", "html", "pdf", "xlsx")
STALE_PARTIAL_SECONDS = 3600  # a report set's temporary folder older than this was abandoned


def report_dir(out: Path, report: dict[str, Any]) -> Path:
    """`out/<finess>/<year>`: one folder per centre and year."""
    return out / report["meta"]["centre_finess"] / str(report["meta"]["year"])


def to_json(report: dict[str, Any]) -> str:
    """The machine contract: keys in the report's order, French text unescaped."""
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def _trusted(value: Any) -> Any:
    """Mark the package's own wording as HTML-safe, so that autoescape only touches data."""
    if isinstance(value, str):
        return Markup(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def trusted_labels() -> SimpleNamespace:
    """`pipeline.core.labels` for the templates: text written by us, never by a centre's export."""
    names = [name for name in dir(labels) if name.isupper()]
    return SimpleNamespace(**{name: _trusted(getattr(labels, name)) for name in names})


def environment() -> Environment:
    """The Jinja environment: autoescaped data, French number filters, labels."""
    env = Environment(
        loader=FileSystemLoader(resource_dir("report_templates")),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        fr=french_number,
        pct=french_percent,
        share=french_share,
        unit=with_unit,
        fr_datetime=french_datetime,
        fr_date=french_date,
        css=css_string,
    )
    env.globals.update(
        labels=trusted_labels(),
        change=change,
        dig=dig,
        act_parts=act_parts,
        age_gap=age_gap,
        coverage_text=coverage_text,
        missing_months=missing_months,
    )
    return env


def to_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (styles and charts inline)."""
    from pipeline.core.reference import FORFAIT_BANDS
    from pipeline.render.charts import report_charts

    charts = {key: Markup(svg) for key, svg in report_charts(report).items()}
    return (
        environment()
        .get_template("annexe3.html.j2")
        .render(
            report=report,
            r=report,
            py=report.get("previous_year"),
            charts=charts,
            forfait_bands=sorted(FORFAIT_BANDS),
        )
    )


class Rendering:
    """The files of one report, each rendered at most once.

    Why: the PDF is the HTML page printed, so asking for both must not lay the page out
    twice (the charts and the template take a noticeable part of a report's time).
    """

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report

    @functools.cached_property
    def html(self) -> str:
        return to_html(self.report)

    def write(self, fmt: str, path: Path) -> None:
        """Write the report in `fmt` to `path`; heavy libraries are imported lazily."""
        if fmt == "json":
            path.write_text(to_json(self.report), encoding="utf-8")
        elif fmt == "html":
            path.write_text(self.html, encoding="utf-8")
        elif fmt == "pdf":
            from pipeline.render.pdf import html_to_pdf

            path.write_bytes(html_to_pdf(self.html))
        elif fmt == "xlsx":
            from pipeline.render.xlsx import write_xlsx

            write_xlsx(self.report, path)
        else:
            raise ValueError(fmt)


def write_report(
    report: dict[str, Any],
    out: Path,
    formats: tuple[str, ...],
    tell: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write `out/<finess>/<year>/annexe3.<fmt>` for each format; return the paths.

    The set is written into a temporary folder beside its target, then moved into place,
    so that a run killed midway leaves the previous complete set or the new one, never
    the new JSON beside the old PDF.
    """
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ValueError(", ".join(unknown))
    target = report_dir(out, report)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = _sibling(target, "partial")
        staging.mkdir()
    except OSError as error:
        raise _not_writable(out, error) from None
    try:
        rendering = Rendering(report)
        for fmt in formats:
            if tell:
                tell(
                    f"Centre {report['meta']['centre_finess']} : écriture du rapport {fmt.upper()}"
                )
            rendering.write(fmt, staging / f"annexe3.{fmt}")
        replace_folder(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise _not_writable(out, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / f"annexe3.{fmt}" for fmt in formats]


def _not_writable(out: Path, error: OSError) -> UsageError:
    """The report's folder cannot be written: which folder, why, what to do."""
    return UsageError(
        f"Impossible d'écrire les rapports dans {out} : {write_reason(error)}. Choisissez un autre "
        "dossier (--out) ou corrigez celui-ci ; les rapports déjà en place sont intacts."
    )


def _sibling(target: Path, kind: str) -> Path:
    """A hidden, unique name beside `target` (same parent: a rename, never a copy)."""
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def replace_folder(new: Path, target: Path) -> None:
    """Put the complete folder `new` at `target`: the old one renamed aside, the new one
    renamed in, then the old one removed (with leftovers of runs killed in between)."""
    old = None
    if target.exists():
        old = _sibling(target, "old")
        os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise
    for leftover in target.parent.glob(f".{target.name}.old-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    # Folders of runs killed while writing (a live run writes for seconds, not an hour).
    for leftover in target.parent.glob(f".{target.name}.partial-*"):
        try:
            stale = time.time() - leftover.stat().st_mtime > STALE_PARTIAL_SECONDS
        except OSError:  # removed meanwhile by another run
            continue
        if stale:
            shutil.rmtree(leftover, ignore_errors=True)


def summary_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The few figures `csi report` prints: (label, figure, N-1, change) in French."""
    py = report.get("previous_year")
    rows = []
    for key, path in SUMMARY_FIGURES.items():
        value, before = dig(report, *path), dig(py, *path)
        rows.append(
            (
                labels.KEY_FIGURES[key],
                french_number(value),
                "" if before is None else french_number(before),
                "" if before is None else change(value, before),
            )
        )
    quality, engagements = report["quality"], report["engagements"]
    counts, total = engagements["counts"], len(engagements["items"])
    return [
        *rows,
        (
            labels.KEY_FIGURES["quality"],
            f"{quality['findings_with_issues']} sur {len(quality['findings'])}",
            "",
            "",
        ),
        (labels.KEY_FIGURES["engagements"], f"{counts['met']} sur {total}", "", ""),
        ("… non respectés", str(counts["not_met"]), "", ""),
        ("… non renseignés", str(counts["unknown"]), "", ""),
    ]


SUMMARY_FIGURES = {
    "insured_patients": ("clientele", "insured_patients"),
    "entries": ("clientele", "entries"),
    "ami": ("acts", "AMI", "count"),
}
