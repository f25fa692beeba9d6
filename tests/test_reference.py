"""Reference tables: rebuilt from the package's files when, and only when, they change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipeline.reference import reference_stamp
from pipeline.warehouse import initialise


def _holiday_rows(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(*) from public_holidays").fetchall()[0][0]


def test_reference_tables_are_rebuilt_only_when_their_stamp_changes(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        initialise(con)
        built = _holiday_rows(con)
        assert con.execute("select stamp from reference_stamp").fetchall() == [(reference_stamp(),)]
        # 14 July 2025 is in the package's calendar, both zones.
        assert con.execute(
            "select count(*) from public_holidays where holiday_date = ?", [dt.date(2025, 7, 14)]
        ).fetchall() == [(2,)]
        con.execute("insert into public_holidays values ('2025-07-15', 'metropole', 'marque')")
        initialise(con)  # same package: left as it is
        assert _holiday_rows(con) == built + 1
        con.execute("update reference_stamp set stamp = 'ngap=older'")
        initialise(con)  # another package version wrote them: rebuilt
        assert _holiday_rows(con) == built
        con.execute("drop table public_holidays")
        initialise(con)  # a table missing: rebuilt whatever the stamp
        assert _holiday_rows(con) == built
    finally:
        con.close()
