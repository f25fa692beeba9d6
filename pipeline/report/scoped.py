"""Rows of one centre × year, read for a whole group of centres at once.

Why: a report reads about forty small queries per centre (one per section and view).
For a federation of hundreds of centres, the cost is in the queries' overhead, not in
the rows. Inside `group_rows(con, centres)` (set by `pipeline.orchestrate.fanout.report_group`),
`scoped_rows` runs each distinct query once for every year of the group's centres
(the models are stored tables: `pipeline.warehouse.materialise`), indexes its rows by
(centre, year) and answers the centres' reports from that index. Outside it, the
same query is filtered on one centre × year, so both paths read the very same rows
(`csi verify` compares them).

A query given to `scoped_rows` returns `centre_finess` and `year` columns and has no
parameter; rows come back as dicts without those two columns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import duckdb

KEY_COLUMNS = ("centre_finess", "year")
Indexed = tuple[list[str], dict[tuple[str, int], list[tuple]]]


@dataclass
class GroupRows:
    """The rows of each query run so far for the group's centres, by (centre, year)."""

    con: duckdb.DuckDBPyConnection
    centres: tuple[str, ...]
    queries: dict[str, Indexed] = field(default_factory=dict)

    def read(self, sql: str, order: str | None) -> Indexed:
        key = f"{sql}\0{order}"
        if key not in self.queries:
            listed = ", ".join("'" + c.replace("'", "''") + "'" for c in self.centres)
            cursor = self.con.execute(
                f"select * from ({sql}) where centre_finess in ({listed})"
                + (f" order by {order}" if order else "")
            )
            names = [d[0] for d in cursor.description]
            centre, year = (names.index(k) for k in KEY_COLUMNS)
            index: dict[tuple[str, int], list[tuple]] = defaultdict(list)
            for row in cursor.fetchall():
                index[(row[centre], row[year])].append(row)
            self.queries[key] = (names, index)
        return self.queries[key]


_GROUP: ContextVar[GroupRows | None] = ContextVar("csi_group_rows", default=None)


@contextmanager
def group_rows(con: duckdb.DuckDBPyConnection, centres: list[str]) -> Iterator[None]:
    """Within this block, `scoped_rows` on `con` reads each query once for these centres."""
    token = _GROUP.set(GroupRows(con, tuple(centres)))
    try:
        yield
    finally:
        _GROUP.reset(token)


def _as_dicts(names: list[str], rows: list[tuple]) -> list[dict[str, Any]]:
    kept = [i for i, name in enumerate(names) if name not in KEY_COLUMNS]
    return [{names[i]: row[i] for i in kept} for row in rows]


def scoped_rows(
    con: duckdb.DuckDBPyConnection, sql: str, finess: str, year: int, order: str | None = None
) -> list[dict[str, Any]]:
    """The rows of `sql` for one centre × year, in `order` when given."""
    group = _GROUP.get()
    if group is not None and group.con is con and finess in group.centres:
        names, index = group.read(sql, order)
        return _as_dicts(names, index.get((finess, year), []))
    cursor = con.execute(
        f"select * from ({sql}) where centre_finess = ? and year = ?"
        + (f" order by {order}" if order else ""),
        [finess, year],
    )
    return _as_dicts([d[0] for d in cursor.description], cursor.fetchall())
