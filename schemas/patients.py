"""Patients: one patient of a centre (ids are per centre)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.canonical import COMPLEMENTARIES, COVERAGES, OCCUPATIONS, SEXES
from schemas import _checks as checks


class Patients(pa.DataFrameModel):
    centre_finess: str = pa.Field(nullable=False, checks=[checks.finess()])
    patient_id: str = pa.Field(nullable=False, checks=[checks.not_blank()])
    birth_date: pl.Date = pa.Field(nullable=True, checks=[checks.not_in_future()])
    sex: str = pa.Field(nullable=True, checks=[checks.one_of(SEXES)])
    occupation: str = pa.Field(nullable=True, checks=[checks.one_of(OCCUPATIONS)])
    coverage: str = pa.Field(nullable=True, checks=[checks.one_of(COVERAGES)])
    complementary: str = pa.Field(nullable=True, checks=[checks.one_of(COMPLEMENTARIES)])
    lives_alone: pl.Boolean = pa.Field(nullable=True)
    postcode: str = pa.Field(
        nullable=True,
        checks=[pa.Check.str_matches(r"^[0-9AB]{5}$", error="code postal de 5 caractères")],
    )

    class Config:
        strict = False
        unique = ["centre_finess", "patient_id"]
