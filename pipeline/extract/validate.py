"""Validate typed canonical frames with the pandera models of `schemas/`.

pandera reports failures by row index in the validated frame; this module maps each
one back to the file and row it came from and words it for the centre's staff.

Extracts are validated batch by batch (`validate_batch`): every row of every batch
goes through every check of the model, so nothing is sampled. The one rule a batch
cannot check alone, the uniqueness of the model's key (its `unique`), is checked
by the loader in DuckDB over the whole extract, where it is cheapest; its findings
are worded here too (`duplicate_finding`) and merged in the same order pandera uses.
"""

from __future__ import annotations

import copy
import functools

import pandera.backends.polars.builtin_checks  # noqa: F401  (pandera's checks on polars data)
import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.backends.polars.checks import PolarsCheckBackend
from pandera.config import CONFIG
from pandera.constants import CHECK_OUTPUT_KEY

from pipeline.core.errors import SENSITIVE_COLUMNS, Finding
from pipeline.extract.readers import FILE, ROW
from schemas import FRAME_CHECK_COLUMNS, MODELS

MAX_FINDINGS = 200
UNIQUENESS_CHECK = "multiple_fields_uniqueness"

_BUILTIN_RULES = {
    "not_nullable": "valeur obligatoire manquante",
}

_UNIQUE_RULES = {
    "billing": "ligne de facture répétée dans l'extrait (même FINESS, facture et n° de ligne)",
    "patients": "patient répété pour ce centre dans l'extrait",
    "episodes": "prise en charge répétée pour ce centre dans l'extrait",
}

# A finding with the key pandera sorts failures by: (position in the extract, check).
Ranked = tuple[tuple[int, int, str], Finding]


def _rule(table: str, check: str) -> str:
    if check in ("multiple_fields_uniqueness", "field_uniqueness"):
        return _UNIQUE_RULES[table]
    return _BUILTIN_RULES.get(check, check)


def _column(table: str, row: dict[str, object], model_name: str) -> str | None:
    column = row["column"]
    if column == model_name:  # a check on the whole frame
        return FRAME_CHECK_COLUMNS.get(str(row["check"]))
    return str(column) if column is not None else None


@functools.cache
def _batch_model(table: str) -> pa.DataFrameSchema:
    """The table's model without its uniqueness rule, which a batch cannot check alone."""
    model = copy.deepcopy(MODELS[table])
    model.unique = None
    return model


def validate_batch(
    frame: pl.DataFrame,
    table: str,
    headers: dict[str, str],
    file_order: dict[str, int],
    lost: pl.DataFrame | None = None,
) -> list[Ranked]:
    """Run every check of the model but uniqueness on every row of one batch.

    Returns at most `MAX_FINDINGS` findings, ranked by (file, row, check) so that the
    batches' findings and the duplicates found later merge in pandera's own order.
    `lost` (one boolean column per canonical column, row for row) marks the cells whose
    value could not be typed: already reported, they are not "missing" as well.
    """
    model = _batch_model(table)
    if _clean_at_a_glance(frame, model):
        return []
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if lost is not None:
            cases = _without_lost(cases, lost)
        return _findings(cases, frame, table, model.name, headers, file_order)
    return []


def _plain(model: pa.DataFrameSchema) -> bool:
    """Whether `_all_hold` knows every rule of the model: types, nulls and checks only."""
    columns = model.columns.values()
    return not (
        CONFIG.use_narwhals_backend  # pandera would run other backends than the ones used here
        or model.coerce
        or model.parsers
        or any(c.coerce or c.regex or c.unique or c.default is not None for c in columns)
        or any(check.element_wise for c in columns for check in c.checks)
        or any(check.element_wise for check in model.checks)
    )


def _held(check: pa.Check, lazy: pl.LazyFrame, key: str) -> pl.LazyFrame | bool:
    """Whether `check` holds on every row, as pandera decides it (its own check function,
    nulls passing when the check ignores them), as one aggregate row."""
    output = PolarsCheckBackend(check).apply(PolarsData(lazy, key))
    if isinstance(output, bool):
        return output
    result = pl.col(CHECK_OUTPUT_KEY)
    result = result | result.is_null() if check.ignore_na else result.fill_null(False)
    return output.select(result.all())


def _clean_at_a_glance(frame: pl.DataFrame, model: pa.DataFrameSchema) -> bool:
    """`_all_hold`, or False whenever that shortcut cannot run.

    It calls pandera's check functions outside pandera's own entry point; a library
    internal it trips on (once seen in a full test run: a check function without its
    polars implementation registered) must never decide anything: pandera validates
    the batch itself then, as it would without the shortcut.
    """
    try:
        return _all_hold(frame, model)
    except Exception:  # any failure of the shortcut means "ask pandera"
        return False


def _all_hold(frame: pl.DataFrame, model: pa.DataFrameSchema) -> bool:
    """Whether the whole batch passes the model: every check of it, in one polars query.

    pandera runs each check as queries of its own (the check, whether it passed, its
    failure cases), about 2 s of a 10M-line load, for batches that are nearly always
    clean. The same rules (pandera's check functions, its type and null rules) are
    evaluated together here; False whenever any fails or the model has a rule this does
    not know, and pandera itself then finds and words every failure.
    """
    if not _plain(model):
        return False
    lazy = frame.lazy()
    held: list[pl.LazyFrame] = []
    checks: list[tuple[pa.Check, str]] = [(check, "*") for check in model.checks]
    for name, column in model.columns.items():
        if name not in frame.schema:
            return False
        if not column.dtype.check(frame.schema[name], PolarsData(lazy.select(name), name)):
            return False
        if not column.nullable:
            present = pl.col(name).is_not_null()
            if frame.schema[name].is_float():
                present = present & pl.col(name).is_not_nan()  # pandera counts NaN as null
            held.append(lazy.select(present.all()))
        checks += [(check, name) for check in column.checks]
    for check, key in checks:
        outcome = _held(check, lazy, key)
        if outcome is False:
            return False
        if not isinstance(outcome, bool):
            held.append(outcome)
    if not held:
        return True
    together = [h.select(pl.all().alias(f"c{i}")) for i, h in enumerate(held)]
    return all(pl.concat(together, how="horizontal").collect().row(0))


def _without_lost(cases: pl.DataFrame, lost: pl.DataFrame) -> pl.DataFrame:
    """The failure cases but "missing value" on a cell whose value failed to parse."""
    marks = (
        lost.drop(FILE, ROW)
        .with_row_index("index")
        .unpivot(index="index", variable_name="column", value_name="__lost")
    )
    marks = marks.filter(pl.col("__lost")).with_columns(pl.col("index").cast(pl.Int64))
    if marks.height == 0:
        return cases
    keyed = cases.with_columns(pl.col("index").cast(pl.Int64).alias("__index"))
    return (
        keyed.join(
            marks.rename({"index": "__index"}),
            on=["__index", "column"],
            how="left",
        )
        .filter(~(pl.col("__lost").fill_null(False) & (pl.col("check") == "not_nullable")))
        .drop("__index", "__lost")
    )


def duplicate_finding(table: str, file: str, row: int, file_order: dict[str, int]) -> Ranked:
    """A row whose key another row of the extract also has, worded as pandera's would be."""
    finding = Finding(file=file, rule=_rule(table, UNIQUENESS_CHECK), row=row)
    return (file_order.get(file, 0), row, UNIQUENESS_CHECK), finding


def _findings(
    cases: pl.DataFrame,
    frame: pl.DataFrame,
    table: str,
    model_name: str,
    headers: dict[str, str],
    file_order: dict[str, int],
) -> list[Ranked]:
    origin = frame.select(FILE, ROW).with_row_index("index")
    cases = cases.filter(pl.col("index").is_not_null()).with_columns(
        pl.col("index").cast(pl.UInt32)
    )
    cases = cases.join(origin, on="index", how="left").sort("index", "check")
    ranked: list[Ranked] = []
    for row in cases.head(MAX_FINDINGS).iter_rows(named=True):
        column = _column(table, row, model_name)
        value = None if row["schema_context"] == "DataFrameSchema" else row["failure_case"]
        finding = Finding(
            file=row[FILE],
            rule=_rule(table, str(row["check"])),
            row=row[ROW],
            column=headers.get(column, column) if column else None,
            value=value,
            sensitive=column in SENSITIVE_COLUMNS,
        )
        key = (file_order.get(row[FILE], 0), row[ROW], str(row["check"]))
        ranked.append((key, finding))
    return ranked
