"""Rewrite a canonical extract the way a French billing software exports it.

Used by the tests to check that a profile-mapped export gives exactly the canonical
report. The inverse mappings come from the shipped `logiciel-fr` profile itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from pipeline.extract.profiles import load_profile

FILE_NAMES = {"billing": "factures", "patients": "patients", "episodes": "prises_en_charge"}


def _french_text(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    exprs = []
    for name in frame.columns:
        col = pl.col(name)
        if name in ("act_date", "birth_date", "start_date", "end_date"):
            col = col.str.to_date("%Y-%m-%d", strict=False).dt.strftime("%d/%m/%Y")
        elif name == "act_time":
            col = col.str.replace(":", "h", literal=True)
        elif name in ("coefficient", "quantity", "amount_eur"):
            col = col.str.replace(".", ",", literal=True)
        elif name in ("lives_alone", "hospital_discharge"):
            col = col.replace({"true": "Oui", "false": "Non"})
        exprs.append(col.alias(name))
    return frame.select(exprs)


def frenchify(source: Path, target: Path, excel: bool = False) -> Path:
    """Write `source` (canonical CSVs) into `target` in the `logiciel-fr` layout."""
    profile = load_profile("logiciel-fr")
    target.mkdir(parents=True, exist_ok=True)
    for table, stem in FILE_NAMES.items():
        files = sorted(source.glob(f"{table}*.csv"))
        if not files:
            continue
        frame = pl.concat([pl.read_csv(f, infer_schema=False) for f in files])
        mapping = profile.tables[table]
        for column, words in mapping.values.items():
            inverse = {canonical: french for french, canonical in words.items()}
            frame = frame.with_columns(pl.col(column).replace(inverse))
        frame = _french_text(frame, table).rename(mapping.columns)
        if excel:
            frame.write_excel(target / f"{stem}.xlsx")
        else:
            text = frame.write_csv(separator=";")
            (target / f"{stem}.csv").write_bytes(text.encode("cp1252"))
    for register in source.glob("centre*.yaml"):
        shutil.copy(register, target / register.name)
    return target
