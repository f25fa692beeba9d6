"""The canonical tables of the data contract: the one declaration of their columns.

Each column is declared here once: its name, type, whether it is required, its default,
the values it admits, its bounds and its pattern. Everything else is derived from it:
the readers coerce to it (`pipeline.extract`), the profiles accept its columns and
values as targets (`pipeline.extract.profiles`), the pandera models of `schemas/`
take their columns, dtypes and nullability from it and word its rules in French, and
the warehouse's DDL is generated from it (`pipeline.warehouse.schema`).
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


# Amounts, coefficients and quantities are stored in cents (`decimal(p, 2)`).
DECIMAL_PLACES = 2
# What the warehouse's `integer` holds: beyond, a value is refused with its row.
MAX_INTEGER = 2_147_483_647


@dataclass(frozen=True)
class Range:
    """The bounds of a number column, both inclusive unless `low_open` (a quantity > 0)."""

    low: int | float
    high: int | float
    low_open: bool = False


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False  # the column must be present and every value filled
    label: str = ""  # French wording for error messages
    default: str | None = None  # the contract's value for a missing column or empty cell
    allowed: tuple[str, ...] = ()  # the contract's enum: the only values admitted
    pattern: str | None = None  # a regular expression every value matches
    range: Range | None = None  # the bounds a number must stay within
    digits: int = 0  # a decimal's total digits in the warehouse (`decimal(digits, 2)`)

    @property
    def nullable(self) -> bool:
        """Whether a value may be missing once read: a default fills an optional column."""
        return not self.required and self.default is None


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns in the contract's order, its key, where it is kept."""

    name: str  # the contract's name, also the prefix of its files ("billing*.csv")
    stored_as: str  # the warehouse table
    key: tuple[str, ...]  # identity of a row (a replay replaces the row with the same key)
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def stored_columns(self) -> tuple[Column, ...]:
        """The warehouse's column order: the key first, then the contract's order."""
        keyed = tuple(self.column(name) for name in self.key)
        return keyed + tuple(c for c in self.columns if c.name not in self.key)


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
ACT_CODE_PATTERN = r"^[A-Z0-9]+$"
POSTCODE_PATTERN = r"^[0-9AB]{5}$"

_FINESS = Column("centre_finess", Kind.TEXT, True, "FINESS du centre", pattern=FINESS_PATTERN)

BILLING = (
    Column("invoice_id", Kind.TEXT, True, "numéro de facture"),
    Column("line_no", Kind.INTEGER, True, "numéro de ligne", range=Range(1, MAX_INTEGER)),
    _FINESS,
    Column("patient_id", Kind.TEXT, True, "identifiant patient"),
    Column("nurse_id", Kind.TEXT, False, "identifiant infirmière"),
    Column("act_date", Kind.DATE, True, "date de l'acte"),
    Column("act_time", Kind.TIME, False, "heure de l'acte"),
    Column("act_code", Kind.TEXT, True, "lettre clé", pattern=ACT_CODE_PATTERN),
    Column("coefficient", Kind.DECIMAL, False, "coefficient", range=Range(0, 99.99), digits=8),
    Column(
        "quantity",
        Kind.DECIMAL,
        False,
        "quantité",
        default="1",
        range=Range(0, 9_999, low_open=True),
        digits=12,
    ),
    Column(
        "amount_eur", Kind.DECIMAL, False, "montant", range=Range(-99_999.99, 99_999.99), digits=12
    ),
    Column("status", Kind.TEXT, False, "statut", default="billed", allowed=STATUSES),
    Column("episode_id", Kind.TEXT, False, "prise en charge"),
)

PATIENTS = (
    _FINESS,
    Column("patient_id", Kind.TEXT, True, "identifiant patient"),
    Column("birth_date", Kind.DATE, False, "date de naissance"),
    Column("sex", Kind.TEXT, False, "sexe", allowed=SEXES),
    Column("occupation", Kind.TEXT, False, "activité professionnelle", allowed=OCCUPATIONS),
    Column("coverage", Kind.TEXT, False, "régime", allowed=COVERAGES),
    Column("complementary", Kind.TEXT, False, "complémentaire", allowed=COMPLEMENTARIES),
    Column("lives_alone", Kind.BOOLEAN, False, "personne isolée"),
    Column("postcode", Kind.TEXT, False, "code postal", pattern=POSTCODE_PATTERN),
)

EPISODES = (
    _FINESS,
    Column("episode_id", Kind.TEXT, True, "identifiant de prise en charge"),
    Column("patient_id", Kind.TEXT, True, "identifiant patient"),
    Column("start_date", Kind.DATE, True, "date de début"),
    Column("end_date", Kind.DATE, False, "date de fin"),
    Column("reason", Kind.TEXT, True, "motif", allowed=REASONS),
    Column("referral_origin", Kind.TEXT, False, "origine", allowed=REFERRAL_ORIGINS),
    Column("hospital_discharge", Kind.BOOLEAN, False, "sortie d'hospitalisation", default="false"),
    Column("discharge_establishment", Kind.TEXT, False, "établissement d'origine"),
    Column("discharge_finess", Kind.TEXT, False, "FINESS de l'établissement"),
    Column("discharge_service", Kind.TEXT, False, "service d'origine"),
    Column(
        "discharge_care_type",
        Kind.TEXT,
        False,
        "type de prise en charge",
        allowed=DISCHARGE_CARE_TYPES,
    ),
    Column("discharge_care_detail", Kind.TEXT, False, "précision"),
)

LAYOUT: dict[str, Table] = {
    "billing": Table(
        "billing", "billing_lines", ("centre_finess", "invoice_id", "line_no"), BILLING
    ),
    "patients": Table("patients", "patients", ("centre_finess", "patient_id"), PATIENTS),
    "episodes": Table("episodes", "episodes", ("centre_finess", "episode_id"), EPISODES),
}

# Views of the layout, for the modules that need one fact of every table.
TABLES: dict[str, tuple[Column, ...]] = {name: t.columns for name, t in LAYOUT.items()}
# File name prefixes of the canonical profile (data-contract.md).
TABLE_PREFIXES: dict[str, str] = {name: t.name for name, t in LAYOUT.items()}
# Identity of a row inside the warehouse (replays replace rows with the same key).
KEYS: dict[str, tuple[str, ...]] = {name: t.key for name, t in LAYOUT.items()}
# The warehouse table of each canonical table.
WAREHOUSE_TABLES: dict[str, str] = {name: t.stored_as for name, t in LAYOUT.items()}
# Defaults the contract gives for optional columns.
DEFAULTS: dict[str, dict[str, object]] = {
    name: {c.name: c.default for c in t.columns if c.default is not None}
    for name, t in LAYOUT.items()
}
