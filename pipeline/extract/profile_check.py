"""`csi profile check`: tell, before any load, what a profile maps and what it misses.

For each table it lists the files the profile's globs find, which canonical column
reads which header, the headers nothing reads, and the values the profile does not
translate, so a centre can write or fix its profile without trial loads. It first lists
every file of the extract with the table whose pattern it matched, or « ignoré »: a file
the profile's globs miss is otherwise silently left out of the load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.core.canonical import DEFAULTS, TABLES
from pipeline.core.errors import InputError
from pipeline.extract.profiles import Profile
from pipeline.extract.readers import (
    SourceFile,
    _read_raw,
    delimiter_problem,
    find_files,
    known_words,
    unusable_entries,
    unusable_finding,
    wrong_delimiter,
)

REGISTER_PATTERNS = ("centre*.yaml", "centre*.yml")  # read by the loader, not the profile
REGISTER = "registre du centre"
IGNORED = "ignoré"


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


def _check_values(
    raw: pl.DataFrame, source: SourceFile, profile: Profile, check: FileCheck
) -> None:
    """The file's non-empty values that the profile's words do not know, per header."""
    mapping = profile.tables[source.table]
    for column, words in mapping.values.items():
        header = mapping.source_header(column)
        if header not in raw.columns:
            continue
        values = (
            raw.select(pl.col(header).cast(pl.String).str.strip_chars().alias(column))
            .filter(pl.col(column).is_not_null() & (pl.col(column) != ""))
            .unique()
            .filter(~known_words(column, words))
        )
        unknown = sorted(values.get_column(column).to_list())
        if unknown:
            check.unmapped_values[header] = unknown[:20]


def check_file(source: SourceFile, profile: Profile) -> FileCheck:
    check = FileCheck(source.table, source.path.name)
    mapping = profile.tables[source.table]
    check.error = wrong_delimiter(source, profile)
    if check.error:
        return check
    try:
        raw = _read_raw(source.path, profile.format_of(source.table), mapping)
    except InputError as exc:
        # one problem a line, with its row: the secretary fixes them one by one
        where = [(f"ligne {f.row} : " if f.row else "") + f.rule for f in exc.findings]
        check.error = "\n  ".join(where) or exc.summary
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
    one_column = delimiter_problem(raw.columns, profile, source.table) if check.missing else None
    if one_column:  # the missing columns are only its consequence
        check.error, check.missing = one_column, []
        return check
    _check_values(raw, source, profile, check)
    return check


def check_extract(directory: Path, profile: Profile) -> list[FileCheck]:
    """Each file a table's pattern names, checked; and each entry it names that no file
    can be read from (`readers.unusable_entries`), as the load would refuse it."""
    checks = [check_file(source, profile) for source in find_files(directory, profile)]
    for source in unusable_entries(directory, profile):
        finding = unusable_finding(source)
        checks.append(FileCheck(table=source.table, file=finding.file, error=finding.rule))
    return checks


def _is_register(path: Path) -> bool:
    return any(path.match(pattern) for pattern in REGISTER_PATTERNS)


def list_files(directory: Path, profile: Profile) -> list[tuple[str, str]]:
    """Every file of the extract (and any file a glob found below it), with what reads it.

    The table whose pattern the file matched, « registre du centre » for `centre*.yaml`,
    else « ignoré ». Names are relative to the extract, in alphabetical order.
    """
    matched = {source.path: source.table for source in find_files(directory, profile)}
    paths = {p for p in directory.iterdir() if p.is_file()} | set(matched)
    listed = []
    for path in sorted(paths, key=lambda p: p.relative_to(directory).as_posix()):
        role = matched.get(path) or (REGISTER if _is_register(path) else IGNORED)
        listed.append((path.relative_to(directory).as_posix(), role))
    return listed
