"""The SQL models of `sql/`: one file each, in three layers (staging → intermediate → marts)."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.resources import resource_dir

LAYERS = ("staging", "intermediate", "marts")


def model_files() -> list[Path]:
    """The SQL models in dependency-friendly order: staging, intermediate, marts."""
    root = resource_dir("sql")
    return [path for layer in LAYERS for path in sorted((root / layer).glob("*.sql"))]
