"""Where a report reads its rows: one centre × year at a time, or a group's rows at once.

Why two readers: a report reads about forty small queries per centre (one per section and
view). For one centre, each query is filtered on that centre × year (`CentreReader`). For
a federation of hundreds of centres the cost is in the queries' overhead, not in the rows:
`GroupReader` runs each distinct query once for every year of a group's centres (the
models are stored tables: `pipeline.warehouse.materialise`), indexes its rows by
(centre, year) and answers the centres' reports from that index. Both read the very same
rows (`csi verify` and `tests/orchestrate/test_scale.py` compare them).

The reader is an argument: `build_report(reader, finess, year)` hands it down to every
section, so the call chain says what is read. `pipeline.orchestrate.fanout.report_group`
builds one `GroupReader` per group; `csi verify` and single reads use a `CentreReader`.

A query given to `rows` returns `centre_finess` and `year` columns and has no parameter;
rows come back as dicts without those two columns.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb

from pipeline.core.sql import literals
from pipeline.warehouse.database import scalar

KEY_COLUMNS = ("centre_finess", "year")
Indexed = tuple[list[str], dict[tuple[str, int], list[tuple]]]


class Reader(Protocol):
    """What a report reads: rows of one centre × year, and values of the whole warehouse."""

    def rows(
        self, sql: str, finess: str, year: int, order: str | None = None
    ) -> list[dict[str, Any]]:
        """The rows of `sql` for one centre × year, in `order` when given."""
        ...

    def value(self, sql: str) -> Any:
        """The one value of `sql` over the whole warehouse (e.g. the last load's number)."""
        ...


class OutsideGroup(LookupError):
    """A group's reader was asked for a centre of another group: a programming error.

    Why refuse rather than read the centre alone: the answer would be right but slow, and
    hide a fan-out that hands reports to the wrong group.
    """


def _as_dicts(names: list[str], rows: list[tuple]) -> list[dict[str, Any]]:
    kept = [i for i, name in enumerate(names) if name not in KEY_COLUMNS]
    return [{names[i]: row[i] for i in kept} for row in rows]


def _ordered(sql: str, order: str | None) -> str:
    return sql + (f" order by {order}" if order else "")


@dataclass(frozen=True)
class CentreReader:
    """Reads each query filtered on the one centre × year asked for."""

    con: duckdb.DuckDBPyConnection

    def rows(
        self, sql: str, finess: str, year: int, order: str | None = None
    ) -> list[dict[str, Any]]:
        """The rows of `sql` for one centre × year, in `order` when given."""
        cursor = self.con.execute(
            _ordered(f"select * from ({sql}) where centre_finess = ? and year = ?", order),
            [finess, year],
        )
        return _as_dicts([d[0] for d in cursor.description], cursor.fetchall())

    def value(self, sql: str) -> Any:
        """The one value of `sql` over the whole warehouse."""
        return scalar(self.con, sql)


@dataclass
class GroupReader:
    """Reads each query once for all the group's centres and years, then answers from it.

    One group, one thread: the index of rows read so far is not shared between threads
    (`pipeline.orchestrate.fanout.run_groups` gives each group its own cursor and reader).
    """

    con: duckdb.DuckDBPyConnection
    centres: tuple[str, ...]
    _read: dict[str, Indexed] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.centres = tuple(self.centres)
        if not self.centres:
            raise ValueError("a group holds one centre at least")

    def rows(
        self, sql: str, finess: str, year: int, order: str | None = None
    ) -> list[dict[str, Any]]:
        """The rows of `sql` for one centre × year of the group, in `order` when given."""
        if finess not in self.centres:
            raise OutsideGroup(
                f"centre {finess} is not in this group ({', '.join(self.centres)}): "
                "read it with its own group's reader, or a CentreReader"
            )
        names, index = self._indexed(sql, order)
        return _as_dicts(names, index.get((finess, year), []))

    def value(self, sql: str) -> Any:
        """The one value of `sql` over the whole warehouse."""
        return scalar(self.con, sql)

    def _indexed(self, sql: str, order: str | None) -> Indexed:
        """The rows of `sql` for every year of the group's centres, by (centre, year)."""
        key = f"{sql}\0{order}"
        if key not in self._read:
            centres = literals(self.centres)
            cursor = self.con.execute(
                _ordered(f"select * from ({sql}) where centre_finess in ({centres})", order)
            )
            names = [d[0] for d in cursor.description]
            centre, year = (names.index(k) for k in KEY_COLUMNS)
            index: dict[tuple[str, int], list[tuple]] = defaultdict(list)
            for row in cursor.fetchall():
                index[(row[centre], row[year])].append(row)
            self._read[key] = (names, index)
        return self._read[key]
