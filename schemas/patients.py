"""Patients: one patient of a centre (ids are per centre)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.core.canonical import COMPLEMENTARIES, COVERAGES, OCCUPATIONS, SEXES
from schemas import _checks as checks

Patients = pa.DataFrameSchema(
    {
        "centre_finess": pa.Column(pl.String, nullable=False, checks=[checks.finess()]),
        "patient_id": pa.Column(pl.String, nullable=False, checks=[checks.not_blank()]),
        "birth_date": pa.Column(pl.Date, nullable=True, checks=[checks.not_in_future()]),
        "sex": pa.Column(pl.String, nullable=True, checks=[checks.one_of(SEXES)]),
        "occupation": pa.Column(pl.String, nullable=True, checks=[checks.one_of(OCCUPATIONS)]),
        "coverage": pa.Column(pl.String, nullable=True, checks=[checks.one_of(COVERAGES)]),
        "complementary": pa.Column(
            pl.String, nullable=True, checks=[checks.one_of(COMPLEMENTARIES)]
        ),
        "lives_alone": pa.Column(pl.Boolean, nullable=True),
        "postcode": pa.Column(
            pl.String,
            nullable=True,
            checks=[pa.Check.str_matches(r"^[0-9AB]{5}$", error="code postal de 5 caractères")],
        ),
    },
    unique=["centre_finess", "patient_id"],
    strict=False,
    name="Patients",
)
