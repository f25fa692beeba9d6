"""How big an XLSX workbook gets once decompressed, known before a reader opens it.

An XLSX file is a zip archive; a few kilobytes can decompress to gigabytes (a zip
bomb), which the spreadsheet reader would try to hold in memory. The archive's
directory declares each member's decompressed size: their sum is checked first, for
nothing. A directory can lie, though, and the reader trusts the compressed stream, not
the declaration: wherever the members could hold more than the bound (deflate
compresses at most ≈ 1032:1), their streams are inflated once, in bounded pieces,
counting bytes and stopping as soon as the bound is crossed.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from pipeline.core.errors import InputError, unreadable

MAX_XLSX_BYTES = 500 * 1024 * 1024  # decompressed, every member together
DEFLATE_MAX_RATIO = 1032
_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zip local file header, 30 bytes


def _too_big(path: Path, size: int) -> InputError:
    return unreadable(
        path,
        f"classeur trop gros une fois décompressé (plus de {size // 2**20} Mo, "
        f"{MAX_XLSX_BYTES // 2**20} Mo au plus) : fichier piégé ou à découper",
    )


def _inflated_size(handle: BinaryIO, info: zipfile.ZipInfo, budget: int) -> int:
    """Bytes the member's stream really inflates to, counted up to `budget` + 1 at most."""
    handle.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
    if header[0] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local header")
    handle.seek(header[-2] + header[-1], 1)  # file name and extra field
    inflater = zlib.decompressobj(-15)
    left, total = info.compress_size, 0
    while left > 0 and not inflater.eof and total <= budget:
        data = handle.read(min(_CHUNK, left))
        if not data:
            break
        left -= len(data)
        while data and total <= budget:
            total += len(inflater.decompress(data, _CHUNK))
            data = inflater.unconsumed_tail
    return total


def check_xlsx_size(path: Path) -> None:
    """Refuse a workbook that would decompress beyond `MAX_XLSX_BYTES` (`InputError`)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise unreadable(path, "fichier illisible (ce n'est pas un classeur XLSX valide)") from None
    declared = sum(m.file_size for m in members)
    if declared > MAX_XLSX_BYTES:
        raise _too_big(path, declared)
    deflated = [m for m in members if m.compress_type == zipfile.ZIP_DEFLATED]
    stored = sum(max(m.file_size, m.compress_size) for m in members if m not in deflated)
    if stored + sum(m.compress_size for m in deflated) * DEFLATE_MAX_RATIO <= MAX_XLSX_BYTES:
        return  # even a lying directory could not hide more than the bound
    total = stored
    try:
        with path.open("rb") as handle:
            for member in deflated:
                total += _inflated_size(handle, member, MAX_XLSX_BYTES - total)
                if total > MAX_XLSX_BYTES:
                    raise _too_big(path, total)
    except (zipfile.BadZipFile, zlib.error, struct.error, OSError):
        raise unreadable(path, "fichier illisible (ce n'est pas un classeur XLSX valide)") from None
