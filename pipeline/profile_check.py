"""`csi profile check`: tell, before any load, what a profile maps and what it misses.

For each table it lists the files the profile's globs find, which canonical column
reads which header, the headers nothing reads, and the values the profile does not
translate, so a centre can write or fix its profile without trial loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.canonical import DEFAULTS, TABLES
from pipeline.errors import InputError
from pipeline.profiles import Profile
from pipeline.readers import SourceFile, _read_raw, find_files


@dataclass
class FileCheck:
    table: str
    file: str
    rows: int = 0
    mapped: dict[str, str] = field(default_factory=dict)  # canonical → header
    missing: list[str] = field(default_factory=list)  # "canonical (header)" not in the file
    defaulted: list[str] = field(default_factory=list)
    unused_headers: list[str] = field(default_factory=list)
    unmapped_values: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unmapped_values or self.error)


def _check_values(raw: pl.DataFrame, source: SourceFile, profile: Profile, check: FileCheck):
    mapping = profile.tables[source.table]
    for column, table in mapping.values.items():
        header = mapping.source_header(column)
        if header not in raw.columns:
            continue
        values = raw.get_column(header).cast(pl.String).str.strip_chars().drop_nulls().unique()
        known = set(table) | set(table.values())
        unknown = sorted(v for v in values.to_list() if v and v not in known)
        if unknown:
            check.unmapped_values[header] = unknown[:20]


def check_file(source: SourceFile, profile: Profile) -> FileCheck:
    check = FileCheck(source.table, source.path.name)
    mapping = profile.tables[source.table]
    try:
        raw = _read_raw(source.path, profile.format, mapping)
    except InputError as exc:
        check.error = "; ".join(f.rule for f in exc.findings) or exc.summary
        return check
    raw = raw.rename({c: c.strip() for c in raw.columns})
    check.rows = raw.height
    defaults = {**DEFAULTS[source.table], **mapping.defaults}
    for column in TABLES[source.table]:
        header = mapping.source_header(column.name)
        if header in raw.columns:
            check.mapped[column.name] = header
        elif column.name in defaults:
            check.defaulted.append(f"{column.name} = {defaults[column.name]}")
        elif column.required or column.name in mapping.columns:
            check.missing.append(f"{column.name} (« {header} »)")
    check.unused_headers = [h for h in raw.columns if h not in check.mapped.values()]
    _check_values(raw, source, profile, check)
    return check


def check_extract(directory: Path, profile: Profile) -> list[FileCheck]:
    return [check_file(source, profile) for source in find_files(directory, profile)]
