"""Billing lines: one line of an invoice (an act, a travel fee or a majoration)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.core.canonical import STATUSES
from schemas import _checks as checks

# What the warehouse stores (data-contract.md, "Bad input"): beyond, a value is refused
# here with its row rather than failing the load's cast.
MAX_LINE_NO = 2_147_483_647  # integer
MAX_COEFFICIENT = 99.99
MAX_QUANTITY = 9_999
MAX_AMOUNT = 99_999.99

BillingLines = pa.DataFrameSchema(
    {
        "invoice_id": pa.Column(pl.String, nullable=False, checks=[checks.not_blank()]),
        "line_no": pa.Column(
            pl.Int64,
            nullable=False,
            checks=[
                pa.Check.ge(1, error="le numéro de ligne doit être ≥ 1"),
                pa.Check.le(MAX_LINE_NO, error="le numéro de ligne doit être ≤ 2 147 483 647"),
            ],
        ),
        "centre_finess": pa.Column(pl.String, nullable=False, checks=[checks.finess()]),
        "patient_id": pa.Column(pl.String, nullable=False, checks=[checks.not_blank()]),
        "nurse_id": pa.Column(pl.String, nullable=True),
        "act_date": pa.Column(pl.Date, nullable=False, checks=[checks.not_in_future()]),
        "act_time": pa.Column(pl.Time, nullable=True),
        "act_code": pa.Column(
            pl.String,
            nullable=False,
            checks=[
                pa.Check.str_matches(r"^[A-Z0-9]+$", error="lettre clé attendue (ex. AMI, IFD)")
            ],
        ),
        "coefficient": pa.Column(
            pl.Float64,
            nullable=True,
            checks=[
                pa.Check.ge(0, error="le coefficient doit être positif ou nul"),
                pa.Check.le(MAX_COEFFICIENT, error="le coefficient doit être ≤ 99,99"),
                checks.at_most_two_decimals(),
            ],
        ),
        "quantity": pa.Column(
            pl.Float64,
            nullable=False,
            checks=[
                pa.Check.gt(0, error="la quantité doit être > 0"),
                pa.Check.le(MAX_QUANTITY, error="la quantité doit être ≤ 9 999"),
            ],
        ),
        "amount_eur": pa.Column(
            pl.Float64,
            nullable=True,
            checks=[
                pa.Check.in_range(
                    -MAX_AMOUNT,
                    MAX_AMOUNT,
                    error="le montant doit être compris entre -99 999,99 et 99 999,99 €",
                ),
                checks.at_most_two_decimals(),
            ],
        ),
        "status": pa.Column(pl.String, nullable=False, checks=[checks.one_of(STATUSES)]),
        "episode_id": pa.Column(pl.String, nullable=True),
    },
    unique=["centre_finess", "invoice_id", "line_no"],
    strict=False,  # `_file` and `_row` travel with the rows for error messages
    name="BillingLines",
)
