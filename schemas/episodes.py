"""Care episodes: one *entrée*, a patient taken into care for one reason."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.canonical import DISCHARGE_CARE_TYPES, REASONS, REFERRAL_ORIGINS
from schemas import _checks as checks


class Episodes(pa.DataFrameModel):
    centre_finess: str = pa.Field(nullable=False, checks=[checks.finess()])
    episode_id: str = pa.Field(nullable=False, checks=[checks.not_blank()])
    patient_id: str = pa.Field(nullable=False, checks=[checks.not_blank()])
    start_date: pl.Date = pa.Field(nullable=False)
    end_date: pl.Date = pa.Field(nullable=True)
    reason: str = pa.Field(nullable=False, checks=[checks.one_of(REASONS)])
    referral_origin: str = pa.Field(nullable=True, checks=[checks.one_of(REFERRAL_ORIGINS)])
    hospital_discharge: pl.Boolean = pa.Field(nullable=False)
    discharge_establishment: str = pa.Field(nullable=True)
    discharge_finess: str = pa.Field(nullable=True)
    discharge_service: str = pa.Field(nullable=True)
    discharge_care_type: str = pa.Field(nullable=True, checks=[checks.one_of(DISCHARGE_CARE_TYPES)])
    discharge_care_detail: str = pa.Field(nullable=True)

    @pa.dataframe_check(error="la date de fin est antérieure à la date de début")
    def end_after_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("start_date"))
        )

    class Config:
        strict = False
        unique = ["centre_finess", "episode_id"]
