"""Care episodes: one *entrée*, a patient taken into care for one reason."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import _checks as checks
from schemas._build import canonical_schema

END_BEFORE_START = "la date de fin est antérieure à la date de début"


def _end_after_start(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("start_date"))
    )


Episodes = canonical_schema(
    "episodes",
    "Episodes",
    {
        "centre_finess": [checks.finess()],
        "episode_id": [checks.not_blank()],
        "patient_id": [checks.not_blank()],
    },
    frame_checks=[pa.Check(_end_after_start, error=END_BEFORE_START)],
)
