"""The CSV reader and the bounds of the data contract ("Bad input"), one input class a test.

Each bad input is a tiny hand-made file: the refusal must name file, row (1-based, header
excluded), column and rule in French, exit 1, and leave every warehouse table as it was.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.core.errors import InputError
from pipeline.extract.profiles import FileFormat
from pipeline.extract.readers import csv_batches
from tests.support import billing_rows, make_extract, patient_rows, write_table

runner = CliRunner()

HEADER = (
    "invoice_id,line_no,centre_finess,patient_id,nurse_id,act_date,act_time,act_code,"
    "coefficient,quantity,amount_eur,status,episode_id"
)
TABLES = ["billing_lines", "patients", "episodes", "loads", "load_files"]


def _line(line_no: int, day: int = 5, nurse: str = "N1") -> str:
    return f"F1,{line_no},750000001,P1,{nurse},2025-01-{day:02d},08:00,AMI,1,1,3.15,billed,"


def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """A warehouse holding one good load: 2 billing lines, 1 patient."""
    db = tmp_path / "wh.duckdb"
    good = make_extract(
        tmp_path / "good",
        billing=billing_rows({"act_date": "2025-01-05"}, {"act_date": "2025-01-06"}),
        patients=patient_rows({"patient_id": "P1"}),
    )
    result = runner.invoke(app, ["ingest", str(good), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert _counts(db)["billing_lines"] == 2
    return db


def _ingest(extract: Path, db: Path) -> str:
    result = runner.invoke(app, ["ingest", str(extract), "--db", str(db)])
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert "Traceback" not in result.output
    return " ".join(result.output.split()), result.exit_code


def _refused(extract: Path, db: Path) -> str:
    before = _counts(db)
    out, code = _ingest(extract, db)
    assert code == 1, out
    assert _counts(db) == before
    return out


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"line_no": "2147483648"}, "« line_no » : le numéro de ligne doit être ≤ 2 147 483 647"),
        ({"coefficient": "100"}, "« coefficient » : le coefficient doit être ≤ 99,99"),
        ({"quantity": "10000"}, "« quantity » : la quantité doit être ≤ 9 999"),
        ({"amount_eur": "100000"}, "« amount_eur » : le montant doit être compris entre"),
        ({"amount_eur": "99999999999999"}, "« amount_eur » : le montant doit être compris"),
        ({"quantity": "1e308"}, "« quantity » : la quantité doit être ≤ 9 999"),
        ({"quantity": "inf"}, "« quantity » : nombre attendu (chiffres, virgule ou point"),
        ({"coefficient": "NaN"}, "« coefficient » : nombre attendu"),
        ({"amount_eur": "-inf"}, "« amount_eur » : nombre attendu"),
        ({"act_time": "12:00:61"}, "« act_time » : heure impossible"),
        ({"act_time": "24:00"}, "« act_time » : heure impossible"),
    ],
)
def test_a_number_or_time_beyond_the_warehouse_is_refused_at_its_row(
    tmp_path, loaded, value, expected
):
    rows = billing_rows({"act_date": "2025-01-05"}, {"act_date": "2025-01-06", **value})
    out = _refused(make_extract(tmp_path / "bad", billing=rows), loaded)
    assert f"billing.csv, ligne 2, colonne {expected}" in out
    assert "1 problème(s)" in out


def test_the_largest_stored_values_still_load(tmp_path, loaded):
    rows = billing_rows(
        {
            "act_date": "2025-01-05",
            "line_no": "2147483647",
            "coefficient": "99.99",
            "quantity": "9999",
            "amount_eur": "-99999.99",
            "act_time": "23:59:59",
        }
    )
    out, code = _ingest(make_extract(tmp_path / "edge", billing=rows), loaded)
    assert code == 0, out
    con = duckdb.connect(str(loaded), read_only=True)
    stored = con.execute(
        "select line_no, coefficient, quantity, amount_eur, act_time from billing_lines "
        "where line_no > 2"
    ).fetchall()
    con.close()
    assert [tuple(str(v) for v in row) for row in stored] == [
        ("2147483647", "99.99", "9999.00", "-99999.99", "23:59:00")
    ]


def test_a_header_named_twice_is_refused(tmp_path, loaded):
    text = HEADER + ",act_date\n" + _line(1) + "2025-01-09\n"
    out = _refused(_write(tmp_path / "bad", "billing.csv", text.encode()), loaded)
    assert (
        "billing.csv, colonne « act_date » : en-tête : la colonne « act_date » est nommée "
        "deux fois (colonnes 6 et 14)"
    ) in out


def test_a_nul_byte_past_the_first_64_kib_is_refused_with_its_row(tmp_path, loaded):
    lines = [_line(n) for n in range(1, 2001)]  # ~ 140 KiB
    lines[1499] = lines[1499].replace("N1", "N\x001")
    text = "\n".join([HEADER, *lines]) + "\n"
    assert text.index("\x00") > 65536
    out = _refused(_write(tmp_path / "bad", "billing.csv", text.encode()), loaded)
    assert "billing.csv, ligne 1500 : fichier binaire ou corrompu : octet nul (NUL)" in out


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_nul_byte_chunks_after_the_first_still_names_its_row(tmp_path, monkeypatch, encoding):
    """The scan reads the file in chunks; the row of a NUL counts the lines of all of them."""
    from pipeline.extract import readers

    monkeypatch.setattr(readers, "_SCAN_BYTES", 4096)  # ~35 chunks before the NUL
    lines = [_line(n) for n in range(1, 2001)]
    lines[1499] = lines[1499].replace("N1", "N\x001")
    path = tmp_path / "billing.csv"
    path.write_bytes(("\n".join([HEADER, *lines]) + "\n").encode(encoding))
    with pytest.raises(InputError) as refused:
        list(csv_batches(path, FileFormat(encoding=encoding), tmp_path))
    assert [(f.row, f.rule.split(" :")[0]) for f in refused.value.findings] == [
        (1500, "fichier binaire ou corrompu")
    ]


def test_short_and_long_rows_are_refused_each_with_its_row(tmp_path, loaded):
    lines = [_line(1), _line(2).rsplit(",", 2)[0], _line(3), _line(4) + ",extra"]
    text = "\n".join([HEADER, *lines]) + "\n"
    out = _refused(_write(tmp_path / "bad", "billing.csv", text.encode()), loaded)
    assert "billing.csv, ligne 2 : 11 colonnes au lieu de 13" in out
    assert "billing.csv, ligne 4 : 14 colonnes au lieu de 13" in out


def test_short_rows_in_a_file_with_quotes_are_counted_by_record(tmp_path, loaded):
    """A quoted value may hold the delimiter and a newline: rows are records, not lines."""
    quoted = _line(1).replace(",N1,", ',"N1, deux\nlignes",')
    text = "\n".join([HEADER, quoted, _line(2), _line(3).rsplit(",", 1)[0]]) + "\n"
    out = _refused(_write(tmp_path / "bad", "billing.csv", text.encode()), loaded)
    assert "billing.csv, ligne 3 : 12 colonnes au lieu de 13" in out
    assert "ligne 1 :" not in out and "ligne 2 :" not in out


def test_an_unbalanced_quote_in_a_large_file_is_refused_at_its_row_in_seconds(tmp_path, loaded):
    """Before: the block splitter counted quotes from the block start at every newline."""
    lines = [_line(n % 1000 + 1, day=n // 1000 % 28 + 1) for n in range(200_000)]
    lines[2] = lines[2].replace(",N1,", ',"N1,')
    folder = _write(tmp_path / "bad", "billing.csv", ("\n".join([HEADER, *lines]) + "\n").encode())
    started = time.perf_counter()
    out = _refused(folder, loaded)
    assert time.perf_counter() - started < 60
    assert 'billing.csv, ligne 3 : guillemet (") ouvert et jamais refermé' in out


def test_a_field_over_131072_characters_is_read(tmp_path, loaded):
    long = "x" * 200_000
    text = "\n".join([HEADER, _line(3, nurse=long), _line(4, nurse=f'"{long}, quoted"')]) + "\n"
    out, code = _ingest(_write(tmp_path / "long", "billing.csv", text.encode()), loaded)
    assert code == 0, out
    con = duckdb.connect(str(loaded), read_only=True)
    sizes = con.execute(
        "select line_no, length(nurse_id) from billing_lines where line_no > 2 order by 1"
    ).fetchall()
    con.close()
    assert sizes == [(3, 200_000), (4, 200_008)]


def _billing_rows_stored(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select * exclude (load_id) from billing_lines order by invoice_id, line_no"
        ).fetchall()
    finally:
        con.close()


def test_cr_only_line_ends_load_the_same_rows_as_lf(tmp_path):
    lines = [HEADER, _line(1), _line(2, day=6), "", _line(3, day=7)]
    lf = _write(tmp_path / "lf", "billing.csv", ("\n".join(lines) + "\n").encode())
    cr = _write(tmp_path / "cr", "billing.csv", ("\r".join(lines) + "\r").encode())
    for folder in (lf, cr):
        out, code = _ingest(folder, tmp_path / f"{folder.name}.duckdb")
        assert code == 0, out
        assert "3 lignes lues" in out
    rows = _billing_rows_stored(tmp_path / "lf.duckdb")
    assert rows == _billing_rows_stored(tmp_path / "cr.duckdb")
    # the blank line counts as a row: the third line is row 4 of its file
    assert [(r[2], r[-1]) for r in rows] == [(1, 1), (2, 2), (3, 4)]


def test_a_blank_line_keeps_the_row_numbers_of_the_rows_after_it(tmp_path, loaded):
    lines = [HEADER, _line(3), "", _line(4).replace("2025-01-05", "2025-02-30")]
    out = _refused(_write(tmp_path / "bad", "billing.csv", ("\n".join(lines)).encode()), loaded)
    assert "billing.csv, ligne 3, colonne « act_date » : date impossible" in out


def test_cp1252_is_transcoded_through_a_temporary_copy_removed_after(tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / "patients.csv"
    path.write_bytes(
        "centre_finess;patient_id;postcode\r\n750000001;Zoé;75001\r\n".encode("cp1252")
    )
    fmt = FileFormat(delimiter=";", encoding="cp1252")
    batches = csv_batches(path, fmt)
    first_row, frame, _ = next(batches)
    assert [p.name.startswith("csi-load-") for p in scratch.iterdir()] == [True]
    assert (first_row, frame.rows()) == (1, [("750000001", "Zoé", "75001")])
    assert list(batches) == []
    assert list(scratch.iterdir()) == []


def test_bytes_foreign_to_the_encoding_are_refused(tmp_path):
    path = tmp_path / "patients.csv"
    path.write_bytes("centre_finess,patient_id\n750000001,Zoé\n".encode("cp1252"))
    with pytest.raises(InputError) as caught:
        list(csv_batches(path, FileFormat()))
    assert "n'est pas encodé en utf-8" in caught.value.describe()


def test_parquet_list_column_and_int64_overflow_are_french_findings(tmp_path, loaded):
    import pyarrow as pa
    import pyarrow.parquet as pq

    bad = tmp_path / "bad"
    bad.mkdir()
    billing = billing_rows({"act_date": "2025-01-05"}, {"act_date": "2025-01-06"})
    frame = pl.read_csv(write_table(tmp_path / "b.csv", "billing", billing), infer_schema=False)
    frame = frame.with_columns(pl.Series("line_no", [1, 2**40], dtype=pl.Int64))
    frame.write_parquet(bad / "billing.parquet")
    patients = pa.table(
        {
            "centre_finess": ["750000001"],
            "patient_id": [["P1", "P2"]],
        }
    )
    pq.write_table(patients, bad / "patients.parquet")
    out = _refused(bad, loaded)
    assert "billing.parquet, ligne 2, colonne « line_no » : le numéro de ligne doit être ≤" in out
    assert "patients.parquet, colonne « patient_id » : type Parquet non pris en charge" in out


def test_parquet_inf_and_nan_are_refused_not_stored_as_null(tmp_path, loaded):
    bad = tmp_path / "bad"
    bad.mkdir()
    billing = billing_rows(*[{"act_date": "2025-01-05"}] * 3)
    frame = pl.read_csv(write_table(tmp_path / "b.csv", "billing", billing), infer_schema=False)
    frame = frame.with_columns(
        pl.Series("quantity", [1.0, float("inf"), 1.0]),
        pl.Series("amount_eur", [3.15, 3.15, float("nan")]),
    )
    frame.write_parquet(bad / "billing.parquet")
    out = _refused(bad, loaded)
    assert "billing.parquet, ligne 2, colonne « quantity » : nombre attendu" in out
    assert "billing.parquet, ligne 3, colonne « amount_eur » : nombre attendu" in out


def test_four_kinds_of_error_and_every_file_are_reported_in_one_run(tmp_path, loaded):
    rows = billing_rows(
        {"act_date": "2025-02-30"},  # unparsable date
        {"act_date": "2025-01-06", "status": "payé"},  # unknown enum
        {"act_date": "2025-01-06", "coefficient": "100"},  # out of bounds
        {"act_date": "2025-01-07", "line_no": "x"},  # unparsable key
        {"act_date": "2025-01-07", "line_no": "x"},  # the same: not a "repeat"
        {"act_date": "2025-01-08", "line_no": "1"},  # a real repeat of line 1
    )
    bad = make_extract(tmp_path / "bad", billing=rows)
    (bad / "patients.csv").write_text("centre_finess,patient_id\n750000001,P1\n750000001\n")
    (bad / "episodes.csv").write_text("centre_finess,episode_id,patient_id\n")
    out = _refused(bad, loaded)
    expected = [
        "billing.csv, ligne 4, colonne « line_no » : nombre entier attendu",
        "billing.csv, ligne 5, colonne « line_no » : nombre entier attendu",
        "billing.csv, ligne 1, colonne « act_date » : date impossible",
        "billing.csv, ligne 2, colonne « status » : valeur non reconnue",
        "billing.csv, ligne 3, colonne « coefficient » : le coefficient doit être ≤ 99,99",
        "billing.csv, ligne 1 : ligne de facture répétée",
        "billing.csv, ligne 6 : ligne de facture répétée",
        "patients.csv, ligne 2 : 1 colonnes au lieu de 2",
        "episodes.csv : aucune ligne de données sous l'en-tête",
    ]
    for part in expected:
        assert part in out, part
    assert "Extraction refusée : 9 problème(s)" in out
    assert "valeur obligatoire manquante" not in out


def test_rows_keep_their_numbers_across_batches(tmp_path, monkeypatch):
    """Batches of 2 rows: a blank line, a short row and a bad value keep their file rows."""
    import pipeline.extract.readers as readers

    monkeypatch.setattr(readers, "CSV_BATCH_ROWS", 2)
    path = tmp_path / "billing.csv"
    lines = [HEADER, _line(1), _line(2), "", _line(4), _line(5)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batches = [
        (first, frame.get_column("line_no").to_list())
        for first, frame, _ in csv_batches(path, FileFormat())
    ]
    assert batches == [(1, ["1", "2"]), (4, ["4"]), (5, ["5"])]
    path.write_text("\n".join([*lines, _line(7).rsplit(",", 1)[0]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        list(csv_batches(path, FileFormat()))
    assert [(f.row, f.rule.split(" (")[0]) for f in caught.value.findings] == [
        (6, "12 colonnes au lieu de 13")
    ]


def test_a_character_cut_between_two_reads_is_still_checked(tmp_path, monkeypatch):
    import pipeline.extract.readers as readers

    monkeypatch.setattr(readers, "_SCAN_BYTES", 5)  # cuts "é" (2 bytes) somewhere
    path = tmp_path / "patients.csv"
    path.write_bytes("centre_finess,patient_id\n750000001,Zoé Éloïse\n".encode())
    [(_, frame, _)] = list(csv_batches(path, FileFormat()))
    assert frame.rows() == [("750000001", "Zoé Éloïse")]
    path.write_bytes(b"centre_finess,patient_id\n750000001,Zo\xc3 \n")  # a lone lead byte
    with pytest.raises(InputError) as caught:
        list(csv_batches(path, FileFormat()))
    assert "n'est pas encodé en utf-8" in caught.value.describe()


def test_parquet_time_of_day_as_a_duration_loads_as_that_time(tmp_path):
    import datetime as dt

    folder = tmp_path / "pq"
    folder.mkdir()
    billing = billing_rows({"act_date": "2025-01-05"}, {"act_date": "2025-01-06"})
    frame = pl.read_csv(write_table(tmp_path / "b.csv", "billing", billing), infer_schema=False)
    times = pl.Series("act_time", [dt.timedelta(hours=8, minutes=5), dt.timedelta(hours=21)])
    frame.with_columns(times).write_parquet(folder / "billing.parquet")
    out, code = _ingest(folder, tmp_path / "wh.duckdb")
    assert code == 0, out
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    stored = con.execute("select act_time::varchar from billing_lines order by line_no").fetchall()
    con.close()
    assert stored == [("08:05:00",), ("21:00:00",)]


def test_a_quote_closed_in_the_middle_of_a_value_is_named_at_its_row(tmp_path, loaded):
    lines = [HEADER, _line(3), _line(4).replace(",N1,", ',"N1"x,')]
    out = _refused(_write(tmp_path / "bad", "billing.csv", ("\n".join(lines)).encode()), loaded)
    assert 'billing.csv, ligne 2 : guillemet (") mal placé' in out


def test_parquet_slices_keep_every_row_in_order_and_its_number(tmp_path):
    """Read one slice ahead (`readers._one_ahead`): batches of 3 rows over 8, numbered
    from 1 across slices; a reader closed early, its next slice started, closes quietly;
    an empty file gives no batch."""
    from pipeline.extract.profiles import TableMapping
    from pipeline.extract.readers import _parquet_batches

    path = tmp_path / "billing.parquet"
    pl.DataFrame({"line_no": list(range(1, 9)), "act_code": ["AMI"] * 8}).write_parquet(path)
    mapping = TableMapping(files=("billing*",))
    batches = [
        (first, f.get_column("line_no").to_list())
        for first, f, _ in _parquet_batches(path, 3, mapping)
    ]
    assert batches == [(1, [1, 2, 3]), (4, [4, 5, 6]), (7, [7, 8])]
    reader = _parquet_batches(path, 3, mapping)
    assert next(reader)[0] == 1
    reader.close()  # the second slice, already started, is cancelled: no error
    empty = tmp_path / "empty.parquet"
    pl.DataFrame({"line_no": []}, schema={"line_no": pl.Int64}).write_parquet(empty)
    assert list(_parquet_batches(empty, 3, mapping)) == []
