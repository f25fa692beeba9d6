"""One settings object, read at the edge: defaults, parsing, French refusals, no hidden reader."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.core.settings import (
    DEFAULT_DB,
    PREFECT_DEFAULTS,
    Hooks,
    Settings,
    SettingsError,
    prepare_prefect,
)
from tests.support import billing_rows, make_extract

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = (
    "CSI_DB",
    "CSI_LOCK_TIMEOUT",
    "CSI_MEMORY_LIMIT",
    "CSI_SECRETS_DIR",
    "CSI_REPORT_WORKERS",
    "SOURCE_DATE_EPOCH",
    "CSI_PHASE_LOG",
)


def test_an_empty_environment_gives_the_documented_defaults():
    settings = Settings.from_environ({})
    assert settings.db is None
    assert settings.warehouse() == Path("data") / "warehouse.duckdb" == DEFAULT_DB
    assert settings.lock_timeout == 120.0
    assert settings.memory_limit == "512MB"
    assert settings.secrets_dir == Path.home() / ".config" / "csi" / "secrets"
    assert settings.report_workers is None
    assert settings.workers() == (os.cpu_count() or 1)
    assert settings.source_date_epoch is None
    assert settings.phase_log is None
    assert Settings.from_environ({name: "  " for name in VARIABLES}) == settings  # blank: unset


def test_every_variable_is_read_into_its_field():
    settings = Settings.from_environ(
        {
            "CSI_DB": "/srv/csi/entrepot.duckdb",
            "CSI_LOCK_TIMEOUT": "2,5",  # a French decimal comma
            "CSI_MEMORY_LIMIT": "512 MB",
            "CSI_SECRETS_DIR": "/srv/csi/cles",
            "CSI_REPORT_WORKERS": "3",
            "SOURCE_DATE_EPOCH": "1767225600",
            "CSI_PHASE_LOG": "/tmp/phases.jsonl",
        }
    )
    assert settings.phase_log == Path("/tmp/phases.jsonl")
    assert settings.db == Path("/srv/csi/entrepot.duckdb")
    assert settings.lock_timeout == 2.5
    assert settings.memory_limit == "512MB"
    assert settings.secrets_dir == Path("/srv/csi/cles")
    assert (settings.report_workers, settings.workers()) == (3, 3)
    assert settings.source_date_epoch == 1_767_225_600
    assert settings.warehouse(None) == Path("/srv/csi/entrepot.duckdb")
    assert settings.warehouse("autre.duckdb") == Path("autre.duckdb")  # --db wins


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CSI_LOCK_TIMEOUT", "abc", "un nombre de secondes est attendu"),
        ("CSI_LOCK_TIMEOUT", "-1", "un nombre de secondes est attendu"),
        ("CSI_LOCK_TIMEOUT", "inf", "un nombre de secondes est attendu"),  # would never end
        ("CSI_MEMORY_LIMIT", "beaucoup", "une taille est attendue"),
        ("CSI_MEMORY_LIMIT", "1GB'; drop table loads; --", "une taille est attendue"),
        ("CSI_REPORT_WORKERS", "0", "un nombre entier d'au moins 1"),
        ("CSI_REPORT_WORKERS", "quatre", "un nombre entier d'au moins 1"),
        ("SOURCE_DATE_EPOCH", "2026-01-01", "un nombre de secondes depuis le 1er janvier 1970"),
        ("SOURCE_DATE_EPOCH", "99999999999999", "au plus 253402300799 (31 décembre 9999)"),
        # DuckDB could not even create the tables (it stopped out of memory at 1KB)
        ("CSI_MEMORY_LIMIT", "1KB", "au moins 100MB sont nécessaires à DuckDB"),
        ("CSI_MEMORY_LIMIT", "99MB", "au moins 100MB sont nécessaires à DuckDB"),
        ("CSI_MEMORY_LIMIT", "0.09GiB", "au moins 100MB sont nécessaires à DuckDB"),
        ("CSI_PHASE_LOG", "/dev/null/phases.jsonl", "le dossier /dev/null n'existe pas"),
        ("CSI_PHASE_LOG", "/nulle-part/phases.jsonl", "le dossier /nulle-part n'existe pas"),
    ],
)
def test_an_unusable_value_is_refused_in_french_naming_variable_and_value(name, value, expected):
    with pytest.raises(SettingsError) as caught:
        Settings.from_environ({name: value})
    message = str(caught.value)
    assert f"{name} = « {value} »" in message
    assert expected in message


def test_every_unusable_variable_is_named_in_one_message():
    with pytest.raises(SettingsError) as caught:
        Settings.from_environ({"CSI_LOCK_TIMEOUT": "abc", "CSI_REPORT_WORKERS": "0"})
    message = str(caught.value)
    assert message.startswith(
        "Variables d'environnement inutilisables : CSI_LOCK_TIMEOUT = « abc »"
    )
    assert "; CSI_REPORT_WORKERS = « 0 » :" in message
    assert message.endswith("Corrigez-les ou supprimez-les, puis relancez.")


@pytest.mark.parametrize("value", ["1GB", "512MB", "1.5GiB", "2 GB", "50%", "4gb", "100MB"])
def test_the_memory_sizes_accepted_are_sizes_duckdb_accepts(value):
    limit = Settings.from_environ({"CSI_MEMORY_LIMIT": value}).memory_limit
    con = duckdb.connect()
    try:
        con.execute(f"set memory_limit = '{limit}'")
    finally:
        con.close()


def test_a_command_refuses_an_unusable_variable_before_touching_the_warehouse(tmp_path):
    extract = make_extract(tmp_path / "m1", billing=billing_rows({"act_date": "2025-01-05"}))
    db = tmp_path / "wh.duckdb"
    env = {"CSI_LOCK_TIMEOUT": "abc", "CSI_SECRETS_DIR": str(tmp_path / "secrets")}
    result = CliRunner().invoke(app, ["ingest", str(extract), "--db", str(db)], env=env)
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "Erreur : Variable d'environnement inutilisable : CSI_LOCK_TIMEOUT = « abc »" in text
    assert "Traceback" not in result.output
    assert not db.exists() and not (tmp_path / "secrets").exists()


def test_the_settings_module_is_the_only_reader_of_the_environment():
    """`os.environ`/`os.getenv` in `pipeline/` and `schemas/`: the settings module alone."""
    readers = []
    for path in sorted([*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "schemas").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers
    assert {r.split(":")[0] for r in readers} == {"pipeline/core/settings.py"}


def test_the_product_s_fault_point_does_nothing():
    assert Settings().hooks.fault_point("billing") is None
    assert Settings.from_environ({"CSI_FAULT_AFTER": "billing"}).hooks == Hooks()


def test_importing_the_flows_sets_no_variable():
    """Prefect's defaults are given where Prefect starts (`prepare_prefect`), not at import."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}
    env = {k: v for k, v in env.items() if k not in PREFECT_DEFAULTS}
    code = (
        "import os; before = set(os.environ); import pipeline.orchestrate.flows; "
        "print(sorted(k for k in os.environ if k.startswith(('PREFECT_', 'CSI_')) "
        "and k not in before))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_prepare_prefect_gives_defaults_and_keeps_the_user_s_choice(monkeypatch):
    for name in PREFECT_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "true")  # the user's choice
    prepare_prefect(logging_level="INFO")
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "INFO"
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "true"
    assert os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "120"
