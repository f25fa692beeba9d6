"""French formatting of report figures, shared by the HTML templates, the charts and the XLSX.

Each writer imports its number, date and share formats from here, so the same figure reads
the same in every format.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from markupsafe import Markup

from pipeline.core import labels

MINUS = "\u2212"


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
    """0.034 → « 3,4 % »; a small non-zero share gets the digits it needs, never « 0,0 % ».

    Why: a CPAM agent reading « 0,0 % » beside a count of 3 thinks a figure is wrong.
    Shares are stored to four decimals (0.0001 = 0,01 %), so a non-zero share too small
    to be stored reads « < 0,01 % » (see `french_share`).
    """
    if value is None:
        return "—"
    percent = value * 100
    if percent and round(percent, 1) == 0:
        return f"{french_number(percent, 2)} %"
    return f"{french_number(percent, 1)} %"


def french_share(value: float | None, count: Any = None) -> str:
    """The share of a count: « < 0,01 % » when the count is non-zero but the share rounds to 0."""
    if value is not None and _is_number(count) and count and round(value * 100, 2) == 0:
        return f"< {french_number(0.01, 2)} %"
    return french_percent(value)


def with_unit(count: Any, unit: str) -> str:
    """« 0 infirmière », « 1 ligne », « 12 patients »: the unit agreeing with the count.

    Why: French takes the singular for 0 and 1; a count of nurses said in « lignes » or
    « 0 lignes » is what makes an agent doubt the table.
    """
    singular, plural = labels.UNIT_FORMS.get(unit, (unit, unit))
    word = singular if _is_number(count) and abs(count) < 2 else plural
    return f"{french_number(count)} {word}"


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


def french_long_date(iso: str) -> str:
    """« 2025-01-03 » → « 3 janvier 2025 », « 2025-03-01 » → « 1er mars 2025 »."""
    day = dt.date.fromisoformat(iso)
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {labels.MONTHS[day.month - 1]} {day.year}"


def coverage_text(coverage: dict[str, Any] | None) -> str:
    """« données facturées du 3 janvier 2025 au 28 février 2025 »: what the figures cover.

    Why: a part-year extract must never pass for the whole year on the report's cover.
    """
    if not coverage or not coverage.get("first_act_date"):
        return "aucune donnée facturée"
    first, last = coverage["first_act_date"], coverage["last_act_date"]
    return f"données facturées du {french_long_date(first)} au {french_long_date(last)}"


def missing_months(coverage: dict[str, Any] | None) -> list[str]:
    """The names of the months without any counted line (« mars », « avril »…)."""
    held = set((coverage or {}).get("months") or [])
    return [name for month, name in enumerate(labels.MONTHS, start=1) if month not in held]


BSI_FLAT_FEES = ("BSA", "BSB", "BSC")


class ActPart(NamedTuple):
    """One piece of a family's breakdown: by coefficient or by code, with its French text."""

    kind: str  # "coefficient" or "code"
    key: str
    # Shadows tuple.count on purpose: the templates read `part.count`.
    count: int  # type: ignore[assignment]
    text: str


def _coefficient_text(prefix: str, coefficient: str) -> str:
    """« AMI 1,5 »: a code and its coefficient, French decimal comma."""
    return f"{prefix} {coefficient.replace('.', ',')}"


def _dsi_parts(block: dict[str, Any]) -> list[ActPart]:
    """DI by coefficient, then the BSI flat fees by code: parts that add up to the count.

    Why: the JSON's `by_coefficient` for DSI counts every line, the BSI flat fees (BSA,
    BSB, BSC, billed at coefficient 1) included, and `by_code` counts them again; shown
    side by side they read as twice the count. The flat fees are taken out of
    coefficient 1, leaving DI by coefficient; when that does not add up to DI's count
    (a flat fee billed at another coefficient), DI is shown as one figure.
    """
    codes: dict[str, int] = block.get("by_code") or {}
    flat = {code: n for code, n in codes.items() if code in BSI_FLAT_FEES and n}
    di: dict[str, int] = dict(block.get("by_coefficient") or {})
    if "1" in di or flat:
        di["1"] = di.get("1", 0) - sum(flat.values())
    di = {c: n for c, n in di.items() if n}
    parts: list[ActPart] = []
    if all(n > 0 for n in di.values()) and sum(di.values()) == codes.get("DI", 0):
        parts += [ActPart("coefficient", c, n, _coefficient_text("DI", c)) for c, n in di.items()]
    elif codes.get("DI"):
        parts.append(ActPart("code", "DI", codes["DI"], "DI"))
    parts += [ActPart("code", c, n, f"forfait {c}") for c, n in flat.items()]
    others = {c: n for c, n in codes.items() if c != "DI" and c not in BSI_FLAT_FEES and n}
    parts += [ActPart("code", c, n, c) for c, n in others.items()]
    return parts


def act_parts(family: str, block: dict[str, Any]) -> list[ActPart]:
    """A family's breakdown as shown to people: every act counted once.

    Families have either coefficients (AMI, AMX, AIS) or codes (majorations, other
    acts); DSI has both, and is split into DI coefficients and BSI flat fees.
    """
    if family == "DSI":
        return _dsi_parts(block)
    parts = [
        ActPart("coefficient", c, n, _coefficient_text(family, c))
        for c, n in (block.get("by_coefficient") or {}).items()
    ]
    parts += [ActPart("code", c, n, c) for c, n in (block.get("by_code") or {}).items()]
    return parts


def age_gap(report: dict[str, Any]) -> str:
    """Why « Âge inconnu » exceeds « Patients sans date de naissance », in French.

    A patient's age is unknown when the patients export has no birth date for them, or
    when they are billed but missing from that export (quality check `unknown_patient`,
    which counts their lines). The gap is worked out from figures already in the JSON.
    """
    unknown = dig(report, "clientele", "age_unknown")
    no_birth = dig(report, "quality", "findings", "patient_without_birth_date", "count")
    if not _is_number(unknown) or not _is_number(no_birth) or unknown <= no_birth:
        return ""
    missing = unknown - no_birth
    lines = dig(report, "quality", "findings", "unknown_patient", "count")
    patients = with_unit(missing, "patients")
    verb = "est absent" if missing == 1 else "sont absents"
    text = (
        f"Âge inconnu : {with_unit(unknown, 'insured')}, dont {french_number(no_birth)} "
        f"sans date de naissance dans l'export des patients ; {patients} de l'année "
        f"{verb} de cet export"
    )
    if _is_number(lines) and lines:
        text += f" (contrôle « {labels.QUALITY['unknown_patient']} » : {with_unit(lines, 'lines')})"
    return text + "."


def dig(data: Any, *path: str) -> Any:
    """`data[a][b]…`, or None as soon as a step is missing (no N-1 figure to show)."""
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data
