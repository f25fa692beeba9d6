"""Validate typed canonical frames with the pandera models of `schemas/`.

pandera reports failures by row index in the validated frame; this module maps each
one back to the file and row it came from and words it for the centre's staff.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.errors import Finding
from pipeline.readers import FILE, ROW
from schemas import FRAME_CHECK_COLUMNS, MODELS

MAX_FINDINGS = 200

_BUILTIN_RULES = {
    "not_nullable": "valeur obligatoire manquante",
    "multiple_fields_uniqueness": "identifiant répété dans l'extrait",
    "field_uniqueness": "identifiant répété dans l'extrait",
}

_UNIQUE_RULES = {
    "billing": "ligne de facture répétée dans l'extrait (même FINESS, facture et n° de ligne)",
    "patients": "patient répété pour ce centre dans l'extrait",
    "episodes": "prise en charge répétée pour ce centre dans l'extrait",
}


def _rule(table: str, check: str) -> str:
    if check in ("multiple_fields_uniqueness", "field_uniqueness"):
        return _UNIQUE_RULES[table]
    return _BUILTIN_RULES.get(check, check)


def _column(table: str, row: dict[str, object], model_name: str) -> str | None:
    column = row["column"]
    if column == model_name:  # a check on the whole frame
        return FRAME_CHECK_COLUMNS.get(str(row["check"]))
    return str(column) if column is not None else None


def validate_table(
    frame: pl.DataFrame, table: str, headers: dict[str, str] | None = None
) -> list[Finding]:
    """Run the table's pandera model on every row; return one finding per failure."""
    model = MODELS[table]
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _findings(exc.failure_cases, frame, table, model.name, headers or {})
    return []


def _findings(
    cases: pl.DataFrame,
    frame: pl.DataFrame,
    table: str,
    model_name: str,
    headers: dict[str, str],
) -> list[Finding]:
    origin = frame.select(FILE, ROW).with_row_index("index")
    cases = cases.filter(pl.col("index").is_not_null()).with_columns(
        pl.col("index").cast(pl.UInt32)
    )
    cases = cases.join(origin, on="index", how="left").sort("index", "check")
    findings = []
    for row in cases.head(MAX_FINDINGS).iter_rows(named=True):
        column = _column(table, row, model_name)
        value = None if row["schema_context"] == "DataFrameSchema" else row["failure_case"]
        findings.append(
            Finding(
                file=row[FILE],
                rule=_rule(table, str(row["check"])),
                row=row[ROW],
                column=headers.get(column, column) if column else None,
                value=value,
            )
        )
    return findings
