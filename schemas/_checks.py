"""Checks shared by the canonical models, each with its rule written for people.

The values they check (patterns, bounds, enums) are the canonical declaration's
(`pipeline.core.canonical`); only the wording is here.
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl

from pipeline.core.canonical import FINESS_PATTERN, Column, Range


def fr_number(value: float) -> str:
    """A bound as a French reader writes it: `2 147 483 647`, `99,99`, `-99 999,99`."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", " ")
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def finess() -> pa.Check:
    return pa.Check.str_matches(
        FINESS_PATTERN, error="FINESS mal formé : 9 caractères, 2 chiffres (ou 2A/2B) puis 7"
    )


def matches(column: Column, error: str) -> pa.Check:
    """The column's declared pattern, with the rule's wording."""
    if column.pattern is None:
        raise ValueError(f"{column.name} declares no pattern")
    return pa.Check.str_matches(column.pattern, error=error)


def bounds(column: Column) -> Range:
    """The column's declared bounds (a number column without any is a declaration error)."""
    if column.range is None:
        raise ValueError(f"{column.name} declares no range")
    return column.range


def one_of(values: tuple[str, ...]) -> pa.Check:
    return pa.Check.isin(
        list(values), error=f"valeur non reconnue (permises : {', '.join(values)})"
    )


def not_blank() -> pa.Check:
    return pa.Check.str_length(min_value=1, error="identifiant vide")


def at_most_two_decimals() -> pa.Check:
    def check(data: pa.PolarsData) -> pl.LazyFrame:
        value = pl.col(data.key)
        return data.lazyframe.select(((value * 100).round(0) - value * 100).abs() < 1e-6)

    return pa.Check(check, error="au plus 2 décimales")


def not_in_future() -> pa.Check:
    return pa.Check.le(dt.date.today(), error="date dans le futur")
