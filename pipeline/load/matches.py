"""Whether a checked batch shares a key with the rows stored before the load.

Only such a batch needs the replay path (replace a changed row, leave an identical one);
every other batch is appended (`pipeline.load.batches`). Asked from the batch-reading
thread, on a cursor of its own: it sees the warehouse as committed before this load,
which is exactly "the rows stored before the load".
"""

from __future__ import annotations

from types import TracebackType

import duckdb
import polars as pl

from pipeline.core.canonical import KEYS, WAREHOUSE_TABLES
from pipeline.load.batches import arrow_of
from pipeline.warehouse.database import column_types, scalar


def key_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """The warehouse type of each key column of `table` (a canonical table name)."""
    types = column_types(con, WAREHOUSE_TABLES[table])
    return {k: types[k] for k in KEYS[table]}


class StoredKeys:
    """The 64-bit hash of every key stored before this load, probed batch by batch.

    Why hashes: joining each batch on the stored keys themselves re-read the key columns
    of every stored row each time (about 1.8 s a batch once 10M lines are stored, most
    of a monthly load); one column of hashes, read once, is probed in a fraction of
    that. Equal keys have equal hashes: a batch sharing no hash shares no key; a shared
    hash is checked on the keys.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        self._cursor = con.cursor()
        self._table = table
        types = key_types(self._cursor, table)
        self._typed = ", ".join(f"cast({k} as {t}) as {k}" for k, t in types.items())
        self._cursor.execute(
            f"create temp table stored_hashes as select hash({', '.join(KEYS[table])}) "
            f"as key_hash from {WAREHOUSE_TABLES[table]}"
        )

    def __call__(self, frame: pl.DataFrame) -> bool:
        keys = KEYS[self._table]
        self._cursor.register("batch_keys", arrow_of(frame.select(keys)))
        try:
            typed = f"(select {self._typed} from batch_keys)"
            shared = scalar(
                self._cursor,
                f"select count(*) from stored_hashes t semi join "
                f"(select hash({', '.join(keys)}) as key_hash from {typed}) s using (key_hash)",
            )
            if not shared:
                return False
            on = " and ".join(f"t.{k} = s.{k}" for k in keys)
            return bool(
                scalar(
                    self._cursor,
                    f"select count(*) from {WAREHOUSE_TABLES[self._table]} t "
                    f"semi join {typed} s on {on}",
                )
            )
        finally:
            self._cursor.unregister("batch_keys")

    def __enter__(self) -> StoredKeys:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._cursor.close()  # its temporary table goes with it
