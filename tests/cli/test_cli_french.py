"""Every help screen and usage error of `csi` speaks French: no word of the framework's English."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from pipeline.cli.app import app

ENGLISH = (
    "Usage",
    "Show this message",
    "Commands",
    "[required]",
    "[default:",
    "env var",
    "<bool>",
    "<int",
    "<str>",
    "<path>",
    "x>=",
    "Missing",
    "Invalid value",
    "No such",
    "Did you mean",
    "Try ",
    "Error",
    # the arguments' Python names, and typer's braces around a required one
    "{",
    "extract_dir",
    "EXTRACT_DIR",
    "report_json",
    "REPORT_JSON",
    "DESTINATION",
    "query",
    "QUERY",
    "FILE ",
    "table loads",
)


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    root = get_command(app)
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        paths.append([name])
        for sub in getattr(command, "commands", {}):
            paths.append([name, sub])
    return paths


def _english_in(text: str) -> list[str]:
    return [word for word in ENGLISH if word in text]


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "csi")
def test_every_help_screen_is_french(path):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Utilisation : csi" in result.output
    assert _english_in(result.output) == []


@pytest.mark.parametrize(
    ("args", "french"),
    [
        (["report"], "Option obligatoire manquante : '--year'."),
        (
            ["report", "--year", "deux-mille"],
            "Valeur invalide pour '--year' : nombre entier attendu.",
        ),
        (["rapport"], "Commande inconnue : 'rapport'. Vouliez-vous dire 'report' ?"),
        (["report", "--year", "2025", "--centr", "750000001"], "Option inconnue : --centr"),
        (["report", "--year", "2025", "--workers", "0"], "Valeur invalide pour '--workers'"),
        (["ingest"], "Argument obligatoire manquant : 'DOSSIER'."),
        (["verify"], "Argument obligatoire manquant : 'RAPPORT_JSON'."),
    ],
)
def test_usage_errors_are_french(args, french):
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert french in result.output
    assert _english_in(result.output) == []


# Each command's usage line: arguments by their French names, bare when required.
USAGE_LINES = {
    ("ingest",): "Utilisation : csi ingest [OPTIONS] DOSSIER",
    ("run",): "Utilisation : csi run [OPTIONS] DOSSIER",
    ("serve",): "Utilisation : csi serve [OPTIONS] DOSSIER",
    ("verify",): "Utilisation : csi verify [OPTIONS] RAPPORT_JSON",
    ("snapshot",): "Utilisation : csi snapshot [OPTIONS] COPIE",
    ("sql",): "Utilisation : csi sql [OPTIONS] [REQUÊTE]",
    ("profile", "check"): "Utilisation : csi profile check [OPTIONS] DOSSIER",
    ("register", "check"): "Utilisation : csi register check [OPTIONS] FICHIER",
    ("register", "template"): "Utilisation : csi register template [OPTIONS]",
}


@pytest.mark.parametrize("path", list(USAGE_LINES), ids=" ".join)
def test_usage_lines_name_the_arguments_in_french(path):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert USAGE_LINES[path] in result.output
