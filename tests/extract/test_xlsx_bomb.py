"""An XLSX zip bomb is refused before the spreadsheet reader inflates it.

Workbooks are real (written by polars/XlsxWriter) with one member added or its zip
directory edited by hand: a member declaring 600 MB, and a member whose directory
lies (declares 1 000 bytes) over a stream that inflates to far more.
"""

from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.core.canonical import TABLES
from pipeline.extract import zipbounds
from pipeline.orchestrate import steps
from tests.support import billing_rows, make_extract

runner = CliRunner()


@pytest.fixture(autouse=True)
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))


def _workbook(path: Path, rows: list[dict]) -> Path:
    """A billing workbook with every canonical column, as text cells."""
    columns = [c.name for c in TABLES["billing"]]
    frame = pl.DataFrame(
        [{c: None if r.get(c) is None else str(r[c]) for c in columns} for r in rows],
        schema={c: pl.String for c in columns},
    )
    frame.write_excel(path)
    return path


def _add_member(path: Path, name: str, size: int) -> None:
    """Append a member of `size` zero bytes (deflated: about size / 1000 on disk)."""
    archive = zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    with archive, archive.open(name, "w") as member:
        block = bytes(1 << 20)
        for _ in range(size // len(block)):
            member.write(block)


def _declare(path: Path, name: str, size: int) -> None:
    """Make the zip's local header and directory declare `size` bytes for a member."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    for signature, size_at, name_len_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        start = data.find(signature)
        while start != -1:
            (length,) = struct.unpack_from("<H", data, start + name_len_at)
            if data[start + name_at : start + name_at + length] == encoded:
                struct.pack_into("<L", data, start + size_at, size)
            start = data.find(signature, start + 1)
    path.write_bytes(bytes(data))


def _loaded(tmp_path: Path) -> tuple[Path, tuple]:
    db = tmp_path / "wh.duckdb"
    steps.ingest(
        make_extract(tmp_path / "m1", billing=billing_rows({"act_date": "2025-01-05"})), db
    )
    return db, _state(db)


def _state(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return tuple(
            sorted(con.execute(f"select * from {t}").fetchall(), key=str)
            for t in ("billing_lines", "loads", "load_files")
        )
    finally:
        con.close()


def _ingest(extract: Path, db: Path):
    started = time.perf_counter()
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(db)], env={"COLUMNS": "300"})
    return result, time.perf_counter() - started


def test_a_workbook_within_bounds_loads(tmp_path):
    db, _ = _loaded(tmp_path)
    extract = tmp_path / "m2"
    extract.mkdir()
    _workbook(extract / "billing.xlsx", billing_rows({"act_date": "2025-02-05"}, invoice="F2"))
    result, _ = _ingest(extract, db)
    assert result.exit_code == 0, result.output
    assert "1 ajoutées" in result.output


def test_a_workbook_declaring_600_mb_is_refused_at_once(tmp_path):
    db, before = _loaded(tmp_path)
    extract = tmp_path / "m2"
    extract.mkdir()
    book = _workbook(extract / "billing.xlsx", billing_rows({"act_date": "2025-02-05"}))
    _add_member(book, "xl/media/image1.bin", 1 << 20)
    _declare(book, "xl/media/image1.bin", 600 * 2**20)
    result, seconds = _ingest(extract, db)
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert (
        "billing.xlsx : classeur trop gros une fois décompressé (plus de 600 Mo, 500 Mo au "
        "plus) : fichier piégé ou à découper"
    ) in out
    assert "Traceback" not in out
    assert seconds < 30
    assert _state(db) == before


def test_a_lying_directory_is_caught_by_inflating_the_stream(tmp_path, monkeypatch):
    """The directory says 1 000 bytes; the stream inflates to 24 MB, over a bound of 8 MB
    (lowered for the test, so that the bomb stays small to build)."""
    monkeypatch.setattr(zipbounds, "MAX_XLSX_BYTES", 8 * 2**20)
    db, before = _loaded(tmp_path)
    extract = tmp_path / "m2"
    extract.mkdir()
    book = _workbook(extract / "billing.xlsx", billing_rows({"act_date": "2025-02-05"}))
    _add_member(book, "xl/worksheets/sheet2.xml", 24 * 2**20)
    _declare(book, "xl/worksheets/sheet2.xml", 1000)
    assert sum(i.file_size for i in zipfile.ZipFile(book).infolist()) < 8 * 2**20
    result, _ = _ingest(extract, db)
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "billing.xlsx : classeur trop gros une fois décompressé (plus de 8 Mo, 8 Mo" in out
    assert _state(db) == before


def test_the_stream_count_stops_at_the_bound(tmp_path):
    """Only bound + one piece is inflated, however big the member really is."""
    book = tmp_path / "b.xlsx"
    with zipfile.ZipFile(book, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.xml", b"\0" * (6 << 20))
    info = zipfile.ZipFile(book).infolist()[0]
    with book.open("rb") as handle:
        assert zipbounds._inflated_size(handle, info, 10 << 20) == 6 << 20
    with book.open("rb") as handle:
        assert zipbounds._inflated_size(handle, info, 2 << 20) == (2 << 20) + (1 << 20)


def test_a_file_that_is_no_zip_is_unreadable_not_a_traceback(tmp_path):
    db, before = _loaded(tmp_path)
    extract = tmp_path / "m2"
    extract.mkdir()
    (extract / "billing.xlsx").write_bytes(b"PK\x03\x04 pas un classeur")
    result, _ = _ingest(extract, db)
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "billing.xlsx : fichier illisible (ce n'est pas un classeur XLSX valide)" in out
    assert "BadZipFile" not in out
    assert _state(db) == before
