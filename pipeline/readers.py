"""Read an extract's files into text frames with canonical column names.

Everything is read as text first: types are parsed afterwards (`pipeline.coerce`) so
that a bad value can be reported with its file, row and column instead of failing the
whole read with an engine error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.canonical import DEFAULTS, TABLES
from pipeline.errors import Finding, InputError
from pipeline.profiles import FileFormat, Profile, TableMapping

ROW = "_row"  # 1-based data row number in its file, header excluded
FILE = "_file"  # file name, for error messages and the loads register


@dataclass(frozen=True)
class SourceFile:
    table: str
    path: Path


def find_files(extract_dir: Path, profile: Profile) -> list[SourceFile]:
    """List the extract's files per table, following the profile's globs."""
    found: list[SourceFile] = []
    claimed: set[Path] = set()
    for table, mapping in profile.tables.items():
        for pattern in mapping.files:
            for path in sorted(extract_dir.glob(pattern)):
                if path.is_file() and path not in claimed and not path.name.startswith("~$"):
                    claimed.add(path)
                    found.append(SourceFile(table, path))
    return found


def _decode(path: Path, encoding: str) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise InputError(
            f"Fichier illisible : {path.name}",
            [Finding(path.name, "fichier binaire ou corrompu : ce n'est pas un fichier texte CSV")],
        )
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        raise InputError(
            f"Fichier illisible : {path.name}",
            [
                Finding(
                    path.name,
                    f"le fichier n'est pas encodé en {encoding} : indiquez le bon encodage "
                    "dans le profil d'import (format.encoding, par ex. cp1252)",
                )
            ],
        ) from None


def _ragged_row(text: str, delimiter: str) -> tuple[int, int, int] | None:
    """Find the first row whose field count differs from the header's (slow path)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, [])
    for number, fields in enumerate(reader, start=1):
        if fields and len(fields) != len(header):
            return number, len(fields), len(header)
    return None


def _read_csv(path: Path, fmt: FileFormat) -> pl.DataFrame:
    text = _decode(path, fmt.encoding)
    ragged = _ragged_row(text, fmt.delimiter) if text.count("\n") < 2_000_000 else None
    if ragged:
        number, got, expected = ragged
        raise InputError(
            f"Fichier mal formé : {path.name}",
            [
                Finding(
                    path.name,
                    f"{got} colonnes au lieu de {expected} (ligne tronquée ou séparateur "
                    f"« {fmt.delimiter} » présent dans une valeur)",
                    row=number,
                )
            ],
        )
    try:
        return pl.read_csv(
            io.StringIO(text),
            separator=fmt.delimiter,
            infer_schema=False,
        )
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise InputError(
            f"Fichier mal formé : {path.name}",
            [Finding(path.name, f"CSV illisible ({str(exc).splitlines()[0][:200]})")],
        ) from None


def _typed_to_text(frame: pl.DataFrame, fmt: FileFormat) -> pl.DataFrame:
    """Turn typed columns (Parquet, XLSX) into the text the coercion step expects.

    Numbers are written with the profile's decimal mark, since the coercion step parses
    text with that mark whatever the file type.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            exprs.append(col.dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(
                pl.when(col.dt.time() == pl.time(0, 0))
                .then(col.dt.strftime("%Y-%m-%d"))
                .otherwise(col.dt.strftime("%Y-%m-%d %H:%M"))
            )
        elif dtype == pl.Time:
            exprs.append(col.dt.strftime("%H:%M"))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(col).then(pl.lit("true")).otherwise(pl.lit("false")))
        elif dtype.is_float():
            # 1.0 → "1", 1.5 → "1.5": spreadsheets store every number as a float.
            exprs.append(
                pl.when(col == col.round(0))
                .then(col.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(col.round(6).cast(pl.String).str.replace(".", fmt.decimal, literal=True))
            )
        else:
            exprs.append(col.cast(pl.String))
    return frame.select([e.alias(n) for e, n in zip(exprs, frame.columns, strict=True)])


def _read_raw(path: Path, fmt: FileFormat, mapping: TableMapping) -> pl.DataFrame:
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError(f"Fichier vide : {path.name}", [Finding(path.name, "le fichier est vide")])
    try:
        if suffix == ".parquet":
            return _typed_to_text(pl.read_parquet(path), fmt)
        if suffix in (".xlsx", ".xlsm"):
            sheet = mapping.sheet or fmt.sheet
            kwargs = {"sheet_name": sheet} if sheet else {"sheet_id": 1}
            return _typed_to_text(pl.read_excel(path, engine="calamine", **kwargs), fmt)
    except InputError:
        raise
    except Exception as exc:  # engines raise many types; all mean "unreadable"
        raise InputError(
            f"Fichier illisible : {path.name}",
            [Finding(path.name, f"fichier illisible ({exc.__class__.__name__})")],
        ) from None
    return _read_csv(path, fmt)


def _missing_column(source: SourceFile, key: str, header: str, frame: pl.DataFrame) -> Finding:
    return Finding(
        source.path.name,
        f"colonne « {header} » absente (clé du profil : {key}) ; "
        f"colonnes présentes : {', '.join(frame.columns) or 'aucune'}",
        column=header,
    )


def to_canonical(raw: pl.DataFrame, source: SourceFile, profile: Profile) -> pl.DataFrame:
    """Rename, fill defaults and map values, keeping every canonical column as text."""
    mapping = profile.tables[source.table]
    raw = raw.rename({c: c.strip() for c in raw.columns})
    defaults = {**DEFAULTS[source.table], **mapping.defaults}
    exprs: list[pl.Expr] = []
    missing: list[Finding] = []
    for column in TABLES[source.table]:
        header = mapping.source_header(column.name)
        if header in raw.columns:
            expr = pl.col(header).str.strip_chars()
            expr = pl.when(expr == "").then(None).otherwise(expr)
        elif column.name in defaults:
            expr = pl.lit(None, dtype=pl.String)
        elif column.required or column.name in mapping.columns:
            missing.append(
                _missing_column(source, f"tables.{source.table}.columns.{column.name}", header, raw)
            )
            continue
        else:
            expr = pl.lit(None, dtype=pl.String)
        if column.name in defaults:
            expr = expr.fill_null(pl.lit(str(defaults[column.name])))
        exprs.append(expr.alias(column.name))
    if missing:
        raise InputError(f"Colonnes manquantes dans {source.path.name}", missing)
    frame = raw.select(exprs)
    return frame.with_columns(
        pl.lit(source.path.name).alias(FILE),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW),
    )


def map_values(frame: pl.DataFrame, source: SourceFile, profile: Profile) -> pl.DataFrame:
    """Translate the software's own words (statuses, reasons…) into canonical values.

    A value the profile maps for a column must be known to the profile: an unmapped
    value is refused with its row, so that nothing is silently left untranslated.
    """
    mapping = profile.tables[source.table]
    for column, table in mapping.values.items():
        known = set(table) | set(table.values())
        unknown = frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(known))
        if unknown.height:
            findings = [
                Finding(
                    source.path.name,
                    f"valeur non prévue par le profil « {profile.name} » "
                    f"(tables.{source.table}.values.{column} ; valeurs prévues : "
                    f"{', '.join(sorted(table))})",
                    row=row[ROW],
                    column=mapping.source_header(column),
                    value=row[column],
                )
                for row in unknown.head(50).iter_rows(named=True)
            ]
            raise InputError(f"Valeurs non reconnues dans {source.path.name}", findings)
        frame = frame.with_columns(pl.col(column).replace(table))
    return frame


def read_source(source: SourceFile, profile: Profile) -> pl.DataFrame:
    """Read one file into a text frame with canonical columns plus `_file` and `_row`."""
    raw = _read_raw(source.path, profile.format, profile.tables[source.table])
    if raw.height == 0:
        raise InputError(
            f"Fichier vide : {source.path.name}",
            [Finding(source.path.name, "aucune ligne de données sous l'en-tête")],
        )
    return map_values(to_canonical(raw, source, profile), source, profile)
