"""Build a pandera model from the canonical declaration (`pipeline.core.canonical`).

The columns, their dtypes, their nullability, the allowed values and the key come from
the declaration; a model adds only what the declaration cannot say: the French wording
of its rules, and the checks that are rules rather than layout (a blank identifier, a
date in the future, more than two decimals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# pandera's polars implementations of its built-in checks, registered before any model is
# built: a check keeps the implementations known when it was made, and
# `pipeline.extract.validate` runs the models' checks outside pandera's entry point.
import pandera.backends.polars.builtin_checks  # noqa: F401
import pandera.polars as pa
import polars as pl

from pipeline.core.canonical import LAYOUT, Column, Kind
from schemas import _checks as checks

DTYPES: dict[Kind, type[pl.DataType]] = {
    Kind.TEXT: pl.String,
    Kind.INTEGER: pl.Int64,
    Kind.DECIMAL: pl.Float64,
    Kind.DATE: pl.Date,
    Kind.TIME: pl.Time,
    Kind.BOOLEAN: pl.Boolean,
}


def _column(column: Column, rules: Sequence[pa.Check]) -> pa.Column:
    """One pandera column: the declared type and nullability, the enum, then the rules."""
    declared = [checks.one_of(column.allowed)] if column.allowed else []
    return pa.Column(DTYPES[column.kind], nullable=column.nullable, checks=[*declared, *rules])


def canonical_schema(
    table: str,
    name: str,
    rules: Mapping[str, Sequence[pa.Check]],
    frame_checks: Sequence[pa.Check] = (),
) -> pa.DataFrameSchema:
    """The model of a canonical table: every declared column, in the contract's order.

    `rules` names canonical columns only: a rule for a column the declaration does not
    have is a typo that would silently check nothing, refused here at import.
    """
    layout = LAYOUT[table]
    unknown = set(rules) - {c.name for c in layout.columns}
    if unknown:
        raise ValueError(f"rules for columns {table} does not have: {sorted(unknown)}")
    return pa.DataFrameSchema(
        {c.name: _column(c, rules.get(c.name, ())) for c in layout.columns},
        checks=list(frame_checks),
        unique=list(layout.key),
        strict=False,  # `_file` and `_row` travel with the rows for error messages
        name=name,
    )
