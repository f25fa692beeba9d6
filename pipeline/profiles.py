"""Import profiles: how one software's export maps onto the canonical tables.

A profile is YAML (data-contract.md, "Import profiles"). The shipped ones live in
`pipeline/profiles/`; a centre can pass its own file with `--profile FILE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.canonical import TABLE_PREFIXES, TABLES
from pipeline.errors import Finding, InputError

SHIPPED_DIR = Path(__file__).resolve().parent / "profiles"
_FORMAT_KEYS = {"delimiter", "encoding", "decimal", "date_format", "time_format", "sheet"}
_TABLE_KEYS = {"files", "columns", "values", "defaults", "sheet"}


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

    def source_header(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)


@dataclass(frozen=True)
class Profile:
    name: str
    source: str
    format: FileFormat
    tables: dict[str, TableMapping]


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
            raise InputError(
                f"Profil d'import introuvable : « {name_or_file} ». "
                f"Profils fournis : {', '.join(shipped_profiles())}, ou chemin d'un fichier YAML."
            )
        path = shipped
    return parse_profile(path)


def _fail(path: Path, key: str, rule: str) -> InputError:
    return InputError(
        f"Profil d'import invalide : {path.name}", [Finding(path.name, rule, column=key)]
    )


def _as_str_map(raw: Any, path: Path, key: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(path, key, "doit être une correspondance « clé: valeur »")
    return {str(k): str(v) for k, v in raw.items()}


def _parse_table(table: str, raw: Any, path: Path) -> TableMapping:
    if not isinstance(raw, dict):
        raise _fail(path, f"tables.{table}", "doit décrire files, columns, values, defaults")
    unknown = set(raw) - _TABLE_KEYS
    if unknown:
        raise _fail(path, f"tables.{table}.{sorted(unknown)[0]}", "clé inconnue")
    known_columns = {c.name for c in TABLES[table]}
    columns = _as_str_map(raw.get("columns"), path, f"tables.{table}.columns")
    values_raw = raw.get("values") or {}
    if not isinstance(values_raw, dict):
        raise _fail(path, f"tables.{table}.values", "doit être une correspondance par colonne")
    values = {
        str(col): _as_str_map(m, path, f"tables.{table}.values.{col}")
        for col, m in values_raw.items()
    }
    defaults = _as_str_map(raw.get("defaults"), path, f"tables.{table}.defaults")
    for section, keys in (("columns", columns), ("values", values), ("defaults", defaults)):
        for key in keys:
            if key not in known_columns:
                raise _fail(
                    path,
                    f"tables.{table}.{section}.{key}",
                    f"colonne canonique inconnue (colonnes de {table} : "
                    f"{', '.join(sorted(known_columns))})",
                )
    files = raw.get("files") or _canonical_table(table).files
    files = (files,) if isinstance(files, str) else tuple(str(f) for f in files)
    sheet = raw.get("sheet")
    return TableMapping(files, columns, values, defaults, str(sheet) if sheet else None)


def parse_profile(path: Path) -> Profile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _fail(path, "", f"YAML illisible ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise _fail(path, "", "le profil doit être une correspondance YAML")
    unknown_top = set(raw) - {"name", "format", "tables", "description"}
    if unknown_top:
        raise _fail(path, sorted(unknown_top)[0], "clé inconnue")
    fmt_raw = raw.get("format") or {}
    unknown_fmt = set(fmt_raw) - _FORMAT_KEYS
    if unknown_fmt:
        raise _fail(path, f"format.{sorted(unknown_fmt)[0]}", "clé inconnue")
    fmt = FileFormat(**{k: str(v) for k, v in fmt_raw.items()})
    tables_raw = raw.get("tables") or {}
    unknown_tables = set(tables_raw) - set(TABLES)
    if unknown_tables:
        raise _fail(path, f"tables.{sorted(unknown_tables)[0]}", "table inconnue")
    tables = {t: _parse_table(t, tables_raw.get(t) or {}, path) for t in TABLES}
    return Profile(str(raw.get("name") or path.stem), str(path), fmt, tables)
