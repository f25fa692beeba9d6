"""The command-line framework's own words, in French.

Why by hand: click and typer write their help and usage errors through gettext but ship
no French catalogue, so the centre's staff would meet « Usage: », « Show this message and
exit. » or « Missing option » between our French lines. Each framework module binds
gettext's `_` (and `ngettext`) when it is imported, so `speak_french` gives those modules
a lookup in `FRENCH` instead; typer's help panel titles are module constants, set here
too. A word missing from the table stays in English: `tests/cli/test_cli_french.py` reads
every command's help and a usage error and fails on any English word left.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

# typer's help labels, which it reads through gettext.
FRENCH: dict[str, str] = {
    "Arguments": "Arguments",
    "Options": "Options",
    "Commands": "Commandes",
    "Error": "Erreur",
    "[default: {}]": "[défaut : {}]",
    "default: {default}": "défaut : {default}",
    "[env var: {}]": "[variable d'environnement : {}]",
    "env var: {var}": "variable d'environnement : {var}",
    "[required]": "[obligatoire]",
    "required": "obligatoire",
    "(deprecated) ": "(obsolète) ",
    "(dynamic)": "(calculé)",
    "Aborted.": "Interrompu.",
    "Try [blue]'{command_path} {help_option}'[/] for help.": (
        "Pour l'aide : [blue]{command_path} {help_option}[/]"
    ),
}

# Usage errors: typer's bundled click writes them in English, without gettext.
USAGE_ERRORS: tuple[tuple[str, str], ...] = (
    (r"^Missing option (.+?)\.$", r"Option obligatoire manquante : \1."),
    (r"^Missing argument (.+?)\.$", r"Argument obligatoire manquant : \1."),
    (r"^Missing parameter: (.+)$", r"Paramètre obligatoire manquant : \1."),
    (r"^Missing command\.$", "Commande manquante."),
    (r"^No such option: (\S+)", r"Option inconnue : \1"),
    (r"^No such command (.+?)\.", r"Commande inconnue : \1."),
    (r"Did you mean (.+?)\?", r"Vouliez-vous dire \1 ?"),
    (r"\(Possible options: (.+)\)", r"(options possibles : \1)"),
    (r"^Got unexpected extra arguments? \((.*)\)$", r"Argument en trop : \1"),
    (r"^Option (.+?) requires an argument\.$", r"L'option \1 attend une valeur."),
    (r"^Option (.+?) requires (\d+) arguments\.$", r"L'option \1 attend \2 valeurs."),
    (r"^Option (.+?) does not take a value\.$", r"L'option \1 ne prend pas de valeur."),
    (r"^Invalid value for (.+?): ", r"Valeur invalide pour \1 : "),
    (r"Input should be a valid integer.*$", "nombre entier attendu."),
    (r"Input should be a valid number.*$", "nombre attendu."),
    (r"Input should be greater than or equal to (\S+)$", r"au moins \1 attendu."),
    (r"(.+?) '(.+?)' does not exist\.$", r"« \2 » introuvable."),
    (r"(.+?) '(.+?)' is a directory\.$", r"« \2 » est un dossier."),
    (r"(.+?) '(.+?)' is a file\.$", r"« \2 » est un fichier."),
)
HELP_OPTION = "Afficher cette aide et quitter."
USAGE_PREFIX = "Utilisation : "

# What typer's help shows in the type column, for options without a metavar of their own.
TYPE_NAMES = {
    "<int>": "<entier>",
    "<int range>": "<entier>",
    "<float>": "<nombre>",
    "<float range>": "<nombre>",
    "<str>": "<texte>",
    "<path>": "<chemin>",
}

_GETTEXT_MODULES = ("typer.core", "typer.main", "typer.rich_utils")
_PANEL_CONSTANTS = {
    "DEPRECATED_STRING": "(deprecated) ",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
}


def gettext_fr(message: str) -> str:
    return FRENCH.get(message, message)


def usage_error_fr(message: str) -> str:
    """The French words of one of typer's usage errors (unchanged when none fits)."""
    for pattern, french in USAGE_ERRORS:
        message = re.sub(pattern, french, message)
    return message


def range_fr(low: float | None, high: float | None) -> str | None:
    """« ≥ 1 » rather than typer's « x>=1 »."""
    if low is None and high is None:
        return None
    if low is None:
        return f"≤ {high}"
    if high is None:
        return f"≥ {low}"
    return f"{low} à {high}"


def _french_type(display: Callable[..., str | None]) -> Callable[..., str | None]:
    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) and self.metavar is None:
            return None  # a switch takes no value: « <bool> » would only puzzle
        shown = display(self, ctx)
        return TYPE_NAMES.get(shown, shown) if shown is not None else None

    return display_type_rich


def _patched_once(owner: Any, name: str, wrap: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)
    if not getattr(original, "_csi_french", False):
        replacement = wrap(original)
        replacement._csi_french = True
        setattr(owner, name, replacement)


def _french_help_option(get_help_option: Callable[..., Any]) -> Callable[..., Any]:
    def french(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option

    return french


def _french_usage(write_usage: Callable[..., None]) -> Callable[..., None]:
    def french(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, USAGE_PREFIX if prefix is None else prefix)

    return french


def _french_message(format_message: Callable[[Any], str]) -> Callable[[Any], str]:
    def french(self: Any) -> str:
        return usage_error_fr(format_message(self))

    return french


def _usage_name(self: Any) -> str:
    """`DOSSIER` for a required argument, `[REQUÊTE]` for an optional one: typer 0.29 wraps a
    required one in braces (`{extract_dir}`), which reads as a typo in a French usage line."""
    name = self.display_name_raw
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def speak_french() -> None:
    """Give typer's help labels and usage errors their French words (idempotent)."""
    import typer._click.core as click_core
    import typer._click.exceptions as click_errors
    import typer._click.formatting as click_formatting
    import typer.core
    import typer.rich_utils

    for name in _GETTEXT_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext_fr  # type: ignore[attr-defined]
    for constant, english in _PANEL_CONSTANTS.items():
        setattr(typer.rich_utils, constant, gettext_fr(english))
    # typer calls it positionally (`describe_number_range(self.min, self.max)`): the parameter
    # names, which differ, never matter.
    typer.core.describe_number_range = range_fr  # type: ignore[assignment]
    for cls in (typer.core.TyperOption, typer.core.TyperArgument):
        _patched_once(cls, "display_type_rich", _french_type)
    typer.core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
    _patched_once(click_core.Command, "get_help_option", _french_help_option)
    _patched_once(click_formatting.HelpFormatter, "write_usage", _french_usage)
    for error in vars(click_errors).values():
        if isinstance(error, type) and "format_message" in vars(error):
            _patched_once(error, "format_message", _french_message)
