"""The centre register (`centre*.yaml`): the yearly declarative facts of one centre.

The register feeds annexe 3 sections 4 to 9 and the evidence of the commitments
(`engagements.md`). It is hand-written, so it is validated strictly: an unknown key
is a typo that would silently hide a fact, hence refused. An optional key that is
absent stays `None` (never `False`): the commitment it proves is then `unknown`,
not `not_met`. Lists default to `[]` only where "absent" and "empty" mean the same
(a nurse without other competences, a partner without meetings listed).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from pipeline.core.canonical import FINESS_PATTERN
from pipeline.core.errors import Finding, InputError, yaml_problem

Role = Literal["nurse", "coordinator", "manager"]
PartnerNature = Literal["hospital", "network", "had", "ssiad", "ehpad", "medico_social", "other"]
ActionLevel = Literal["national", "regional", "local"]
TrainingKind = Literal["conventional", "professional", "local"]

# Natures that are "établissements sanitaires ou établissements et services médico-sociaux"
# (2015 agreement, 8.3.3.3 criterion 2).
ESTABLISHMENT_NATURES = ("hospital", "had", "ssiad", "ehpad", "medico_social")

FTE_RULE = "l'ETP doit être compris entre 0 (exclu) et 1"
DATE_RULE = "date attendue (AAAA-MM-JJ)"
FINESS_RULE = (
    "FINESS mal formé : 9 caractères, 2 chiffres (ou 2A/2B) puis 7 "
    '(à écrire entre guillemets, ex. "750000001")'
)


def _iso_date(value: Any) -> Any:
    """Accept a YAML date or an ISO `AAAA-MM-JJ` string; refuse timestamps and numbers.

    Pydantic's lax mode would read an integer as a Unix timestamp: a typo such as
    `20250114` must be refused, not turned into a 1970 date.
    """
    if isinstance(value, dt.datetime):
        raise PydanticCustomError("csi_date", DATE_RULE)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        french = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*", value)
        if french:  # the way a French secretary writes a date: say how to write it here
            day, month, year = french.groups()
            iso = f"{year}-{int(month):02d}-{int(day):02d}"
            raise PydanticCustomError("csi_date", f"{DATE_RULE}, écrite {iso}")
    raise PydanticCustomError("csi_date", DATE_RULE)


def _id_text(value: Any) -> Any:
    """Identifiers written without quotes are read by YAML as numbers: keep them as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _fte(value: Any) -> Any:
    """One rule, one French message, whatever the way the FTE is wrong; a French decimal
    comma (`0,8`, read by YAML as text) is the likeliest mistake, so it is named."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+,\d+\s*", value):
        point = value.strip().replace(",", ".")
        raise PydanticCustomError("csi_fte", f"{FTE_RULE}, écrit avec un point : {point}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("csi_fte", FTE_RULE)
    if not 0 < value <= 1:
        raise PydanticCustomError("csi_fte", FTE_RULE)
    return float(value)


BOOL_RULE = "oui ou non attendu (oui, non, true ou false)"
_YES = frozenset({"oui", "true", "vrai"})
_NO = frozenset({"non", "false", "faux"})


def _yes_no(value: Any) -> Any:
    """`oui`/`non`, as a French secretary writes them, beside YAML's own `true`/`false`.

    YAML reads `oui` as text; any other text (`peut-être`, `yes`) is refused rather than
    guessed, since the commitment the key proves would follow the guess.
    """
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
        raise PydanticCustomError("csi_bool", BOOL_RULE)
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]
IdText = Annotated[str, BeforeValidator(_id_text), Field(min_length=1)]
Fte = Annotated[float, BeforeValidator(_fte)]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    """Every register block refuses unknown keys (a typo must not hide a fact)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Nurse(_Strict):
    id: IdText
    fte: Fte
    chemotherapy_qualified: YesNo | None = None
    other_competences: list[Text] = Field(default_factory=list)
    role: Role = "nurse"


class Secretary(_Strict):
    fte: Fte


class Staff(_Strict):
    nurses: list[Nurse] = Field(default_factory=list)
    secretaries: list[Secretary] = Field(default_factory=list)


class Partner(_Strict):
    name: Text
    nature: PartnerNature
    convention_signed: IsoDate | None = None
    meetings: list[IsoDate] = Field(default_factory=list)


class PatientFile(_Strict):
    specific: YesNo | None = None
    computerised: YesNo | None = None
    shared: YesNo | None = None
    mobile_access: YesNo | None = None
    dmp_secure_messaging: YesNo | None = None


class PreventionAction(_Strict):
    title: Text
    level: ActionLevel
    date: IsoDate | None = None


class PromotionAction(_Strict):
    title: Text
    date: IsoDate | None = None


class Training(_Strict):
    kind: TrainingKind
    description: Text
    nurses_trained: int | None = Field(default=None, ge=0)
    days: float | None = Field(default=None, ge=0)


class Internship(_Strict):
    school: Text
    start: IsoDate | None = None
    weeks: float | None = Field(default=None, gt=0)


class CentreRegister(_Strict):
    """One centre × one year, as declared by the centre (data-contract.md)."""

    finess: Annotated[str, BeforeValidator(_id_text)]
    name: Text
    year: int = Field(ge=2000, le=2100)
    # For the report's attestation block (optional: left blank for a handwritten entry).
    address: Text | None = None
    legal_representative: Text | None = None
    staff: Staff
    internal_meetings: list[IsoDate] | None = None
    partners: list[Partner] | None = None
    patient_file: PatientFile | None = None
    transmission_log: YesNo | None = None
    planning_formalised: YesNo | None = None
    care_directory_updated: IsoDate | None = None
    external_data_procedure: YesNo | None = None
    flu_vaccination_gp_info: YesNo | None = None
    access_24_7: YesNo | None = None
    phone_message_outside_hours: YesNo | None = None
    coordinator_nurse: Annotated[str | None, BeforeValidator(_id_text)] = None
    charter_displayed: YesNo | None = None
    permanence: list[Text] | None = None
    prevention_actions: list[PreventionAction] | None = None
    promotion_actions: list[PromotionAction] | None = None
    trainings: list[Training] | None = None
    internships: list[Internship] | None = None

    @field_validator("finess")
    @classmethod
    def _finess(cls, value: str) -> str:
        if not re.fullmatch(FINESS_PATTERN, value):
            raise PydanticCustomError("csi_finess", FINESS_RULE)
        return value


_MODELS = (
    CentreRegister,
    Staff,
    Nurse,
    Secretary,
    Partner,
    PatientFile,
    PreventionAction,
    PromotionAction,
    Training,
    Internship,
)

# --------------------------------------------------------------------------- loading

_RULES = {
    "extra_forbidden": "clé inconnue",
    "missing": "clé obligatoire manquante",
    "bool_type": BOOL_RULE,
    "bool_parsing": BOOL_RULE,
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "string_type": "texte attendu",
    "string_too_short": "texte vide",
    "list_type": "liste attendue",
    "model_type": "rubrique attendue (clés et valeurs)",
    "model_attributes_type": "rubrique attendue (clés et valeurs)",
    "dict_type": "rubrique attendue (clés et valeurs)",
    "date_type": DATE_RULE,
    "date_parsing": DATE_RULE,
    "date_from_datetime_parsing": DATE_RULE,
}


def _without_timestamps(loader: type[Any]) -> None:
    """Drop the timestamp resolver, so that dates stay text and the model checks them."""
    loader.yaml_implicit_resolvers = {
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in loader.yaml_implicit_resolvers.items()
    }


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool | None):  # `[a, b]: c`, `{a: b}: c`
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "une clé doit être un simple mot (pas une liste ni une rubrique)",
                key_node.start_mark,
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"clé « {key} » écrite deux fois", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


def _strict(loader: type[Any]) -> type[Any]:
    """Give a loader class the two register rules (unique keys, dates left as text)."""
    _without_timestamps(loader)
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    return loader


@_strict
class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key written twice (PyYAML keeps the last silently)
    and leaves dates as text, so that an impossible date (`2025-13-01`) is refused by the
    model with its key path instead of crashing the YAML parser.

    Pure Python: it is the reference, whose error messages the findings quote."""


def _fast_loader() -> type[Any] | None:
    """The same rules over libyaml's C parser, when PyYAML was built with it.

    The pure scanner took ≈ 30 ms a register and dominated the loading of a federation's
    registers; libyaml is about ten times faster. Constructor and resolver stay PyYAML's
    Python ones, so the values read are the same.
    """
    if not getattr(yaml, "__with_libyaml__", False):
        return None

    class _FastUniqueKeyLoader(yaml.CSafeLoader):
        """`_UniqueKeyLoader`'s rules over libyaml."""

    return _strict(_FastUniqueKeyLoader)


_FAST_LOADER = _fast_loader()


# Where libyaml accepts what the pure scanner refuses (found by differential fuzzing): a tab,
# a `?` or `!` in more places, a comment glued to a token (`|#`), a BOM past the first
# character, a Unicode line break, a directive. Such a text goes to the pure loader only.
_PURE_ONLY = re.compile(r"[\t?!\x85\u2028\u2029]|(?s:.)\ufeff|\S#|^%", re.MULTILINE)


def _parse_yaml(text: str) -> Any:
    """Parse with libyaml when present and safe; on any failure parse again with the pure loader.

    The pure loader stays the reference. libyaml words its syntax errors differently (and
    may place them elsewhere): the pure loader's second pass makes the finding, or the
    exception, exactly the one it always gave; a refused file is rare, so this costs
    nothing. libyaml is also more lenient on a few constructs (`_PURE_ONLY`): a text
    holding one is never given to it, so that a file refused before is still refused.
    """
    if _FAST_LOADER is not None and not _PURE_ONLY.search(text):
        try:
            return yaml.load(text, Loader=_FAST_LOADER)
        except Exception:  # the pure loader below reports it
            pass
    return yaml.load(text, Loader=_UniqueKeyLoader)


# Bounds of a register (a page of facts): beyond them a file is a mistake or a trap.
MAX_REGISTER_BYTES = 5 * 1024 * 1024
MAX_ALIASES = 100
MAX_DEPTH = 20
MAX_EXPANDED_VALUES = 100_000  # values once every alias is expanded (an alias bomb)
_COLLECTION_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _OutOfBounds(Exception):
    """A register beyond the bounds: the rule broken and the line where it shows."""

    def __init__(self, rule: str, event: Any) -> None:
        super().__init__(rule)
        self.rule = rule
        mark = getattr(event, "start_mark", None)
        self.line = mark.line + 1 if mark is not None else None


def _tag_rule(tag: str) -> str:
    tag = tag if len(tag) <= 80 else tag[:79] + "…"
    return (
        f"étiquette YAML « {tag} » non permise : un registre ne contient que des "
        "données simples (texte, nombres, listes, rubriques)"
    )


def _check_event_bounds(events: Any) -> None:
    """Walk the parser's events, never building the document: refuse tags, more than
    `MAX_ALIASES` aliases, an alias inside its own anchor, more than `MAX_EXPANDED_VALUES`
    values once aliases are expanded, and nesting deeper than `MAX_DEPTH`.

    Events come one at a time (no recursion, no expansion), so time and memory stay
    proportional to the text whatever it holds; the composer and the model, which would
    recurse 10 000 levels deep or expand an alias bomb, only see a bounded document.
    """
    aliases = 0
    sizes: dict[str, int] = {}  # values under each anchor, aliases expanded
    open_: list[list[Any]] = []  # [anchor, values so far] of each open list or rubric
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent) and event.tags:
            raise _OutOfBounds(_tag_rule("%TAG"), event)
        if getattr(event, "tag", None) is not None:
            raise _OutOfBounds(_tag_rule(event.tag), event)
        values = 0
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _OutOfBounds(
                    f"plus de {MAX_ALIASES} alias YAML (*nom) : un registre n'en a pas besoin",
                    event,
                )
            alias = event.anchor or ""  # the parser always names an alias; the stubs allow None
            if any(anchor == alias for anchor, _ in open_):
                raise _OutOfBounds(
                    f"alias YAML circulaire : *{alias[:40]} dans &{alias[:40]}",
                    event,
                )
            values = sizes.get(alias, 1)
        elif isinstance(event, yaml.ScalarEvent):
            values = 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, _COLLECTION_START):
            if len(open_) >= MAX_DEPTH:
                raise _OutOfBounds(
                    f"imbrication trop profonde : plus de {MAX_DEPTH} niveaux de listes "
                    "ou de rubriques",
                    event,
                )
            open_.append([event.anchor, 1])
        elif isinstance(event, _COLLECTION_END):
            anchor, values = open_.pop()
            if anchor:
                sizes[anchor] = values
        if values and open_:
            open_[-1][1] += values
            if open_[-1][1] > MAX_EXPANDED_VALUES:
                raise _OutOfBounds(
                    f"les alias YAML se développeraient en plus de {MAX_EXPANDED_VALUES} "
                    "valeurs (bombe d'alias)",
                    event,
                )


def _check_bounds(text: str) -> None:
    """`_check_event_bounds` over the parser `_parse_yaml` will use (libyaml when it can).

    A syntax error stops the walk: the parse that follows reports it, and what comes
    before it was within bounds.
    """
    if _FAST_LOADER is not None and not _PURE_ONLY.search(text):
        try:
            return _check_event_bounds(yaml.parse(text, Loader=_FAST_LOADER))
        except _OutOfBounds:
            raise
        except Exception:  # the pure parser decides, as in `_parse_yaml`
            pass
    try:
        _check_event_bounds(yaml.parse(text, Loader=_UniqueKeyLoader))
    except yaml.YAMLError:
        return


def key_path(loc: tuple[int | str, ...]) -> str:
    """`("staff", "nurses", 2, "fte")` → `staff.nurses[3].fte` (entries counted from 1)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _rule(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind.startswith("csi_"):
        return error["msg"]
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        # a punctuation value (a decimal separator `.` or `,`) is quoted, or it reads as the list's
        shown = [a if re.fullmatch(r"\w+", a) else f"« {a} »" for a in allowed]
        return f"valeur non reconnue (permises : {', '.join(shown)})"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(error.get("ctx", {}).values()), "")
        bound = f"{bound:g}" if isinstance(bound, int | float) else bound
        words = {
            "greater_than_equal": "au moins",
            "greater_than": "supérieure à",
            "less_than_equal": "au plus",
            "less_than": "inférieure à",
        }
        return f"valeur hors limites (attendu : {words[kind]} {bound})"
    if kind == "extra_forbidden":
        return _unknown_key(error)
    return _RULES.get(kind, "valeur non valide")


def _unknown_key(error: ErrorDetails) -> str:
    """« clé inconnue », with the register's key it most resembles (`acces_24_7` →
    `access_24_7`): the keys are English words, easy to mistype for a French writer."""
    key = str(error["loc"][-1]) if error.get("loc") else ""
    known = sorted({name for model in _MODELS for name in model.model_fields})
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    return f"clé inconnue (vouliez-vous dire « {close[0]} » ?)" if close else "clé inconnue"


def _value(error: ErrorDetails) -> str | None:
    if error["type"] == "missing":
        return None
    value = error.get("input")
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def findings_of(error: ValidationError, file_name: str) -> list[Finding]:
    """One French finding per pydantic error: a secretary never sees a traceback."""
    return [
        Finding(file=file_name, rule=_rule(e), column=key_path(e["loc"]) or None, value=_value(e))
        for e in error.errors()
    ]


def _unreadable(path: Path, rule: str, row: int | None = None) -> InputError:
    return InputError(
        f"Registre du centre illisible : {path.name}", [Finding(path.name, rule, row=row)]
    )


def _read_text(path: Path) -> str:
    """The file's text, refused before it is read when it is too big for a register."""
    with path.open("rb") as handle:
        data = handle.read(MAX_REGISTER_BYTES + 1)
    if len(data) > MAX_REGISTER_BYTES:
        raise _unreadable(
            path,
            f"fichier trop gros pour un registre : plus de {MAX_REGISTER_BYTES // 2**20} Mo",
        )
    return data.decode("utf-8")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = _read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        # Where the bad byte is helps the secretary; the exception's class name does not.
        where = (
            f", octet n° {exc.start + 1} invalide" if isinstance(exc, UnicodeDecodeError) else ""
        )
        raise InputError(
            f"Registre du centre illisible : {path.name}",
            [Finding(path.name, f"fichier illisible (texte UTF-8 attendu{where})")],
        ) from None
    try:
        _check_bounds(text)
    except _OutOfBounds as exc:
        raise _unreadable(path, exc.rule, exc.line) from None
    try:
        data = _parse_yaml(text)
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark else ""
        problem = yaml_problem(exc)
        raise InputError(
            f"Registre du centre illisible : {path.name}",
            [
                Finding(
                    path.name,
                    f"YAML invalide{where} : {problem}",
                    row=mark.line + 1 if mark else None,
                )
            ],
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            f"Registre du centre illisible : {path.name}",
            [
                Finding(
                    path.name,
                    "le registre doit être une suite de clés (finess, name, year, staff…)",
                )
            ],
        )
    return data


def load_register(path: Path) -> CentreRegister:
    """Read and validate one `centre*.yaml`; every problem becomes a French `Finding`."""
    data = _read_yaml(path)
    try:
        return CentreRegister.model_validate(data)
    except ValidationError as exc:
        findings = findings_of(exc, path.name)
        raise InputError(
            f"Registre du centre refusé : {len(findings)} problème(s) à corriger", findings
        ) from None
