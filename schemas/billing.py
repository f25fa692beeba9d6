"""Billing lines: one line of an invoice (an act, a travel fee or a majoration)."""

from __future__ import annotations

import pandera.polars as pa

from pipeline.core.canonical import LAYOUT
from schemas import _checks as checks
from schemas._build import canonical_schema

# What the warehouse stores (data-contract.md, "Bad input"): beyond the declared bounds,
# a value is refused here with its row rather than failing the load's cast.
_COLUMNS = LAYOUT["billing"]
LINE_NO = checks.bounds(_COLUMNS.column("line_no"))
COEFFICIENT = checks.bounds(_COLUMNS.column("coefficient"))
QUANTITY = checks.bounds(_COLUMNS.column("quantity"))
AMOUNT = checks.bounds(_COLUMNS.column("amount_eur"))
_fr = checks.fr_number

BillingLines = canonical_schema(
    "billing",
    "BillingLines",
    {
        "invoice_id": [checks.not_blank()],
        "line_no": [
            pa.Check.ge(LINE_NO.low, error=f"le numéro de ligne doit être ≥ {_fr(LINE_NO.low)}"),
            pa.Check.le(LINE_NO.high, error=f"le numéro de ligne doit être ≤ {_fr(LINE_NO.high)}"),
        ],
        "centre_finess": [checks.finess()],
        "patient_id": [checks.not_blank()],
        "act_date": [checks.not_in_future()],
        "act_code": [
            checks.matches(_COLUMNS.column("act_code"), "lettre clé attendue (ex. AMI, IFD)")
        ],
        "coefficient": [
            pa.Check.ge(COEFFICIENT.low, error="le coefficient doit être positif ou nul"),
            pa.Check.le(
                COEFFICIENT.high, error=f"le coefficient doit être ≤ {_fr(COEFFICIENT.high)}"
            ),
            checks.at_most_two_decimals(),
        ],
        "quantity": [
            pa.Check.gt(QUANTITY.low, error=f"la quantité doit être > {_fr(QUANTITY.low)}"),
            pa.Check.le(QUANTITY.high, error=f"la quantité doit être ≤ {_fr(QUANTITY.high)}"),
        ],
        "amount_eur": [
            pa.Check.in_range(
                AMOUNT.low,
                AMOUNT.high,
                error=f"le montant doit être compris entre {_fr(AMOUNT.low)} "
                f"et {_fr(AMOUNT.high)} €",
            ),
            checks.at_most_two_decimals(),
        ],
    },
)
