"""The canonical tables of the data contract: their columns, types and enums.

This is the single description of the canonical layout; readers coerce to it, the
pandera models in `schemas/` check its rules and the warehouse stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    TIME = "time"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False  # the column must be present and every value filled
    label: str = ""  # French wording for error messages


STATUSES = ("billed", "cancelled", "rejected")
SEXES = ("F", "M", "U")
OCCUPATIONS = ("active", "retired", "unemployed", "student", "child", "other", "unknown")
COVERAGES = ("general", "agricultural", "other", "unknown")
COMPLEMENTARIES = ("none", "private", "css", "ame", "unknown")
REASONS = ("acute", "chronic", "palliative")
REFERRAL_ORIGINS = (
    "hospital",
    "general_practitioner",
    "specialist",
    "had",
    "ssiad",
    "social_services",
    "self_or_family",
    "other",
    "unknown",
)
DISCHARGE_CARE_TYPES = ("palliative", "chemotherapy", "other")

FINESS_PATTERN = r"^(\d{2}|2A|2B)\d{7}$"

BILLING = (
    Column("invoice_id", Kind.TEXT, True, "numéro de facture"),
    Column("line_no", Kind.INTEGER, True, "numéro de ligne"),
    Column("centre_finess", Kind.TEXT, True, "FINESS du centre"),
    Column("patient_id", Kind.TEXT, True, "identifiant patient"),
    Column("nurse_id", Kind.TEXT, False, "identifiant infirmière"),
    Column("act_date", Kind.DATE, True, "date de l'acte"),
    Column("act_time", Kind.TIME, False, "heure de l'acte"),
    Column("act_code", Kind.TEXT, True, "lettre clé"),
    Column("coefficient", Kind.DECIMAL, False, "coefficient"),
    Column("quantity", Kind.DECIMAL, False, "quantité"),
    Column("amount_eur", Kind.DECIMAL, False, "montant"),
    Column("status", Kind.TEXT, False, "statut"),
    Column("episode_id", Kind.TEXT, False, "prise en charge"),
)

PATIENTS = (
    Column("centre_finess", Kind.TEXT, True, "FINESS du centre"),
    Column("patient_id", Kind.TEXT, True, "identifiant patient"),
    Column("birth_date", Kind.DATE, False, "date de naissance"),
    Column("sex", Kind.TEXT, False, "sexe"),
    Column("occupation", Kind.TEXT, False, "activité professionnelle"),
    Column("coverage", Kind.TEXT, False, "régime"),
    Column("complementary", Kind.TEXT, False, "complémentaire"),
    Column("lives_alone", Kind.BOOLEAN, False, "personne isolée"),
    Column("postcode", Kind.TEXT, False, "code postal"),
)

EPISODES = (
    Column("centre_finess", Kind.TEXT, True, "FINESS du centre"),
    Column("episode_id", Kind.TEXT, True, "identifiant de prise en charge"),
    Column("patient_id", Kind.TEXT, True, "identifiant patient"),
    Column("start_date", Kind.DATE, True, "date de début"),
    Column("end_date", Kind.DATE, False, "date de fin"),
    Column("reason", Kind.TEXT, True, "motif"),
    Column("referral_origin", Kind.TEXT, False, "origine"),
    Column("hospital_discharge", Kind.BOOLEAN, False, "sortie d'hospitalisation"),
    Column("discharge_establishment", Kind.TEXT, False, "établissement d'origine"),
    Column("discharge_finess", Kind.TEXT, False, "FINESS de l'établissement"),
    Column("discharge_service", Kind.TEXT, False, "service d'origine"),
    Column("discharge_care_type", Kind.TEXT, False, "type de prise en charge"),
    Column("discharge_care_detail", Kind.TEXT, False, "précision"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "billing": BILLING,
    "patients": PATIENTS,
    "episodes": EPISODES,
}

# File name prefixes of the canonical profile (data-contract.md).
TABLE_PREFIXES = {"billing": "billing", "patients": "patients", "episodes": "episodes"}

# Identity of a row inside the warehouse (replays replace rows with the same key).
KEYS: dict[str, tuple[str, ...]] = {
    "billing": ("centre_finess", "invoice_id", "line_no"),
    "patients": ("centre_finess", "patient_id"),
    "episodes": ("centre_finess", "episode_id"),
}

# Defaults the contract gives for optional columns.
DEFAULTS: dict[str, dict[str, object]] = {
    "billing": {"quantity": "1", "status": "billed"},
    "episodes": {"hospital_discharge": "false"},
    "patients": {},
}
