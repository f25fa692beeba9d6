"""Pseudonymise patient identifiers that are NIRs, before anything is stored.

A NIR (a 13-character body + a 2-digit key, Corsica's departments written 2A/2B) is
recognised in whatever way it is written: with spaces, dots or dashes between its
groups, `2a`/`2b` in either case, with or without its key. It is brought to one
canonical form, the 15 characters `body + key` (the key computed when it was left
out, checked when it was written), and that form is replaced by HMAC-SHA-256 under a
per-centre secret. So the keyed and the key-less forms of the same person give the
same pseudonym, and pseudonyms written by earlier versions (which hashed the plain
15-character form) stay valid.

The secret lives outside the warehouse and outside the repository (the keyring's
`secrets_dir`: `Settings.secrets_dir`, i.e. `CSI_SECRETS_DIR`, by default
`~/.config/csi/secrets/`), so the warehouse alone cannot be reversed by
brute force over the NIR space. The warehouse keeps a keyed fingerprint of each
centre's secret (`key_fingerprints`): a lost, damaged or replaced key file refuses the
load instead of silently giving every patient a new pseudonym (`Keyring`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.core.canonical import FINESS_PATTERN
from pipeline.core.errors import Finding, UsageError, write_reason
from pipeline.extract.readers import FILE, ROW

# Separators people put between a NIR's groups: spaces (any, NBSP included), dots, dashes.
SEPARATORS = r"[\s.\-]"
_BODY = r"[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{6}"
NIR_PATTERN = re.compile(rf"^{_BODY}(?:[0-9]{{2}})?$")  # compact form: 13 or 15 characters
PSEUDONYM_PREFIX = "PS-"
MIN_KEY_BYTES = 32
FINGERPRINT_LABEL = b"csi: fingerprint of a centre's pseudonymisation key, v1"
_SEPARATORS = re.compile(SEPARATORS)
_LOG = logging.getLogger("csi.pseudonym")


def compact(candidate: str) -> str:
    """The value without separators, in upper case (`2a` → `2A`)."""
    return _SEPARATORS.sub("", candidate).upper()


def is_nir_shaped(candidate: str) -> bool:
    """Whether a value is written like a NIR (13 or 15 characters once compacted)."""
    return bool(NIR_PATTERN.match(compact(candidate)))


def nir_key(body: str) -> int:
    """Key = 97 − (number mod 97); Corsica: 2A counts as 19, 2B as 18."""
    number = body[:5] + {"2A": "19", "2B": "18"}.get(body[5:7], body[5:7]) + body[7:13]
    return 97 - int(number) % 97


def canonical_nir(candidate: str) -> str | None:
    """The 15-character form `body + key` of a NIR-shaped value; None when its key is wrong.

    A key-less NIR (13 characters) gets its computed key, so that it gives the same
    pseudonym as the same NIR written with its key.
    """
    nir = compact(candidate)
    if not NIR_PATTERN.match(nir):
        return None
    key = nir_key(nir)
    if len(nir) == 13:
        return f"{nir}{key:02d}"
    return nir if int(nir[13:]) == key else None


def nir_key_is_valid(nir: str) -> bool:
    """A NIR written with its 2-digit key, and that key is right."""
    return len(compact(nir)) == 15 and canonical_nir(nir) is not None


def key_path(secrets_dir: Path, finess: str) -> Path:
    return secrets_dir / f"{finess}.key"


def fingerprint(secret: bytes) -> str:
    """A keyed fingerprint of the secret: says whether a key file is the same key, and
    reveals nothing about it (an HMAC of a fixed label, not a hash of the key)."""
    return hmac.new(secret, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


class KeyFileError(UsageError):
    """A centre's key file that cannot be used: the load stops, nothing is re-keyed."""


def _key_error(finess: str, path: Path, problem: str, first_use: bool) -> KeyFileError:
    """The French message: what is wrong, where the file is, how to restore it."""
    advice = (
        f"Restaurez ce fichier depuis sa sauvegarde (dossier des clés : {path.parent}, "
        "que la variable CSI_SECRETS_DIR peut désigner), puis relancez le chargement. "
        "Ne créez pas de nouvelle clé : les patients déjà chargés ne seraient plus "
        "reconnus et seraient comptés deux fois."
    )
    if first_use:
        advice += (
            " Si ce centre n'a jamais été chargé nulle part avec une autre clé, vous pouvez "
            "aussi supprimer ce fichier : une nouvelle clé sera créée au prochain chargement."
        )
    return KeyFileError(f"Clé de pseudonymisation du centre {finess} {problem} : {path}. {advice}")


def _decode(finess: str, path: Path, text: bytes, first_use: bool) -> bytes:
    """The key of a key file, or a `KeyFileError` saying why it cannot be one."""
    content = text.strip()
    if not content:
        raise _key_error(finess, path, "vide", first_use)
    try:
        secret = bytes.fromhex(content.decode("ascii"))
    except ValueError:  # UnicodeDecodeError is a ValueError too
        raise _key_error(
            finess, path, "illisible (64 caractères hexadécimaux attendus)", first_use
        ) from None
    if len(secret) < MIN_KEY_BYTES:
        raise _key_error(
            finess,
            path,
            f"trop courte ({len(secret)} octets, au moins {MIN_KEY_BYTES} attendus)",
            first_use,
        )
    return secret


def _tighten(path: Path, mode: int) -> None:
    """Give a secrets file or folder of ours the mode it should have, saying so."""
    info = path.stat()
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077 == 0:
        return
    path.chmod(mode)
    _LOG.warning("Droits de %s resserrés à %o (lisible par vous seul).", path, mode)


def _secure_folder(folder: Path) -> None:
    """The secrets folder, 0700: created so when missing; tightened when it is plainly
    a folder of key files (never a shared folder such as /tmp that the variable names)."""
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        folder.chmod(0o700)
        return
    if all(p.suffix == ".key" for p in folder.iterdir()):
        _tighten(folder, 0o700)
    elif stat.S_IMODE(folder.stat().st_mode) & 0o077:
        _LOG.warning(
            "Le dossier des clés %s est ouvert à d'autres utilisateurs et contient d'autres "
            "fichiers : csi n'en change pas les droits ; choisissez un dossier réservé aux "
            "clés (CSI_SECRETS_DIR), en 0700.",
            folder,
        )


def _create_key(path: Path) -> bytes:
    """Write a new key file, 0600, atomically: another process creating the same key at
    the same moment, or a crash, never leaves an empty or half-written key."""
    secret = secrets.token_bytes(MIN_KEY_BYTES)
    draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    handle = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(handle, (secret.hex() + "\n").encode("ascii"))
        os.fsync(handle)
    finally:
        os.close(handle)
    try:
        os.link(draft, path)  # fails if the key appeared meanwhile: keep that one
    except FileExistsError:
        return path.read_bytes()
    finally:
        draft.unlink(missing_ok=True)
    return secret.hex().encode("ascii")


@dataclass(frozen=True)
class StoredKey:
    """What the warehouse knows of a centre's key before this load."""

    fingerprint: str | None  # None: no fingerprint recorded yet
    has_pseudonyms: bool  # the centre already has pseudonymised patients


def _nothing_stored(_finess: str) -> StoredKey:
    return StoredKey(None, False)


@dataclass
class Keyring:
    """The centres' keys for one load, each checked against what the warehouse recorded.

    `stored` tells, per centre, the fingerprint the warehouse holds and whether it holds
    pseudonyms; `new_fingerprints` collects the fingerprints the load must record.
    Key files are read once per load (an extract holds thousands of NIRs per centre),
    never cached across loads, so a key file changed between two loads is noticed.
    """

    stored: Callable[[str], StoredKey] = _nothing_stored
    secrets_dir: Path | None = None  # the keys' folder (`Settings.secrets_dir`)
    _secrets: dict[str | None, bytes] = field(default_factory=dict)
    new_fingerprints: dict[str, str] = field(default_factory=dict)

    def secret(self, finess: str | None) -> bytes:
        """The centre's key; for a missing or malformed FINESS (the row is refused by the
        model) a key of this load only, so that its NIRs are hidden all the same and no
        key file is named after whatever the column held."""
        key = finess if finess is not None and re.fullmatch(FINESS_PATTERN, finess) else None
        if key not in self._secrets:
            self._secrets[key] = self._checked_secret(key) if key else secrets.token_bytes(32)
        return self._secrets[key]

    def _checked_secret(self, finess: str) -> bytes:
        if self.secrets_dir is None:  # a programming error: no folder was handed down
            raise RuntimeError("Keyring without secrets_dir: pass Settings.secrets_dir")
        path = key_path(self.secrets_dir, finess)
        try:
            return self._secret_at(finess, path)
        except OSError as error:  # the folder or the file cannot be made or read
            raise KeyFileError(
                f"Dossier des clés de pseudonymisation inutilisable : {path.parent} : "
                f"{write_reason(error)}. Désignez un dossier réservé aux clés (variable "
                "CSI_SECRETS_DIR), ou corrigez celui-ci, puis relancez le chargement."
            ) from None

    def _secret_at(self, finess: str, path: Path) -> bytes:
        known = self.stored(finess)
        first_use = known.fingerprint is None and not known.has_pseudonyms
        _secure_folder(path.parent)
        if not path.exists():
            if not first_use:
                raise _key_error(
                    finess,
                    path,
                    "introuvable alors que l'entrepôt contient déjà des patients "
                    "pseudonymisés de ce centre",
                    first_use,
                )
            text = _create_key(path)
        else:
            _tighten(path, 0o600)
            text = path.read_bytes()
        secret = _decode(finess, path, text, first_use)
        found = fingerprint(secret)
        if known.fingerprint is not None and not hmac.compare_digest(found, known.fingerprint):
            raise _key_error(
                finess,
                path,
                "différente de celle des chargements précédents (son empreinte, gardée "
                "dans l'entrepôt, ne correspond pas)",
                first_use,
            )
        if known.fingerprint is None:
            self.new_fingerprints[finess] = found
        return secret

    def pseudonym(self, finess: str | None, canonical: str) -> str:
        """The pseudonym of a NIR's canonical 15-character form (see `canonical_nir`)."""
        digest = hmac.new(self.secret(finess), canonical.encode(), hashlib.sha256)
        return PSEUDONYM_PREFIX + digest.hexdigest()[:32]


def pseudonym(finess: str, nir: str, keyring: Keyring | None = None) -> str:
    """The pseudonym of a NIR written in any form (its key checked or computed).

    Raises `ValueError` for a NIR-shaped value whose key is wrong (no pseudonym: the
    value is refused) and for a value that is not a NIR.
    """
    canonical = canonical_nir(nir)
    if canonical is None:
        raise ValueError("not a NIR with a valid key")
    return (keyring or Keyring()).pseudonym(finess, canonical)


def _compacted(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(SEPARATORS, "").str.to_uppercase()


def pseudonymise(
    frame: pl.DataFrame,
    column: str = "patient_id",
    cache: dict[tuple[str, str], tuple[str, bool]] | None = None,
    keyring: Keyring | None = None,
) -> tuple[pl.DataFrame, list[Finding]]:
    """Replace NIR-shaped ids by their pseudonym; a NIR whose key is wrong is a finding.

    A NIR with a wrong key is replaced too (by the hash of what was written), so that
    it never reaches a staged file either; the finding that refuses the extract never
    carries the value: a NIR is never printed, logged or stored. `cache` carries the
    pseudonyms (and whether the key was right) from one batch of a file to the next
    (a patient has many lines), so each NIR is checked and hashed once per extract.
    """
    keys = keyring or Keyring()
    starting = (
        frame.lazy()
        .filter(pl.col(column).str.contains(r"^\s*[1-478]"))  # cheap: most ids stop here
        .select("centre_finess", column)
        .unique()
        .collect()
    )
    # Apart: in one query, polars would move this filter before `unique` and run the
    # costly compaction on every row of the batch (16 ms of 20 per 256k rows).
    candidates = starting.filter(_compacted(column).str.contains(NIR_PATTERN.pattern))
    if candidates.height == 0:
        return frame, []
    known = {} if cache is None else cache
    rows = []
    for finess, value in candidates.iter_rows():
        if (finess, value) not in known:
            canonical = canonical_nir(value)
            written = canonical or compact(value)
            known[(finess, value)] = (keys.pseudonym(finess, written), canonical is not None)
        rows.append((finess, value, *known[(finess, value)]))
    lookup = pl.DataFrame(
        rows,
        schema={
            "centre_finess": pl.String,
            column: pl.String,
            "__pseudonym": pl.String,
            "__valid": pl.Boolean,
        },
        orient="row",
    )
    joined = frame.join(
        lookup, on=["centre_finess", column], how="left", nulls_equal=True, maintain_order="left"
    )
    bad = joined.filter(pl.col("__valid").not_())
    findings = [
        Finding(row[FILE], "NIR invalide : la clé de contrôle ne correspond pas", row[ROW], column)
        for row in bad.head(50).select(FILE, ROW).iter_rows(named=True)
    ]
    result = joined.with_columns(pl.coalesce("__pseudonym", column).alias(column)).drop(
        "__pseudonym", "__valid"
    )
    return result, findings
