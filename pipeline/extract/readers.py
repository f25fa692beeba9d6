"""Read an extract's files into text frames with canonical column names, batch by batch.

Everything is read as text first: types are parsed afterwards (`pipeline.extract.coerce`) so
that a bad value can be reported with its file, row and column instead of failing the
whole read with an engine error. One exception: a typed column of a Parquet or XLSX
file whose text would parse back to the same value, without fail, stays typed
(`_typed_value`): writing 10M dates or amounts out to parse them again costs seconds.

Files are streamed: polars reads a CSV in batches of `CSV_BATCH_ROWS` rows after one
linear pass over its bytes (`_scan_text`: encoding, NUL bytes, line ends), a Parquet
file is read in row batches, so that memory stays bounded whatever the size of the
export; `_row` keeps counting across batches, so a finding names the same row as if
the file had been read at once.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import polars as pl

from pipeline.core.canonical import DEFAULTS, TABLES, Column, Kind
from pipeline.core.errors import SENSITIVE_COLUMNS, Finding, InputError, plain_reason, unreadable
from pipeline.core.settings import prepare_polars_csv
from pipeline.extract.profiles import BOOLEAN_TARGETS, FileFormat, Profile, TableMapping

if TYPE_CHECKING:
    from polars.lazyframe.in_process import InProcessQuery

# (first data row, frame of the file's own columns, columns the reader wrote clean itself)
RawBatches = Iterator[tuple[int, pl.DataFrame, frozenset[str]]]

BOOLEAN_COLUMNS = frozenset(
    c.name for columns in TABLES.values() for c in columns if c.kind is Kind.BOOLEAN
)
ROW = "_row"  # 1-based data row number in its file, header excluded
FILE = "_file"  # file name, for error messages and the loads register

BATCH_ROWS = 1 << 18  # rows per batch of Parquet and XLSX files (two in flight, as for CSV)
CSV_BATCH_ROWS = 1 << 18  # rows per CSV batch (~22 MB of billing text: two in flight)
MAX_UNKNOWN_VALUES = 50  # unmapped values reported per file
MAX_RAGGED_ROWS = 20  # rows with a wrong field count reported per file
MAX_QUOTED_BYTES = 64 << 20  # a quoted value longer than this is a quote left open

csv.field_size_limit(MAX_QUOTED_BYTES)  # a long note is a value, not an `_csv.Error`


@dataclass(frozen=True)
class SourceFile:
    table: str
    path: Path


def _named_entries(extract_dir: Path, profile: Profile) -> list[SourceFile]:
    """Every entry but a folder that a table's pattern names, with the first such table."""
    found: list[SourceFile] = []
    claimed: set[Path] = set()
    for table, mapping in profile.tables.items():
        for pattern in mapping.files:
            for path in sorted(extract_dir.glob(pattern)):
                if path not in claimed and not path.is_dir():
                    claimed.add(path)
                    found.append(SourceFile(table, path))
    return found


def find_files(extract_dir: Path, profile: Profile) -> list[SourceFile]:
    """List the extract's files per table, following the profile's globs."""
    return [
        s
        for s in _named_entries(extract_dir, profile)
        if s.path.is_file() and not s.path.name.startswith("~$")
    ]


def unusable_entries(extract_dir: Path, profile: Profile) -> list[SourceFile]:
    """Entries a table's pattern names that no file can be read from: a broken link, a
    pipe, a device (a folder is only ignored: an export may keep one beside its files).

    Why: skipped in silence, a billing file replaced by a broken link would load a part
    of the extract as if it were the whole.
    """
    return [s for s in _named_entries(extract_dir, profile) if not s.path.is_file()]


def unusable_finding(source: SourceFile) -> Finding:
    """The refusal of an entry of `unusable_entries`."""
    kind = "lien cassé" if source.path.is_symlink() else "fichier spécial (tube, périphérique)"
    return Finding(
        source.path.name,
        f"{kind}, pas un fichier à lire : remplacez-le par le fichier exporté, "
        "ou retirez-le du dossier",
    )


def _wrong_encoding(path: Path, encoding: str) -> InputError:
    return unreadable(
        path,
        f"le fichier n'est pas encodé en {encoding} : indiquez le bon encodage "
        "dans le profil d'import (format.encoding, par ex. cp1252)",
    )


def _codec(encoding: str) -> str:
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


@dataclass(frozen=True)
class _TextFile:
    """What one linear pass over a CSV file found: how polars is to read it.

    `source` is the file itself when it is UTF-8 already, else its UTF-8 copy in the
    load's temporary folder; `eol` is "\\r" for old Mac files (CR only); `quoted` says
    whether any quote character occurs (else a record is a line and splitting a line on
    the delimiter is exactly what a CSV parser does); `clean` that no value can carry
    outer spaces (ASCII, no whitespace byte but line ends).
    """

    source: Path
    eol: str
    quoted: bool
    clean: bool


_SCAN_BYTES = 16 << 20  # bytes read at a time by the linear pre-pass
_SPACES = (b" ", b"\t", b"\x0b", b"\x0c")


def _nul_error(path: Path, row: int) -> InputError:
    rule = "fichier binaire ou corrompu : octet nul (NUL), ce n'est pas un fichier texte CSV"
    return InputError(
        f"Fichier illisible : {path.name}", [Finding(path.name, rule, row=row or None)]
    )


class _Scanner:
    """Facts gathered chunk by chunk over a file's UTF-8 bytes (`_TextFile`)."""

    def __init__(self, path: Path, stream: Path) -> None:
        self.path = path
        self.stream = stream  # a file holding the bytes fed so far: `path` or its UTF-8 copy
        self.fed = 0  # bytes fed before the current chunk
        self.quoted = False
        self.ascii_clean = True
        self.lf = False
        self.cr = self.crlf = 0  # line ends seen
        self.last = b""

    def feed(self, chunk: bytes) -> None:
        """Refuse a NUL byte anywhere (naming its line) and note quotes and line ends."""
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise _nul_error(self.path, self._lines_before() + chunk.count(b"\n", 0, nul))
        self.fed += len(chunk)
        self.lf = self.lf or b"\n" in chunk
        if b"\r" in chunk or self.last == b"\r":
            self.cr += chunk.count(b"\r")
            self.crlf += chunk.count(b"\r\n") + (self.last == b"\r" and chunk[:1] == b"\n")
        self.quoted = self.quoted or b'"' in chunk
        if self.ascii_clean:
            self.ascii_clean = chunk.isascii() and not any(s in chunk for s in _SPACES)
        self.last = chunk[-1:]

    def _lines_before(self) -> int:
        """The line ends fed before the current chunk, counted again from `stream`.

        Only a NUL byte needs them (to name its row): counting them as chunks pass
        cost a third of the whole scan.
        """
        count, left = 0, self.fed
        with self.stream.open("rb") as handle:
            while left > 0 and (block := handle.read(min(left, _SCAN_BYTES))):
                count += block.count(b"\n")
                left -= len(block)
        return count

    def result(self, source: Path) -> _TextFile:
        eol = "\r" if self.cr and not self.lf else "\n"
        clean = self.ascii_clean and (eol == "\r" or self.cr == self.crlf)
        return _TextFile(source, eol, self.quoted, clean)


def _is_utf8(encoding: str) -> bool:
    return _codec(encoding) == "utf-8-sig"


def _scan_text(path: Path, encoding: str, workdir: Path | None) -> _TextFile:
    """One linear pass: check the encoding and NUL bytes, transcode to UTF-8 if needed.

    A UTF-8 file is read in place (polars reads UTF-8 and skips its BOM); any other
    encoding is decoded incrementally into a UTF-8 copy in `workdir` (the copy holds
    patient data: the caller removes the folder on every exit).
    """
    try:
        decoder = codecs.getincrementaldecoder(_codec(encoding))()
    except LookupError:
        raise _wrong_encoding(path, encoding) from None
    utf8 = _is_utf8(encoding)
    if not utf8 and workdir is None:
        raise ValueError("a folder for the UTF-8 copy is needed")  # a programming error
    target = None if utf8 or workdir is None else workdir / f"{path.stem}.utf8.csv"
    scanner = _Scanner(path, target or path)
    with path.open("rb") as handle, target.open("wb") if target else nullcontext() as out:
        while True:
            chunk = handle.read(_SCAN_BYTES)
            try:
                if utf8:  # checked only: ASCII needs no decoding unless a character is cut
                    if not chunk or not chunk.isascii() or decoder.getstate()[0]:
                        decoder.decode(chunk, final=not chunk)
                    text = chunk
                else:
                    text = decoder.decode(chunk, final=not chunk).encode("utf-8")
            except UnicodeDecodeError:
                raise _wrong_encoding(path, encoding) from None
            if not chunk:
                break
            scanner.feed(text)
            if out is not None:
                out.write(text)
                out.flush()  # on disk for `_Scanner._lines_before`
    return scanner.result(target or path)


def _ragged_finding(path: Path, row: int, got: int, expected: int, delimiter: str) -> Finding:
    return Finding(
        path.name,
        f"{got} colonnes au lieu de {expected} (ligne tronquée ou séparateur "
        f"« {delimiter} » présent dans une valeur)",
        row=row,
    )


def _quote_finding(path: Path, row: int, reason: str) -> Finding:
    """A quote problem the csv module stopped at, in words (never the text read)."""
    if "end of data" in reason or "field limit" in reason:
        rule = (
            'guillemet (") ouvert et jamais refermé : la valeur qui commence ici court '
            "jusqu'à la fin du fichier"
        )
    else:
        rule = (
            'guillemet (") mal placé : une valeur entre guillemets doit être suivie du '
            "séparateur ou de la fin de ligne (doublez un guillemet voulu dans une valeur)"
        )
    return Finding(path.name, rule, row=row)


def _malformed(path: Path, findings: list[Finding]) -> InputError:
    return InputError(f"Fichier mal formé : {path.name}", findings)


def _header(text: _TextFile, path: Path, fmt: FileFormat) -> list[str]:
    """The header's names, refusing a name given twice (two columns, one meaning)."""
    first = pl.read_csv(
        text.source,
        has_header=False,
        n_rows=1,
        infer_schema=False,
        separator=fmt.delimiter,
        eol_char=text.eol,
        truncate_ragged_lines=True,
        raise_if_empty=False,
    )
    names = [str(v) if v is not None else "" for v in first.row(0)] if first.height else []
    seen: dict[str, int] = {}
    twice: list[Finding] = []
    for number, name in enumerate(names, start=1):
        key = name.strip()
        if key in seen:
            twice.append(
                Finding(
                    path.name,
                    f"en-tête : la colonne « {key} » est nommée deux fois "
                    f"(colonnes {seen[key]} et {number}) ; gardez-en une seule",
                    column=key,
                )
            )
        else:
            seen[key] = number
    if twice:
        raise _malformed(path, twice)
    return names


def _quoted_problems(text: _TextFile, path: Path, delimiter: str, width: int) -> list[Finding]:
    """Rows of a file holding quotes whose field count is wrong, or where a quote is amiss.

    One linear pass of the csv module (strict, its own line-end handling, so CR-only
    too): a record is counted as a row whatever the newlines inside its quoted values,
    as polars counts it. A quote still open at the end of the file, or holding more than
    `MAX_QUOTED_BYTES`, is reported at the row it opened.
    """
    found: list[Finding] = []
    row = 0
    with text.source.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        try:
            next(reader, None)  # the header, read by `_header`
            for row, fields in enumerate(reader, start=1):
                blank = not fields or (len(fields) == 1 and not fields[0].strip())
                if len(fields) != width and not blank:
                    found.append(_ragged_finding(path, row, len(fields), width, delimiter))
                    if len(found) >= MAX_RAGGED_ROWS:
                        return found
        except csv.Error as exc:
            found.append(_quote_finding(path, row + 1, str(exc)))
    return found


def _segments(
    frame: pl.DataFrame, blank: pl.Series, first_row: int
) -> Iterator[tuple[int, pl.DataFrame]]:
    """The frame's runs of non-blank rows, each with the source row of its first line.

    Blank lines (a trailing empty line, a line left empty by hand) count as rows, so
    that every row keeps the number an editor shows, but carry nothing to load.
    """
    if not blank.any():
        yield first_row, frame
        return
    kept = (~blank).cast(pl.Int8)
    runs = (
        pl.DataFrame({"keep": kept})
        .with_row_index("i")
        .with_columns(
            (pl.col("keep") != pl.col("keep").shift(1)).fill_null(True).cum_sum().alias("run")
        )
    )
    for start, length in (
        runs.filter(pl.col("keep") == 1)
        .group_by("run", maintain_order=True)
        .agg(pl.col("i").first().alias("start"), pl.len().alias("n"))
        .select("start", "n")
        .iter_rows()
    ):
        yield first_row + start, frame.slice(start, length)


def _split_lines(
    text: _TextFile, path: Path, fmt: FileFormat, names: list[str]
) -> Iterator[tuple[int, pl.DataFrame]]:
    """Batches of a quote-free file: each line split on the delimiter (exact, no quotes).

    polars reads whole lines (there is no NUL byte in the file, so NUL is a safe
    "separator"), splits them and counts their fields: a short or long row is found
    with its row number in the same pass.
    """
    width, first_row = len(names), 1
    ragged: list[Finding] = []
    lines = pl.scan_csv(
        text.source,
        has_header=False,
        skip_rows=1,
        separator="\x00",
        quote_char=None,
        schema={"__line": pl.String},
        eol_char=text.eol,
        empty_string_is_null=False,
    )
    fields = pl.col("__line").str.split(fmt.delimiter)
    query = lines.select(
        fields.list.len().alias("__width"),
        pl.col("__line").str.contains(r"^\s*$").alias("__blank"),
        *[fields.list.get(i, null_on_oob=True).alias(n) for i, n in enumerate(names)],
    )
    for batch in query.collect_batches(chunk_size=CSV_BATCH_ROWS, lazy=True):
        blank = batch.get_column("__blank")
        bad = batch.with_row_index("__i").filter(~pl.col("__blank") & (pl.col("__width") != width))
        for index, got in bad.select("__i", "__width").head(MAX_RAGGED_ROWS).iter_rows():
            if len(ragged) < MAX_RAGGED_ROWS:
                ragged.append(_ragged_finding(path, first_row + index, got, width, fmt.delimiter))
        if not ragged:
            yield from _segments(batch.select(names), blank, first_row)
        first_row += batch.height
    if ragged:
        raise _malformed(path, ragged)


def _parsed_csv(
    text: _TextFile, path: Path, fmt: FileFormat, names: list[str]
) -> Iterator[tuple[int, pl.DataFrame]]:
    """Batches of a file holding quotes, read by polars' CSV parser once its shape is known."""
    problems = _quoted_problems(text, path, fmt.delimiter, len(names))
    if problems:
        raise _malformed(path, problems)
    positional = [f"__c{i}" for i in range(len(names))]
    query = pl.scan_csv(
        text.source,
        has_header=False,
        skip_rows=1,
        separator=fmt.delimiter,
        schema={c: pl.String for c in positional},
        eol_char=text.eol,
        empty_string_is_null=False,
        truncate_ragged_lines=True,
        missing_columns="insert",
    )
    first_row = 1
    for batch in query.collect_batches(chunk_size=CSV_BATCH_ROWS, lazy=True):
        blank = batch.select(pl.all_horizontal(pl.all().str.strip_chars() == "")).to_series()
        yield from _segments(
            batch.rename(dict(zip(positional, names, strict=True))), blank, first_row
        )
        first_row += batch.height


def _engine_error(path: Path) -> InputError:
    """A CSV the parser cannot read, said without echoing its text (it may hold a NIR)."""
    return _malformed(
        path,
        [
            Finding(
                path.name,
                "CSV illisible : guillemet mal placé au milieu d'une valeur ou fichier mal formé",
            )
        ],
    )


def csv_batches(path: Path, fmt: FileFormat, workdir: Path | None = None) -> RawBatches:
    """Yield (first data row number, text frame, clean columns) per batch of a CSV file.

    A linear pre-pass (`_scan_text`) checks the encoding and NUL bytes and finds the
    line ends; then polars streams the file in batches of `CSV_BATCH_ROWS` rows. Rows are
    numbered from 1 after the header, blank lines included. A non-UTF-8 file is
    transcoded into `workdir` (the load's staging folder, removed with its copies when
    the table is loaded); without `workdir`, into a staging folder of its own
    (`pipeline.extract.staging`), removed when the generator ends however it ends, or
    by the next load if killed.
    """
    prepare_polars_csv()
    if workdir is None and not _is_utf8(fmt.encoding):
        from pipeline.extract.staging import staging_folder

        with staging_folder() as folder:  # named after this process: a kill leaves no copy
            yield from csv_batches(path, fmt, folder)
        return
    text = _scan_text(path, fmt.encoding, workdir)
    try:
        names = _header(text, path, fmt)
        read = _parsed_csv if text.quoted else _split_lines
        clean = frozenset(names) if text.clean else frozenset()
        for first_row, frame in read(text, path, fmt, names):
            yield first_row, frame, clean
    except pl.exceptions.PolarsError:
        raise _engine_error(path) from None


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
    if isinstance(dtype, pl.Duration):  # a spreadsheet's time of day: 8:05 after midnight
        minutes = col.dt.total_minutes()
        return pl.concat_str(
            (minutes // 60).cast(pl.String),
            pl.lit(":"),
            (minutes % 60).cast(pl.String).str.zfill(2),
        )
    if dtype == pl.Boolean:  # a missing value stays missing, as in a CSV
        return pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false"))
    if isinstance(dtype, pl.Decimal):
        return col.cast(pl.String).str.replace(".", fmt.decimal, literal=True)
    if dtype.is_float():
        # 1.0 → "1", 1.5 → "1.5": spreadsheets store every number as a float. inf, NaN
        # and numbers too large for an integer are written as such, for the parse to refuse.
        whole = col.is_finite() & (col == col.round(0)) & (col.abs() < _EXACT_FLOAT)
        return (
            pl.when(whole)
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
    if smallest is None or largest is None:  # empty or all missing
        return True
    # Only ever asked of a numeric series: its bounds are numbers.
    return cast(float, smallest) >= low and cast(float, largest) <= high


def _iso_dates_kept(fmt: FileFormat) -> bool:
    """Whether an ISO date read back as text can only parse as itself.

    The text path tries the profile's format first, then ISO: a format without "-"
    can never read an ISO date (a format such as `%Y-%d-%m` could, differently).
    """
    return fmt.date_format == "%Y-%m-%d" or "-" not in fmt.date_format


def _typed_value(series: pl.Series, column: Column, fmt: FileFormat) -> pl.Expr | None:
    """The column's canonical value computed on its type, or None to go through text.

    Only where the result equals, value for value, what `_text_expr` followed by
    `pipeline.extract.coerce` gives, and where that parse cannot fail (so no finding is lost):
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
        if not _within(series, -_EXACT_FLOAT, _EXACT_FLOAT) or series.is_nan().any():
            return None  # inf, NaN, huge: the text path reports them
        whole = col.cast(pl.Int64, strict=False).cast(pl.Float64)
        return pl.when(col == col.round(0)).then(whole).otherwise(col.round(6))
    return None


def _written_columns(frame: pl.DataFrame) -> frozenset[str]:
    """Columns that `_typed_to_text` writes itself: no outer spaces, no empty strings."""
    return frozenset(name for name, dtype in frame.schema.items() if dtype != pl.String)


def _readable(dtype: pl.DataType) -> bool:
    """Whether `_text_expr` can write the type's values as text (lists, bytes… cannot)."""
    simple = (pl.String, pl.Boolean, pl.Date, pl.Time, pl.Null)
    kinds = (pl.Datetime, pl.Duration, pl.Decimal, pl.Categorical, pl.Enum)
    return dtype.is_numeric() or dtype in simple or isinstance(dtype, kinds)


def _nested_columns(path: Path, frame: pl.DataFrame, mapping: TableMapping) -> list[Finding]:
    """Columns the load would read that hold lists, structures or bytes: no value to check.

    Only columns a canonical column reads from (by its name or the profile's header):
    an export's other columns are ignored whatever their type.
    """
    read = {c.name for columns in TABLES.values() for c in columns} | set(mapping.columns.values())
    return [
        Finding(
            path.name,
            f"type Parquet non pris en charge ({dtype}) : une colonne doit contenir du "
            "texte, des nombres, des dates, des heures ou des booléens",
            column=name,
        )
        for name, dtype in frame.schema.items()
        if name.strip() in read and not _readable(dtype)
    ]


def _parquet_batches(path: Path, batch_rows: int, mapping: TableMapping) -> RawBatches:
    """The file's rows in typed batches, read by polars' own Parquet reader, one slice
    of the file at a time, the next slice read while the caller checks this one.

    Why not pyarrow's batches: turning them into polars frames copied every string (at
    10M lines, 1.26 s and 2.0 CPU-s against 0.3 s for polars reading the file itself).
    Why slices rather than `collect_batches`: polars' streaming batches are decoded
    ahead of a slower reader, and here DuckDB writing the previous ones is slower. A
    10M-line ingest peaked at 980–1032 MiB that way, against 816–820 MiB by slices one
    ahead (`_one_ahead`), which also came out faster (7.8 s against 8.0 s).
    """
    query = pl.scan_parquet(path)
    rows = query.select(pl.len()).collect().item()
    slices = (query.slice(offset, batch_rows) for offset in range(0, rows, batch_rows))
    next_row = 1
    for typed in _one_ahead(slices):
        nested = _nested_columns(path, typed, mapping)
        if nested:
            raise InputError(f"Colonnes illisibles dans {path.name}", nested)
        yield next_row, typed, _written_columns(typed)
        next_row += typed.height


def _one_ahead(queries: Iterator[pl.LazyFrame]) -> Iterator[pl.DataFrame]:
    """Each query's frame, in order, the next query running in polars' background while
    the caller works on the current frame (two frames at most, whoever is slower)."""
    running: InProcessQuery | None = None
    try:
        for query in queries:
            previous, running = running, query.collect(background=True)
            if previous is not None:
                yield previous.fetch_blocking()
        if running is not None:
            last, running = running, None
            yield last.fetch_blocking()
    finally:
        if running is not None:  # the caller stopped early: no result is wanted
            running.cancel()


def _xlsx_batches(
    path: Path, fmt: FileFormat, mapping: TableMapping, batch_rows: int
) -> RawBatches:
    from pipeline.extract.zipbounds import check_xlsx_size

    check_xlsx_size(path)  # a zip bomb is refused before the reader inflates it
    sheet = mapping.sheet or fmt.sheet
    kwargs = {"sheet_name": sheet} if sheet else {"sheet_id": 1}
    typed = pl.read_excel(path, engine="calamine", **kwargs)
    clean = _written_columns(typed)
    for start in range(0, max(typed.height, 1), batch_rows):
        yield start + 1, typed.slice(start, batch_rows), clean


def _raw_batches(
    path: Path, fmt: FileFormat, mapping: TableMapping, batch_rows: int, workdir: Path | None
) -> RawBatches:
    """Text frames of the file, batch by batch, with the first data row of each."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_batches(path, batch_rows, mapping)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_batches(path, fmt, mapping, batch_rows)
    return csv_batches(path, fmt, workdir)


def _guarded(path: Path, batches: RawBatches) -> RawBatches:
    """Turn the engines' own exceptions into an `InputError` naming the file."""
    try:
        yield from batches
    except InputError:
        raise
    except (Exception, pl.exceptions.PanicException) as exc:  # all mean "unreadable"
        raise unreadable(path, f"fichier illisible ({plain_reason(exc)})") from None


def _check_not_binary(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(65536)
    if b"\x00" in head:
        raise unreadable(path, "fichier binaire ou corrompu : ce n'est pas un fichier texte CSV")


def read_raw_batches(
    path: Path,
    fmt: FileFormat,
    mapping: TableMapping,
    batch_rows: int | None = None,
    workdir: Path | None = None,
) -> RawBatches:
    """Every batch of a file as raw columns (its own headers), with its first row.

    Columns are text, except the typed columns of Parquet and XLSX files, left typed
    (`to_canonical` decides which become text). And the columns whose values cannot
    carry outer spaces or be empty strings (see `_TextFile.clean`,
    `_written_columns`): they need no stripping. `workdir`: where a CSV's UTF-8 copy goes
    (`csv_batches`).
    """
    if path.stat().st_size == 0:
        raise InputError(f"Fichier vide : {path.name}", [Finding(path.name, "le fichier est vide")])
    if path.suffix.lower() not in (".parquet", ".xlsx", ".xlsm"):
        _check_not_binary(path)
    return _guarded(path, _raw_batches(path, fmt, mapping, batch_rows or BATCH_ROWS, workdir))


def _read_raw(path: Path, fmt: FileFormat, mapping: TableMapping) -> pl.DataFrame:
    """The whole file as one raw text frame (for `csi profile check` on small exports)."""
    frames = [_typed_to_text(frame, fmt) for _, frame, _ in read_raw_batches(path, fmt, mapping)]
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]


def _missing_column(source: SourceFile, key: str, header: str, headers: list[str]) -> Finding:
    return Finding(
        source.path.name,
        f"colonne « {header} » absente (clé du profil : {key}) ; "
        f"colonnes présentes : {', '.join(headers) or 'aucune'}",
        column=header,
    )


COMMON_DELIMITERS = (",", ";", "\t", "|")


def delimiter_name(delimiter: str) -> str:
    """A delimiter as a secretary reads it: « ; », or the word for a tabulation."""
    return "tabulation" if delimiter == "\t" else f"« {delimiter} »"


def delimiter_problem(headers: list[str], profile: Profile, table: str) -> str | None:
    """The rule to give when a header read as one single column holds a delimiter.

    Read with the wrong delimiter, a whole header is one column named like
    `invoice_id,line_no,…`: saying "column missing" would blame columns that are
    plainly in the file. The delimiter the file seems to use is the one its header
    holds most of (the expected one first, then `,` `;` tab `|`).
    """
    if len(headers) != 1:
        return None
    expected = profile.format_of(table).delimiter
    counts = {d: headers[0].count(d) for d in dict.fromkeys((expected, *COMMON_DELIMITERS))}
    seen = max(counts, key=lambda d: counts[d])
    if counts[seen] == 0:
        return None
    key = profile.format_key(table, "delimiter")
    if seen == expected:
        return (
            "séparateur : l'en-tête est lu comme une seule colonne alors qu'il contient "
            f"{delimiter_name(seen)}, le séparateur attendu ({key}) ; vérifiez ses guillemets"
        )
    return (
        f"séparateur incorrect : le profil attend {delimiter_name(expected)} ({key}), "
        f"le fichier semble utiliser {delimiter_name(seen)}"
    )


def _column_sources(raw: pl.DataFrame, source: SourceFile, profile: Profile) -> dict[str, str]:
    """Canonical column → header read in the file (absent columns get defaults or nulls).

    A header read as one column holding a delimiter is a delimiter problem, said so.
    """
    found, missing = _match_headers(raw.columns, source, profile)
    if missing:
        wrong_delimiter = delimiter_problem(raw.columns, profile, source.table)
        if wrong_delimiter:
            raise _delimiter_error(source, wrong_delimiter)
        raise InputError(f"Colonnes manquantes dans {source.path.name}", missing)
    return found


def _match_headers(
    headers: list[str], source: SourceFile, profile: Profile
) -> tuple[dict[str, str], list[Finding]]:
    """Canonical column → header found, and a finding per column needed but absent."""
    mapping = profile.tables[source.table]
    defaults = _defaults(source.table, profile)
    found: dict[str, str] = {}
    missing: list[Finding] = []
    for column in TABLES[source.table]:
        header = mapping.source_header(column.name)
        if header in headers:
            found[column.name] = header
        elif column.name not in defaults and (column.required or column.name in mapping.columns):
            key = f"tables.{source.table}.columns.{column.name}"
            missing.append(_missing_column(source, key, header, headers))
    return found, missing


def _delimiter_error(source: SourceFile, rule: str) -> InputError:
    return InputError(
        f"Séparateur incorrect dans {source.path.name}", [Finding(source.path.name, rule)]
    )


HEADER_BYTES = 1 << 16  # a header is read from at most this many bytes


def _csv_header(path: Path, fmt: FileFormat) -> list[str]:
    """The first line of a text file, split with the profile's delimiter (best effort)."""
    with path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    try:
        text = head.decode(fmt.encoding, errors="replace")
    except LookupError:
        return []
    line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return next(csv.reader([line], delimiter=fmt.delimiter), [])


def wrong_delimiter(source: SourceFile, profile: Profile) -> str | None:
    """The delimiter problem of a CSV file, read from its header before any row.

    A data row holding the delimiter the file really uses (a decimal comma read with
    `,`) would otherwise be refused as a row of the wrong width, which hides the cause.
    """
    if source.path.suffix.lower() in (".parquet", ".xlsx", ".xlsm"):
        return None
    headers = [h.strip() for h in _csv_header(source.path, profile.format_of(source.table))]
    if len(headers) != 1 or not _match_headers(headers, source, profile)[1]:
        return None
    return delimiter_problem(headers, profile, source.table)


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
        typed = _typed_value(series, column, profile.format_of(source.table))
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
    """Rename and fill defaults, keeping every canonical column as text.

    A column whose values the profile maps keeps its empty cells empty here: its words
    are checked on the file's own values (`unknown_values`), and `map_values` fills the
    default after translating them. Except the columns of typed files whose canonical
    value needs no parsing (`_kept_typed`): those come out in their canonical type already.
    `clean` names the columns that cannot hold values with outer spaces (no need to look).
    """
    mapping = profile.tables[source.table]
    fmt = profile.format_of(source.table)
    clean = frozenset(c.strip() for c in clean)
    raw = raw.rename({c: c.strip() for c in raw.columns})
    defaults = _defaults(source.table, profile)
    early = {c: v for c, v in defaults.items() if c not in mapping.values}
    found = _column_sources(raw, source, profile)
    raw = raw.select(list(dict.fromkeys(found.values())))
    typed = _kept_typed(raw, source, profile, found)
    typed_headers = {found[c] for c in typed}
    raw = raw.with_columns(
        _text_expr(pl.col(h), dtype, fmt).alias(h)
        for h, dtype in raw.schema.items()
        if dtype != pl.String and h not in typed_headers
    )
    strip, empty = _needs(raw, [h for h in raw.columns if h not in typed_headers], clean)
    exprs = [
        typed[c.name]
        if c.name in typed
        else _text_column(c, found.get(c.name), strip, empty, early)
        for c in TABLES[source.table]
    ]
    return raw.select(
        [
            *exprs,
            pl.lit(source.path.name).alias(FILE),
            pl.int_range(first_row, first_row + pl.len(), dtype=pl.Int64).alias(ROW),
        ]
    )


def _defaults(table: str, profile: Profile) -> dict[str, object]:
    """The contract's defaults of the table, overridden by the profile's."""
    return {**DEFAULTS[table], **profile.tables[table].defaults}


def known_words(column: str, words: dict[str, str]) -> pl.Expr:
    """Whether a value of a mapped column is a word of the profile or already canonical.

    The canonical value of a boolean column is accepted in any case (`True`, `FALSE`),
    as the contract reads booleans.
    """
    known = pl.col(column).is_in(list({*words, *words.values()}))
    if column in BOOLEAN_COLUMNS:
        known = known | pl.col(column).str.to_lowercase().is_in(BOOLEAN_TARGETS)
    return known


def unknown_values(frame: pl.DataFrame, source: SourceFile, profile: Profile) -> list[Finding]:
    """Non-empty values the profile maps for a column but does not know (at most 50).

    Every mapped column is looked at, so that one run names all of them.
    """
    mapping = profile.tables[source.table]
    findings: list[Finding] = []
    for column, words in mapping.values.items():
        unknown = frame.filter(pl.col(column).is_not_null() & ~known_words(column, words))
        findings += [
            Finding(
                source.path.name,
                f"valeur non prévue par le profil « {profile.name} » "
                f"(tables.{source.table}.values.{column} ; valeurs prévues : "
                f"{', '.join(sorted(words))})",
                row=row[ROW],
                column=mapping.source_header(column),
                value=row[column],
                sensitive=column in SENSITIVE_COLUMNS,
            )
            for row in unknown.head(MAX_UNKNOWN_VALUES - len(findings)).iter_rows(named=True)
        ]
        if len(findings) >= MAX_UNKNOWN_VALUES:
            break
    return findings


def map_values(frame: pl.DataFrame, source: SourceFile, profile: Profile) -> pl.DataFrame:
    """Translate the software's own words (statuses, reasons…), then fill their defaults.

    A word the profile does not know is left as it is: `unknown_values` reports it (the
    file is refused once read), and the checks that trip on it later are forgotten
    (`TableFindings.forget_cells`), so that every other problem still shows in this run.
    An empty cell is not a word: it takes the column's default, after translation.
    """
    mapping = profile.tables[source.table]
    defaults = _defaults(source.table, profile)
    exprs = []
    for column, words in mapping.values.items():
        expr = pl.col(column).replace(words)
        if column in defaults:
            expr = expr.fill_null(pl.lit(str(defaults[column])))
        exprs.append(expr.alias(column))
    return frame.with_columns(exprs)


def source_batches(
    source: SourceFile,
    profile: Profile,
    batch_rows: int | None = None,
    workdir: Path | None = None,
) -> Iterator[pl.DataFrame]:
    """Canonical batches of one file, with `_file` and `_row` (text but `_typed_value`).

    File-level problems (unreadable, ragged, missing columns, unmapped values, no data
    row) raise `InputError`; batches already yielded stay valid. Unmapped values are
    gathered over the whole file (the first 50) before the file is refused; the batches
    holding them are still yielded, so that their other problems are found in this run.
    """
    mapping = profile.tables[source.table]
    unknown: list[Finding] = []
    rows = 0
    fmt = profile.format_of(source.table)
    if source.path.is_file() and source.path.stat().st_size:
        problem = wrong_delimiter(source, profile)
        if problem:
            raise _delimiter_error(source, problem)
    batches = read_raw_batches(source.path, fmt, mapping, batch_rows, workdir)
    for first_row, raw, clean in batches:
        if raw.height == 0:
            continue
        # One chunk per column: a streamed CSV batch arrives in a dozen chunks, and every
        # later `select` mixing them with single-chunk columns would copy them again.
        frame = to_canonical(raw.rechunk(), source, profile, first_row, clean)
        del raw
        rows += frame.height
        if len(unknown) < MAX_UNKNOWN_VALUES:
            unknown += unknown_values(frame, source, profile)
        mapped = map_values(frame, source, profile)  # checked too: every problem in one run
        del frame  # while suspended, hold the one frame handed out
        yield mapped
        del mapped
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
