"""Read and validate an extract directory, batch by batch, without touching the warehouse.

An extract is refused as a whole: every file is read and checked, and all findings
are gathered before raising, so that the secretary can fix everything in one pass.

Files are streamed (`pipeline.extract.readers`): each batch is typed, pseudonymised and run
through every check of its pandera model, then handed to the loader; memory holds
one batch, never the extract. The loader checks the uniqueness of keys over the
whole extract in DuckDB and reports its duplicates back here (`add_duplicates`), so
that the findings come out in the order a single pandera pass would give; the 64-bit
hashes of the keys, taken here batch by batch (`keys_distinct`), spare it that query
when no two keys can be equal.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from pipeline.core.canonical import KEYS, TABLES
from pipeline.core.errors import Finding, InputError
from pipeline.extract.coerce import MAX_FINDINGS_PER_COLUMN, coerce
from pipeline.extract.profiles import Profile
from pipeline.extract.pseudonym import Keyring, pseudonymise
from pipeline.extract.readers import (
    FILE,
    ROW,
    SourceFile,
    find_files,
    sha256_of,
    source_batches,
    unusable_entries,
    unusable_finding,
)
from pipeline.extract.validate import (
    MAX_FINDINGS,
    Ranked,
    duplicate_finding,
    validate_batch,
)

if TYPE_CHECKING:
    from schemas.register import CentreRegister

MAX_NIR_FINDINGS = 50
MAX_LOST_KEYS = 100_000  # rows whose key could not be typed, kept out of the repeats
DATE_COLUMNS = {"billing": "act_date", "episodes": "start_date"}  # the year a row counts for


@dataclass(frozen=True)
class InputFile:
    table: str
    name: str
    sha256: str
    rows: int


@dataclass
class TableFindings:
    """What is wrong with one table, kept in the order and within the caps of one pass."""

    files: list[Finding] = field(default_factory=list)  # unreadable file, missing column…
    parse: dict[str, list[Finding]] = field(default_factory=dict)  # per column
    nir: list[Finding] = field(default_factory=list)
    checks: list[Ranked] = field(default_factory=list)  # pandera, then the duplicates

    def add_parse(self, findings: list[Finding], headers: dict[str, str]) -> None:
        """Values that could not be typed, kept per canonical column, each finding naming
        the column as the file writes it (« Date soin », not `act_date`), as the other
        findings do."""
        for finding in findings:
            column = str(finding.column)
            kept = self.parse.setdefault(column, [])
            if len(kept) < MAX_FINDINGS_PER_COLUMN:
                kept.append(replace(finding, column=headers.get(column, finding.column)))

    def add_nir(self, findings: list[Finding]) -> None:
        self.nir += findings[: max(MAX_NIR_FINDINGS - len(self.nir), 0)]

    def add_checks(self, ranked: list[Ranked]) -> None:
        self.checks += ranked[: max(MAX_FINDINGS - len(self.checks), 0)]

    def forget_cells(self, findings: list[Finding], headers: dict[str, str]) -> None:
        """Drop the type and model findings of cells `findings` already name.

        A word the profile does not know is reported as such; that its column then fails
        to parse, or holds a value outside the contract, says nothing more.
        """
        canonical = {header: name for name, header in headers.items()}
        cells = {(f.file, f.row, f.column) for f in findings if f.row is not None}
        cells |= {(file, row, canonical.get(str(column))) for file, row, column in cells}

        def kept(finding: Finding) -> bool:
            return (finding.file, finding.row, finding.column) not in cells

        self.parse = {c: [f for f in found if kept(f)] for c, found in self.parse.items()}
        self.parse = {c: found for c, found in self.parse.items() if found}
        self.checks = [ranked for ranked in self.checks if kept(ranked[1])]

    def any(self) -> bool:
        return bool(self.files or self.parse or self.nir or self.checks)

    def ordered(self, table: str) -> list[Finding]:
        """File problems, then unparsable values, then NIRs, then the model's findings.

        Every kind in one run: a value that could not be typed is not reported a second
        time as missing (`validate_batch` is told which cells were lost).
        """
        parse = [f for c in TABLES[table] for f in self.parse.get(c.name, [])]
        checks = sorted(self.checks, key=lambda ranked: ranked[0])[:MAX_FINDINGS]
        return self.files + parse + self.nir + [finding for _, finding in checks]


_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csi-sha256")


@dataclass
class Extract:
    """An extract being read: its files, its registers and what was found wrong so far."""

    directory: Path
    profile_def: Profile
    sources: list[SourceFile]
    registers: list[tuple[str, CentreRegister]] = field(default_factory=list)
    # What is wrong with the folder's own files: registers, entries no file can be read from.
    folder_findings: list[Finding] = field(default_factory=list)
    findings: dict[str, TableFindings] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # per file name
    scopes: set[tuple[str, str, int | None]] = field(default_factory=set)
    _digests: dict[str, Future] = field(default_factory=dict)
    _pseudonyms: dict = field(default_factory=dict)
    keyring: Keyring = field(default_factory=Keyring)  # the loader's, checked against the warehouse
    _lost_keys: set[tuple[str, int]] = field(default_factory=set)  # (file, row)
    _key_hashes: dict[str, array] = field(default_factory=dict)  # per table, 64-bit

    @property
    def profile(self) -> str:
        return self.profile_def.name

    @property
    def present(self) -> list[str]:
        """The canonical tables the extract has files for, in load order."""
        return [t for t in TABLES if any(s.table == t for s in self.sources)]

    @property
    def refused(self) -> bool:
        return bool(self.folder_findings) or any(f.any() for f in self.findings.values())

    def file_order(self) -> dict[str, int]:
        return {s.path.name: i for i, s in enumerate(self.sources)}

    def all_findings(self) -> list[Finding]:
        found = [f for t in TABLES if t in self.findings for f in self.findings[t].ordered(t)]
        return found + self.folder_findings

    def add_duplicates(self, table: str, rows: list[tuple[str, int]]) -> None:
        """Rows (file, row) whose key another row of the extract also has."""
        order = self.file_order()
        rows = [r for r in rows if r not in self._lost_keys]  # an unreadable key is no repeat
        ranked = [duplicate_finding(table, file, row, order) for file, row in rows]
        self.findings.setdefault(table, TableFindings()).checks += ranked

    def keys_distinct(self, table: str) -> bool:
        """True when no two rows of the table read so far can share a key (then the
        loader's duplicate query would find none); forgets the table's key hashes.

        Why: that query reads every key of the load back from the warehouse and sorts
        their hashes, 1.4 CPU-s at 10M lines on a path where both cores are busy;
        hashing each batch's keys as it passes and sorting the hashes costs a third of
        it. Equal keys have equal hashes, so distinct hashes prove distinct keys; a
        shared hash (a repeat, or by chance: about one load in 370 000 at 10M rows)
        leaves the decision to the query, as does a refused extract (its rows left out
        or keys lost).
        """
        hashes = np.frombuffer(self._key_hashes.pop(table, array("Q")), dtype=np.uint64)
        if self.refused:
            return False
        hashes.sort()  # in place: the 8 bytes a row are all the memory this check takes
        return not bool((hashes[1:] == hashes[:-1]).any())

    def batches(self, table: str, workdir: Path | None = None) -> Iterator[pl.DataFrame]:
        """The table's typed, checked batches (rows of refused files left out).

        `workdir`: the load's staging folder, where a non-UTF-8 CSV is transcoded.
        """
        found = self.findings.setdefault(table, TableFindings())
        mapping = self.profile_def.tables[table]
        headers = {c.name: mapping.source_header(c.name) for c in TABLES[table]}
        order = self.file_order()
        for source in (s for s in self.sources if s.table == table):
            self._digests[source.path.name] = _HASHER.submit(sha256_of, source.path)
            try:
                for text in source_batches(source, self.profile_def, workdir=workdir):
                    checked = self._checked(table, text, found, headers, order)
                    del text  # while suspended, hold the typed batch alone
                    yield checked
                    del checked
            except InputError as exc:
                refused = exc.findings or [Finding(source.path.name, exc.summary)]
                found.files.extend(refused)
                found.forget_cells(refused, headers)

    def _checked(
        self,
        table: str,
        text: pl.DataFrame,
        found: TableFindings,
        headers: dict[str, str],
        order: dict[str, int],
    ) -> pl.DataFrame:
        """Type, pseudonymise and check one batch; remember what it holds."""
        typed, parse = coerce(text, table, self.profile_def.format_of(table))
        found.add_parse(parse, headers)
        typed, nir = pseudonymise(typed, cache=self._pseudonyms, keyring=self.keyring)
        found.add_nir(nir)
        lost = self._lost_cells(table, text, typed) if parse or nir else None
        found.add_checks(validate_batch(typed, table, headers, order, lost))
        self._remember(table, typed)
        return typed

    def _lost_cells(self, table: str, text: pl.DataFrame, typed: pl.DataFrame) -> pl.DataFrame:
        """Per column, the cells holding a value that typing refused (already reported).

        The model would call them missing, and the duplicate check would take their
        empty keys for repeats: both are told to look away.
        """
        lost = pl.concat(
            [
                typed.select(FILE, ROW),
                pl.DataFrame(
                    [
                        (text.get_column(c.name).is_not_null() & typed.get_column(c.name).is_null())
                        for c in TABLES[table]
                    ]
                ),
            ],
            how="horizontal",
        )
        with_lost_key = lost.filter(pl.any_horizontal(KEYS[table])).select(FILE, ROW)
        if len(self._lost_keys) < MAX_LOST_KEYS:
            self._lost_keys.update(with_lost_key.head(MAX_LOST_KEYS).iter_rows())
        return lost

    def _remember(self, table: str, typed: pl.DataFrame) -> None:
        """Rows per file and (file, centre, year) scopes, for the loads register; the
        hashes of its keys (`keys_distinct`).

        A streamed batch comes from one file.
        """
        name = typed.get_column(FILE)[0]
        self.rows[name] = self.rows.get(name, 0) + typed.height
        date = DATE_COLUMNS.get(table)
        year = pl.col(date).dt.year().cast(pl.Int32) if date else pl.lit(None, dtype=pl.Int32)
        scopes = typed.select("centre_finess", year.alias("year")).unique()
        self.scopes.update((name, centre, y) for centre, y in scopes.iter_rows())
        keys = typed.select(pl.struct(KEYS[table]).hash()).to_series().to_numpy()
        self._key_hashes.setdefault(table, array("Q")).frombytes(keys.tobytes())

    def input_files(self) -> list[InputFile]:
        """Every file of the extract with its fingerprint and rows (after reading)."""
        files = []
        for s in self.sources:
            digest = self._digests.get(s.path.name)
            sha = digest.result() if digest else sha256_of(s.path)
            files.append(InputFile(s.table, s.path.name, sha, self.rows.get(s.path.name, 0)))
        files += [
            InputFile("register", name, sha256_of(self.directory / name), 1)
            for name, _ in self.registers
        ]
        return files


def _read_registers(directory: Path, findings: list[Finding]) -> list[tuple[str, CentreRegister]]:
    from schemas.register import load_register

    registers = []
    for path in sorted(directory.glob("centre*.yaml")) + sorted(directory.glob("centre*.yml")):
        try:
            registers.append((path.name, load_register(path)))
        except InputError as exc:
            findings.extend(exc.findings or [Finding(path.name, exc.summary)])
    return registers


def open_extract(directory: Path, profile: Profile) -> Extract:
    """Find the extract's files and read its registers; rows are read while loading.

    Raises `InputError` when the directory is missing or holds no recognised file.
    """
    if not directory.is_dir():
        raise InputError(f"Dossier d'extraction introuvable : {directory}")
    sources = find_files(directory, profile)
    folder_findings = [unusable_finding(s) for s in unusable_entries(directory, profile)]
    registers = _read_registers(directory, folder_findings)
    if not sources and not registers and not folder_findings:
        raise InputError(
            f"Aucun fichier reconnu dans {directory}",
            [
                Finding(
                    directory.name,
                    "attendu : billing*, patients*, episodes* (.csv, .parquet, "
                    ".xlsx) ou centre*.yaml, ou les fichiers nommés par le profil d'import",
                )
            ],
        )
    return Extract(directory, profile, sources, registers, folder_findings)
