"""Checks shared by the canonical models, each with its rule written for people."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl

from pipeline.core.canonical import FINESS_PATTERN


def finess() -> pa.Check:
    return pa.Check.str_matches(
        FINESS_PATTERN, error="FINESS mal formé : 9 caractères, 2 chiffres (ou 2A/2B) puis 7"
    )


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
