"""Charts of the report as inline SVG, written by hand.

Hand-written SVG needs no browser and no plotting library, renders the same in a web
browser and in WeasyPrint, and stays vector (sharp when printed). Each function returns
one `<svg>` string; `report_charts` gives the template every chart of a report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from pipeline.core import labels
from pipeline.core.reference import COEFFICIENT_FAMILIES
from pipeline.render.formatting import act_parts, french_number

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
INK = "#1d2733"
MUTED = "#5b6773"
GRID = "#d9e1e8"
ACCENT = "#005a8c"
REASON_COLOURS = {
    "chronic": "#005a8c",
    "acute": "#5aa9d6",
    "palliative": "#c9822b",
    "unattributed": "#a7b1bb",
}


@dataclass(frozen=True)
class Series:
    """One coloured series of a stacked column chart."""

    label: str
    colour: str
    values: Sequence[float]


def _svg(width: int, height: float, body: str, title: str) -> str:
    """Wrap shapes in an accessible, scalable `<svg>` element."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'font-family="{FONT}" font-size="10" fill="{INK}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", **attrs: Any) -> str:
    """A `<text>` element; extra attributes as keywords (`font_size` → `font-size`)."""
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    """A filled rectangle; negative sizes (no data) draw nothing."""
    size = f'width="{max(w, 0):.1f}" height="{max(h, 0):.1f}"'
    return f'<rect x="{x:.1f}" y="{y:.1f}" {size} fill="{fill}"/>'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1) -> str:
    """A straight stroke."""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{stroke}" stroke-width="{width}"/>'
    )


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """Whole axis ticks (steps of 1, 2 or 5 × 10ⁿ) from 0 to at least `maximum`.

    The charts count patients, acts and days: a fractional tick would mean nothing.
    """
    if maximum <= 0:
        return [0, 1]
    raw = max(maximum / count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(maximum / step) + 1)]


def _legend(items: Sequence[tuple[str, str]], x: float, width: float) -> tuple[str, float]:
    """Coloured squares and labels, wrapped to `width`; returns the shapes and their height."""
    parts, cursor, y = [], x, 10.0
    for label, colour in items:
        size = 12 + 5.6 * len(label)
        if cursor + size > width and cursor > x:
            cursor, y = x, y + 13
        parts += [_rect(cursor, y - 7.5, 8, 8, colour), _text(cursor + 11, y, label, font_size=9)]
        cursor += size + 10
    return "".join(parts), y + 6


def _y_axis(ticks: list[float], left: float, right: float, top: float, bottom: float) -> str:
    """Horizontal grid lines with their values at the left."""
    parts = []
    for tick in ticks:
        y = bottom - (bottom - top) * tick / ticks[-1]
        parts.append(_line(left, y, right, y, GRID))
        parts.append(_text(left - 4, y + 3.5, french_number(tick), "end", fill=MUTED))
    return "".join(parts)


def stacked_columns(
    title: str, categories: Sequence[str], series: Sequence[Series], width: int = 340
) -> str:
    """Stacked columns, one per category (the 12 months), with a legend on top."""
    left = 34
    legend, legend_height = _legend([(s.label, s.colour) for s in series], left, width)
    top = legend_height + 12
    bottom, height = top + 150, top + 176
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    ticks = nice_ticks(max(totals, default=0))
    slot = (width - left - 4) / len(categories)
    parts = [legend, _y_axis(ticks, left, width - 4, top, bottom)]
    for i, category in enumerate(categories):
        x, base = left + i * slot + slot * 0.18, bottom
        for s in series:
            h = (bottom - top) * s.values[i] / ticks[-1]
            parts.append(_rect(x, base - h, slot * 0.64, h, s.colour))
            base -= h
        parts.append(_text(x + slot * 0.32, bottom + 13, category, "middle", font_size=8.5))
    parts.append(_line(left, bottom, width - 4, bottom, INK))
    return _svg(width, height, "".join(parts), title)


def _monthly_series(monthly: list[dict[str, Any]], measure: str) -> list[Series]:
    """Reasons as stacked series; unattributed patients only exist for patients."""
    reasons = ["chronic", "acute", "palliative"]
    if measure == "patients":
        reasons.append("unattributed")
    return [
        Series(
            labels.REASONS_SHORT[r],
            REASON_COLOURS[r],
            [row[f"{r}_{measure}"] for row in monthly],
        )
        for r in reasons
    ]


def monthly_charts(monthly: list[dict[str, Any]]) -> dict[str, str]:
    """Patients and entries by reason, month by month (section 2)."""
    months = [m[:4].rstrip(".") for m in labels.MONTHS_SHORT]
    return {
        "monthly_patients": stacked_columns(
            labels.CHARTS["monthly_patients"], months, _monthly_series(monthly, "patients")
        ),
        "monthly_entries": stacked_columns(
            labels.CHARTS["monthly_entries"], months, _monthly_series(monthly, "entries")
        ),
    }


def horizontal_bars(title: str, items: Sequence[tuple[str, float]], width: int = 680) -> str:
    """One labelled bar per item, value written at the end of the bar."""
    label_width, row, top = 250, 19, 4
    height = top + row * len(items) + 4
    peak = max((v for _, v in items), default=0) or 1
    span = width - label_width - 70
    parts = []
    for i, (label, value) in enumerate(items):
        y = top + i * row
        w = span * value / peak
        parts.append(_text(label_width - 8, y + 12, label, "end"))
        parts.append(_rect(label_width, y + 2, w, row - 6, ACCENT))
        parts.append(_text(label_width + w + 5, y + 12, french_number(value), fill=MUTED))
    parts.append(_line(label_width, top, label_width, height - 4, INK))
    return _svg(width, height, "".join(parts), title)


def _panel_columns(family: str, block: dict[str, Any]) -> dict[str, float]:
    """A family's columns, label → count; DSI as DI coefficients then BSI flat fees.

    Why: DSI's `by_coefficient` counts the BSI flat fees at coefficient 1, which would
    draw them as a « DI 1 » column; `act_parts` shows every act once, as the tables do.
    """
    if family == "DSI":
        return {
            (p.text if p.kind == "coefficient" else p.key): p.count
            for p in act_parts(family, block)
        }
    return {c.replace(".", ","): n for c, n in (block.get("by_coefficient") or {}).items()}


def _coefficient_panel(family: str, by_coefficient: dict[str, float], x: float, w: float) -> str:
    """Columns of one family's coefficients (labels already in French), count on top."""
    top, bottom = 36, 150
    peak = max(by_coefficient.values()) or 1
    slot = w / len(by_coefficient)
    parts = [_text(x + w / 2, 12, family, "middle", font_weight="bold")]
    for i, (coefficient, count) in enumerate(by_coefficient.items()):
        cx = x + i * slot + slot / 2
        h = (bottom - top) * count / peak
        parts.append(_rect(cx - slot * 0.3, bottom - h, slot * 0.6, h, ACCENT))
        parts.append(_text(cx, bottom - h - 4, french_number(count), "middle", font_size=8.5))
        parts.append(_text(cx, bottom + 13, coefficient, "middle"))
    parts.append(_line(x, bottom, x + w, bottom, INK))
    return "".join(parts)


def coefficient_columns(acts: dict[str, Any], width: int = 680) -> str:
    """Small multiples: one panel per act family (AMI, AMX, AIS, DSI), own scale each."""
    columns = {f: _panel_columns(f, acts[f]) for f in COEFFICIENT_FAMILIES}
    families = [f for f in COEFFICIENT_FAMILIES if columns[f]]
    if not families:
        return ""
    slots = [max(len(columns[f]), 2) for f in families]
    gap = 24
    unit = (width - gap * (len(families) - 1)) / sum(slots)
    parts, x = [], 0.0
    for family, slot in zip(families, slots, strict=True):
        parts.append(_coefficient_panel(family, columns[family], x, unit * slot))
        x += unit * slot + gap
    parts.append(_text(0, 180, "Coefficient", fill=MUTED, font_size=8.5))
    return _svg(width, 186, "".join(parts), labels.CHARTS["acts_by_coefficient"])


def acts_by_family(acts: dict[str, Any]) -> str:
    """Counts of every family with activity (section 3)."""
    items = [
        (label, acts[family]["count"])
        for family, label in labels.ACT_FAMILIES.items()
        if acts[family]["count"]
    ]
    return horizontal_bars(labels.CHARTS["acts_by_family"], items) if items else ""


def _days(value: float) -> str:
    """« 26 », « 35,3 »: a duration in days with at most one decimal."""
    return french_number(value, 0 if float(value).is_integer() else 1)


def _duration_marks(d: dict[str, Any], x_of: Callable[[float], float]) -> list[str]:
    """The min–max band, the median line (labelled above), the mean diamond (below)."""
    top, bottom = 28, 46
    lo, hi, median, mean = (x_of(d[k]) for k in ("min", "max", "median", "mean"))
    mid = (top + bottom) / 2
    diamond = (
        f"M{mean:.1f} {mid - 6} L{mean + 6:.1f} {mid} L{mean:.1f} {mid + 6} L{mean - 6:.1f} {mid} Z"
    )
    return [
        _rect(lo, top, hi - lo, bottom - top, "#cfe3f0"),
        _line(lo, top - 4, lo, bottom + 4, ACCENT, 2),
        _line(hi, top - 4, hi, bottom + 4, ACCENT, 2),
        _line(median, top - 6, median, bottom + 6, INK, 2.5),
        _text(
            median,
            top - 10,
            f"{labels.CHARTS['median']} {_days(d['median'])}",
            "middle",
            fill=MUTED,
        ),
        f'<path d="{diamond}" fill="{REASON_COLOURS["palliative"]}"/>',
        _text(
            mean, bottom + 16, f"{labels.CHARTS['mean']} {_days(d['mean'])}", "middle", fill=MUTED
        ),
    ]


def _days_axis(ticks: list[float], x_of: Callable[[float], float], y: float) -> list[str]:
    """A horizontal axis in days with its ticks."""
    parts = [_line(x_of(ticks[0]), y, x_of(ticks[-1]), y, INK)]
    for tick in ticks:
        parts.append(_line(x_of(tick), y, x_of(tick), y + 4, INK))
        parts.append(_text(x_of(tick), y + 15, french_number(tick), "middle", fill=MUTED))
    return parts


def duration_range(duration: dict[str, Any], width: int = 680) -> str:
    """Min–max band of the discharge episodes' durations, with median and mean marked.

    The report gives five figures, not the episodes: a band says as much as a box plot
    could without inventing quartiles.
    """
    if duration.get("max") is None:
        return ""
    ticks = nice_ticks(duration["max"], 8)

    def x_of(days: float) -> float:
        return 20 + (width - 40) * days / ticks[-1]

    parts = [*_duration_marks(duration, x_of), *_days_axis(ticks, x_of, 74)]
    parts.append(_text(width - 20, 103, labels.CHARTS["days"], "end", fill=MUTED, font_size=8.5))
    return _svg(width, 106, "".join(parts), labels.CHARTS["discharge_durations"])


def report_charts(report: dict[str, Any]) -> dict[str, str]:
    """Every chart of the report, keyed by its place in the template ("" when no data)."""
    return {
        **monthly_charts(report["monthly"]),
        "acts_by_family": acts_by_family(report["acts"]),
        "acts_by_coefficient": coefficient_columns(report["acts"]),
        "discharge_durations": duration_range(report["hospital_discharge"]["duration_days"]),
    }
