"""csi: exports of a centre de santé infirmier → DuckDB warehouse → annexe 3 activity report.

One sub-package per stage, in the order data flows; each imports only the ones above it
here (`tests/architecture/test_layers.py`):

- `core`: errors, settings (the environment, read once at the edge), the canonical columns,
  French labels, reference tables (NGAP, holidays);
- `extract`: reading an extract's files, profiles, coercion, pandera checks, pseudonyms;
- `warehouse`: the DuckDB file, its tables, the SQL models of `sql/` and their stored results;
- `load`: one checked extract into the warehouse, in one transaction;
- `report`: the annexe 3 report of a centre × year, as a dict (the JSON contract);
- `render`: that dict as JSON, HTML, PDF and XLSX;
- `orchestrate`: steps, fan-out over centres, Prefect flows, the monthly schedule;
- `cli`: the `csi` command, in French.
"""

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
