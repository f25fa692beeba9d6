"""Errors the user can act on.

Bad input never surfaces as a traceback: every rejection is an `InputError` holding
`Finding`s that name the file, the row (1-based, header excluded), the column and the
rule, in French, so that the centre's secretary can fix the export at its source.
"""

from __future__ import annotations

import errno
import re
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
    # Noted on the way out by the flows (`pipeline.orchestrate.flows`): the folder the refusal
    # was written to, and whether its French message was logged already.
    rejection_folder: Path | None = field(default=None, init=False, repr=False, compare=False)
    # Or why that folder could not be written (French: the folder and the reason).
    rejection_problem: str | None = field(default=None, init=False, repr=False, compare=False)
    csi_logged: bool = field(default=False, init=False, repr=False, compare=False)

    def __str__(self) -> str:
        return self.summary

    def describe(self, limit: int = 50) -> str:
        lines = [self.summary]
        lines += [f"  - {f.describe()}" for f in self.findings[:limit]]
        if len(self.findings) > limit:
            lines.append(f"  … et {len(self.findings) - limit} autre(s) problème(s).")
        return "\n".join(lines)


class ProfileError(InputError):
    """An import profile that cannot be used: the extract was not read, so nothing of it is
    quarantined (no `rejets/` folder), only the profile is to fix."""


class UsageError(Exception):
    """A command called in a way that cannot work (missing warehouse, unknown centre…)."""

    csi_logged: bool = False  # its French message logged already (`pipeline.orchestrate.flows`)


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


# PyYAML's names for the tokens it expected or met, in the words of someone writing the file.
_YAML_TOKENS = {
    "<scalar>": "une valeur",
    "<block end>": "la fin du bloc",
    "<block mapping start>": "une rubrique décalée",
    "<block sequence start>": "une liste décalée",
    "<block entry>": "un élément de liste « - »",
    "<stream end>": "la fin du fichier",
    "<document start>": "un séparateur « --- »",
    "<document end>": "un séparateur « ... »",
    "<flow mapping start>": "« { »",
    "<flow mapping end>": "« } »",
    "<flow sequence start>": "« [ »",
    "<flow sequence end>": "« ] »",
    "<flow entry>": "« , »",
    "<key>": "une rubrique",
    "<value>": "« : »",
    "<alias>": "un alias « * »",
    "<anchor>": "une ancre « & »",
    "<tag>": "une étiquette « ! »",
}


def _yaml_token(quoted: str) -> str:
    """`'<scalar>'` → « une valeur », `'\\t'` → « une tabulation », `'x'` → « x »."""
    token = quoted.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        token = token[1:-1]
    if token in _YAML_TOKENS:
        return _YAML_TOKENS[token]
    if token == "\\t":
        return "une tabulation"
    return f"« {token} »"


# PyYAML's problem texts, most frequent first; `{0}` is the token the text quotes.
_YAML_PROBLEMS: tuple[tuple[str, str], ...] = (
    (
        r"expected ',' or '\}', but got (.+)",
        "« , » ou « } » attendu, trouvé : {0} ; une accolade « { » n'est pas refermée",
    ),
    (
        r"expected ',' or '\]', but got (.+)",
        "« , » ou « ] » attendu, trouvé : {0} ; un crochet « [ » n'est pas refermé",
    ),
    (
        r"mapping values are not allowed here",
        "« : » inattendu ici : décalage de la ligne "
        "incorrect, ou valeur contenant « : » à mettre entre guillemets",
    ),
    (r"could not find expected ':'", "« : » attendu après le nom de la rubrique"),
    (
        r"found character '\\t' that cannot start any token",
        "tabulation interdite : décalez avec des espaces, ou mettez la valeur entre guillemets",
    ),
    (r"found a tab character.*", "tabulation interdite : décalez avec des espaces"),
    (
        r"found character (.+) that cannot start any token",
        "caractère {0} interdit en début de valeur : mettez la valeur entre guillemets",
    ),
    (
        r"expected <block end>, but found (.+)",
        "décalage incorrect : cette ligne n'est pas alignée sur les rubriques de son bloc "
        "(trouvé : {0})",
    ),
    (r"expected the node content, but found (.+)", "valeur attendue (trouvé : {0})"),
    (
        r"expected a comment or a line break, but found (.+)",
        "texte inattendu après la valeur (trouvé : {0}) : mettez la valeur entre guillemets",
    ),
    (
        r"found unexpected end of stream",
        "fin du fichier inattendue : un guillemet ouvert n'est pas refermé",
    ),
    (r"found unexpected ':'", "« : » inattendu : mettez la valeur entre guillemets"),
    (
        r"found unknown escape character (.+)",
        "caractère {0} inconnu après « \\ » entre "
        "guillemets doubles : utilisez des guillemets simples",
    ),
    (r"found undefined alias (.+)", "alias {0} non défini"),
    (r"found duplicate anchor.*|second occurrence", "ancre « & » écrite deux fois"),
    (r"found unhashable key", "une clé doit être un simple mot (pas une liste ni une rubrique)"),
    (
        r"expected alphabetic or numeric character, but found (.+)",
        "lettre ou chiffre attendu après « & » ou « * », trouvé : {0}",
    ),
    (
        r"expected '<document start>', but found (.+)",
        "texte inattendu après la fin des rubriques (trouvé : {0})",
    ),
    (r"found unexpected document separator", "séparateur « --- » inattendu"),
    (r"but found another document", "un seul document attendu : retirez la ligne « --- »"),
    (r"(?:mapping keys|sequence entries) are not allowed here", "décalage de la ligne incorrect"),
    (
        r"invalid indentation or unclosed '\[' or '\{'",
        "décalage incorrect, ou crochet « [ » ou accolade « { » non refermé",
    ),
    (r"special characters are not allowed", "caractère de contrôle interdit"),
)
# How every PyYAML problem text begins; our own loaders' problems are French, kept as they are.
_PYYAML_TEXT = re.compile(
    r"(?:found|expected|could|mapping|sequence|special|invalid|while|but|second|unacceptable"
    r"|duplicate|cannot|failed|module|blacklisted|'.*' codec)\b"
)


def yaml_problem(exc: BaseException) -> str:
    """Why a YAML text could not be parsed, in French, from PyYAML's exception.

    PyYAML words its problems in English (« expected ',' or '}', but got '<scalar>' »);
    the secretary who mistyped a register needs to read what to fix. A problem this table
    does not know becomes « syntaxe incorrecte » rather than English.
    """
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None)
    if not isinstance(problem, str) or not problem:
        return "syntaxe incorrecte"
    for pattern, french in _YAML_PROBLEMS:
        match = re.fullmatch(pattern, problem.strip())
        if match:
            return french.replace("{0}", _yaml_token(match.group(1))) if match.groups() else french
    return "syntaxe incorrecte" if _PYYAML_TEXT.match(problem.strip()) else problem


# DuckDB's texts when it cannot open a file, and what they mean for the centre.
_WAREHOUSE_REASONS: tuple[tuple[str, str], ...] = (
    (r"not a valid DuckDB database file", "ce fichier n'est pas un entrepôt DuckDB de csi"),
    (r"Is a directory", "c'est un dossier, pas un fichier d'entrepôt"),
    (r"Permission denied", "accès refusé : vérifiez les droits sur le fichier"),
    (r"No such file or directory", "fichier introuvable"),
    (
        r"read enough bytes|truncated|checksum|[Cc]orrupt",
        "fichier incomplet ou abîmé : remettez la dernière sauvegarde de l'entrepôt",
    ),
    (
        r"version number|storage version|newer version|older version",
        "entrepôt écrit par une autre version de DuckDB : ouvrez-le avec la version de csi "
        "qui l'a écrit",
    ),
    (r"No space left on device", "disque plein"),
    (r"Read-only file system", "disque en lecture seule"),
)


def warehouse_reason(message: str) -> str:
    """Why DuckDB could not open the warehouse, in French, never its English text (which
    also quotes the full path and internal offsets)."""
    for pattern, reason in _WAREHOUSE_REASONS:
        if re.search(pattern, message):
            return reason
    return "ouverture impossible"


# Why the system refused to write a file or a folder, by its error number, in French.
_WRITE_REASONS = {
    errno.ENOTDIR: "un élément du chemin est un fichier, pas un dossier",
    errno.EEXIST: "un fichier porte déjà le nom d'un dossier à créer",
    errno.EACCES: "droits d'écriture insuffisants",
    errno.EPERM: "droits d'écriture insuffisants",
    errno.ENOSPC: "disque plein",
    errno.EROFS: "disque en lecture seule",
}


def write_reason(error: OSError) -> str:
    """Why a file or a folder could not be written, in French (never the system's text)."""
    return _WRITE_REASONS.get(error.errno or 0, "écriture impossible")
