"""Billing lines: one line of an invoice (an act, a travel fee or a majoration)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.canonical import STATUSES
from schemas import _checks as checks


class BillingLines(pa.DataFrameModel):
    invoice_id: str = pa.Field(nullable=False, checks=[checks.not_blank()])
    line_no: pl.Int64 = pa.Field(
        nullable=False, checks=[pa.Check.ge(1, error="le numéro de ligne doit être ≥ 1")]
    )
    centre_finess: str = pa.Field(nullable=False, checks=[checks.finess()])
    patient_id: str = pa.Field(nullable=False, checks=[checks.not_blank()])
    nurse_id: str = pa.Field(nullable=True)
    act_date: pl.Date = pa.Field(nullable=False, checks=[checks.not_in_future()])
    act_time: pl.Time = pa.Field(nullable=True)
    act_code: str = pa.Field(
        nullable=False,
        checks=[pa.Check.str_matches(r"^[A-Z0-9]+$", error="lettre clé attendue (ex. AMI, IFD)")],
    )
    coefficient: pl.Float64 = pa.Field(
        nullable=True,
        checks=[
            pa.Check.ge(0, error="le coefficient doit être positif ou nul"),
            checks.at_most_two_decimals(),
        ],
    )
    quantity: pl.Float64 = pa.Field(
        nullable=False, checks=[pa.Check.gt(0, error="la quantité doit être > 0")]
    )
    amount_eur: pl.Float64 = pa.Field(nullable=True, checks=[checks.at_most_two_decimals()])
    status: str = pa.Field(nullable=False, checks=[checks.one_of(STATUSES)])
    episode_id: str = pa.Field(nullable=True)

    class Config:
        strict = False  # `_file` and `_row` travel with the rows for error messages
        unique = ["centre_finess", "invoice_id", "line_no"]
