"""Read an extract's files into text frames with canonical column names, batch by batch.

Everything is read as text first: types are parsed afterwards (`pipeline.coerce`) so
that a bad value can be reported with its file, row and column instead of failing the
whole read with an engine error. One exception: a typed column of a Parquet or XLSX
file whose text would parse back to the same value, without fail, stays typed
(`_typed_value`): writing 10M dates or amounts out to parse them again costs seconds.

Files are streamed: a CSV is cut into blocks of whole records (`BLOCK_BYTES`), a
Parquet file into row batches, so that memory stays bounded whatever the size of the
export; `_row` keeps counting across batches, so a finding names the same row as if
the file had been read at once.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.canonical import DEFAULTS, TABLES, Column, Kind
from pipeline.errors import SENSITIVE_COLUMNS, Finding, InputError
from pipeline.profiles import FileFormat, Profile, TableMapping

ROW = "_row"  # 1-based data row number in its file, header excluded
FILE = "_file"  # file name, for error messages and the loads register

BLOCK_BYTES = 64 << 20  # CSV bytes per batch (~750,000 billing lines)
BATCH_ROWS = 1 << 20  # rows per batch of Parquet and XLSX files
MAX_UNKNOWN_VALUES = 50  # unmapped values reported per file
_WHOLE_FILE_CODECS = ("utf-16", "utf-32")  # not ASCII-compatible: cannot be cut in blocks


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


def _unreadable(path: Path, rule: str) -> InputError:
    return InputError(f"Fichier illisible : {path.name}", [Finding(path.name, rule)])


def _wrong_encoding(path: Path, encoding: str) -> InputError:
    return _unreadable(
        path,
        f"le fichier n'est pas encodé en {encoding} : indiquez le bon encodage "
        "dans le profil d'import (format.encoding, par ex. cp1252)",
    )


def _codec(encoding: str) -> str:
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _to_utf8(block: bytes, path: Path, encoding: str, first: bool) -> bytes:
    """The block as UTF-8 bytes (what polars reads), refusing bytes foreign to the encoding."""
    codec = _codec(encoding)
    if codec == "utf-8-sig":
        if first and block.startswith(codecs.BOM_UTF8):
            block = block[len(codecs.BOM_UTF8) :]
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                raise _wrong_encoding(path, encoding) from None
        return block
    try:
        return block.decode(codec).encode("utf-8")
    except (UnicodeDecodeError, LookupError):
        raise _wrong_encoding(path, encoding) from None


def _record_end(data: bytes | bytearray, end: int | None = None) -> int:
    """Index just after the last newline of `data[:end]` that ends a record, or 0.

    A newline ends a record when an even number of quote characters precedes it: a
    doubled quote inside a quoted value counts twice and keeps the parity.
    """
    end = len(data) if end is None else end
    pos = data.rfind(b"\n", 0, end)
    if data.find(b'"', 0, end) < 0:
        return pos + 1
    while pos >= 0:
        if data.count(b'"', 0, pos) % 2 == 0:
            return pos + 1
        pos = data.rfind(b"\n", 0, pos)
    return 0


def _raw_blocks(path: Path, encoding: str, block_bytes: int) -> Iterator[bytes]:
    """The file's bytes in blocks of whole records, as UTF-8; the first holds the header.

    One buffer is reused for the whole file and each block is copied out of it once.
    """
    if any(_codec(encoding).lower().startswith(c) for c in _WHOLE_FILE_CODECS):
        try:
            yield path.read_bytes().decode(encoding).encode("utf-8")
        except (UnicodeDecodeError, LookupError):
            raise _wrong_encoding(path, encoding) from None
        return
    first, buffer, held = True, bytearray(block_bytes), 0
    with path.open("rb") as handle:
        while True:
            with memoryview(buffer) as view:
                read = handle.readinto(view[held:])
            end = held + read
            if end == 0:
                return
            cut = end if read == 0 else _record_end(buffer, end)
            if cut == 0:  # no whole record yet: read on (making room if the buffer is full)
                if end == len(buffer):
                    buffer.extend(bytes(len(buffer)))
                held = end
                continue
            with memoryview(buffer) as view:
                block, rest = bytes(view[:cut]), bytes(view[cut:end])
            buffer[: len(rest)] = rest
            held = len(rest)
            yield _to_utf8(block, path, encoding, first)
            first = False


def _ragged_row(text: str, delimiter: str, width: int) -> tuple[int, int] | None:
    """(row in the block, field count) of the first record whose width is wrong (slow path)."""
    for number, fields in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        if fields and len(fields) != width:
            return number, len(fields)
    return None


def _check_widths(
    block: bytes, delimiter: str, width: int, lines: int | None
) -> tuple[int, int] | None:
    """Find a record with too few or too many fields in a block of data rows.

    Without quotes, counting delimiters is exact and fast: if the block holds `width - 1`
    delimiters per line (`lines`: the rows polars read, one per line), no line can be
    short, since a long line would have to make up for it and polars refuses long lines.
    Otherwise (quotes, blank lines, a real problem) the csv module reads the block again.
    """
    sep = delimiter.encode("utf-8")
    quoteless = lines is not None and b'"' not in block and len(sep) == 1
    if quoteless and block.count(sep) == (width - 1) * lines:
        return None
    return _ragged_row(block.decode("utf-8"), delimiter, width)


_ASCII_SPACES = (b" ", b"\t", b"\x0b", b"\x0c", b"\r")


def _no_outer_spaces(block: bytes) -> bool:
    """True when no value of the block can start or end with a space (cheap byte scans).

    An ASCII block without any whitespace byte but newlines needs no stripping; any
    other block is checked column by column (`to_canonical`).
    """
    return block.isascii() and not any(space in block for space in _ASCII_SPACES)


def _ragged_error(path: Path, row: int, got: int, expected: int, delimiter: str) -> InputError:
    return InputError(
        f"Fichier mal formé : {path.name}",
        [
            Finding(
                path.name,
                f"{got} colonnes au lieu de {expected} (ligne tronquée ou séparateur "
                f"« {delimiter} » présent dans une valeur)",
                row=row,
            )
        ],
    )


def _polars_csv(block: bytes, fmt: FileFormat, columns: list[str] | None) -> pl.DataFrame:
    if columns is None:
        return pl.read_csv(block, separator=fmt.delimiter, infer_schema=False)
    return pl.read_csv(
        block, separator=fmt.delimiter, has_header=False, new_columns=columns, infer_schema=False
    )


def _first_record_end(data: bytes) -> int:
    """Index just after the first newline that ends a record (the header), or the end."""
    pos = data.find(b"\n")
    while pos >= 0:
        if data.count(b'"', 0, pos) % 2 == 0:
            return pos + 1
        pos = data.find(b"\n", pos + 1)
    return len(data)


def _split_header(block: bytes, fmt: FileFormat) -> tuple[int, bytes]:
    """The header's field count and the data rows of the first block."""
    end = _first_record_end(block)
    header = next(csv.reader(io.StringIO(block[:end].decode("utf-8")), delimiter=fmt.delimiter), [])
    return len(header), block[end:]


def _has_data(data: bytes) -> bool:
    """Whether the block holds anything but blank lines (without copying it)."""
    return bool(data) and not data.isspace()


def csv_batches(path: Path, fmt: FileFormat, block_bytes: int | None = None):
    """Yield (first data row number, text frame, clean columns) per block of a CSV file."""
    columns: list[str] | None = None
    width, next_row = 0, 1
    for block in _raw_blocks(path, fmt.encoding, block_bytes or BLOCK_BYTES):
        data = block
        if columns is None:
            width, data = _split_header(block, fmt)
        try:
            frame, error = _polars_csv(block if columns is None else data, fmt, columns), None
        except (pl.exceptions.PolarsError, ValueError) as exc:
            frame, error = None, exc
        if _has_data(data):
            lines = frame.height if frame is not None else None
            ragged = _check_widths(data, fmt.delimiter, width, lines)
            if ragged:
                row, got = ragged
                raise _ragged_error(path, next_row + row - 1, got, width, fmt.delimiter)
        if frame is None:
            raise InputError(
                f"Fichier mal formé : {path.name}",
                [Finding(path.name, f"CSV illisible ({str(error).splitlines()[0][:200]})")],
            )
        columns = columns or frame.columns
        yield next_row, frame, frozenset(frame.columns) if _no_outer_spaces(data) else frozenset()
        next_row += frame.height


def _text_expr(col: pl.Expr, dtype: pl.DataType, fmt: FileFormat) -> pl.Expr:
    """A typed column (Parquet, XLSX) as the text the coercion step expects.

    Numbers are written with the profile's decimal mark, since the coercion step parses
    text with that mark whatever the file type.
    """
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return (
            pl.when(col.dt.time() == pl.time(0, 0))
            .then(col.dt.strftime("%Y-%m-%d"))
            .otherwise(col.dt.strftime("%Y-%m-%d %H:%M"))
        )
    if dtype == pl.Time:
        return col.dt.strftime("%H:%M")
    if dtype == pl.Boolean:  # a missing value stays missing, as in a CSV
        return pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false"))
    if isinstance(dtype, pl.Decimal):
        return col.cast(pl.String).str.replace(".", fmt.decimal, literal=True)
    if dtype.is_float():
        # 1.0 → "1", 1.5 → "1.5": spreadsheets store every number as a float.
        return (
            pl.when(col == col.round(0))
            .then(col.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(col.round(6).cast(pl.String).str.replace(".", fmt.decimal, literal=True))
        )
    return col.cast(pl.String)


def _typed_to_text(frame: pl.DataFrame, fmt: FileFormat) -> pl.DataFrame:
    """Every typed column of the frame as text (`_text_expr`)."""
    return frame.select(
        [_text_expr(pl.col(name), dtype, fmt).alias(name) for name, dtype in frame.schema.items()]
    )


_INTEGERS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)
_EXACT_FLOAT = 2**53  # integers up to this magnitude are exact as floats
_MINUTE_NS = 60_000_000_000


def _within(series: pl.Series, low: float, high: float) -> bool:
    """Whether every value of the series lies in [low, high] (an empty one does)."""
    smallest, largest = series.min(), series.max()
    return smallest is None or (smallest >= low and largest <= high)


def _iso_dates_kept(fmt: FileFormat) -> bool:
    """Whether an ISO date read back as text can only parse as itself.

    The text path tries the profile's format first, then ISO: a format without "-"
    can never read an ISO date (a format such as `%Y-%d-%m` could, differently).
    """
    return fmt.date_format == "%Y-%m-%d" or "-" not in fmt.date_format


def _typed_value(series: pl.Series, column: Column, fmt: FileFormat) -> pl.Expr | None:
    """The column's canonical value computed on its type, or None to go through text.

    Only where the result equals, value for value, what `_text_expr` followed by
    `pipeline.coerce` gives, and where that parse cannot fail (so no finding is lost):
    a Parquet date, integer, float, time or boolean need not be written out and read
    back. Anything else (a datetime, a float as integer, an odd format) takes the text
    path, which stays the reference.
    """
    col, dtype, kind = pl.col(series.name), series.dtype, column.kind
    if kind is Kind.BOOLEAN and dtype == pl.Boolean:
        return col
    if kind is Kind.TIME and dtype == pl.Time:
        return (col.cast(pl.Int64) // _MINUTE_NS * _MINUTE_NS).cast(pl.Time)  # HH:MM
    if kind is Kind.DATE and dtype == pl.Date and _iso_dates_kept(fmt):
        years = series.dt.year()
        return col if _within(years, 1, 9999) else None
    if kind is Kind.INTEGER and dtype in _INTEGERS:
        return col.cast(pl.Int64)
    if kind is not Kind.DECIMAL or fmt.decimal not in (".", ","):
        return None
    if dtype in _INTEGERS:
        return col.cast(pl.Float64) if _within(series, -_EXACT_FLOAT, _EXACT_FLOAT) else None
    if dtype == pl.Float64:  # as `_text_expr` rounds it: whole, else to 6 decimals
        whole = col.cast(pl.Int64, strict=False).cast(pl.Float64)
        return pl.when(col == col.round(0)).then(whole).otherwise(col.round(6))
    return None


def _written_columns(frame: pl.DataFrame) -> frozenset[str]:
    """Columns that `_typed_to_text` writes itself: no outer spaces, no empty strings."""
    return frozenset(name for name, dtype in frame.schema.items() if dtype != pl.String)


def _parquet_batches(path: Path, batch_rows: int):
    import pyarrow.parquet as pq

    next_row = 1
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        typed = pl.from_arrow(batch)
        yield next_row, typed, _written_columns(typed)
        next_row += typed.height


def _xlsx_batches(path: Path, fmt: FileFormat, mapping: TableMapping, batch_rows: int):
    from pipeline.zipbounds import check_xlsx_size

    check_xlsx_size(path)  # a zip bomb is refused before the reader inflates it
    sheet = mapping.sheet or fmt.sheet
    kwargs = {"sheet_name": sheet} if sheet else {"sheet_id": 1}
    typed = pl.read_excel(path, engine="calamine", **kwargs)
    clean = _written_columns(typed)
    for start in range(0, max(typed.height, 1), batch_rows):
        yield start + 1, typed.slice(start, batch_rows), clean


def _raw_batches(path: Path, fmt: FileFormat, mapping: TableMapping, batch_rows: int):
    """Text frames of the file, batch by batch, with the first data row of each."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_batches(path, batch_rows)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_batches(path, fmt, mapping, batch_rows)
    return csv_batches(path, fmt)


def _guarded(path: Path, batches) -> Iterator[tuple[int, pl.DataFrame, frozenset[str]]]:
    """Turn the engines' own exceptions into an `InputError` naming the file."""
    suffix = path.suffix.lower()
    try:
        yield from batches
    except InputError:
        raise
    except Exception as exc:  # engines raise many types; all mean "unreadable"
        if suffix not in (".parquet", ".xlsx", ".xlsm"):
            raise
        raise _unreadable(path, f"fichier illisible ({exc.__class__.__name__})") from None


def _check_not_binary(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(65536)
    if b"\x00" in head:
        raise _unreadable(path, "fichier binaire ou corrompu : ce n'est pas un fichier texte CSV")


def read_raw_batches(
    path: Path, fmt: FileFormat, mapping: TableMapping, batch_rows: int | None = None
) -> Iterator[tuple[int, pl.DataFrame, frozenset[str]]]:
    """Every batch of a file as raw columns (its own headers), with its first row.

    Columns are text, except the typed columns of Parquet and XLSX files, left typed
    (`to_canonical` decides which become text). And the columns whose values cannot
    carry outer spaces or be empty strings (see `_no_outer_spaces`,
    `_written_columns`): they need no stripping.
    """
    if path.stat().st_size == 0:
        raise InputError(f"Fichier vide : {path.name}", [Finding(path.name, "le fichier est vide")])
    if path.suffix.lower() not in (".parquet", ".xlsx", ".xlsm"):
        _check_not_binary(path)
    return _guarded(path, _raw_batches(path, fmt, mapping, batch_rows or BATCH_ROWS))


def _read_raw(path: Path, fmt: FileFormat, mapping: TableMapping) -> pl.DataFrame:
    """The whole file as one raw text frame (for `csi profile check` on small exports)."""
    frames = [_typed_to_text(frame, fmt) for _, frame, _ in read_raw_batches(path, fmt, mapping)]
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]


def _missing_column(source: SourceFile, key: str, header: str, frame: pl.DataFrame) -> Finding:
    return Finding(
        source.path.name,
        f"colonne « {header} » absente (clé du profil : {key}) ; "
        f"colonnes présentes : {', '.join(frame.columns) or 'aucune'}",
        column=header,
    )


def _column_sources(raw: pl.DataFrame, source: SourceFile, profile: Profile) -> dict[str, str]:
    """Canonical column → header read in the file (absent columns get defaults or nulls)."""
    mapping = profile.tables[source.table]
    defaults = {**DEFAULTS[source.table], **mapping.defaults}
    found: dict[str, str] = {}
    missing: list[Finding] = []
    for column in TABLES[source.table]:
        header = mapping.source_header(column.name)
        if header in raw.columns:
            found[column.name] = header
        elif column.name not in defaults and (column.required or column.name in mapping.columns):
            key = f"tables.{source.table}.columns.{column.name}"
            missing.append(_missing_column(source, key, header, raw))
    if missing:
        raise InputError(f"Colonnes manquantes dans {source.path.name}", missing)
    return found


def _needs(
    frame: pl.DataFrame, headers: list[str], clean: frozenset[str]
) -> tuple[set[str], set[str]]:
    """Which columns hold values with outer spaces, and which hold empty strings.

    Checking first is several times cheaper than stripping every value of every column;
    `clean` columns are known to hold no outer spaces.
    """
    if not headers:
        return set(), set()
    spaced = [h for h in headers if h not in clean]
    checks = frame.select(
        [
            (pl.col(h).str.strip_chars() != pl.col(h)).any().alias(f"s{i}")
            for i, h in enumerate(spaced)
        ]
        + [(pl.col(h) == "").any().alias(f"e{i}") for i, h in enumerate(headers)]
    ).row(0)
    n = len(spaced)
    strip = {h for h, flag in zip(spaced, checks[:n], strict=True) if flag}
    empty = {h for h, flag in zip(headers, checks[n:], strict=True) if flag}
    return strip, empty


def _kept_typed(
    raw: pl.DataFrame, source: SourceFile, profile: Profile, found: dict[str, str]
) -> dict[str, pl.Expr]:
    """Canonical columns whose typed source column needs no text round trip.

    Kept typed (`_typed_value`) unless the profile maps the column's values (they are
    words), the column has a default and nulls to fill (the text path parses the
    default), or its source column also feeds a column read as text.
    """
    mapping = profile.tables[source.table]
    defaults = {**DEFAULTS[source.table], **mapping.defaults}
    kept: dict[str, pl.Expr] = {}
    for column in TABLES[source.table]:
        header = found.get(column.name)
        if header is None or raw.schema[header] == pl.String or column.name in mapping.values:
            continue
        series = raw.get_column(header)
        typed = _typed_value(series, column, profile.format)
        if column.name in defaults and series.null_count():
            typed = None
        if typed is not None:
            kept[column.name] = typed.alias(column.name)
    as_text = {h for c, h in found.items() if c not in kept}
    return {c: expr for c, expr in kept.items() if found[c] not in as_text}


def _text_column(
    column: Column, header: str | None, strip: set[str], empty: set[str], defaults: dict
) -> pl.Expr:
    """A canonical column read from text: stripped, empty strings as NULL, default filled."""
    if header is None:
        expr = pl.lit(None, dtype=pl.String)
    else:
        expr = pl.col(header).str.strip_chars() if header in strip else pl.col(header)
        if header in strip or header in empty:
            expr = pl.when(expr == "").then(None).otherwise(expr)
    if column.name in defaults:
        expr = expr.fill_null(pl.lit(str(defaults[column.name])))
    return expr.alias(column.name)


def to_canonical(
    raw: pl.DataFrame,
    source: SourceFile,
    profile: Profile,
    first_row: int = 1,
    clean: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """Rename, fill defaults and map values, keeping every canonical column as text.

    Except the columns of typed files whose canonical value needs no parsing
    (`_kept_typed`): those come out in their canonical type already.
    `clean` names the columns that cannot hold values with outer spaces (no need to look).
    """
    mapping = profile.tables[source.table]
    clean = frozenset(c.strip() for c in clean)
    raw = raw.rename({c: c.strip() for c in raw.columns})
    defaults = {**DEFAULTS[source.table], **mapping.defaults}
    found = _column_sources(raw, source, profile)
    raw = raw.select(list(dict.fromkeys(found.values())))
    typed = _kept_typed(raw, source, profile, found)
    typed_headers = {found[c] for c in typed}
    raw = raw.with_columns(
        _text_expr(pl.col(h), dtype, profile.format).alias(h)
        for h, dtype in raw.schema.items()
        if dtype != pl.String and h not in typed_headers
    )
    strip, empty = _needs(raw, [h for h in raw.columns if h not in typed_headers], clean)
    exprs = [
        typed[c.name]
        if c.name in typed
        else _text_column(c, found.get(c.name), strip, empty, defaults)
        for c in TABLES[source.table]
    ]
    return raw.select(
        [
            *exprs,
            pl.lit(source.path.name).alias(FILE),
            pl.int_range(first_row, first_row + pl.len(), dtype=pl.Int64).alias(ROW),
        ]
    )


def unknown_values(frame: pl.DataFrame, source: SourceFile, profile: Profile) -> list[Finding]:
    """Values the profile maps for a column but does not know (at most 50)."""
    mapping = profile.tables[source.table]
    findings: list[Finding] = []
    for column, table in mapping.values.items():
        known = set(table) | set(table.values())
        unknown = frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(known))
        findings += [
            Finding(
                source.path.name,
                f"valeur non prévue par le profil « {profile.name} » "
                f"(tables.{source.table}.values.{column} ; valeurs prévues : "
                f"{', '.join(sorted(table))})",
                row=row[ROW],
                column=mapping.source_header(column),
                value=row[column],
                sensitive=column in SENSITIVE_COLUMNS,
            )
            for row in unknown.head(MAX_UNKNOWN_VALUES).iter_rows(named=True)
        ]
        if findings:
            return findings[:MAX_UNKNOWN_VALUES]
    return findings


def map_values(frame: pl.DataFrame, source: SourceFile, profile: Profile) -> pl.DataFrame:
    """Translate the software's own words (statuses, reasons…) into canonical values.

    Only for a batch `unknown_values` found nothing in: a value the profile maps for a
    column must be known to the profile, so that nothing is silently left untranslated.
    """
    mapping = profile.tables[source.table]
    return frame.with_columns(
        pl.col(column).replace(table) for column, table in mapping.values.items()
    )


def source_batches(
    source: SourceFile, profile: Profile, batch_rows: int | None = None
) -> Iterator[pl.DataFrame]:
    """Canonical batches of one file, with `_file` and `_row` (text but `_typed_value`).

    File-level problems (unreadable, ragged, missing columns, unmapped values, no data
    row) raise `InputError`; batches already yielded stay valid. Unmapped values are
    gathered over the whole file (the first 50) before the file is refused.
    """
    mapping = profile.tables[source.table]
    unknown: list[Finding] = []
    rows = 0
    batches = read_raw_batches(source.path, profile.format, mapping, batch_rows)
    for first_row, raw, clean in batches:
        if raw.height == 0:
            continue
        frame = to_canonical(raw, source, profile, first_row, clean)
        rows += frame.height
        if len(unknown) < MAX_UNKNOWN_VALUES:
            unknown += unknown_values(frame, source, profile)
        if unknown:
            continue
        yield map_values(frame, source, profile)
    if unknown:
        raise InputError(
            f"Valeurs non reconnues dans {source.path.name}", unknown[:MAX_UNKNOWN_VALUES]
        )
    if rows == 0:
        raise InputError(
            f"Fichier vide : {source.path.name}",
            [Finding(source.path.name, "aucune ligne de données sous l'en-tête")],
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
