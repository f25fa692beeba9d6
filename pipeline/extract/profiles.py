"""Import profiles: how one software's export maps onto the canonical tables.

A profile is YAML (data-contract.md, "Import profiles"). The shipped ones live in
`pipeline/extract/shipped_profiles/`; a centre can pass its own file with `--profile FILE`.

A profile is hand-written, like the centre register, so it is validated the same way
(pydantic, strict): an unknown key, table or canonical column is a typo that would
silently leave a column unread, hence refused with a French message naming the file
and the key path. It must be plain data: YAML tags, anchors and aliases are refused.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from pipeline.core.canonical import TABLE_PREFIXES, TABLES, Column, Kind
from pipeline.core.errors import Finding, ProfileError, yaml_problem

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped_profiles"
# A profile is a page of YAML (the deepest real one nests 5 levels): the register's bounds.
MAX_PROFILE_BYTES = 5 << 20
MAX_DEPTH = 20
BOOLEAN_TARGETS = ("true", "false")


@dataclass(frozen=True)
class FileFormat:
    delimiter: str = ","
    encoding: str = "utf-8"
    decimal: str = "."
    date_format: str = "%Y-%m-%d"
    time_format: str = "%H:%M"
    sheet: str | None = None


@dataclass(frozen=True)
class TableMapping:
    files: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)  # canonical → source header
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # canonical col → map
    defaults: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None
    format: dict[str, str] = field(default_factory=dict)  # keys overriding the profile's

    def source_header(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)


@dataclass(frozen=True)
class Profile:
    name: str
    source: str
    format: FileFormat
    tables: dict[str, TableMapping]

    def format_of(self, table: str) -> FileFormat:
        """The table's format: the profile's, with the keys of `tables.<table>.format`.

        One software may write its billing in cp1252 with `;` and its patients in UTF-8
        with `,`: one profile must describe both.
        """
        mapping = self.tables.get(table)
        if mapping is None or not mapping.format:
            return self.format
        return dataclasses.replace(self.format, **mapping.format)

    def format_key(self, table: str, key: str) -> str:
        """The profile key a format setting of the table comes from (for messages)."""
        mapping = self.tables.get(table)
        if mapping is not None and key in mapping.format:
            return f"tables.{table}.format.{key}"
        return f"format.{key}"


def _canonical_table(table: str) -> TableMapping:
    prefix = TABLE_PREFIXES[table]
    return TableMapping(files=(f"{prefix}*.csv", f"{prefix}*.parquet", f"{prefix}*.xlsx"))


def canonical_profile() -> Profile:
    """The profile of files already in the contract's canonical form."""
    tables = {table: _canonical_table(table) for table in TABLES}
    return Profile("canonical", "intégré", FileFormat(), tables)


def shipped_profiles() -> list[str]:
    return ["canonical", *sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))]


def load_profile(name_or_file: str | None) -> Profile:
    """Resolve `--profile`: a shipped profile's name, or the path of a YAML file."""
    if name_or_file in (None, "", "canonical"):
        return canonical_profile()
    path = Path(name_or_file)
    if not path.is_file():
        shipped = SHIPPED_DIR / f"{name_or_file}.yaml"
        if not shipped.is_file():
            raise ProfileError(
                f"Profil d'import introuvable : « {name_or_file} ». "
                f"Profils fournis : {', '.join(shipped_profiles())}, ou chemin d'un fichier YAML."
            )
        path = shipped
    return parse_profile(path)


# --------------------------------------------------------------------------- the model


def _text(value: Any) -> Any:
    """A header, word or default written without quotes may be read by YAML as a number.

    Numbers are kept as the text written (`1: billed`, a status code). A YAML boolean
    cannot be: `yes`, `no`, `on`, `off` lose their spelling, so they must be quoted.
    """
    if isinstance(value, bool):
        raise PydanticCustomError(
            "csi_yaml_bool",
            "lu par YAML comme oui/non (yes, no, on, off, true, false…) : "
            'écrivez ce mot entre guillemets, ex. "Yes"',
        )
    if isinstance(value, int | float):
        return str(value)
    return value


def _one_char(value: str) -> str:
    if len(value) != 1:
        raise PydanticCustomError(
            "csi_delimiter",
            'un seul caractère attendu (ex. ";", "," ou "\\t" pour une tabulation)',
        )
    if value in ('"', "\n", "\r"):
        raise PydanticCustomError(
            "csi_delimiter", "un guillemet ou un saut de ligne ne peut pas séparer les colonnes"
        )
    return value


def _known_encoding(value: str) -> str:
    try:
        info = codecs.lookup(value)
    except LookupError:
        info = None
    # base64, zlib, rot13… are codecs Python knows, but not encodings of text files
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise PydanticCustomError("csi_encoding", "encodage inconnu (ex. utf-8, cp1252, latin-1)")
    return value


def _round_trips(value: str, sample: dt.datetime, keep: str) -> bool:
    """Whether the format writes `sample` as text that reads back as the same date or time."""
    try:
        parsed = dt.datetime.strptime(sample.strftime(value), value)
    except ValueError:
        return False
    return getattr(parsed, keep)() == getattr(sample, keep)()


def _date_format(value: str) -> str:
    if not _round_trips(value, dt.datetime(2025, 3, 14), "date"):
        raise PydanticCustomError(
            "csi_date_format",
            "format de date incomplet ou mal écrit (jour, mois et année : ex. %d/%m/%Y)",
        )
    return value


def _time_format(value: str) -> str:
    if not _round_trips(value, dt.datetime(2025, 3, 14, 21, 35), "time"):
        raise PydanticCustomError(
            "csi_time_format",
            "format d'heure incomplet ou mal écrit (heures et minutes : ex. %H:%M)",
        )
    return value


def _files(value: Any) -> Any:
    """One glob or a list of globs, always as a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return value
    raise PydanticCustomError(
        "csi_files",
        'motif de nom de fichier attendu, ou liste de motifs (ex. "factures*.csv")',
    )


Text = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
PlainText = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    """Every profile block refuses unknown keys (a typo must not leave a column unread)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FormatModel(_Strict):
    delimiter: Annotated[str, AfterValidator(_one_char)] | None = None
    encoding: Annotated[str, AfterValidator(_known_encoding)] | None = None
    decimal: Literal[".", ","] | None = None
    date_format: Annotated[str, AfterValidator(_date_format)] | None = None
    time_format: Annotated[str, AfterValidator(_time_format)] | None = None
    sheet: PlainText | None = None


def _boolean_target(value: Any) -> Any:
    """`true`/`false` in any case (or a YAML boolean), written as the contract writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in BOOLEAN_TARGETS:
        return value.strip().lower()
    raise PydanticCustomError("csi_boolean", "true ou false attendu (valeur canonique)")


def _enum_target(allowed: tuple[str, ...]) -> Any:
    def check(value: Any) -> Any:
        if value not in allowed:
            raise PydanticCustomError(
                "csi_enum",
                "valeur canonique attendue (permises : {allowed})",
                {"allowed": ", ".join(allowed)},
            )
        return value

    return check


def _target(column: Column) -> Any:
    """The type of a canonical value of the column: a word's translation or a default.

    A column with allowed values (the contract's enums) admits only those.
    """
    if column.kind is Kind.BOOLEAN:
        return Annotated[str, BeforeValidator(_boolean_target)]
    if column.allowed:
        return Annotated[str, BeforeValidator(_text), AfterValidator(_enum_target(column.allowed))]
    return Text


def _optional_fields(table: str, kind: Any) -> dict[str, Any]:
    return {c.name: (kind(c) | None, None) for c in TABLES[table]}


def _table_model(table: str) -> type[BaseModel]:
    """The model of `tables.<table>`: its blocks only know the table's canonical columns."""
    title = table.capitalize()
    columns = create_model(
        f"{title}Columns", __base__=_Strict, **_optional_fields(table, lambda c: Text)
    )
    values = create_model(
        f"{title}Values",
        __base__=_Strict,
        # A generic alias built at run time from the column's type: no static type to check.
        **_optional_fields(table, lambda c: dict[Text, _target(c)]),  # type: ignore[misc]
    )
    defaults = create_model(
        f"{title}Defaults", __base__=_Strict, **_optional_fields(table, _target)
    )
    return create_model(
        f"{title}Table",
        __base__=_Strict,
        files=(Annotated[list[str], BeforeValidator(_files)] | None, None),
        columns=(columns | None, None),
        values=(values | None, None),
        defaults=(defaults | None, None),
        sheet=(PlainText | None, None),
        format=(FormatModel | None, None),
    )


_TABLE_FIELDS: dict[str, Any] = {t: (_table_model(t) | None, None) for t in TABLES}
TablesModel = create_model("TablesModel", __base__=_Strict, **_TABLE_FIELDS)


class ProfileModel(_Strict):
    name: PlainText | None = None
    description: str | None = None
    format: FormatModel | None = None
    tables: TablesModel | None = None


# --------------------------------------------------------------------------- messages


def _rule(error: ErrorDetails) -> str:
    """The register's French rules, plus the two typos only a profile can make."""
    from schemas.register import _rule as register_rule

    loc = error["loc"]
    if error["type"] == "extra_forbidden" and loc[:1] == ("tables",):
        if len(loc) == 2:
            return f"table inconnue (tables : {', '.join(TABLES)})"
        if len(loc) == 4 and loc[2] in ("columns", "values", "defaults"):
            names = ", ".join(c.name for c in TABLES[str(loc[1])])
            return f"colonne canonique inconnue (colonnes de {loc[1]} : {names})"
    return register_rule(error)


def _key_path(loc: tuple[int | str, ...]) -> str:
    """The register's key path; every part is a key (a profile holds no list to number)."""
    from schemas.register import key_path

    if loc[-1:] == ("[key]",):  # the word itself is wrong: the path stops at its column
        loc = loc[:-2]
    return key_path(tuple(str(p) for p in loc))


def _findings(error: ValidationError, file_name: str) -> list[Finding]:
    """One French finding per pydantic error, once per key (a union reports each branch)."""
    from schemas.register import _value

    found: dict[str, Finding] = {}
    for e in error.errors():
        path = _key_path(e["loc"])
        found.setdefault(
            path, Finding(file=file_name, rule=_rule(e), column=path or None, value=_value(e))
        )
    return list(found.values())


# --------------------------------------------------------------------------- YAML


@functools.cache
def _plain_loader() -> type[Any]:
    """The register's strict loader (unique keys, dates as text), refusing what is not data.

    A tag (`!!python/object`, `!x`) asks for a construction, an anchor or alias (`&a`, `*a`)
    lets a few lines expand into gigabytes: neither has a use in a profile. Nesting is
    bounded, so that a `[[[[…` cannot exhaust the stack.
    """
    from schemas.register import _UniqueKeyLoader

    class PlainLoader(_UniqueKeyLoader):
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            problem = None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                problem = "ancre ou alias (& ou *) non admis dans un profil"
            elif getattr(event, "tag", None) is not None:
                problem = f"étiquette YAML « {event.tag} » non admise dans un profil"
            elif self.depth >= MAX_DEPTH:
                problem = f"imbrication trop profonde (au plus {MAX_DEPTH} niveaux)"
            if problem:
                raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return PlainLoader


def _unreadable(path: Path, rule: str, row: int | None = None) -> ProfileError:
    return ProfileError(f"Profil d'import illisible : {path.name}", [Finding(path.name, rule, row)])


def _read_yaml(path: Path) -> Any:
    """The profile's YAML as plain data, or a `ProfileError` in the register's words."""
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise _unreadable(path, "profil trop volumineux (5 Mo au plus)")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise _unreadable(path, "fichier illisible (texte UTF-8 attendu)") from None
    try:
        return yaml.load(text, Loader=_plain_loader())
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark else ""
        problem = yaml_problem(exc)
        row = mark.line + 1 if mark else None
        raise _unreadable(path, f"YAML invalide{where} : {problem}", row) from None


# --------------------------------------------------------------------------- profile


def _set(model: BaseModel | None) -> dict[str, Any]:
    """The keys a block of the profile gives (absent ones are None)."""
    return {} if model is None else {k: v for k, v in model if v is not None}


def _mapping(table: str, model: Any) -> TableMapping:
    """The mapping of one table; `model` is a `<Table>Table` built by `create_model` (or None),
    whose fields mypy cannot see."""
    if model is None:
        return _canonical_table(table)
    return TableMapping(
        files=tuple(model.files or _canonical_table(table).files),
        columns=_set(model.columns),
        values=_set(model.values),
        defaults=_set(model.defaults),
        sheet=model.sheet,
        format=_set(model.format),
    )


def parse_profile(path: Path) -> Profile:
    """Read and validate a profile file; every problem becomes a French `Finding`."""
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise _unreadable(path, "le profil doit être une suite de clés (name, format, tables…)")
    try:
        model = ProfileModel.model_validate(data)
    except ValidationError as exc:
        findings = _findings(exc, path.name)
        raise ProfileError(
            f"Profil d'import refusé : {path.name}, {len(findings)} problème(s) à corriger",
            findings,
        ) from None
    tables = _set(model.tables)
    return Profile(
        model.name or path.stem,
        str(path),
        FileFormat(**_set(model.format)),
        {t: _mapping(t, tables.get(t)) for t in TABLES},
    )
