"""Report sections 4 to 9, the forfait and the commitments, from the centre register.

The figures come from the `staff` and `means` views and the `register_*` tables; the
commitments are evaluated on the register itself (stored whole in
`register_centres.register_json`), because only the register can tell a list that was
left out (→ `unknown`) from a list declared empty (→ `not_met`). Every value returned
is JSON-ready: dates as ISO strings, FTE sums rounded to 2 decimals.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, get_args

from pipeline.core import labels
from pipeline.core.reference import FORFAIT_BANDS
from pipeline.core.resources import reference_file
from pipeline.report.scoped import Reader
from schemas.register import (
    ESTABLISHMENT_NATURES,
    ActionLevel,
    CentreRegister,
    PartnerNature,
    TrainingKind,
)

Status = str  # "met" | "not_met" | "unknown"
Outcome = tuple[Status, str]

# The register's vocabularies, in the order the report lists them (schemas.register).
NATURES: tuple[str, ...] = get_args(PartnerNature)
LEVELS: tuple[str, ...] = get_args(ActionLevel)
TRAINING_KINDS: tuple[str, ...] = get_args(TrainingKind)

NO_REGISTER = "registre du centre absent pour cette année"

COMMITMENTS_FILE = "engagements.csv"
AGREEMENTS_FILE = "agreements.csv"


@dataclass(frozen=True)
class Commitment:
    """One commitment of one agreement, as data: a new agreement is a new set of rows.

    `rule` names the Python function that evaluates it (`RULES`); an id may have several
    rows over time (the 2003 patient file, then the 2015 computerised and shared one).
    """

    id: str
    text: str
    source: str
    first_year: int
    last_year: int | None
    rule: str
    label: str

    def applies(self, year: int) -> bool:
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)


@dataclass(frozen=True)
class Agreement:
    """An agreement whose commitments the report evaluates; after `confirmed_until` its
    rows carry `note` (« texte à confirmer ») until the text replacing it is entered."""

    text: str
    label: str
    confirmed_until: int | None
    note: str | None
    replaced_by: str | None

    def note_for(self, year: int) -> str | None:
        unconfirmed = self.confirmed_until is not None and year > self.confirmed_until
        return self.note if unconfirmed else None


def _csv_rows(name: str) -> list[dict[str, str | None]]:
    with reference_file(name).open(encoding="utf-8", newline="") as handle:
        return [{k: (v or None) for k, v in row.items()} for row in csv.DictReader(handle)]


def _required(row: dict[str, str | None], key: str) -> str:
    """A cell every row of a shipped reference file fills: an empty one is a packaging bug."""
    value = row[key]
    if value is None:
        raise ValueError(f"{key!r} is empty in a shipped reference row: {row}")
    return value


def _year(text: str | None) -> int | None:
    return int(text) if text else None


@functools.cache
def commitments() -> tuple[Commitment, ...]:
    """Every commitment row shipped with the package, in the order of engagements.md."""
    return tuple(
        Commitment(
            id=_required(r, "id"),
            text=_required(r, "text"),
            source=_required(r, "source"),
            first_year=int(_required(r, "first_year")),
            last_year=_year(r["last_year"]),
            rule=_required(r, "rule"),
            label=_required(r, "label"),
        )
        for r in _csv_rows(COMMITMENTS_FILE)
    )


@functools.cache
def agreements() -> dict[str, Agreement]:
    """The agreements the commitments come from, by text id (`2003`, `2015`)."""
    return {
        _required(r, "text"): Agreement(
            _required(r, "text"),
            _required(r, "label"),
            _year(r["confirmed_until"]),
            r["note"],
            r["replaced_by"],
        )
        for r in _csv_rows(AGREEMENTS_FILE)
    }


def commitments_for(year: int) -> list[Commitment]:
    """The commitments valid in `year`, one per id."""
    return [c for c in commitments() if c.applies(year)]


# id → (source, French label) of every commitment id, in the order of engagements.md
# (the latest row of each id).
ENGAGEMENTS: dict[str, tuple[str, str]] = {c.id: (c.source, c.label) for c in commitments()}
OPTIONAL = ("public_health_missions", "internship")


# --------------------------------------------------------------------------- small helpers


def _view(reader: Reader, view: str, finess: str, year: int) -> dict[str, Any]:
    """The one row of a per-centre × year view (`staff`, `means`)."""
    return reader.rows(f"select * from {view}", finess, year)[0]


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _fr_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _fr_number(value: float) -> str:
    """2.0 → « 2 », 3.5 → « 3,5 »: numbers inside French sentences."""
    return f"{value:g}".replace(".", ",")


def _fte(value: Any) -> float:
    return round(float(value or 0), 2)


def _in_year(day: dt.date | None, year: int) -> bool:
    """An undated entry belongs to its register's year (the register is yearly)."""
    return day is None or day.year == year


def _absent(key: str) -> Outcome:
    return "unknown", f"clé « {key} » absente du registre"


# --------------------------------------------------------------------------- sections 4–9


def _stored_register(reader: Reader, finess: str, year: int) -> CentreRegister | None:
    rows = reader.rows(
        "select centre_finess, year, register_json from register_centres", finess, year
    )
    return CentreRegister.model_validate_json(rows[0]["register_json"]) if rows else None


def staff_section(reader: Reader, finess: str, year: int) -> dict[str, Any]:
    """Annexe 3 section 4, from the `staff` view (+ the competences listed)."""
    row = _view(reader, "staff", finess, year)
    competences = reader.rows(
        "select distinct centre_finess, year, unnest(other_competences) as c from register_nurses",
        finess,
        year,
        order="c",
    )
    return {
        "nurses": int(row["nurses"]),
        "nurse_fte": _fte(row["nurse_fte"]),
        "chemotherapy_qualified": int(row["chemotherapy_qualified"]),
        "other_competence": int(row["other_competence"]),
        "other_competences": [r["c"] for r in competences],
        "secretaries": int(row["secretaries"]),
        "secretary_fte": _fte(row["secretary_fte"]),
        "managers": int(row["managers"]),
        "manager_fte": _fte(row["manager_fte"]),
    }


def _partners(reader: Reader, finess: str, year: int, row: dict) -> dict:
    by_nature: dict[str, dict[str, int]] = {}
    for r in reader.rows(
        """select centre_finess, year, nature,
                  count(*) filter (where convention_signed is not null) as with_c,
                  count(*) filter (where convention_signed is null) as without_c
           from register_partners group by all""",
        finess,
        year,
    ):
        by_nature[r["nature"]] = {
            "with_convention": r["with_c"],
            "without_convention": r["without_c"],
        }
    return {
        "by_nature": {n: by_nature[n] for n in NATURES if n in by_nature},
        "total": row["partners"],
        "with_convention": row["partners_with_convention"],
        "without_convention": row["partners_without_convention"],
    }


def _meetings_by_partner(reader: Reader, finess: str, year: int) -> list[dict]:
    rows = reader.rows(
        """select p.centre_finess, p.year, p.entry_no, p.partner_name as name, p.nature,
                  p.convention_signed,
                  count(m.meeting_date) filter (where year(m.meeting_date) = p.year) as meetings
           from register_partners as p
           left join register_partner_meetings as m
             on m.centre_finess = p.centre_finess and m.year = p.year
            and m.partner_entry_no = p.entry_no
           group by all""",
        finess,
        year,
        order="entry_no",
    )
    return [
        {
            "name": r["name"],
            "nature": r["nature"],
            "convention_signed": _iso(r["convention_signed"]),
            "meetings": r["meetings"],
        }
        for r in rows
    ]


def means_section(
    reader: Reader, finess: str, year: int, register: CentreRegister
) -> dict[str, Any]:
    """Annexe 3 section 5, from the `means` view and the partner tables."""
    row = _view(reader, "means", finess, year)
    pf = register.patient_file
    return {
        "internal_meetings": row["internal_meetings"],
        "partners": _partners(reader, finess, year, row),
        "meetings_by_partner": _meetings_by_partner(reader, finess, year),
        "patient_file": pf.model_dump() if pf else None,
        "transmission_log": register.transmission_log,
    }


def permanence_section(
    reader: Reader, finess: str, year: int, register: CentreRegister
) -> list[str] | None:
    """Annexe 3 section 6: the centre's own descriptions, in its order."""
    if register.permanence is None:
        return None
    rows = reader.rows(
        "select centre_finess, year, entry_no, description from register_permanence",
        finess,
        year,
        order="entry_no",
    )
    return [r["description"] for r in rows]


def _actions(reader: Reader, finess: str, year: int, kind: str) -> list[dict]:
    """Actions of one kind dated in the year (or undated), in the register's order."""
    rows = reader.rows(
        """select centre_finess, year, entry_no, kind, title, level, action_date
           from register_actions where action_date is null or year(action_date) = year""",
        finess,
        year,
        order="entry_no",
    )
    return [r for r in rows if r["kind"] == kind]


def prevention_section(
    reader: Reader, finess: str, year: int, register: CentreRegister
) -> dict[str, Any] | None:
    """Annexe 3 section 7, by level (accord national, régional, local)."""
    if register.prevention_actions is None:
        return None
    actions = _actions(reader, finess, year, "prevention")
    by_level = {
        level: [
            {"title": a["title"], "date": _iso(a["action_date"])}
            for a in actions
            if a["level"] == level
        ]
        for level in LEVELS
    }
    return {"by_level": by_level, "count": len(actions)}


def promotion_section(
    reader: Reader, finess: str, year: int, register: CentreRegister
) -> dict[str, Any] | None:
    """Annexe 3 section 8."""
    if register.promotion_actions is None:
        return None
    actions = [
        {"title": a["title"], "date": _iso(a["action_date"])}
        for a in _actions(reader, finess, year, "promotion")
    ]
    return {"actions": actions, "count": len(actions)}


def training_section(
    reader: Reader, finess: str, year: int, register: CentreRegister
) -> dict[str, Any] | None:
    """Annexe 3 section 9, by kind; `total_days` sums the days the register gives."""
    if register.trainings is None:
        return None
    rows = reader.rows(
        """select centre_finess, year, entry_no, kind, description, nurses_trained, days
           from register_trainings""",
        finess,
        year,
        order="entry_no",
    )
    by_kind = {
        kind: [
            {k: r[k] for k in ("description", "nurses_trained", "days")}
            for r in rows
            if r["kind"] == kind
        ]
        for kind in TRAINING_KINDS
    }
    total = sum(r["days"] for r in rows if r["days"] is not None)
    return {"by_kind": by_kind, "total_days": round(float(total), 2)}


# --------------------------------------------------------------------------- forfait


def forfait(nurse_fte: float | None) -> dict[str, Any]:
    """Coordination flat fee by nurse-FTE band, paid half at adhesion, half after a year."""
    if nurse_fte is None:
        return {
            "nurse_fte": None,
            "amount_eur": None,
            "at_adhesion_eur": None,
            "after_one_year_eur": None,
        }
    fte = Decimal(str(round(nurse_fte, 6)))
    amount = next(Decimal(eur) for low, eur in FORFAIT_BANDS if fte >= low)
    half = (amount / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {
        "nurse_fte": _fte(nurse_fte),
        "amount_eur": float(amount),
        "at_adhesion_eur": float(half),
        "after_one_year_eur": float(amount - half),
    }


def _exact_nurse_fte(reader: Reader, finess: str, year: int) -> float:
    return float(_view(reader, "staff", finess, year)["nurse_fte"] or 0)


# --------------------------------------------------------------------------- commitments


def _flag(value: bool | None, key: str, yes: str, no: str) -> Outcome:
    if value is None:
        return _absent(key)
    return ("met", yes) if value else ("not_met", no)


def _all_true(values: dict[str, bool | None], key: str) -> Outcome:
    """Met when every value is true; not met as soon as one is false; else unknown."""
    words = {True: "oui", False: "non", None: "non renseigné"}
    evidence = ", ".join(f"{label} : {words[v]}" for label, v in values.items())
    if any(v is False for v in values.values()):
        return "not_met", evidence
    if all(v is True for v in values.values()):
        return "met", evidence
    return "unknown", f"{evidence} (à compléter dans « {key} »)"


def _patient_file(r: CentreRegister, year: int) -> Outcome:
    pf = r.patient_file
    if pf is None:
        return _absent("patient_file")
    return _all_true(
        {"dossier spécifique": pf.specific, "informatisé": pf.computerised, "partagé": pf.shared},
        "patient_file",
    )


def _patient_file_2003(r: CentreRegister, year: int) -> Outcome:
    """2003 (annexe 1): a patient file specific to the centre; computerised and shared
    only became commitments with the 2015 agreement."""
    pf = r.patient_file
    if pf is None:
        return _absent("patient_file")
    return _all_true({"dossier spécifique": pf.specific}, "patient_file")


def _information_system(r: CentreRegister, year: int) -> Outcome:
    pf = r.patient_file
    if pf is None:
        return _absent("patient_file")
    return _all_true(
        {
            "informatisé": pf.computerised,
            "partagé": pf.shared,
            "accès au domicile du patient": pf.mobile_access,
            "compatible DMP et messagerie sécurisée": pf.dmp_secure_messaging,
        },
        "patient_file",
    )


def _meetings_in_year(r: CentreRegister, year: int) -> list[dt.date]:
    return sorted(d for d in r.internal_meetings or [] if d.year == year)


def _monthly_meetings(r: CentreRegister, year: int) -> Outcome:
    if r.internal_meetings is None:
        return _absent("internal_meetings")
    meetings = _meetings_in_year(r, year)
    months = {d.month for d in meetings}
    missing = [labels.MONTHS[m - 1] for m in range(1, 13) if m not in months]
    if not missing:
        return "met", f"au moins une réunion d'équipe chaque mois ({len(meetings)} en {year})"
    return "not_met", (
        f"mois sans réunion d'équipe : {', '.join(missing)} "
        f"({12 - len(missing)} mois sur 12 couverts, {len(meetings)} réunion(s) en {year})"
    )


def _six_meetings(r: CentreRegister, year: int) -> Outcome:
    if r.internal_meetings is None:
        return _absent("internal_meetings")
    count = len(_meetings_in_year(r, year))
    status = "met" if count >= 6 else "not_met"
    return status, f"{count} réunion(s) de coordination en {year} (au moins 6 attendues)"


def _care_directory(r: CentreRegister, year: int) -> Outcome:
    day = r.care_directory_updated
    if day is None:
        return _absent("care_directory_updated")
    if year - 1 <= day.year <= year:
        return "met", f"répertoire mis à jour le {_fr_date(day)}"
    when = "antérieure à" if day.year < year - 1 else "postérieure à l'année"
    limit = year - 1 if day.year < year - 1 else year
    return "not_met", f"dernière mise à jour le {_fr_date(day)}, {when} {limit}"


def _partner_list(partners: list) -> str:
    return ", ".join(f"{p.name} ({_fr_date(p.convention_signed)})" for p in partners)


def _conventions_2003(r: CentreRegister, year: int) -> Outcome:
    if r.partners is None:
        return _absent("partners")
    signed = [p for p in r.partners if p.convention_signed]
    if signed:
        return "met", f"{len(signed)} convention(s) : {_partner_list(signed)}"
    return "not_met", f"aucune convention signée ({len(r.partners)} partenaire(s) déclaré(s))"


def _conventions_2015(r: CentreRegister, year: int) -> Outcome:
    if r.partners is None:
        return _absent("partners")
    signed = [p for p in r.partners if p.convention_signed and p.nature in ESTABLISHMENT_NATURES]
    names = f" : {_partner_list(signed)}" if signed else ""
    evidence = (
        f"{len(signed)} convention(s) avec un établissement sanitaire ou médico-social"
        f"{names} (au moins 2 attendues)"
    )
    return ("met" if len(signed) >= 2 else "not_met"), evidence


def _training(r: CentreRegister, year: int) -> Outcome:
    if r.trainings is None:
        return _absent("trainings")
    known = sum(t.days for t in r.trainings if t.days is not None)
    without_days = sum(1 for t in r.trainings if t.days is None)
    evidence = f"{_fr_number(known)} jour(s) de formation déclaré(s) (au moins 2 attendus)"
    if known >= 2:
        return "met", evidence
    if without_days:
        return "unknown", f"{evidence} ; nombre de jours absent pour {without_days} formation(s)"
    return "not_met", evidence


def _dated_titles(actions: list, attribute: str = "date") -> str:
    parts = []
    for a in actions:
        day = getattr(a, attribute)
        parts.append(f"{a.title} ({_fr_date(day)})" if day else a.title)
    return ", ".join(parts)


def _action(actions: list | None, key: str, year: int, what: str) -> Outcome:
    if actions is None:
        return _absent(key)
    kept = [a for a in actions if _in_year(a.date, year)]
    ignored = len(actions) - len(kept)
    note = f" ; {ignored} action(s) datée(s) hors de {year} non comptée(s)" if ignored else ""
    if kept:
        return "met", f"{len(kept)} action(s) de {what} : {_dated_titles(kept)}{note}"
    return "not_met", f"aucune action de {what} en {year}{note}"


def _prevention(r: CentreRegister, year: int) -> Outcome:
    return _action(r.prevention_actions, "prevention_actions", year, "prévention")


def _promotion(r: CentreRegister, year: int) -> Outcome:
    return _action(r.promotion_actions, "promotion_actions", year, "promotion de la santé")


def _public_health(r: CentreRegister, year: int) -> Outcome:
    if r.prevention_actions is None and r.promotion_actions is None:
        return (
            "unknown",
            "clés « prevention_actions » et « promotion_actions » absentes du registre",
        )
    prevention = [a for a in r.prevention_actions or [] if _in_year(a.date, year)]
    promotion = [a for a in r.promotion_actions or [] if _in_year(a.date, year)]
    relays = sum(1 for a in prevention if a.level in ("national", "regional"))
    count = len(prevention) + len(promotion)
    evidence = (
        f"{count} action(s) de santé publique en {year} (prévention : {len(prevention)}, "
        f"dont {relays} nationale(s) ou régionale(s) ; promotion : {len(promotion)}) ; "
        "critère optionnel, au plus 2 missions rémunérées"
    )
    return ("met" if count >= 1 else "not_met"), evidence


def _access(r: CentreRegister, year: int) -> Outcome:
    status, evidence = _all_true(
        {
            "accès aux soins 24 h/24, 7 j/7": r.access_24_7,
            "message téléphonique hors horaires": r.phone_message_outside_hours,
        },
        "access_24_7, phone_message_outside_hours",
    )
    if r.permanence:
        evidence += f" ; {len(r.permanence)} modalité(s) de permanence décrite(s)"
    return status, evidence


def _coordinator(r: CentreRegister, year: int) -> Outcome:
    if r.coordinator_nurse is None:
        return _absent("coordinator_nurse")
    nurse = next((n for n in r.staff.nurses if n.id == r.coordinator_nurse), None)
    if nurse is None:
        return "not_met", (
            f"« {r.coordinator_nurse} » ne figure pas parmi les infirmières du registre"
        )
    return "met", (
        f"infirmière {nurse.id} ({labels.ROLES[nurse.role]}, {_fr_number(nurse.fte)} ETP)"
    )


def _internship(r: CentreRegister, year: int) -> Outcome:
    if r.internships is None:
        return _absent("internships")
    kept = [i for i in r.internships if _in_year(i.start, year)]
    if not kept:
        return "not_met", f"aucun stage commençant en {year} (critère optionnel)"
    parts = [f"{i.school} ({_fr_date(i.start)})" if i.start else i.school for i in kept]
    return "met", f"{len(kept)} stage(s) : {', '.join(parts)}"


def _simple(key: str, yes: str, no: str) -> Callable[[CentreRegister, int], Outcome]:
    return lambda r, _year: _flag(getattr(r, key), key, yes, no)


RULES: dict[str, Callable[[CentreRegister, int], Outcome]] = {
    "planning": _simple(
        "planning_formalised", "planning des soins formalisé", "planning des soins non formalisé"
    ),
    "patient_file": _patient_file,
    "patient_file_2003": _patient_file_2003,
    "transmission_log": _simple(
        "transmission_log", "cahier de transmission tenu", "pas de cahier de transmission"
    ),
    "monthly_team_meetings": _monthly_meetings,
    "coordination_meetings_6": _six_meetings,
    "care_directory": _care_directory,
    "conventions_2003": _conventions_2003,
    "conventions_2015": _conventions_2015,
    "external_data_procedure": _simple(
        "external_data_procedure", "procédure formalisée", "pas de procédure formalisée"
    ),
    "flu_vaccination_gp_info": _simple(
        "flu_vaccination_gp_info",
        "le médecin traitant est informé",
        "le médecin traitant n'est pas informé",
    ),
    "training_2_days": _training,
    "prevention_action": _prevention,
    "promotion_action": _promotion,
    "public_health_missions": _public_health,
    "access_24_7": _access,
    "coordinator_nurse": _coordinator,
    "charter": _simple(
        "charter_displayed", "charte affichée dans le centre", "charte non affichée"
    ),
    "internship": _internship,
    "information_system": _information_system,
}

_REGISTER_ITEMS = (
    ("internal_meetings", "réunions de coordination interne (section 5)"),
    ("partners", "partenaires et conventions (section 5)"),
    ("patient_file", "dossier patient (section 5)"),
    ("transmission_log", "cahier de transmission (section 5)"),
    ("permanence", "moyens de permanence des soins (section 6)"),
    ("prevention_actions", "actions de prévention (section 7)"),
    ("promotion_actions", "actions de promotion de la santé (section 8)"),
    ("trainings", "actions de formation (section 9)"),
)


def _activity_report(register: CentreRegister | None, unfilled: list[str]) -> Outcome:
    """Always met by this report; the evidence says what it could not fill."""
    if register is None:
        missing = ["sections 4 à 9 (registre du centre absent)"]
    else:
        missing = [
            f"{label}, absent du registre"
            for key, label in _REGISTER_ITEMS
            if getattr(register, key) is None
        ]
    missing = list(unfilled) + missing
    if not missing:
        return "met", "rapport produit ; toutes les rubriques de l'annexe 3 sont renseignées"
    return "met", "rapport produit ; rubriques non renseignées : " + " ; ".join(missing)


def _to_fix(engagement: str, item: dict[str, str]) -> str:
    label = item["label"]
    optional = " Engagement optionnel." if engagement in OPTIONAL else ""
    if item["status"] == "not_met":
        return f"{label} : non respecté — {item['evidence']}.{optional}"
    return (
        f"{label} : non renseigné — {item['evidence']} ; "
        f"à compléter dans le registre du centre.{optional}"
    )


def _texts(year: int, used: list[Commitment]) -> list[str]:
    """The agreements evaluated, in French, with their note when the text is to confirm."""
    texts = []
    for text in dict.fromkeys(c.text for c in used):
        agreement = agreements()[text]
        note = agreement.note_for(year)
        if note and agreement.replaced_by:
            texts.append(f"{agreement.label} — {note} : remplacé par l'{agreement.replaced_by}")
        else:
            texts.append(f"{agreement.label} ({note})" if note else agreement.label)
    return texts


def evaluate_engagements(
    register: CentreRegister | None, year: int, unfilled_items: list[str] | None = None
) -> dict[str, Any]:
    """The commitments valid in `year` (engagements.csv): status, French evidence, counts,
    what to fix, and the agreements they come from."""
    items: dict[str, dict[str, str]] = {}
    used = commitments_for(year)
    for commitment in used:
        if commitment.rule == "activity_report":
            status, evidence = _activity_report(register, unfilled_items or [])
        elif register is None:
            status, evidence = "unknown", NO_REGISTER
        else:
            status, evidence = RULES[commitment.rule](register, year)
        items[commitment.id] = {
            "status": status,
            "evidence": evidence,
            "source": commitment.source,
            "label": commitment.label,
        }
        note = agreements()[commitment.text].note_for(year)
        if note:
            items[commitment.id]["note"] = note
    counts = {
        s: sum(1 for i in items.values() if i["status"] == s) for s in ("met", "not_met", "unknown")
    }
    to_fix = [_to_fix(e, i) for e, i in items.items() if i["status"] != "met"]
    return {"items": items, "counts": counts, "to_fix": to_fix, "texts": _texts(year, used)}


# --------------------------------------------------------------------------- entry point


def attestation(finess: str, register: CentreRegister | None) -> dict[str, Any]:
    """Who certifies the report: the block the CPAM expects at the end of the document.

    Address and legal representative are optional register keys; when absent the report
    leaves a line to fill in by hand rather than refusing the register.
    """
    return {
        "centre_name": register.name if register else None,
        "centre_finess": finess,
        "address": register.address if register else None,
        "legal_representative": register.legal_representative if register else None,
    }


def build_register_sections(
    reader: Reader,
    finess: str,
    year: int,
    unfilled_items: list[str] | None = None,
) -> dict[str, Any]:
    """Sections `staff` … `training`, `forfait` and `engagements` of one centre × year.

    Without a register for that centre × year every section is None (the report says
    « non renseigné ») and every commitment is unknown, except the report itself.
    """
    register = _stored_register(reader, finess, year)
    if register is None:
        return {
            **dict.fromkeys(
                ("staff", "means", "permanence", "prevention", "promotion", "training")
            ),
            "forfait": forfait(None),
            "engagements": evaluate_engagements(None, year, unfilled_items),
            "attestation": attestation(finess, None),
        }
    return {
        "staff": staff_section(reader, finess, year),
        "means": means_section(reader, finess, year, register),
        "permanence": permanence_section(reader, finess, year, register),
        "prevention": prevention_section(reader, finess, year, register),
        "promotion": promotion_section(reader, finess, year, register),
        "training": training_section(reader, finess, year, register),
        "forfait": forfait(_exact_nurse_fte(reader, finess, year)),
        "engagements": evaluate_engagements(register, year, unfilled_items),
        "attestation": attestation(finess, register),
    }
