"""Care episodes: one *entrée*, a patient taken into care for one reason."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.core.canonical import DISCHARGE_CARE_TYPES, REASONS, REFERRAL_ORIGINS
from schemas import _checks as checks

END_BEFORE_START = "la date de fin est antérieure à la date de début"


def _end_after_start(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("start_date"))
    )


Episodes = pa.DataFrameSchema(
    {
        "centre_finess": pa.Column(pl.String, nullable=False, checks=[checks.finess()]),
        "episode_id": pa.Column(pl.String, nullable=False, checks=[checks.not_blank()]),
        "patient_id": pa.Column(pl.String, nullable=False, checks=[checks.not_blank()]),
        "start_date": pa.Column(pl.Date, nullable=False),
        "end_date": pa.Column(pl.Date, nullable=True),
        "reason": pa.Column(pl.String, nullable=False, checks=[checks.one_of(REASONS)]),
        "referral_origin": pa.Column(
            pl.String, nullable=True, checks=[checks.one_of(REFERRAL_ORIGINS)]
        ),
        "hospital_discharge": pa.Column(pl.Boolean, nullable=False),
        "discharge_establishment": pa.Column(pl.String, nullable=True),
        "discharge_finess": pa.Column(pl.String, nullable=True),
        "discharge_service": pa.Column(pl.String, nullable=True),
        "discharge_care_type": pa.Column(
            pl.String, nullable=True, checks=[checks.one_of(DISCHARGE_CARE_TYPES)]
        ),
        "discharge_care_detail": pa.Column(pl.String, nullable=True),
    },
    checks=[pa.Check(_end_after_start, error=END_BEFORE_START)],
    unique=["centre_finess", "episode_id"],
    strict=False,
    name="Episodes",
)
