"""csi: exports of a centre de santé infirmier → DuckDB warehouse → annexe 3 activity report."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`__version__`, looked up on first use: `importlib.metadata` costs `csi --help` ~0.1 s."""
    if name != "__version__":
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("csi")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0+source"
    globals()["__version__"] = found
    return found
