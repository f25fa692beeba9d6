"""pandera models of the canonical tables (data-contract.md).

They run on the typed polars frames of an extract before anything is written to the
warehouse. Every check carries its rule in French: that text is what the centre's staff
read when a row is refused.
"""

from schemas.billing import BillingLines
from schemas.episodes import END_BEFORE_START, Episodes
from schemas.patients import Patients

MODELS = {"billing": BillingLines, "patients": Patients, "episodes": Episodes}

# For checks spanning several columns, the column the message should point at.
FRAME_CHECK_COLUMNS = {END_BEFORE_START: "end_date"}

__all__ = ["FRAME_CHECK_COLUMNS", "MODELS", "BillingLines", "Episodes", "Patients"]
