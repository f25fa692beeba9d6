"""pandera models of the canonical tables (data-contract.md).

They run on the typed polars frames of an extract before anything is written to the
warehouse. Every check carries its rule in French: that text is what the centre's staff
read when a row is refused.

The models are imported on first use (PEP 562): pandera takes about a second to import,
and readers of the warehouse (`csi report`, which only needs `schemas.register`) never
validate a frame.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FRAME_CHECK_COLUMNS", "MODELS", "BillingLines", "Episodes", "Patients"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'schemas' has no attribute {name!r}")
    from schemas.billing import BillingLines
    from schemas.episodes import END_BEFORE_START, Episodes
    from schemas.patients import Patients

    exported = {
        "MODELS": {"billing": BillingLines, "patients": Patients, "episodes": Episodes},
        # For checks spanning several columns, the column the message should point at.
        "FRAME_CHECK_COLUMNS": {END_BEFORE_START: "end_date"},
        "BillingLines": BillingLines,
        "Episodes": Episodes,
        "Patients": Patients,
    }
    globals().update(exported)
    return exported[name]
