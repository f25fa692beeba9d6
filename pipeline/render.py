"""Write a report dict to files: JSON (the machine contract), HTML, PDF and XLSX (for people).

The HTML is the single layout: the PDF is that HTML printed by WeasyPrint (print rules
live in `report.css`), so a figure cannot differ between the two. The XLSX is built
from the same dict by `pipeline.xlsx`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipeline import labels
from pipeline.resources import resource_dir

FORMATS = ("json", "html", "pdf", "xlsx")
MINUS = "\u2212"


def report_dir(out: Path, report: dict[str, Any]) -> Path:
    """`out/<finess>/<year>`: one folder per centre and year."""
    return out / report["meta"]["centre_finess"] / str(report["meta"]["year"])


def to_json(report: dict[str, Any]) -> str:
    """The machine contract: keys in the report's order, French text unescaped."""
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def _is_number(value: Any) -> bool:
    """A real number (booleans are ints to Python, not figures to us)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def french_number(value: Any, decimals: int | None = None) -> str:
    """1234.5 → « 1 234,5 »: the way a CPAM agent reads figures."""
    if value is None:
        return "—"
    if not _is_number(value):
        return str(value)
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",").replace("-", MINUS)


def french_percent(value: float | None) -> str:
    """0.034 → « 3,4 % »."""
    return "—" if value is None else f"{french_number(value * 100, 1)} %"


def _signed(value: float, decimals: int | None) -> str:
    """« +12 », « −3,5 », « 0 »: a change always says its direction."""
    sign = "+" if value > 0 else (MINUS if value < 0 else "")
    return sign + french_number(abs(value), decimals)


def change_ratio(current: Any, previous: Any) -> float | None:
    """(N − N-1) / N-1, or None when it means nothing (no N-1 figure, or N-1 = 0)."""
    if not (_is_number(current) and _is_number(previous)) or previous == 0:
        return None
    return (current - previous) / previous


def change(current: Any, previous: Any, decimals: int | None = None) -> str:
    """« +12 (+4,1 %) »: the change from N-1, absolute then relative."""
    if not (_is_number(current) and _is_number(previous)):
        return "—"
    diff = round(current - previous, 2)
    ratio = change_ratio(current, previous)
    if ratio is None:
        return _signed(diff, decimals)
    return f"{_signed(diff, decimals)} ({_signed(round(ratio * 100, 1), 1)}\u00a0%)"


def french_datetime(iso: str) -> str:
    """« 2026-11-23T09:07:18+00:00 » → « 23/11/2026 à 09:07 »."""
    moment = dt.datetime.fromisoformat(iso)
    return moment.strftime("%d/%m/%Y à %H:%M")


def css_string(text: Any) -> str:
    """Quote a value for a CSS `content:` string (running header and footer of the PDF)."""
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", " "), ("<", "\\3c ")):
        text = str(text).replace(raw, escaped)
    return Markup(f'"{text}"')


def french_date(iso: str | None) -> str:
    """« 2025-03-01 » → « 01/03/2025 »; nothing for a missing date."""
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def dig(data: Any, *path: str) -> Any:
    """`data[a][b]…`, or None as soon as a step is missing (no N-1 figure to show)."""
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


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
    """`pipeline.labels` for the templates: text written by us, never by a centre's export."""
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
        fr_datetime=french_datetime,
        fr_date=french_date,
        css=css_string,
    )
    env.globals.update(labels=trusted_labels(), change=change, dig=dig)
    return env


def to_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (styles and charts inline)."""
    from pipeline.charts import report_charts
    from pipeline.register_sections import FORFAIT_BANDS

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


def _write_pdf(report: dict[str, Any], path: Path) -> None:
    """Imported lazily: WeasyPrint takes a second to load."""
    from pipeline.pdf import write_pdf

    write_pdf(report, path)


def _write_xlsx(report: dict[str, Any], path: Path) -> None:
    """Imported lazily, like every heavy dependency of the CLI."""
    from pipeline.xlsx import write_xlsx

    write_xlsx(report, path)


WRITERS: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "json": lambda report, path: path.write_text(to_json(report), encoding="utf-8"),
    "html": lambda report, path: path.write_text(to_html(report), encoding="utf-8"),
    "pdf": _write_pdf,
    "xlsx": _write_xlsx,
}


def write_report(report: dict[str, Any], out: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write `out/<finess>/<year>/annexe3.<fmt>` for each format; return the paths."""
    target = report_dir(out, report)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        if fmt not in WRITERS:
            raise ValueError(fmt)
        path = target / f"annexe3.{fmt}"
        WRITERS[fmt](report, path)
        written.append(path)
    return written


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
