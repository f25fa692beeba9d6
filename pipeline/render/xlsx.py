"""The report as an Excel workbook: one sheet per section, numbers kept as numbers.

Why a workbook beside the PDF: the centre's accountant and the CPAM agent re-use the
figures (sums, charts, their own tables); numbers stored as text would defeat that.
Each sheet is first described as plain data (`Sheet` → `Block` → rows), then written by
one generic writer, so the layout rules live in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core import labels
from pipeline.render.formatting import (
    ActPart,
    act_parts,
    change_ratio,
    coverage_text,
    french_datetime,
    missing_months,
)
from pipeline.report.register_sections import FORFAIT_BANDS


class Ratio(float):
    """A relative change from N-1, written as a signed percentage."""


class Share(Ratio):
    """A share of a whole, written as a plain percentage."""


@dataclass(frozen=True)
class Change:
    """A signed absolute change from N-1 (written with its sign)."""

    value: float


@dataclass
class Block:
    """One table of a sheet: an optional title, French headers, rows of cells."""

    headers: list[str]
    rows: list[list[Any]]
    title: str | None = None


@dataclass
class Sheet:
    """One sheet: its key in `labels.XLSX_SHEETS`, a title and its tables."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    note: str | None = None


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


def yoy_cells(value: Any, prev: Any, previous: dict[str, Any] | None) -> list[Any]:
    """A figure, then its N-1 value, absolute change and relative change when known."""
    if not previous:
        return [value]
    if prev is None or value is None:
        return [value, prev, None, None]
    ratio = change_ratio(value, prev)
    return [value, prev, Change(round(value - prev, 2)), None if ratio is None else Ratio(ratio)]


def _prev(previous: dict[str, Any] | None, *path: str) -> Any:
    """`previous[a][b]…`, or None: a figure N-1 does not have stays blank."""
    data: Any = previous
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _date(iso: str | None) -> dt.date | None:
    """ISO text → date, so that Excel sorts and filters it as a date."""
    return dt.date.fromisoformat(iso) if iso else None


# --------------------------------------------------------------------------- sheets 1–3


def meta_sheet(r: dict[str, Any]) -> Sheet:
    """Who, which year, and the fingerprints an auditor needs to regenerate the figures."""
    m, previous = r["meta"], r.get("previous_year")
    rows = [
        ["Centre", m["centre_name"]],
        ["FINESS", m["centre_finess"]],
        ["Adresse", (r.get("attestation") or {}).get("address") or "non renseignée"],
        [
            "Représentant légal",
            (r.get("attestation") or {}).get("legal_representative") or "non renseigné",
        ],
        ["Année", m["year"]],
        ["Période couverte", coverage_text(m.get("coverage"))],
        ["Mois sans données", ", ".join(missing_months(m.get("coverage"))) or "aucun"],
        ["Année de comparaison (N-1)", previous["year"] if previous else "aucune"],
        ["Généré le", french_datetime(m["generated_at"])],
        ["Version de csi", m["package_version"]],
        ["Chargement n°", m["as_of_load"]],
        [
            "Jours fériés",
            "Alsace-Moselle" if m["holiday_zone"] == "alsace_moselle" else "métropole",
        ],
        ["Empreinte des fichiers sources (SHA-256)", m["inputs_fingerprint"]],
        ["Référentiel NGAP (SHA-256)", m["reference"]["ngap_sha256"]],
    ]
    title = f"Rapport d'activité {m['year']} (annexe 3)"
    return Sheet("meta", title, [Block(["Rubrique", "Valeur"], rows)])


def clientele_sheet(r: dict[str, Any]) -> Sheet:
    """Section 1, each figure beside its N-1 value and change."""
    py = r.get("previous_year")
    rows = [
        [label, *yoy_cells(r["clientele"][key], _prev(py, "clientele", key), py)]
        for key, label in labels.CLIENTELE.items()
    ]
    heads = ["Indicateur", *yoy_heads(r["meta"]["year"], py)]
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
    heads = ["Mois", *labels.MONTHLY.values()]
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
            Block(["Adressé par", "Assurés"], referral),
            Block(["Code postal de résidence", "Assurés"], postcode),
        ],
    )


ACT_MEASURES = {
    "count": "Nombre",
    "coefficient_total": "Coefficients facturés",
    "km": "Kilomètres",
    "amount_eur": "Montant (€)",
}


def acts_block(acts: dict[str, Any], year: int, py: dict[str, Any] | None, title: str) -> Block:
    """Section 3 figures of every family, with N-1 beside each when `py` is given."""
    heads = ["Acte"]
    for label in ACT_MEASURES.values():
        heads += yoy_heads(year, py, label)
    rows = []
    for family, label in labels.ACT_FAMILIES.items():
        row: list[Any] = [label]
        for key in ACT_MEASURES:
            row += yoy_cells(acts[family].get(key), _prev(py, "acts", family, key), py)
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
    heads = ["Périmètre", "Acte", "Ventilation", "Coefficient ou code", "Nombre"]
    return Sheet("acts_detail", labels.ACT_FIELDS["by_coefficient"], [Block(heads, rows)])


def _groups_block(groups: dict[str, int], head: str, names: dict[str, str]) -> Block:
    """Patients per group (establishment, service, care type)."""
    return Block([head, "Assurés"], [[names.get(k, k), n] for k, n in groups.items()])


def discharge_sheet(r: dict[str, Any]) -> Sheet:
    """The hospital-discharge cohort: counts with N-1, durations, groups and acts."""
    h, py, year = r["hospital_discharge"], r.get("previous_year"), r["meta"]["year"]
    figures = [
        [
            "Nombre d'assurés",
            *yoy_cells(h["patients"], _prev(py, "hospital_discharge", "patients"), py),
        ],
        [
            "Nombre de prises en charge",
            *yoy_cells(h["episodes"], _prev(py, "hospital_discharge", "episodes"), py),
        ],
        *([label, h["duration_days"][key]] for key, label in labels.DURATION.items()),
    ]
    unknown = {"unknown": "Non renseigné"}
    blocks = [
        Block(["Indicateur", *yoy_heads(year, py)], figures),
        _groups_block(h["by_establishment"], "Établissement d'origine", unknown),
        _groups_block(h["by_service"], "Service d'origine", unknown),
        _groups_block(h["by_care_type"], "Type de prise en charge", labels.CARE_TYPES),
        Block(["Autre type de prise en charge, précisé"], [[t] for t in h["other_care_details"]]),
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
    rows = [
        ["Nombre total d'infirmières exerçant dans le centre", s["nurses"]],
        ["Nombre d'équivalents temps plein", s["nurse_fte"]],
        [
            "Infirmières habilitées à pratiquer les actes de chimiothérapie",
            s["chemotherapy_qualified"],
        ],
        ["Infirmières disposant d'une autre compétence", s["other_competence"]],
        ["Autres compétences", ", ".join(s["other_competences"])],
        ["Secrétaires", s["secretaries"]],
        ["Secrétaires (ETP)", s["secretary_fte"]],
        ["Infirmières d'encadrement", s["managers"]],
        ["Infirmières d'encadrement (ETP)", s["manager_fte"]],
    ]
    sheet.blocks.append(Block(["Indicateur", "Valeur"], rows))
    return sheet


def _means_blocks(mm: dict[str, Any]) -> list[Block]:
    """Section 5: meetings, partners by nature, meetings per partner, patient file."""
    pf = mm["patient_file"] or {}
    figures = [
        ["Réunions de coordination interne", mm["internal_meetings"]],
        ["Partenaires", mm["partners"]["total"]],
        ["… dont sous convention", mm["partners"]["with_convention"]],
        ["… dont sans convention", mm["partners"]["without_convention"]],
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
        Block(["Indicateur", "Valeur"], figures),
        Block(["Nature du partenaire", "Avec convention", "Sans convention"], natures),
        Block(
            ["Partenaire", "Nature", "Convention signée le", "Réunions de coordination"], partners
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
        sheet.blocks.append(Block(["Modalité"], [[p] for p in r["permanence"]]))
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
    sheet.blocks.append(Block(["Niveau", "Action", "Date"], rows))
    return sheet


def promotion_sheet(r: dict[str, Any]) -> Sheet:
    """Section 8, one row per action."""
    sheet = Sheet("promotion", labels.SECTIONS["promotion"])
    if r["promotion"] is None:
        sheet.note = NO_REGISTER
        return sheet
    rows = [[a["title"], _date(a["date"])] for a in r["promotion"]["actions"]]
    sheet.blocks.append(Block(["Action", "Date"], rows))
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
    sheet.blocks.append(Block(["Type", "Description", "Infirmières formées", "Jours"], rows))
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
    rows = [
        ["ETP infirmiers de l'année", f["nurse_fte"]],
        ["Forfait annuel de coordination (€)", f["amount_eur"]],
        ["… versé à l'adhésion (€)", f["at_adhesion_eur"]],
        ["… versé après un an, à la remise du rapport (€)", f["after_one_year_eur"]],
    ]
    bands = sorted(FORFAIT_BANDS)
    highs = [b[0] for b in bands[1:]] + [None]
    scale = [
        [_band_label(low, high), eur, "ce centre" if f["amount_eur"] == eur else None]
        for (low, eur), high in zip(bands, highs, strict=True)
    ]
    sheet.blocks = [
        Block(["Rubrique", "Valeur"], rows),
        Block(["ETP infirmiers", "Forfait annuel (€)", ""], scale, "Barème"),
    ]
    fee = f.get("coordination_fee")
    if fee:
        fee_rows = [[labels.COORDINATION_FEE.get(c, c), n] for c, n in fee["by_code"].items()]
        fee_rows.append(["Montant facturé (€)", fee["amount_eur"]])
        sheet.blocks.append(Block(["Code", "Nombre"], fee_rows, labels.COORDINATION_FEE["title"]))
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
        Block(["État", "Engagements"], counts),
        Block(["Engagement", "Source", "État", "Éléments"], items),
    ]
    if e.get("texts"):
        blocks.append(Block(["Textes évalués"], [[t] for t in e["texts"]]))
    if e["to_fix"]:
        blocks.append(Block(["À régulariser avant l'envoi du rapport"], [[t] for t in e["to_fix"]]))
    return Sheet("engagements", labels.SECTIONS["engagements"], blocks)


def quality_sheet(r: dict[str, Any]) -> Sheet:
    """Every data-quality check, so the centre can correct its software's data."""
    q = r["quality"]
    rows = [
        [
            f["label"],
            f["count"],
            labels.UNITS[labels.QUALITY_UNITS.get(key, f["unit"])],
            None if f["share"] is None else Share(f["share"]),
            ", ".join(f["examples"]),
        ]
        for key, f in q["findings"].items()
    ]
    summary = [
        ["Lignes de facturation comptées", q["counted_lines"]],
        ["Contrôles signalant des points à corriger", q["findings_with_issues"]],
    ]
    blocks = [
        Block(["Indicateur", "Valeur"], summary),
        Block(
            ["Contrôle", "Nombre", "Unité", "Part", "Exemples (à corriger dans le logiciel)"], rows
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
    heads = ["Point à vérifier", "Nombre", "Unité", "Montant en jeu (€)", "Exemples (lignes)"]
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
    heads = ["Fichier", "Table", "Lignes", "Chargement n°", "SHA-256"]
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

    def cell(self, ws: Any, row: int, col: int, value: Any, context: str) -> None:
        """One cell, typed: numbers, changes, percentages and dates keep their type."""
        f = self.formats
        if value is None:
            return
        if isinstance(value, Change):
            ws.write_number(row, col, value.value, f[_number_kind(value.value, context, "change_")])
        elif isinstance(value, Ratio):
            ws.write_number(row, col, value, f[_ratio_kind(value)])
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ws.write_number(row, col, value, f[_number_kind(value, context)])
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
        for col, head in enumerate(block.headers):
            ws.write_string(row, col, head, self.formats["head"])
            widths[col] = max(widths.get(col, 0), min(len(head), 24))
        for values in block.rows:
            row += 1
            for col, value in enumerate(values):
                self.cell(ws, row, col, value, f"{block.headers[col]} {values[0]}")
                widths[col] = max(widths.get(col, 0), _width(value))
        return row + 2

    def sheet(self, sheet: Sheet) -> None:
        """One worksheet: title, optional note, tables; printable on A4 landscape."""
        ws = self.book.add_worksheet(labels.XLSX_SHEETS[sheet.key])
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.write_string(0, 0, sheet.title, self.formats["title"])
        row, widths = 2, {}
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

# Figures read with decimals even when whole (amounts, FTE, coefficients, days).
DECIMAL_HINTS = ("€", "ETP", "Coefficients", "Jours", "Durée moyenne", "Durée médiane")


def _ratio_kind(value: Ratio) -> str:
    """Signed change, or share; a small non-zero share gets two decimals, never « 0,0 % »."""
    if not isinstance(value, Share):
        return "pct"
    return "share_fine" if value and round(value * 100, 1) == 0 else "share"


def _number_kind(value: float, context: str, prefix: str = "") -> str:
    """The format of a number: decimals for amounts and FTE, none for counts."""
    if any(hint in context for hint in DECIMAL_HINTS) or not float(value).is_integer():
        return f"{prefix}dec"
    return f"{prefix}int"


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
