"""The report as an Excel workbook: one sheet per section, numbers kept as numbers.

Why a workbook beside the PDF: the centre's accountant and the CPAM agent re-use the
figures (sums, charts, their own tables); numbers stored as text would defeat that.
Each sheet is first described as plain data (`Sheet` → `Block` → rows), then written by
one generic writer, so the layout rules live in one place. Each number's format follows
the `Kind` declared with its column (or, in a table of various indicators, its row):
renaming a label never changes a format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pipeline.core import labels
from pipeline.core.reference import FORFAIT_BANDS
from pipeline.render.formatting import (
    ActPart,
    act_parts,
    change_ratio,
    coverage_text,
    dig,
    french_datetime,
    missing_months,
)


class Kind(StrEnum):
    """What a number is, declared with its column or row; its cell format follows it."""

    COUNT = "count"  # how many: patients, acts, lines, meetings, the days of a stay
    NUMBER = "number"  # a number as written: a coefficient, km
    IDENTIFIER = "identifier"  # a year, a load number: digits without a thousands separator
    EUROS = "euros"
    FTE = "fte"  # full-time equivalents
    COEFFICIENTS = "coefficients"  # a sum of billed coefficients
    DAYS = "days"  # days of training, a mean or median duration
    SHARE = "share"  # a share of a whole, as a percentage


# Read with two decimals even when whole; the other kinds show decimals only when a value
# has a fraction (a whole-number format never rounds a fraction away).
DECIMAL_KINDS = frozenset({Kind.EUROS, Kind.FTE, Kind.COEFFICIENTS, Kind.DAYS})


class Ratio(float):
    """A relative change from N-1, written as a signed percentage."""


@dataclass(frozen=True)
class Change:
    """A signed absolute change from N-1, written with its sign in its figure's kind."""

    value: float


@dataclass(frozen=True)
class Column:
    """A table's column: its French header and the kind of the numbers it holds.

    No kind: text and dates, or numbers whose kind each row declares (`Row`).
    """

    head: str
    kind: Kind | None = None


@dataclass(frozen=True)
class Row:
    """A row of a table of various indicators, whose numbers are all of `kind`."""

    kind: Kind
    cells: list[Any]


@dataclass
class Block:
    """One table of a sheet: an optional title, its columns, rows of cells."""

    columns: list[Column]
    rows: Sequence[list[Any] | Row]
    title: str | None = None


@dataclass
class Sheet:
    """One sheet: its key in `labels.XLSX_SHEETS`, a title and its tables."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    note: str | None = None


def columns(*specs: str | tuple[str, Kind]) -> list[Column]:
    """Columns from their headers; a (header, kind) pair for a column of numbers."""
    return [Column(*spec) if isinstance(spec, tuple) else Column(spec) for spec in specs]


NO_REGISTER = "Registre du centre absent pour cette année : section non renseignée."
YES_NO = {True: "oui", False: "non", None: "non renseigné"}


# --------------------------------------------------------------------------- N-1 columns


def yoy_heads(year: int, previous: dict[str, Any] | None, what: str = "") -> list[str]:
    """Headers of a figure and, when N-1 is known, of its N-1 value and changes."""
    head = f"{what} {year}".strip()
    if not previous:
        return [head]
    before = f"{what} {previous['year']}".strip()
    if not what:
        return [head, before, labels.YOY["change"], labels.YOY["change_pct"]]
    change, pct = labels.YOY["change"].lower(), labels.YOY["change_pct"].lower()
    return [head, before, f"{what} : {change}", f"{what} : {pct}"]


def yoy_columns(
    year: int, previous: dict[str, Any] | None, what: str = "", kind: Kind | None = None
) -> list[Column]:
    """The columns of `yoy_heads`, of one kind (each row's when None): the change is
    written in that kind, the relative change as a percentage (`Ratio`)."""
    return [Column(head, kind) for head in yoy_heads(year, previous, what)]


def yoy_cells(value: Any, prev: Any, previous: dict[str, Any] | None) -> list[Any]:
    """A figure, then its N-1 value, absolute change and relative change when known."""
    if not previous:
        return [value]
    if prev is None or value is None:
        return [value, prev, None, None]
    ratio = change_ratio(value, prev)
    return [value, prev, Change(round(value - prev, 2)), None if ratio is None else Ratio(ratio)]


def _date(iso: str | None) -> dt.date | None:
    """ISO text → date, so that Excel sorts and filters it as a date."""
    return dt.date.fromisoformat(iso) if iso else None


# --------------------------------------------------------------------------- sheets 1–3


def meta_sheet(r: dict[str, Any]) -> Sheet:
    """Who, which year, and the fingerprints an auditor needs to regenerate the figures."""
    m, previous = r["meta"], r.get("previous_year")
    rows: list[list[Any] | Row] = [
        ["Centre", m["centre_name"]],
        ["FINESS", m["centre_finess"]],
        ["Adresse", (r.get("attestation") or {}).get("address") or "non renseignée"],
        [
            "Représentant légal",
            (r.get("attestation") or {}).get("legal_representative") or "non renseigné",
        ],
        Row(Kind.IDENTIFIER, ["Année", m["year"]]),
        ["Période couverte", coverage_text(m.get("coverage"))],
        ["Mois sans données", ", ".join(missing_months(m.get("coverage"))) or "aucun"],
        Row(
            Kind.IDENTIFIER,
            ["Année de comparaison (N-1)", previous["year"] if previous else "aucune"],
        ),
        ["Généré le", french_datetime(m["generated_at"])],
        ["Version de csi", m["package_version"]],
        Row(Kind.IDENTIFIER, ["Chargement n°", m["as_of_load"]]),
        [
            "Jours fériés",
            "Alsace-Moselle" if m["holiday_zone"] == "alsace_moselle" else "métropole",
        ],
        ["Empreinte des fichiers sources (SHA-256)", m["inputs_fingerprint"]],
        ["Référentiel NGAP (SHA-256)", m["reference"]["ngap_sha256"]],
    ]
    title = f"Rapport d'activité {m['year']} (annexe 3)"
    return Sheet("meta", title, [Block(columns("Rubrique", "Valeur"), rows)])


def clientele_sheet(r: dict[str, Any]) -> Sheet:
    """Section 1, each figure beside its N-1 value and change."""
    py = r.get("previous_year")
    rows = [
        [label, *yoy_cells(r["clientele"][key], dig(py, "clientele", key), py)]
        for key, label in labels.CLIENTELE.items()
    ]
    heads = [Column("Indicateur"), *yoy_columns(r["meta"]["year"], py, kind=Kind.COUNT)]
    return Sheet("clientele", labels.SECTIONS["clientele"], [Block(heads, rows)])


def _monthly_yoy_rows(r: dict[str, Any], py: dict[str, Any]) -> list[list[Any]]:
    """Yearly totals of N-1, then the absolute and relative changes."""
    now, before = r["monthly_totals"], py["monthly_totals"]
    return [
        [f"Année {py['year']}", *(before[k] for k in labels.MONTHLY)],
        [labels.YOY["change"], *(Change(now[k] - before[k]) for k in labels.MONTHLY)],
        [
            labels.YOY["change_pct"],
            *(
                Ratio(x) if (x := change_ratio(now[k], before[k])) is not None else None
                for k in labels.MONTHLY
            ),
        ],
    ]


def monthly_sheet(r: dict[str, Any]) -> Sheet:
    """Section 2: twelve months, the year's totals, then N-1 when known."""
    py = r.get("previous_year")
    rows = [
        [labels.MONTHS[row["month"] - 1], *(row[k] for k in labels.MONTHLY)] for row in r["monthly"]
    ]
    rows.append([f"Année {r['meta']['year']}", *(r["monthly_totals"][k] for k in labels.MONTHLY)])
    if py:
        rows += _monthly_yoy_rows(r, py)
    heads = [Column("Mois"), *(Column(label, Kind.COUNT) for label in labels.MONTHLY.values())]
    return Sheet("monthly", labels.SECTIONS["monthly"], [Block(heads, rows)])


def origin_sheet(r: dict[str, Any]) -> Sheet:
    """Patients by referral origin and by postcode (section 2)."""
    referral = [
        [labels.REFERRAL_ORIGINS.get(k, k), n] for k, n in r["origin"]["by_referral"].items()
    ]
    postcode = [
        ["Inconnu" if k == "unknown" else k, n] for k, n in r["origin"]["by_postcode"].items()
    ]
    return Sheet(
        "origin",
        labels.SECTIONS["origin"],
        [
            Block(columns("Adressé par", ("Assurés", Kind.COUNT)), referral),
            Block(columns("Code postal de résidence", ("Assurés", Kind.COUNT)), postcode),
        ],
    )


ACT_MEASURES = {
    "count": ("Nombre", Kind.COUNT),
    "coefficient_total": ("Coefficients facturés", Kind.COEFFICIENTS),
    "km": ("Kilomètres", Kind.NUMBER),
    "amount_eur": ("Montant (€)", Kind.EUROS),
}


def acts_block(
    acts: dict[str, Any], year: int, py: dict[str, Any] | None, title: str | None
) -> Block:
    """Section 3 figures of every family, with N-1 beside each when `py` is given."""
    heads = [Column("Acte")]
    for label, kind in ACT_MEASURES.values():
        heads += yoy_columns(year, py, label, kind)
    rows = []
    for family, label in labels.ACT_FAMILIES.items():
        row: list[Any] = [label]
        for key in ACT_MEASURES:
            row += yoy_cells(acts[family].get(key), dig(py, "acts", family, key), py)
        rows.append(row)
    return Block(heads, rows, title)


def acts_sheet(r: dict[str, Any]) -> Sheet:
    """Section 3 for all patients, with N-1 beside each measure."""
    block = acts_block(r["acts"], r["meta"]["year"], r.get("previous_year"), None)
    return Sheet("acts", labels.SECTIONS["acts"], [block])


def _breakdown_rows(scope: str, acts: dict[str, Any]) -> list[list[Any]]:
    """One row per coefficient or code of each family, coefficients as numbers.

    Each act is counted once (`act_parts`): the rows of a family add up to its count.
    """
    rows = []
    for family, label in labels.ACT_FAMILIES.items():
        for part in act_parts(family, acts[family]):
            rows.append([scope, label, _part_kind(family, part), _part_key(part), part.count])
    return rows


def _part_kind(family: str, part: ActPart) -> str:
    """How a row breaks its family down; for DSI, DI coefficients apart from BSI flat fees."""
    if family == "DSI":
        return "DI, coefficient" if part.kind == "coefficient" else "forfait BSI ou code"
    return part.kind


def _part_key(part: ActPart) -> float | str:
    """A coefficient as a number (to sum and pivot), a code or « non renseigné » as text."""
    if part.kind != "coefficient":
        return part.key
    try:
        return float(part.key)
    except ValueError:
        return part.key


def acts_detail_sheet(r: dict[str, Any]) -> Sheet:
    """The breakdowns by coefficient and code, long format: easy to pivot."""
    rows = _breakdown_rows("Tous les assurés", r["acts"])
    rows += _breakdown_rows("Sortie d'hospitalisation", r["hospital_discharge"]["acts"])
    heads = columns(
        "Périmètre",
        "Acte",
        "Ventilation",
        ("Coefficient ou code", Kind.NUMBER),
        ("Nombre", Kind.COUNT),
    )
    return Sheet("acts_detail", labels.ACT_FIELDS["by_coefficient"], [Block(heads, rows)])


def _groups_block(groups: dict[str, int], head: str, names: dict[str, str]) -> Block:
    """Patients per group (establishment, service, care type)."""
    rows = [[names.get(k, k), n] for k, n in groups.items()]
    return Block(columns(head, ("Assurés", Kind.COUNT)), rows)


# Stays last whole days (counted); their mean and median are read with decimals.
DURATION_KINDS = {
    "total": Kind.COUNT,
    "mean": Kind.DAYS,
    "median": Kind.DAYS,
    "min": Kind.COUNT,
    "max": Kind.COUNT,
}


def discharge_sheet(r: dict[str, Any]) -> Sheet:
    """The hospital-discharge cohort: counts with N-1, durations, groups and acts."""
    h, py, year = r["hospital_discharge"], r.get("previous_year"), r["meta"]["year"]
    figures = [
        Row(
            Kind.COUNT,
            [
                "Nombre d'assurés",
                *yoy_cells(h["patients"], dig(py, "hospital_discharge", "patients"), py),
            ],
        ),
        Row(
            Kind.COUNT,
            [
                "Nombre de prises en charge",
                *yoy_cells(h["episodes"], dig(py, "hospital_discharge", "episodes"), py),
            ],
        ),
        *(
            Row(DURATION_KINDS[key], [label, h["duration_days"][key]])
            for key, label in labels.DURATION.items()
        ),
    ]
    unknown = {"unknown": "Non renseigné"}
    blocks = [
        Block([Column("Indicateur"), *yoy_columns(year, py)], figures),
        _groups_block(h["by_establishment"], "Établissement d'origine", unknown),
        _groups_block(h["by_service"], "Service d'origine", unknown),
        _groups_block(h["by_care_type"], "Type de prise en charge", labels.CARE_TYPES),
        Block(
            columns("Autre type de prise en charge, précisé"),
            [[t] for t in h["other_care_details"]],
        ),
        acts_block(h["acts"], year, None, "Actes des assurés sortis d'hospitalisation"),
    ]
    return Sheet("hospital_discharge", labels.SECTIONS["hospital_discharge"], blocks)


# --------------------------------------------------------------------------- sheets 4–9


def staff_sheet(r: dict[str, Any]) -> Sheet:
    """Section 4, from the centre register."""
    s = r["staff"]
    sheet = Sheet("staff", labels.SECTIONS["staff"])
    if not s:
        sheet.note = NO_REGISTER
        return sheet
    rows: list[list[Any] | Row] = [
        Row(Kind.COUNT, ["Nombre total d'infirmières exerçant dans le centre", s["nurses"]]),
        Row(Kind.FTE, ["Nombre d'équivalents temps plein", s["nurse_fte"]]),
        Row(
            Kind.COUNT,
            [
                "Infirmières habilitées à pratiquer les actes de chimiothérapie",
                s["chemotherapy_qualified"],
            ],
        ),
        Row(Kind.COUNT, ["Infirmières disposant d'une autre compétence", s["other_competence"]]),
        ["Autres compétences", ", ".join(s["other_competences"])],
        Row(Kind.COUNT, ["Secrétaires", s["secretaries"]]),
        Row(Kind.FTE, ["Secrétaires (ETP)", s["secretary_fte"]]),
        Row(Kind.COUNT, ["Infirmières d'encadrement", s["managers"]]),
        Row(Kind.FTE, ["Infirmières d'encadrement (ETP)", s["manager_fte"]]),
    ]
    sheet.blocks.append(Block(columns("Indicateur", "Valeur"), rows))
    return sheet


def _means_blocks(mm: dict[str, Any]) -> list[Block]:
    """Section 5: meetings, partners by nature, meetings per partner, patient file."""
    pf = mm["patient_file"] or {}
    figures: list[list[Any] | Row] = [
        Row(Kind.COUNT, ["Réunions de coordination interne", mm["internal_meetings"]]),
        Row(Kind.COUNT, ["Partenaires", mm["partners"]["total"]]),
        Row(Kind.COUNT, ["… dont sous convention", mm["partners"]["with_convention"]]),
        Row(Kind.COUNT, ["… dont sans convention", mm["partners"]["without_convention"]]),
        ["Dossier patient spécifique", YES_NO[pf.get("specific")]],
        ["Dossier informatisé", YES_NO[pf.get("computerised")]],
        ["Dossier partagé", YES_NO[pf.get("shared")]],
        ["Cahier de transmission", YES_NO[mm["transmission_log"]]],
    ]
    natures = [
        [labels.PARTNER_NATURES.get(k, k), v["with_convention"], v["without_convention"]]
        for k, v in mm["partners"]["by_nature"].items()
    ]
    partners = [
        [
            p["name"],
            labels.PARTNER_NATURES.get(p["nature"], p["nature"]),
            _date(p["convention_signed"]) or "sans convention",
            p["meetings"],
        ]
        for p in mm["meetings_by_partner"]
    ]
    return [
        Block(columns("Indicateur", "Valeur"), figures),
        Block(
            columns(
                "Nature du partenaire",
                ("Avec convention", Kind.COUNT),
                ("Sans convention", Kind.COUNT),
            ),
            natures,
        ),
        Block(
            columns(
                "Partenaire",
                "Nature",
                "Convention signée le",
                ("Réunions de coordination", Kind.COUNT),
            ),
            partners,
        ),
    ]


def means_sheet(r: dict[str, Any]) -> Sheet:
    """Section 5, or a note when the register is missing."""
    sheet = Sheet("means", labels.SECTIONS["means"])
    if r["means"]:
        sheet.blocks = _means_blocks(r["means"])
    else:
        sheet.note = NO_REGISTER
    return sheet


def permanence_sheet(r: dict[str, Any]) -> Sheet:
    """Section 6: the centre's own descriptions."""
    sheet = Sheet("permanence", labels.SECTIONS["permanence"])
    if r["permanence"] is None:
        sheet.note = NO_REGISTER
    else:
        sheet.blocks.append(Block(columns("Modalité"), [[p] for p in r["permanence"]]))
    return sheet


def prevention_sheet(r: dict[str, Any]) -> Sheet:
    """Section 7, one row per action with its level and date."""
    sheet = Sheet("prevention", labels.SECTIONS["prevention"])
    if r["prevention"] is None:
        sheet.note = NO_REGISTER
        return sheet
    rows = [
        [label, a["title"], _date(a["date"])]
        for level, label in labels.PREVENTION_LEVELS.items()
        for a in r["prevention"]["by_level"].get(level, [])
    ]
    sheet.blocks.append(Block(columns("Niveau", "Action", "Date"), rows))
    return sheet


def promotion_sheet(r: dict[str, Any]) -> Sheet:
    """Section 8, one row per action."""
    sheet = Sheet("promotion", labels.SECTIONS["promotion"])
    if r["promotion"] is None:
        sheet.note = NO_REGISTER
        return sheet
    rows = [[a["title"], _date(a["date"])] for a in r["promotion"]["actions"]]
    sheet.blocks.append(Block(columns("Action", "Date"), rows))
    return sheet


def training_sheet(r: dict[str, Any]) -> Sheet:
    """Section 9, with the total of days (the 2-day commitment reads it)."""
    sheet = Sheet("training", labels.SECTIONS["training"])
    if r["training"] is None:
        sheet.note = NO_REGISTER
        return sheet
    rows = [
        [label, t["description"], t["nurses_trained"], t["days"]]
        for kind, label in labels.TRAINING_KINDS.items()
        for t in r["training"]["by_kind"].get(kind, [])
    ]
    rows.append(["Total", None, None, r["training"]["total_days"]])
    heads = columns(
        "Type", "Description", ("Infirmières formées", Kind.COUNT), ("Jours", Kind.DAYS)
    )
    sheet.blocks.append(Block(heads, rows))
    return sheet


# --------------------------------------------------------------------------- beyond the annexe


def _band_label(low: int, high: int | None) -> str:
    """« de 4 à moins de 7 »: a band of the flat-fee scale in words."""
    if low == 0:
        return f"moins de {high}"
    return f"de {low} à moins de {high}" if high else f"{low} et plus"


def forfait_sheet(r: dict[str, Any]) -> Sheet:
    """The coordination flat fee, with the scale and the centre's band marked."""
    f = r["forfait"]
    sheet = Sheet("forfait", labels.SECTIONS["forfait"])
    if f["amount_eur"] is None:
        sheet.note = "Non calculable sans registre du centre (ETP infirmiers inconnus)."
    rows: list[list[Any] | Row] = [
        Row(Kind.FTE, ["ETP infirmiers de l'année", f["nurse_fte"]]),
        Row(Kind.EUROS, ["Forfait annuel de coordination (€)", f["amount_eur"]]),
        Row(Kind.EUROS, ["… versé à l'adhésion (€)", f["at_adhesion_eur"]]),
        Row(
            Kind.EUROS,
            ["… versé après un an, à la remise du rapport (€)", f["after_one_year_eur"]],
        ),
    ]
    bands = sorted(FORFAIT_BANDS)
    highs = [b[0] for b in bands[1:]] + [None]
    scale = [
        [_band_label(low, high), eur, "ce centre" if f["amount_eur"] == eur else None]
        for (low, eur), high in zip(bands, highs, strict=True)
    ]
    sheet.blocks = [
        Block(columns("Rubrique", "Valeur"), rows),
        Block(columns("ETP infirmiers", ("Forfait annuel (€)", Kind.EUROS), ""), scale, "Barème"),
    ]
    fee = f.get("coordination_fee")
    if fee:
        fee_rows: list[list[Any] | Row] = [
            Row(Kind.COUNT, [labels.COORDINATION_FEE.get(c, c), n])
            for c, n in fee["by_code"].items()
        ]
        fee_rows.append(Row(Kind.EUROS, ["Montant facturé (€)", fee["amount_eur"]]))
        title = labels.COORDINATION_FEE["title"]
        sheet.blocks.append(Block(columns("Code", "Nombre"), fee_rows, title))
    return sheet


def engagements_sheet(r: dict[str, Any]) -> Sheet:
    """The commitments' counts, each commitment with its evidence, what to fix."""
    e = r["engagements"]
    counts = [[labels.ENGAGEMENT_STATUS[k], e["counts"][k]] for k in ("met", "not_met", "unknown")]
    items = [
        [
            i["label"],
            i["source"],
            labels.ENGAGEMENT_STATUS[i["status"]] + (f" ({i['note']})" if i.get("note") else ""),
            i["evidence"],
        ]
        for i in e["items"].values()
    ]
    blocks = [
        Block(columns("État", ("Engagements", Kind.COUNT)), counts),
        Block(columns("Engagement", "Source", "État", "Éléments"), items),
    ]
    if e.get("texts"):
        blocks.append(Block(columns("Textes évalués"), [[t] for t in e["texts"]]))
    if e["to_fix"]:
        to_fix = [[t] for t in e["to_fix"]]
        blocks.append(Block(columns("À régulariser avant l'envoi du rapport"), to_fix))
    return Sheet("engagements", labels.SECTIONS["engagements"], blocks)


def quality_sheet(r: dict[str, Any]) -> Sheet:
    """Every data-quality check, so the centre can correct its software's data."""
    q = r["quality"]
    rows = [
        [
            f["label"],
            f["count"],
            labels.UNITS[labels.QUALITY_UNITS.get(key, f["unit"])],
            f["share"],
            ", ".join(f["examples"]),
        ]
        for key, f in q["findings"].items()
    ]
    summary = [
        ["Lignes de facturation comptées", q["counted_lines"]],
        ["Contrôles signalant des points à corriger", q["findings_with_issues"]],
    ]
    blocks = [
        Block(columns("Indicateur", ("Valeur", Kind.COUNT)), summary),
        Block(
            columns(
                "Contrôle",
                ("Nombre", Kind.COUNT),
                "Unité",
                ("Part", Kind.SHARE),
                "Exemples (à corriger dans le logiciel)",
            ),
            rows,
        ),
    ]
    return Sheet("quality", labels.SECTIONS["quality"], blocks)


def billing_audit_sheet(r: dict[str, Any]) -> Sheet:
    """The billing audit: euros at stake per item and examples, « à vérifier »."""
    audit = r["quality"].get("billing_audit") or {}
    rows = [
        [
            audit[key]["label"],
            audit[key]["count"],
            labels.UNITS[audit[key]["unit"]],
            audit[key]["eur"],
            ", ".join(audit[key]["examples"]),
        ]
        for key in labels.BILLING_AUDIT
        if key in audit
    ]
    total = "Total (solde en jeu, € ; positif : sous-facturé)"
    rows.append([total, None, None, audit.get("total_eur"), None])
    heads = columns(
        "Point à vérifier",
        ("Nombre", Kind.COUNT),
        "Unité",
        ("Montant en jeu (€)", Kind.EUROS),
        "Exemples (lignes)",
    )
    sheet = Sheet("billing_audit", labels.BILLING_AUDIT_TITLE, [Block(heads, rows)])
    sheet.note = (
        "Pistes pour le secrétariat, à vérifier dans chaque dossier ; montants aux valeurs "
        "NGAP du jour de l'acte, pour la zone du centre."
    )
    return sheet


def inputs_sheet(r: dict[str, Any]) -> Sheet:
    """Every input file with its SHA-256: the report's provenance."""
    rows = [
        [f["file"], f["table"], f["rows"], f["load_id"], f["sha256"]] for f in r["meta"]["inputs"]
    ]
    heads = columns(
        "Fichier", "Table", ("Lignes", Kind.COUNT), ("Chargement n°", Kind.IDENTIFIER), "SHA-256"
    )
    return Sheet("inputs", "Fichiers sources et empreintes", [Block(heads, rows)])


SHEETS = (
    meta_sheet,
    clientele_sheet,
    monthly_sheet,
    origin_sheet,
    acts_sheet,
    acts_detail_sheet,
    discharge_sheet,
    staff_sheet,
    means_sheet,
    permanence_sheet,
    prevention_sheet,
    promotion_sheet,
    training_sheet,
    forfait_sheet,
    engagements_sheet,
    quality_sheet,
    billing_audit_sheet,
    inputs_sheet,
)


def sheets(report: dict[str, Any]) -> list[Sheet]:
    """Every sheet of the workbook, in the order of annexe 3."""
    return [build(report) for build in SHEETS]


# --------------------------------------------------------------------------- writing


class _Writer:
    """Writes `Sheet`s with one set of formats: the layout rules of the whole workbook."""

    def __init__(self, path: Path) -> None:
        """Open the workbook and register its formats once."""
        import xlsxwriter

        self.book = xlsxwriter.Workbook(str(path), {"remove_timezone": True})
        self.formats = {name: self.book.add_format(spec) for name, spec in FORMATS.items()}

    def cell(self, ws: Any, row: int, col: int, value: Any, kind: Kind | None) -> None:
        """One cell, typed: numbers (in the format of their `kind`), changes, percentages
        and dates keep their type."""
        f = self.formats
        if value is None:
            return
        if isinstance(value, Ratio):
            ws.write_number(row, col, value, f["pct"])
        elif isinstance(value, Change):
            ws.write_number(row, col, value.value, f[number_format(value.value, kind, "change_")])
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ws.write_number(row, col, value, f[number_format(value, kind)])
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), f["date"])
        else:
            text = YES_NO[value] if isinstance(value, bool) else str(value)
            ws.write_string(row, col, text, f["wrap" if len(text) > 70 else "text"])

    def block(self, ws: Any, row: int, block: Block, widths: dict[int, int]) -> int:
        """Write one table from `row`; return the row after it and a blank line."""
        if block.title:
            ws.write_string(row, 0, block.title, self.formats["block"])
            row += 1
        for col, column in enumerate(block.columns):
            ws.write_string(row, col, column.head, self.formats["head"])
            widths[col] = max(widths.get(col, 0), min(len(column.head), 24))
        for values in block.rows:
            row += 1
            row_kind, cells = (
                (values.kind, values.cells) if isinstance(values, Row) else (None, values)
            )
            for col, value in enumerate(cells):
                self.cell(ws, row, col, value, row_kind or block.columns[col].kind)
                widths[col] = max(widths.get(col, 0), _width(value))
        return row + 2

    def sheet(self, sheet: Sheet) -> None:
        """One worksheet: title, optional note, tables; printable on A4 landscape."""
        ws = self.book.add_worksheet(labels.XLSX_SHEETS[sheet.key])
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.write_string(0, 0, sheet.title, self.formats["title"])
        row, widths = 2, dict[int, int]()
        if sheet.note:
            ws.write_string(row, 0, sheet.note, self.formats["note"])
            row += 2
        for block in sheet.blocks:
            row = self.block(ws, row, block, widths)
        for col, width in widths.items():
            ws.set_column(col, col, min(max(width + 2, 10), 70))


FORMATS: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 13, "font_color": "#005a8c"},
    "block": {"bold": True},
    "head": {"bold": True, "bg_color": "#f2f6f9", "border": 1, "text_wrap": True, "valign": "top"},
    "note": {"italic": True, "font_color": "#5b6773"},
    "int": {"num_format": "#,##0"},
    "identifier": {"num_format": "0"},  # « 2025 », never « 2 025 »
    "dec": {"num_format": "#,##0.00"},
    "pct": {"num_format": "+0.0%;-0.0%;0.0%"},
    "share": {"num_format": "0.0%"},
    "share_fine": {"num_format": "0.00%"},
    "change_int": {"num_format": "+#,##0;-#,##0;0"},
    "change_dec": {"num_format": "+#,##0.00;-#,##0.00;0.00"},
    "date": {"num_format": "dd/mm/yyyy", "align": "left"},
    "text": {"valign": "top"},
    "wrap": {"text_wrap": True, "valign": "top"},
}


def number_format(value: float, kind: Kind | None, prefix: str = "") -> str:
    """The format (a key of `FORMATS`) of a number of `kind`; `prefix` "change_" for a
    signed change from N-1.

    Amounts, FTE, coefficients and days show two decimals (`DECIMAL_KINDS`); the other
    kinds none unless the value has a fraction; a small non-zero share gets two decimals,
    never « 0,0 % ». A number without a declared kind is a sheet description to complete.
    """
    if kind is None:
        raise ValueError(f"the number {value!r} has no declared kind (Column or Row)")
    if kind is Kind.IDENTIFIER:
        return "identifier"
    if kind is Kind.SHARE:
        return "share_fine" if value and round(value * 100, 1) == 0 else "share"
    decimals = kind in DECIMAL_KINDS or not float(value).is_integer()
    return f"{prefix}{'dec' if decimals else 'int'}"


def _width(value: Any) -> int:
    """Rough display width of a cell, to size its column."""
    if value is None:
        return 0
    if isinstance(value, int | float | Change):
        return 12
    return len(str(value))


def _created(generated_at: str) -> dt.datetime:
    """The workbook's creation date: the report's generation time, in UTC.

    Why: XlsxWriter stores "now" otherwise, so the same report (`SOURCE_DATE_EPOCH`,
    `--as-of`) would give a different file on every run.
    """
    moment = dt.datetime.fromisoformat(generated_at)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def write_xlsx(report: dict[str, Any], path: Path) -> None:
    """Write the workbook of one report to `path`."""
    writer = _Writer(Path(path))
    for sheet in sheets(report):
        writer.sheet(sheet)
    writer.book.set_properties(
        {
            "title": f"Rapport d'activité {report['meta']['year']} (annexe 3)",
            "author": report["meta"]["centre_name"] or report["meta"]["centre_finess"],
            "comments": f"Empreinte des sources : {report['meta']['inputs_fingerprint']}",
            "created": _created(report["meta"]["generated_at"]),
        }
    )
    writer.book.close()
