"""Patients: one patient of a centre (ids are per centre)."""

from __future__ import annotations

from pipeline.core.canonical import LAYOUT
from schemas import _checks as checks
from schemas._build import canonical_schema

Patients = canonical_schema(
    "patients",
    "Patients",
    {
        "centre_finess": [checks.finess()],
        "patient_id": [checks.not_blank()],
        "birth_date": [checks.not_in_future()],
        "postcode": [
            checks.matches(LAYOUT["patients"].column("postcode"), "code postal de 5 caractères")
        ],
    },
)
