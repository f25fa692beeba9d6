"""Errors the user can act on.

Bad input never surfaces as a traceback: every rejection is an `InputError` holding
`Finding`s that name the file, the row (1-based, header excluded), the column and the
rule, in French, so that the centre's secretary can fix the export at its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Values of these columns identify a patient: a message names their row, never the value.
SENSITIVE_COLUMNS = frozenset({"patient_id", "birth_date", "postcode"})

# A value longer than this is cut in messages (a 200 000-character cell flooded the
# terminal); the quarantine file keeps it whole.
SHOWN_VALUE_CHARS = 80


def _shown(value: str) -> str:
    if len(value) <= SHOWN_VALUE_CHARS:
        return value
    return f"{value[:SHOWN_VALUE_CHARS]}… ({len(value)} caractères)"


@dataclass(frozen=True)
class Finding:
    """One reason why an input was refused."""

    file: str
    rule: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    sensitive: bool = False  # set when the column holds patient data under another name

    def __post_init__(self) -> None:
        if self.sensitive or self.column in SENSITIVE_COLUMNS:
            object.__setattr__(self, "value", None)

    def describe(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"ligne {self.row}")
        if self.column:
            where.append(f"colonne « {self.column} »")
        text = ", ".join(where) + f" : {self.rule}"
        if self.value is not None:
            text += f" (valeur lue : « {_shown(self.value)} »)"
        return text

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "rule": self.rule,
            "value": self.value,
        }


@dataclass
class InputError(Exception):
    """An extract (or a register, a profile) that cannot be loaded as it is."""

    summary: str
    findings: list[Finding] = field(default_factory=list)

    def __str__(self) -> str:
        return self.summary

    def describe(self, limit: int = 50) -> str:
        lines = [self.summary]
        lines += [f"  - {f.describe()}" for f in self.findings[:limit]]
        if len(self.findings) > limit:
            lines.append(f"  … et {len(self.findings) - limit} autre(s) problème(s).")
        return "\n".join(lines)


class UsageError(Exception):
    """A command called in a way that cannot work (missing warehouse, unknown centre…)."""


class WarehouseBusy(UsageError):
    """The warehouse stayed held by another program (a reader, a load) past the wait.

    A scheduled run retries on this one later instead of failing at once.
    """


_PLAIN_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (FileNotFoundError, "fichier introuvable"),
    (IsADirectoryError, "c'est un dossier, pas un fichier"),
    (PermissionError, "accès refusé"),
    (UnicodeError, "caractères illisibles dans l'encodage attendu"),
    (KeyError, "rubrique attendue absente"),
    (ValueError, "contenu mal formé"),
    (OSError, "lecture impossible"),
)


def plain_reason(exc: BaseException) -> str:
    """Why a file could not be read, in words, never the Python exception's name.

    The engines (polars, calamine, zipfile…) raise types whose names mean nothing to a
    secretary, and whose texts may quote the file's content (a NIR): neither is shown.
    """
    for kind, reason in _PLAIN_REASONS:
        if isinstance(exc, kind):
            return reason
    return "format non reconnu"


def unreadable(path: Path, rule: str) -> InputError:
    """The refusal of a whole file the engines cannot read (no row, no column to name)."""
    return InputError(f"Fichier illisible : {path.name}", [Finding(path.name, rule)])
