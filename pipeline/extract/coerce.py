"""Parse text columns into the canonical types, reporting every value that won't parse.

Polars only casts ISO text to dates, so every format is parsed explicitly with the
profile's formats. A value that is present but does not parse is a finding naming its
file, row and column: the whole extract is then refused (data-contract.md, "Bad input").
"""

from __future__ import annotations

import polars as pl

from pipeline.core.canonical import TABLES, Column, Kind
from pipeline.core.errors import Finding
from pipeline.core.reference import b2_aliases
from pipeline.extract.profiles import FileFormat
from pipeline.extract.readers import FILE, ROW

MAX_FINDINGS_PER_COLUMN = 20

_TRUE = ("true", "1", "oui", "o", "vrai", "yes", "y", "x")
_FALSE = ("false", "0", "non", "n", "faux", "no")

_RULES = {
    Kind.INTEGER: "nombre entier attendu",
    Kind.DECIMAL: "nombre attendu (chiffres, virgule ou point décimal ; inf et NaN refusés)",
    Kind.DATE: "date impossible ou mal écrite (format attendu : {date_format})",
    Kind.TIME: "heure impossible ou mal écrite (attendu HH:MM entre 00:00 et 23:59)",
    Kind.BOOLEAN: "oui/non attendu (true/false, oui/non, 1/0)",
}


def _decimal(col: pl.Expr, fmt: FileFormat) -> pl.Expr:
    text = col.str.replace_all(r"[\s\u00a0\u202f€]", "")
    if fmt.decimal == ",":
        text = text.str.replace_all(r"\.", "").str.replace(",", ".", literal=True)
    return _finite(text.cast(pl.Float64, strict=False))


def _finite(number: pl.Expr) -> pl.Expr:
    """The number, or NULL (a finding) for `inf`, `-inf` and `NaN`, which polars parses."""
    return pl.when(number.is_finite()).then(number)


def _date(col: pl.Expr, fmt: FileFormat) -> pl.Expr:
    # A datetime written by a spreadsheet ("2025-03-01 00:00") keeps its date part.
    iso = col.str.to_date("%Y-%m-%d", strict=False, exact=False)
    custom = col.str.to_date(fmt.date_format, strict=False)
    return custom if fmt.date_format == "%Y-%m-%d" else custom.fill_null(iso)


def _time(col: pl.Expr) -> pl.Expr:
    # Seconds are dropped once checked: 12:00:61 is no time.
    text = col.str.replace(r"^(\d{1,2})[hH](\d{2})$", "$1:$2").str.replace(
        r"^(\d{1,2}:\d{2}):[0-5]\d$", "$1"
    )
    text = pl.when(text.str.contains(r"^\d{1,2}:\d{2}$")).then(text).otherwise(None)
    return text.str.to_time("%H:%M", strict=False)


def _boolean(col: pl.Expr) -> pl.Expr:
    low = col.str.to_lowercase()
    return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)


def _act_codes(frame: pl.DataFrame) -> pl.DataFrame:
    """`act_code` in upper case, and the B2 keys billing software writes (`IFA`, `IKP`)
    read as the NGAP codes they stand for (`IFD`, `IK`), so that every later step knows
    one code per act.

    Worked out on the batch's distinct codes (a few dozen), then mapped back onto its
    rows only where a code changes: upper-casing every row cost a tenth of the typing.
    The extract file as received keeps the code written (its SHA-256 is in the report's
    inputs); the warehouse holds the NGAP code.
    """
    if frame.schema.get("act_code") != pl.String:
        return frame
    written = frame.get_column("act_code").unique()
    canonical = written.str.to_uppercase().replace(b2_aliases())
    changed = written.ne_missing(canonical)
    if not changed.any():
        return frame
    return frame.with_columns(
        pl.col("act_code").replace(written.filter(changed), canonical.filter(changed))
    )


def parse_expr(column: Column, fmt: FileFormat) -> pl.Expr:
    col = pl.col(column.name)
    match column.kind:
        case Kind.TEXT:
            return col  # `act_code` is put in its canonical form first (`_act_codes`)
        case Kind.INTEGER:
            return col.cast(pl.Int64, strict=False)
        case Kind.DECIMAL:
            return _decimal(col, fmt)
        case Kind.DATE:
            return _date(col, fmt)
        case Kind.TIME:
            return _time(col)
        case Kind.BOOLEAN:
            return _boolean(col)


def _fast_expr(column: Column, fmt: FileFormat) -> pl.Expr | None:
    """A cheaper parse, equal to `parse_expr` on every value it does not leave null.

    A canonical time (`07:30`) or a plain decimal (`12.5`) parses directly, and such
    text is left unchanged by the normalisations of the full parse; a value the fast
    parse leaves null may still be valid (`7h30`, `12,5 €`), so a batch holding one is
    parsed again with `parse_expr`.
    """
    col = pl.col(column.name)
    if column.kind is Kind.TIME:
        canonical = col.str.contains(r"^\d{1,2}:\d{2}$")
        return pl.when(canonical).then(col.str.to_time("%H:%M", strict=False))
    if column.kind is Kind.DECIMAL and fmt.decimal == ".":
        return _finite(col.cast(pl.Float64, strict=False))
    return None


def _parsed(frame: pl.DataFrame, columns: tuple[Column, ...], fmt: FileFormat) -> pl.DataFrame:
    """Typed columns named `__typed_<name>`, by the fast parse wherever it is enough."""
    exprs = {c.name: _fast_expr(c, fmt) for c in columns}
    typed = frame.select(
        [
            (fast if (fast := exprs[c.name]) is not None else parse_expr(c, fmt)).alias(c.name)
            for c in columns
        ]
    )
    missed = typed.select(
        [
            (pl.col(c.name).is_null() & frame.get_column(c.name).is_not_null()).any().alias(c.name)
            for c in columns
            if exprs[c.name] is not None
        ]
    )
    again = [c for c in columns if c.name in missed.columns and missed.get_column(c.name)[0]]
    if again:
        typed = typed.with_columns(frame.select([parse_expr(c, fmt) for c in again]))
    return typed.rename({c.name: f"__typed_{c.name}" for c in columns})


def _names(table: str) -> list[str]:
    return [c.name for c in TABLES[table]]


def _is_text(frame: pl.DataFrame, column: Column) -> bool:
    """Whether the column is to parse: text columns, and text read for a typed column.

    A typed column arrives typed only when the reader computed exactly the value the
    parse would give, a value that cannot fail (`readers._typed_value`).
    """
    return column.kind is Kind.TEXT or frame.schema[column.name] == pl.String


def _unparsed(typed: pl.DataFrame, columns: tuple[Column, ...], fmt: FileFormat) -> list[Finding]:
    """Values present but left null by the parse: file, row, column, rule, text."""
    checked = [c for c in columns if c.kind is not Kind.TEXT]
    if not checked:
        return []
    failed = typed.select(
        [
            (pl.col(c.name).is_not_null() & pl.col(f"__typed_{c.name}").is_null())
            .any()
            .alias(c.name)
            for c in checked
        ]
    ).row(0, named=True)
    findings: list[Finding] = []
    for column in (c for c in checked if failed[c.name]):
        bad = typed.filter(
            pl.col(column.name).is_not_null() & pl.col(f"__typed_{column.name}").is_null()
        )
        rule = _RULES[column.kind].format(date_format=_format_fr(fmt.date_format))
        for row in bad.head(MAX_FINDINGS_PER_COLUMN).iter_rows(named=True):
            findings.append(Finding(row[FILE], rule, row[ROW], column.name, row[column.name]))
    return findings


# strftime's letters as a French form shows a date: `%d/%m/%Y` → `JJ/MM/AAAA`.
_FORMAT_FR = {"%d": "JJ", "%m": "MM", "%Y": "AAAA", "%y": "AA", "%H": "HH", "%M": "MM"}


def _format_fr(date_format: str) -> str:
    for code, french in _FORMAT_FR.items():
        date_format = date_format.replace(code, french)
    return date_format.replace("%", "")


def coerce(frame: pl.DataFrame, table: str, fmt: FileFormat) -> tuple[pl.DataFrame, list[Finding]]:
    """Return the typed frame and the findings for values that did not parse.

    At most `MAX_FINDINGS_PER_COLUMN` findings per column, in row order.
    """
    frame = _act_codes(frame)
    columns = tuple(c for c in TABLES[table] if _is_text(frame, c))
    typed = pl.concat([frame, _parsed(frame, columns, fmt)], how="horizontal")
    findings = _unparsed(typed, columns, fmt)
    parsed = {c.name for c in columns}
    typed = typed.select(
        [pl.col(f"__typed_{c}" if c in parsed else c).alias(c) for c in _names(table)]
        + [pl.col(FILE), pl.col(ROW)]
    )
    return typed, findings
