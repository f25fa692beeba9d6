"""Where the SQL models, templates and reference data live.

In a built wheel they ship inside the package (`pipeline/_resources/…`); in a source
checkout or an editable install they are read from the repository's top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the `pipeline` package


def resource_dir(name: str) -> Path:
    """Return the folder `name` (`sql`, `report_templates`) for this installation."""
    for candidate in (_PACKAGE_DIR / "_resources" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"Dossier de ressources introuvable : {name}")


def reference_file(name: str) -> Path:
    """Return a versioned reference table shipped with the package."""
    return _PACKAGE_DIR / "core" / "reference_data" / name
