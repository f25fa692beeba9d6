"""Compare two reports figure by figure, for `csi verify`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.core.errors import UsageError
from pipeline.core.settings import DEFAULT_LOCK_TIMEOUT

# Fields that legitimately differ between two generations of the same report.
VOLATILE = {("meta", "generated_at"), ("meta", "package_version")}


def differences(expected: Any, actual: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Every path whose value differs, written `section.key[index]: expected → actual`."""
    if path in VOLATILE:
        return []
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual or key not in expected:
                found.append(
                    f"{_dotted((*path, str(key)))}: {expected.get(key)!r} → {actual.get(key)!r}"
                )
            else:
                found += differences(expected[key], actual[key], (*path, str(key)))
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        found = []
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            found += differences(a, b, (*path, f"[{index}]"))
        return found
    return [] if expected == actual else [f"{_dotted(path)}: {expected!r} → {actual!r}"]


class MissingInputs(UsageError):
    """The report cites input files this warehouse never loaded: comparing is pointless."""

    def __init__(self, warehouse: Path, missing: list[dict[str, Any]], cited: int) -> None:
        self.warehouse, self.missing, self.cited = warehouse, missing, cited
        super().__init__(
            f"{len(missing)} des {cited} fichier(s) source cité(s) par le rapport "
            f"(meta.inputs) n'ont jamais été chargés dans l'entrepôt {warehouse} : ce rapport "
            "n'a pas été produit depuis cet entrepôt (ou pas depuis ces fichiers)."
        )


def missing_inputs(con: Any, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The report's input files, by name and SHA-256, absent from `load_files`."""
    import duckdb

    try:
        loaded = set(con.execute("select file_name, sha256 from load_files").fetchall())
    except duckdb.CatalogException:  # not a csi warehouse, or one never loaded
        loaded = set()
    return [f for f in inputs if (f.get("file"), f.get("sha256")) not in loaded]


def check_inputs(
    warehouse: Path, meta: dict[str, Any], lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> None:
    """Raise `MissingInputs` when the report's inputs are not all in this warehouse.

    Why: verifying a report against the wrong warehouse would list hundreds of
    differences instead of the one thing that matters, the files that are not there.
    """
    from pipeline.warehouse.database import connect

    inputs = meta.get("inputs") or []
    if not isinstance(inputs, list) or not all(isinstance(f, dict) for f in inputs):
        raise UsageError("Rapport JSON illisible : meta.inputs n'est pas une liste de fichiers.")
    con = connect(warehouse, read_only=True, lock_timeout=lock_timeout)
    try:
        missing = missing_inputs(con, inputs)
    finally:
        con.close()
    if missing:
        raise MissingInputs(warehouse, missing, len(inputs))


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path).replace(".[", "[")
