"""Write a report dict to files: JSON (the machine contract) and HTML (for people)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline import labels
from pipeline.resources import resource_dir

FORMATS = ("json", "html")


def report_dir(out: Path, report: dict[str, Any]) -> Path:
    return out / report["meta"]["centre_finess"] / str(report["meta"]["year"])


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def french_number(value: Any, decimals: int | None = None) -> str:
    """1234.5 → « 1 234,5 »: the way a CPAM agent reads figures."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def french_percent(value: float | None) -> str:
    return "—" if value is None else f"{french_number(value * 100, 1)} %"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(resource_dir("report_templates")),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fr"] = french_number
    env.filters["pct"] = french_percent
    env.globals["labels"] = labels
    return env


def to_html(report: dict[str, Any]) -> str:
    return environment().get_template("annexe3.html.j2").render(report=report, r=report)


def write_report(report: dict[str, Any], out: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write `out/<finess>/<year>/annexe3.<fmt>` for each format; return the paths."""
    target = report_dir(out, report)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = target / f"annexe3.{fmt}"
        if fmt == "json":
            path.write_text(to_json(report), encoding="utf-8")
        elif fmt == "html":
            path.write_text(to_html(report), encoding="utf-8")
        else:
            raise ValueError(fmt)
        written.append(path)
    return written
