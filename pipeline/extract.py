"""Read and validate a whole extract directory, without touching the warehouse.

An extract is refused as a whole: every file is read and checked, and all findings
are gathered before raising, so that the secretary can fix everything in one pass.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipeline.canonical import TABLES
from pipeline.coerce import coerce
from pipeline.errors import Finding, InputError
from pipeline.profiles import Profile
from pipeline.pseudonym import pseudonymise
from pipeline.readers import FILE, SourceFile, find_files, read_source
from pipeline.validate import validate_table

if TYPE_CHECKING:
    from schemas.register import CentreRegister


@dataclass(frozen=True)
class InputFile:
    table: str
    name: str
    sha256: str
    rows: int


@dataclass
class Extract:
    """A validated extract, ready to load."""

    directory: Path
    profile: str
    tables: dict[str, pl.DataFrame]
    registers: list[tuple[str, CentreRegister]] = field(default_factory=list)
    files: list[InputFile] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_table(
    table: str, sources: list[SourceFile], profile: Profile, findings: list[Finding]
) -> pl.DataFrame | None:
    frames = []
    for source in sources:
        try:
            frames.append(read_source(source, profile))
        except InputError as exc:
            findings.extend(exc.findings or [Finding(source.path.name, exc.summary)])
    if not frames:
        return None
    text = pl.concat(frames, how="vertical")
    typed, parse_findings = coerce(text, table, profile.format)
    typed, nir_findings = pseudonymise(typed)
    findings.extend(parse_findings + nir_findings)
    if parse_findings or nir_findings:
        return None
    headers = {c: profile.tables[table].source_header(c) for c in typed.columns}
    findings.extend(validate_table(typed, table, headers))
    return typed


def _read_registers(directory: Path, findings: list[Finding]) -> list[tuple[str, CentreRegister]]:
    from schemas.register import load_register

    registers = []
    for path in sorted(directory.glob("centre*.yaml")) + sorted(directory.glob("centre*.yml")):
        try:
            registers.append((path.name, load_register(path)))
        except InputError as exc:
            findings.extend(exc.findings or [Finding(path.name, exc.summary)])
    return registers


def read_extract(directory: Path, profile: Profile) -> Extract:
    """Read, type and validate every file of the extract; raise `InputError` if any fails."""
    if not directory.is_dir():
        raise InputError(f"Dossier d'extraction introuvable : {directory}")
    sources = find_files(directory, profile)
    findings: list[Finding] = []
    tables: dict[str, pl.DataFrame] = {}
    for table in TABLES:
        frame = _read_table(table, [s for s in sources if s.table == table], profile, findings)
        if frame is not None:
            tables[table] = frame
    registers = _read_registers(directory, findings)
    if not sources and not registers:
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
    if findings:
        raise InputError(f"Extraction refusée : {len(findings)} problème(s) à corriger", findings)
    files = [
        InputFile(s.table, s.path.name, sha256_of(s.path), _rows_of(tables, s.path.name))
        for s in sources
    ]
    files += [InputFile("register", name, sha256_of(directory / name), 1) for name, _ in registers]
    return Extract(directory, profile.name, tables, registers, files)


def _rows_of(tables: dict[str, pl.DataFrame], file_name: str) -> int:
    return sum(int(f.filter(pl.col(FILE) == file_name).height) for f in tables.values())
