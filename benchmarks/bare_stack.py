"""The libraries csi is built on, loading the same extract with nothing checked.

Why: issue 11 compares `csi ingest` with DuckDB loading the files alone
(`bare_duckdb.py`: DuckDB's own reader, guessed types, no lineage). csi reads with
polars (the library reader the issue asks for) and hands DuckDB Arrow batches; this
script does only that part, on the same files: polars reads each table (CSV as text,
`scan_csv(infer_schema=False)`, then cast to the contract's types; Parquet as typed),
numbers each row, and DuckDB inserts the batches (Arrow string views, as csi hands
them: `load.batches.arrow_of`) as one Arrow stream into the warehouse's own tables
(`pipeline.warehouse.schema.table_ddl`: decimals, enums, the lineage columns), in one
transaction. No profile, no pseudonymisation, no check, no replay detection, no
history, no refresh.

csi's ingest ÷ this is what csi's own work costs (checks, pseudonyms, messages);
this ÷ the bare load is what the prescribed stack costs before csi does anything.

`python benchmarks/bare_stack.py EXTRACT_DIR DB` prints one JSON line: the load's
seconds and the billing lines inserted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from benchmarks.bare_duckdb import timed_load
from pipeline.core.canonical import DECIMAL_PLACES, LAYOUT, Column, Kind, Table
from pipeline.load.batches import arrow_of
from pipeline.warehouse.schema import table_ddl

BATCH_ROWS = 1 << 20
_POLARS_TYPES: dict[Kind, pl.DataType] = {
    Kind.TEXT: pl.String(),
    Kind.INTEGER: pl.Int32(),
    Kind.DATE: pl.Date(),
    Kind.TIME: pl.Time(),
    Kind.BOOLEAN: pl.Boolean(),
}
# Text that a plain cast does not read, parsed as `generate.py` writes it.
_PARSERS = {
    Kind.DATE: lambda expr: expr.str.to_date("%Y-%m-%d"),
    Kind.TIME: lambda expr: expr.str.to_time("%H:%M", strict=False),
    Kind.BOOLEAN: lambda expr: expr.str.to_lowercase() == "true",
}


def _typed(column: Column, written: pl.DataType) -> pl.Expr:
    """The column as the warehouse stores it, from CSV's text or Parquet's own type."""
    expr = pl.col(column.name)
    if column.kind is Kind.DECIMAL:
        return expr.cast(pl.Decimal(column.digits, DECIMAL_PLACES))
    if written == pl.String and column.kind in _PARSERS:
        return _PARSERS[column.kind](expr)
    return expr.cast(_POLARS_TYPES[column.kind])


def _frames(path: Path, table: Table) -> Iterator[pl.DataFrame]:
    if path.suffix == ".parquet":
        query = pl.scan_parquet(path)
    else:
        query = pl.scan_csv(path, infer_schema=False)
    written = query.collect_schema()
    columns = [
        _typed(c, written[c.name]) if c.name in written else pl.lit(c.default).alias(c.name)
        for c in table.stored_columns()
    ]
    typed = query.with_row_index("source_row", offset=2).select(
        *columns,
        pl.lit(1, pl.Int64).alias("load_id"),
        pl.lit(path.name).alias("source_file"),
        pl.col("source_row").cast(pl.Int64),
    )
    yield from typed.collect_batches(chunk_size=BATCH_ROWS)


def _stream(paths: list[Path], table: Table) -> pa.RecordBatchReader:
    frames = (frame for path in paths for frame in _frames(path, table))
    first = arrow_of(next(frames))

    def batches() -> Iterator[pa.RecordBatch]:
        yield from first.to_batches()
        for frame in frames:
            yield from arrow_of(frame).cast(first.schema).to_batches()

    return pa.RecordBatchReader.from_batches(first.schema, batches())


def load(con: duckdb.DuckDBPyConnection, directory: Path) -> int:
    con.execute("begin")
    for table in LAYOUT.values():
        con.execute(table_ddl(table))
        paths = sorted(directory.glob(f"{table.name}*.parquet")) or sorted(
            directory.glob(f"{table.name}*.csv")
        )
        con.register("batches", _stream(paths, table))
        con.execute(f"insert into {table.stored_as} by name select * from batches")
        con.unregister("batches")
    con.execute("commit")
    con.execute("checkpoint")
    return con.execute("select count(*) from billing_lines").fetchall()[0][0]


def main(argv: list[str]) -> None:
    load_s, lines = timed_load(load, Path(argv[0]), Path(argv[1]))
    print(json.dumps({"load_s": load_s, "billing_lines": lines}))


if __name__ == "__main__":
    main(sys.argv[1:])
