"""Pseudonymise patient identifiers that are NIRs, before anything is stored.

A NIR (13 characters + a 2-digit key, Corsica's departments written 2A/2B) is checked
and replaced by HMAC-SHA-256 under a per-centre secret. The secret lives outside the
warehouse and outside the repository (`CSI_SECRETS_DIR`, by default
`~/.config/csi/secrets/`), so the warehouse alone cannot be reversed by brute force
over the NIR space, and the same NIR always gives the same pseudonym for that centre.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import polars as pl

from pipeline.errors import Finding
from pipeline.readers import FILE, ROW

NIR_PATTERN = re.compile(r"^[1-478]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$")
_NIR_LOOSE = r"^[1-478][0-9 ]{4}[0-9AB ]{2,3}[0-9 ]{6,12}$"
PSEUDONYM_PREFIX = "PS-"
_SECRETS: dict[Path, bytes] = {}


def normalise(candidate: str) -> str:
    return candidate.replace(" ", "").replace(".", "").upper()


def nir_key_is_valid(nir: str) -> bool:
    """Key = 97 − (number mod 97); Corsica: 2A counts as 19, 2B as 18."""
    nir = normalise(nir)
    if not NIR_PATTERN.match(nir):
        return False
    body = nir[:13].replace("2A", "19", 1) if nir[5:7] == "2A" else nir[:13]
    body = body.replace("2B", "18", 1) if nir[5:7] == "2B" else body
    return 97 - int(body) % 97 == int(nir[13:])


def secrets_dir() -> Path:
    default = Path.home() / ".config" / "csi" / "secrets"
    return Path(os.environ.get("CSI_SECRETS_DIR") or default)


def centre_secret(finess: str) -> bytes:
    """The centre's pseudonymisation key, created on first use (keep a backup of it).

    Read once per process and key file: an extract holds thousands of NIRs per centre.
    """
    path = secrets_dir() / f"{finess}.key"
    if path not in _SECRETS:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
            path.chmod(0o600)
        _SECRETS[path] = bytes.fromhex(path.read_text(encoding="ascii").strip())
    return _SECRETS[path]


def pseudonym(finess: str, nir: str) -> str:
    digest = hmac.new(centre_secret(finess), normalise(nir).encode(), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:32]


def pseudonymise(
    frame: pl.DataFrame,
    column: str = "patient_id",
    cache: dict[tuple[str, str], str | None] | None = None,
) -> tuple[pl.DataFrame, list[Finding]]:
    """Replace NIR-shaped ids by their pseudonym; a NIR whose key is wrong is a finding.

    The finding never carries the value: a NIR is never printed, logged or stored.
    `cache` carries the pseudonyms from one batch of a file to the next (a patient has
    many lines), so each NIR is checked and hashed once per extract.
    """
    looks_like = pl.col(column).str.contains(_NIR_LOOSE) & (
        pl.col(column).str.replace_all(r"[ .]", "").str.len_chars() == 15
    )
    candidates = frame.filter(looks_like).select("centre_finess", column).unique()
    if candidates.height == 0:
        return frame, []
    known = {} if cache is None else cache
    mapping: dict[tuple[str, str], str | None] = {}
    for finess, value in candidates.iter_rows():
        if (finess, value) not in known:
            known[(finess, value)] = pseudonym(finess, value) if nir_key_is_valid(value) else None
        mapping[(finess, value)] = known[(finess, value)]
    lookup = pl.DataFrame(
        [(f, v, p) for (f, v), p in mapping.items()],
        schema={"centre_finess": pl.String, column: pl.String, "__pseudonym": pl.String},
        orient="row",
    )
    joined = frame.join(
        lookup, on=["centre_finess", column], how="left", nulls_equal=False, maintain_order="left"
    )
    bad = joined.filter(
        pl.col("__pseudonym").is_null()
        & looks_like
        & pl.col(column).is_in([v for (_, v), p in mapping.items() if p is None])
    )
    findings = [
        Finding(row[FILE], "NIR invalide : la clé de contrôle ne correspond pas", row[ROW], column)
        for row in bad.head(50).iter_rows(named=True)
    ]
    result = joined.with_columns(pl.coalesce("__pseudonym", column).alias(column)).drop(
        "__pseudonym"
    )
    return result, findings
