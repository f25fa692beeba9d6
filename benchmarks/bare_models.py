"""The product's own SQL models, run by plain DuckDB over a warehouse csi has loaded.

Why: `bare_duckdb.py` computes two sections of annexe 3; csi's refresh computes every
model of `sql/` (the whole annexe, the quality findings, the billing audit, the stored
line attribution). Running those very files here, each once as one plain
`create table … as` (or `create view`, for the models csi keeps as views) in dependency
order and one transaction, over the same canonical tables, measures what the models
themselves cost on this engine: the refresh ÷ this is what csi's materialisation adds
(scopes, groups, deletes, the temporary views between models) or saves.

`python benchmarks/bare_models.py WAREHOUSE` prints one JSON line: the models' seconds
and the commit's. The warehouse is copied first (not timed) and left unchanged.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipeline.warehouse.materialise import VIEW_MODELS
from pipeline.warehouse.models import graph, model_order


def run_models(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Every model into schema `bare` (first on the search path): seconds per model."""
    con.execute("create schema bare")
    con.execute("set search_path = 'bare,main'")
    seconds = {}
    for name in model_order():
        kind = "view" if name in VIEW_MODELS else "table"
        started = time.perf_counter()
        con.execute(f"create {kind} bare.{name} as\n{graph()[name].sql}")
        seconds[name] = time.perf_counter() - started
    return seconds


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="csi-bare-models-") as folder:
        copy = Path(folder) / "warehouse.duckdb"
        shutil.copy(argv[0], copy)
        con = duckdb.connect(str(copy))
        con.execute("begin")
        seconds = run_models(con)
        started = time.perf_counter()
        con.execute("commit")
        commit = time.perf_counter() - started
        con.close()
    slowest = dict(sorted(seconds.items(), key=lambda kv: -kv[1])[:5])
    print(
        json.dumps(
            {
                "models_s": sum(seconds.values()),
                "commit_s": commit,
                "slowest": {k: round(v, 2) for k, v in slowest.items()},
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
