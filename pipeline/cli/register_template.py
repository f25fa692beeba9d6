"""`csi register template`: a commented `centre_AAAA.yaml` to fill, pre-filled when possible.

The register is the one input the centre writes by hand, in English keys. A template
with a French comment above every key, the known facts already in place and the nurses
who billed this year already listed, turns "write a YAML file from the spec" into "fill
the blanks". The known facts are the same year's register when the warehouse already
holds one (a centre re-generating its template mid-year must not lose what it loaded),
else the previous year's. From a previous year, year-specific facts (meeting dates,
actions, trainings, internships) are not carried over: a 2024 meeting is not a 2025
meeting, and a key left commented out makes its commitment « inconnu », never
« respecté ».

The YAML values are written by ruamel.yaml (quoting, indentation); the comments, which
no YAML library places reliably around nested blocks, are written as plain lines.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from pipeline.core.canonical import FINESS_PATTERN
from pipeline.core.errors import UsageError, plain_reason
from pipeline.core.settings import Settings

# Keys whose values describe one year only: never carried over to the next year.
YEAR_SPECIFIC = (
    "internal_meetings",
    "prevention_actions",
    "promotion_actions",
    "trainings",
    "internships",
)
FTE_TO_FILL = "à remplir : ETP, plus de 0 et au plus 1 (ex. 0.8)"

# One entry per top-level key, in the order of the register: the French comment written
# above it, and the example written (commented out) when the key has no value yet.
KEY_DOCS: list[tuple[str, list[str], str]] = [
    (
        "finess",
        ["n° FINESS du centre : 9 caractères (2 chiffres ou 2A/2B, puis 7), entre guillemets."],
        'finess: "750000001"',
    ),
    (
        "name",
        ["Nom du centre, tel qu'il apparaîtra sur le rapport."],
        "name: Centre de soins infirmiers Exemple",
    ),
    ("year", ["Année civile que ce registre décrit (AAAA)."], "year: 2025"),
    (
        "address",
        ["Adresse du centre, pour le bloc d'attestation à la fin du rapport (facultatif)."],
        "address: 12 rue de l'Exemple, 75010 Paris",
    ),
    (
        "legal_representative",
        [
            "Nom et qualité du représentant légal qui signe le rapport (facultatif ; sans lui,",
            "le rapport laisse une ligne en pointillés à remplir à la main).",
        ],
        "legal_representative: Marie Durand, présidente de l'association gestionnaire",
    ),
    (
        "staff",
        [
            "Le personnel (obligatoire ; section 4 et forfait de coordination).",
            "staff.nurses : une entrée par infirmière (coordinatrice et encadrement comprises) :",
            "  id : n° RPPS ou identifiant, le même que dans la facturation, entre guillemets ;",
            "  fte : équivalent temps plein, plus de 0 et au plus 1 (ex. 0.8) ;",
            "  chemotherapy_qualified : habilitée à la chimiothérapie, oui ou non ;",
            "  other_competences : autres compétences, liste de textes (ex. [plaies, douleur]) ;",
            "  role : nurse (infirmière), coordinator (coordinatrice), manager (encadrement).",
            "staff.secretaries : une entrée par secrétaire, avec son fte (ex. [{fte: 0.8}]).",
        ],
        'staff:\n  nurses:\n    - {id: "10001234567", fte: 1.0, role: coordinator}\n'
        "  secretaries: [{fte: 0.8}]",
    ),
    (
        "internal_meetings",
        ["Dates (AAAA-MM-JJ) des réunions de coordination de l'équipe dans l'année."],
        "internal_meetings: [2025-01-14, 2025-02-11]",
    ),
    (
        "partners",
        [
            "Structures avec lesquelles le centre travaille (section 5), une entrée chacune :",
            "  name : nom de la structure ;",
            "  nature : hospital (hôpital, clinique), network (réseau), had, ssiad, ehpad,",
            "    medico_social (autre établissement médico-social) ou other ;",
            "  convention_signed : date de signature de la convention (omise sans convention) ;",
            "  meetings : dates des réunions de l'année avec lui (liste, ex. [2025-06-05]).",
        ],
        "partners:\n  - {name: Hôpital Saint-Louis, nature: hospital, "
        "convention_signed: 2019-03-01, meetings: [2025-06-05]}",
    ),
    (
        "patient_file",
        [
            "Le dossier patient, chaque rubrique oui ou non :",
            "  specific : dossier propre au centre ; computerised : informatisé et structuré ;",
            "  shared : partagé entre les infirmières ; mobile_access : consultable au domicile ;",
            "  dmp_secure_messaging : compatible DMP, avec messagerie sécurisée de santé.",
        ],
        "patient_file: {specific: oui, computerised: oui, shared: oui, mobile_access: non, "
        "dmp_secure_messaging: non}",
    ),
    (
        "transmission_log",
        ["Cahier de transmission infirmière/infirmière tenu : oui ou non."],
        "transmission_log: oui",
    ),
    (
        "planning_formalised",
        ["Planning des soins programmés et non programmés formalisé : oui ou non."],
        "planning_formalised: oui",
    ),
    (
        "care_directory_updated",
        ["Date de dernière mise à jour du répertoire de l'offre de soins (AAAA-MM-JJ)."],
        "care_directory_updated: 2025-09-01",
    ),
    (
        "external_data_procedure",
        ["Procédure écrite de transmission des données de santé à l'extérieur : oui ou non."],
        "external_data_procedure: oui",
    ),
    (
        "flu_vaccination_gp_info",
        ["Médecin traitant informé quand une infirmière vaccine contre la grippe : oui ou non."],
        "flu_vaccination_gp_info: oui",
    ),
    (
        "access_24_7",
        ["Soins prescrits accessibles 24 h/24, 7 j/7 : oui ou non."],
        "access_24_7: oui",
    ),
    (
        "phone_message_outside_hours",
        ["Message téléphonique hors des heures d'ouverture : oui ou non."],
        "phone_message_outside_hours: oui",
    ),
    (
        "coordinator_nurse",
        [
            "Identifiant de l'infirmière coordinatrice : l'un des id de staff.nurses, entre "
            "guillemets."
        ],
        'coordinator_nurse: "10001234567"',
    ),
    (
        "charter_displayed",
        ["Charte d'engagement affichée, copie envoyée à la CPAM : oui ou non."],
        "charter_displayed: oui",
    ),
    (
        "permanence",
        ["Organisation de la permanence des soins (section 6) : liste de descriptions libres."],
        "permanence: [astreinte téléphonique 20h-8h, week-ends et jours fériés]",
    ),
    (
        "prevention_actions",
        [
            "Actions de prévention (section 7) : title (intitulé), level (national, regional",
            "ou local), date (AAAA-MM-JJ).",
        ],
        "prevention_actions: [{title: Octobre Rose, level: national, date: 2025-10-10}]",
    ),
    (
        "promotion_actions",
        ["Actions de promotion de la santé (section 8) : title (intitulé), date (AAAA-MM-JJ)."],
        "promotion_actions: [{title: Vaccination antigrippale gratuite, date: 2025-11-05}]",
    ),
    (
        "trainings",
        [
            "Formations suivies (section 9) : kind (conventional, professional ou local),",
            "description, nurses_trained (nombre d'infirmières formées), days (durée en jours).",
        ],
        "trainings: [{kind: professional, description: Plaies chroniques, nurses_trained: 4, "
        "days: 2}]",
    ),
    (
        "internships",
        ["Stagiaires accueillis : school (école), start (date de début), weeks (semaines)."],
        "internships: [{school: IFSI Exemple, start: 2025-03-03, weeks: 5}]",
    ),
]
DOCUMENTED_KEYS = [key for key, _, _ in KEY_DOCS]


# --------------------------------------------------------------------------- warehouse


def _has_table(con: Any, table: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_name = ?", [table]
    ).fetchone()
    return bool(row and row[0])


def stored_register(con: Any, finess: str, year: int) -> tuple[int, dict[str, Any]] | None:
    """The register to start from, as its year and JSON: the one stored for `year` itself,
    else the latest stored before it.

    The same year comes first because it is what the centre already declared for that
    year; starting from last year's would silently drop it. `register_centres
    .register_json` keeps the whole register as loaded (absent keys as null), which is
    simpler and more faithful than rebuilding it from the list tables.
    """
    if not _has_table(con, "register_centres"):
        return None
    row = con.execute(
        "select year, register_json from register_centres "
        "where centre_finess = ? and year <= ? and register_json is not null "
        "order by year desc limit 1",
        [finess, year],
    ).fetchone()
    return (int(row[0]), json.loads(row[1])) if row else None


def billed_nurses(con: Any, finess: str, year: int) -> list[str]:
    """Nurses of the centre's counted lines of the year (status `billed`, as the report counts)."""
    if not _has_table(con, "billing_lines"):
        return []
    rows = con.execute(
        "select distinct nurse_id from billing_lines where centre_finess = ? "
        "and extract(year from act_date) = ? and status = 'billed' and nurse_id is not null "
        "order by nurse_id",
        [finess, year],
    ).fetchall()
    return [row[0] for row in rows]


def read_warehouse(
    path: Path, finess: str, year: int, lock_timeout: float
) -> tuple[tuple[int, dict[str, Any]] | None, list[str]]:
    """The stored register to start from and the year's nurses; nothing without a warehouse."""
    from pipeline.warehouse.database import connect

    if not path.exists():
        return None, []
    con = connect(path, read_only=True, lock_timeout=lock_timeout)
    try:
        return stored_register(con, finess, year), billed_nurses(con, finess, year)
    finally:
        con.close()


# --------------------------------------------------------------------------- content


def _without_nulls(value: Any) -> Any:
    """The value without its null entries: the stored JSON spells every absent key out as
    null, which the template would show as blanks to fill."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _carried_over(stored: dict[str, Any], same_year: bool) -> dict[str, Any]:
    """The stored register's values that hold for the template's year: all of them when it
    is the same year's, those that still hold a year later otherwise (see module docstring)."""
    kept = {k: v for k, v in _without_nulls(stored).items()}
    if same_year:
        return kept
    kept = {k: v for k, v in kept.items() if k not in YEAR_SPECIFIC}
    if kept.get("partners"):
        kept["partners"] = [{**p, "meetings": []} for p in kept["partners"]]
    return kept


def _nurse_entries(
    previous_nurses: list[dict[str, Any]], billed: list[str], year: int, previous_year: int | None
) -> list[tuple[dict[str, Any], str | None]]:
    """Each nurse to declare, with the comment that says where it comes from.

    The year's billing comes first: a nurse who billed must be in the register (the
    report flags her otherwise). A nurse of last year's register who did not bill is
    kept, flagged, since billing of the year may not be fully loaded yet.
    """
    known = {n["id"]: n for n in previous_nurses}
    entries: list[tuple[dict[str, Any], str | None]] = []
    for nurse_id in billed:
        if nurse_id in known:
            nurse = {k: v for k, v in known[nurse_id].items() if v not in (None, [])}
            note = "" if previous_year == year else " : ETP à vérifier"
            entries.append((nurse, f"au registre {previous_year}{note}"))
        else:
            entries.append(({"id": nurse_id, "fte": None}, f"vue dans la facturation {year}"))
    for nurse in previous_nurses:
        if nurse["id"] not in billed:
            kept = {k: v for k, v in nurse.items() if v not in (None, [])}
            note = f"au registre {previous_year}" + (
                f", sans acte facturé en {year} : à retirer si elle a quitté le centre"
                if billed
                else " : ETP à vérifier"
            )
            entries.append((kept, note))
    return entries


def template_values(
    finess: str,
    year: int,
    previous: tuple[int, dict[str, Any]] | None,
    billed: list[str],
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], str | None]]]:
    """The template's top-level values (all but the nurses) and its nurse entries."""
    previous_year, data = previous if previous else (None, {})
    values = _carried_over(data, same_year=previous_year == year)
    values.update({"finess": finess, "year": year})
    values.setdefault("name", None)
    staff = values.pop("staff", None) or {}
    values["staff"] = {"secretaries": staff.get("secretaries") or []}
    nurses = _nurse_entries(staff.get("nurses") or [], billed, year, previous_year)
    return values, nurses


# --------------------------------------------------------------------------- writing

_ID_KEYS = frozenset({"finess", "id", "coordinator_nurse"})
_DATE_KEYS = frozenset(
    {
        "convention_signed",
        "care_directory_updated",
        "date",
        "start",
        "meetings",
        "internal_meetings",
    }
)
_YES_NO = {True: "oui", False: "non"}


def _field_order() -> dict[str, int]:
    """Rank of each entry key as the model declares it (`id` before `fte`), since the stored
    JSON has its keys sorted alphabetically."""
    from schemas import register as model

    blocks = (
        model.Nurse,
        model.Partner,
        model.PatientFile,
        model.PreventionAction,
        model.Training,
        model.Internship,
    )
    names = [name for block in blocks for name in block.model_fields]
    return {name: names.index(name) for name in names}


_ORDER = _field_order()


def _scalars(value: Any, key: str | None = None) -> Any:
    """Values as the centre writes them: ids between quotes, booleans `oui`/`non`, dates
    bare (`2019-03-01`, as the docs show them, not the JSON's quoted text)."""
    if isinstance(value, dict):
        ordered = sorted(value.items(), key=lambda item: _ORDER.get(item[0], len(_ORDER)))
        return CommentedMap((k, _scalars(v, k)) for k, v in ordered)
    if isinstance(value, list):
        return CommentedSeq(_scalars(v, key if key in _DATE_KEYS else None) for v in value)
    if key in _DATE_KEYS and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if isinstance(value, bool):
        return _YES_NO[value]
    if key in _ID_KEYS and isinstance(value, str):
        return DoubleQuotedScalarString(value)
    return value


def _yaml() -> YAML:
    writer = YAML()
    writer.indent(mapping=2, sequence=4, offset=2)
    writer.width = 100
    writer.allow_unicode = True
    # ruamel writes a null as an empty value (`fte:`): `null` says plainly "to fill"
    writer.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return writer


def _dump(value: CommentedMap) -> str:
    stream = io.StringIO()
    _yaml().dump(value, stream)
    return stream.getvalue()


def _staff_block(values: dict[str, Any], nurses: list[tuple[dict[str, Any], str | None]]) -> str:
    entries = CommentedSeq()
    for nurse, note in nurses:
        entry = _scalars(nurse)
        if nurse.get("fte") is None:
            entry["fte"] = None
            entry.yaml_add_eol_comment(FTE_TO_FILL, "fte")
        entries.append(entry)
        if note:
            entry.yaml_add_eol_comment(note, "id")
    staff = CommentedMap([("nurses", entries)])
    if not nurses:
        staff.yaml_add_eol_comment(
            "à compléter : une entrée par infirmière (voir ci-dessus)", "nurses"
        )
    staff["secretaries"] = _scalars(values["staff"]["secretaries"])
    return _dump(CommentedMap([("staff", staff)]))


def _comment(lines: list[str]) -> str:
    return "".join(f"# {line}\n" for line in lines)


def render_template(
    values: dict[str, Any],
    nurses: list[tuple[dict[str, Any], str | None]],
    source: str | None,
    file_name: str,
) -> str:
    """The whole commented register text, every documented key in the order of the docs."""
    head = [
        f"Registre du centre {values['finess']} pour l'année {values['year']}.",
        "Complétez les valeurs « null » et décommentez (retirez le # de) les rubriques que",
        f"vous connaissez, puis vérifiez le fichier : csi register check {file_name}",
        "Dates AAAA-MM-JJ ; oui ou non ; numéros (FINESS, RPPS) entre guillemets.",
        "Une rubrique laissée en commentaire rend son engagement « inconnu » dans le rapport.",
        f"Pré-remplissage : le registre {values['year']} s'il est déjà chargé dans l'entrepôt, "
        "sinon celui",
        "de l'année précédente (sans ses dates, propres à chaque année), et les infirmières",
        f"qui ont facturé en {values['year']}.",
    ]
    if source:
        head.append(source)
    parts = [_comment(head)]
    for key, doc, example in KEY_DOCS:
        text = _comment([f"{key} : {doc[0]}", *doc[1:]])
        if key == "staff":
            text += _staff_block(values, nurses)
        elif key == "name" and values.get(key) is None:
            text += "name: null  # à remplir : nom du centre\n"
        elif values.get(key) is not None:
            text += _dump(CommentedMap([(key, _scalars(values[key], key))]))
        else:
            text += _comment(["Exemple :", *example.splitlines()])
        parts.append(text)
    return "\n".join(parts)


def _source_line(previous: tuple[int, dict[str, Any]] | None, billed: list[str], year: int) -> str:
    said = []
    if previous and previous[0] == year:
        said.append(f"registre {year} déjà chargé dans l'entrepôt (dates comprises)")
    elif previous:
        said.append(f"registre {previous[0]} de l'entrepôt (valeurs à vérifier)")
    if billed:
        said.append(f"{len(billed)} infirmière(s) de la facturation {year}")
    if not said:
        return f"Rien à pré-remplir : ni registre ni facturation {year} dans l'entrepôt."
    return "Pré-rempli avec : " + " et ".join(said) + "."


def write_template(
    finess: str, year: int, db: Path | None, out: Path | None, settings: Settings
) -> Path:
    """Write the template for the centre × year; refuse a bad FINESS or an existing file."""
    if not re.fullmatch(FINESS_PATTERN, finess):
        raise UsageError(
            f"--centre « {finess} » : FINESS mal formé (9 caractères, 2 chiffres ou 2A/2B puis 7)."
        )
    target = out or Path(f"centre_{year}.yaml")
    if target.exists():
        raise UsageError(
            f"Le fichier {target} existe déjà : il n'est pas remplacé. Choisissez un autre nom "
            "avec --out, ou déplacez-le."
        )
    if not target.parent.is_dir():
        raise UsageError(f"Dossier introuvable pour écrire le registre : {target.parent}")
    previous, billed = read_warehouse(settings.warehouse(db), finess, year, settings.lock_timeout)
    values, nurses = template_values(finess, year, previous, billed)
    text = render_template(values, nurses, _source_line(previous, billed, year), target.name)
    try:
        with target.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"Le fichier {target} existe déjà : il n'est pas remplacé.") from None
    except OSError as exc:
        raise UsageError(f"Impossible d'écrire {target} ({plain_reason(exc)}).") from None
    return target


# --------------------------------------------------------------------------- checking


def _decimal(value: float) -> str:
    """`2.6` → `2,6`: the figures a French reader expects."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def register_summary(register: Any) -> str:
    """One line of what a valid register declares, so a mistyped ETP shows at a glance."""
    nurses = register.staff.nurses
    secretaries = register.staff.secretaries
    partners = register.partners or []
    signed = sum(1 for p in partners if p.convention_signed is not None)
    declared = sum(1 for key in DOCUMENTED_KEYS if getattr(register, key) is not None)
    return (
        f"{len(nurses)} infirmière(s), {_decimal(sum(n.fte for n in nurses))} ETP ; "
        f"{len(secretaries)} secrétaire(s), {_decimal(sum(s.fte for s in secretaries))} ETP ; "
        f"{len(partners)} partenaire(s) dont {signed} avec convention ; "
        f"{len(register.internal_meetings or [])} réunion(s) d'équipe ; "
        f"{declared} rubrique(s) renseignée(s) sur {len(DOCUMENTED_KEYS)}."
    )
