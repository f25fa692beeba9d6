"""What a report must never do: describe a centre or a year that isn't there, hide a part
year, leave a mixed set of files, differ between two identical runs.

Every test runs the real pipeline on a real DuckDB file built from a hand-made extract:
Jan–Feb 2025 for the centre 750000001 (a part year), figures worked out by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.orchestrate import steps
from pipeline.render import formatting
from pipeline.render import write as render
from tests.support import FINESS, billing_rows, make_extract, patient_rows

runner = CliRunner()


def part_year(tmp_path: Path, db: Path) -> Path:
    """Three counted lines from 3 January to 28 February 2025, one cancelled line in March
    (not counted: March stays without data), two patients."""
    billing = billing_rows(
        {"act_date": "2025-01-03"},
        {"act_date": "2025-02-10", "patient_id": "P2"},
        {"act_date": "2025-02-28"},
        {"act_date": "2025-03-15", "status": "cancelled"},
    )
    patients = patient_rows({"patient_id": "P1"}, {"patient_id": "P2"})
    steps.ingest(make_extract(tmp_path / "jan-feb", billing=billing, patients=patients), db)
    return db


def report_cli(db: Path, out: Path, *args: str) -> object:
    return runner.invoke(
        app, ["report", "--year", "2025", "--db", str(db), "--out", str(out), *args]
    )


# --------------------------------------------------------------------------- refusals


def test_an_output_folder_that_is_a_file_is_refused_in_french(tmp_path, db):
    """`--out` naming a file (or a path through one): a French sentence naming it, exit 2,
    the file untouched."""
    part_year(tmp_path, db)
    taken = tmp_path / "rapport.pdf"
    taken.write_bytes(b"%PDF-1.7 someone else's")
    for out in (taken, taken / "rapports"):
        result = runner.invoke(
            app,
            ["report", "--year", "2025", "--db", str(db), "--out", str(out), "--format", "json"],
            env={"COLUMNS": "400"},  # the long path on one line
        )
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.split())
        reason = "un élément du chemin est un fichier, pas un dossier."
        assert f"Impossible d'écrire les rapports dans {out} : {reason}" in said
        assert "Traceback" not in said and "NotADirectoryError" not in said
    assert taken.read_bytes() == b"%PDF-1.7 someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jan-feb", "rapport.pdf", db.name]


@pytest.mark.parametrize(
    ("centre", "said"),
    [
        ("750000002", "Centre inconnu : le FINESS 750000002"),
        ("75000001", "FINESS mal formé : « 75000001 »"),
        ("75000000A", "FINESS mal formé : « 75000000A »"),
        ("7500000011", "FINESS mal formé"),
    ],
)
def test_a_centre_that_is_not_there_writes_nothing(tmp_path, db, centre, said):
    part_year(tmp_path, db)
    out = tmp_path / "out"
    result = report_cli(db, out, "--centre", centre)
    assert result.exit_code == 2
    assert said in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_year_without_counted_lines_is_refused_for_one_centre_and_for_all(tmp_path, db):
    part_year(tmp_path, db)
    # 2026 holds only a cancelled line: the centre is known, the year has nothing counted.
    steps.ingest(
        make_extract(
            tmp_path / "y2026",
            billing=billing_rows({"act_date": "2026-01-05", "status": "cancelled"}, invoice="F9"),
        ),
        db,
    )
    out = tmp_path / "out"
    for args in (("--centre", FINESS), ()):
        result = runner.invoke(
            app, ["report", "--year", "2026", "--db", str(db), "--out", str(out), *args]
        )
        assert result.exit_code == 2, result.output
        assert "Aucune ligne de facturation comptée" in result.output
        assert not out.exists()


def test_the_all_centres_report_skips_a_centre_without_counted_lines(tmp_path, db):
    """Centre 750000009 only has an episode starting in 2025: no report of 0 patients."""
    part_year(tmp_path, db)
    episode = {
        "centre_finess": "750000009",
        "episode_id": "E1",
        "patient_id": "Q1",
        "start_date": "2025-06-01",
        "reason": "acute",
        "hospital_discharge": "false",
    }
    from tests.support import episode_rows

    steps.ingest(make_extract(tmp_path / "other", episodes=episode_rows(episode)), db)
    paths = steps.report(2025, None, db, tmp_path / "out", ("json",))
    assert [p.parent.parent.name for p in paths] == [FINESS]
    refused = report_cli(db, tmp_path / "o2", "--centre", "750000009")
    assert refused.exit_code == 2 and "Aucune ligne de facturation comptée" in refused.output


def test_the_prefect_runner_refuses_before_its_flow_starts(tmp_path, db):
    """No flow run, hence no task traceback logged by Prefect: the French message alone."""
    part_year(tmp_path, db)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pipeline.cli.app", "report", "--year", "2025", "--runner"]
    command += ["prefect", "--centre", "750000002", "--db", str(db), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2
    assert "Centre inconnu" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not out.exists()


# --------------------------------------------------------------------------- coverage


def test_coverage_of_a_part_year_on_the_cover_and_in_the_workbook(tmp_path, db):
    part_year(tmp_path, db)
    paths = steps.report(2025, FINESS, db, tmp_path / "out", ("json", "html", "xlsx"))
    by_format = {p.suffix.lstrip("."): p for p in paths}
    report = json.loads(by_format["json"].read_text(encoding="utf-8"))
    assert report["meta"]["coverage"] == {
        "first_act_date": "2025-01-03",
        "last_act_date": "2025-02-28",
        "months": [1, 2],
    }
    con = duckdb.connect(str(db), read_only=True)  # the analyst reads the same period
    try:
        assert con.execute(
            "select first_act_date::varchar, last_act_date::varchar, months, counted_lines "
            "from billed_period where centre_finess = ? and year = 2025",
            [FINESS],
        ).fetchall() == [("2025-01-03", "2025-02-28", [1, 2], 3)]
    finally:
        con.close()
    html = by_format["html"].read_text(encoding="utf-8")
    assert "données facturées du 3 janvier 2025 au 28 février 2025" in html
    missing = "mars, avril, mai, juin, juillet, août, septembre, octobre, novembre, décembre"
    assert f"Mois sans données : {missing}." in html
    assert "31 décembre" not in html.split('class="ident"')[1].split("</p>")[0]
    sheet = openpyxl.load_workbook(by_format["xlsx"]).worksheets[0]
    cells = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert cells["Période couverte"] == "données facturées du 3 janvier 2025 au 28 février 2025"
    assert cells["Mois sans données"] == missing


def test_a_whole_year_names_no_missing_month():
    coverage = {"first_act_date": "2025-01-01", "last_act_date": "2025-12-31"}
    coverage["months"] = list(range(1, 13))
    assert formatting.missing_months(coverage) == []
    assert formatting.coverage_text(coverage) == (
        "données facturées du 1er janvier 2025 au 31 décembre 2025"
    )


# --------------------------------------------------------------------------- atomic outputs


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_report_killed_midway_leaves_the_previous_complete_set(tmp_path, db, monkeypatch):
    part_year(tmp_path, db)
    out = tmp_path / "out"
    steps.report(2025, FINESS, db, out, ("json", "html"))
    folder = out / FINESS / "2025"
    before = _files(folder)
    assert sorted(before) == ["annexe3.html", "annexe3.json"]
    # A second load changes the figures; the run is interrupted once the JSON is written.
    steps.ingest(
        make_extract(
            tmp_path / "more", billing=billing_rows({"act_date": "2025-02-11"}, invoice="F2")
        ),
        db,
    )
    real_write = render.Rendering.write

    def interrupted(self, fmt, path):
        if fmt == "html":
            raise KeyboardInterrupt
        real_write(self, fmt, path)

    monkeypatch.setattr(render.Rendering, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        steps.report(2025, FINESS, db, out, ("json", "html"))
    assert _files(folder) == before  # the old set, whole: not the new JSON beside the old HTML
    assert sorted(p.name for p in (out / FINESS).iterdir()) == ["2025"]  # no partial folder
    monkeypatch.undo()
    steps.report(2025, FINESS, db, out, ("json", "html"))
    after = json.loads((folder / "annexe3.json").read_text(encoding="utf-8"))
    assert after["acts"]["AMI"]["count"] == 4  # 3 + the line of the second load
    assert sorted(p.name for p in (out / FINESS).iterdir()) == ["2025"]


def test_a_report_killed_by_sigkill_while_printing_the_pdf_leaves_the_old_set(tmp_path, db):
    """A real `csi report` process, killed (SIGKILL) once its new JSON is written."""
    part_year(tmp_path, db)
    out = tmp_path / "out"
    steps.report(2025, FINESS, db, out, render.FORMATS)
    folder = out / FINESS / "2025"
    before = _files(folder)
    steps.ingest(
        make_extract(
            tmp_path / "more", billing=billing_rows({"act_date": "2025-02-11"}, invoice="F2")
        ),
        db,
    )
    command = [sys.executable, "-m", "pipeline.cli.app", "report", "--year", "2025"]
    command += ["--centre", FINESS, "--db", str(db), "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list((out / FINESS).glob(".2025.partial-*/annexe3.html")):
            assert process.poll() is None, "the report ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait()
    assert _files(folder) == before
    # The next run writes the new set whole, beside the abandoned temporary folder.
    steps.report(2025, FINESS, db, out, render.FORMATS)
    after = json.loads((folder / "annexe3.json").read_text(encoding="utf-8"))
    assert after["acts"]["AMI"]["count"] == 4


def test_replace_folder_swaps_the_whole_set_and_clears_leftovers(tmp_path):
    target = tmp_path / "2025"
    target.mkdir()
    (target / "annexe3.pdf").write_text("old")
    leftover = tmp_path / ".2025.old-123-abcd"  # a run killed between its two renames
    leftover.mkdir()
    abandoned = tmp_path / ".2025.partial-99-abcd"  # a run killed two hours ago
    abandoned.mkdir()
    os.utime(abandoned, (time.time() - 7200, time.time() - 7200))
    live = tmp_path / ".2025.partial-98-abcd"  # another run, writing right now: kept
    live.mkdir()
    new = tmp_path / ".2025.partial-1"
    new.mkdir()
    (new / "annexe3.json").write_text("new")
    render.replace_folder(new, target)
    assert _files(target) == {"annexe3.json": b"new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".2025.partial-98-abcd", "2025"]


@pytest.mark.parametrize(
    "name",
    ["copie d'entrepôt.duckdb", 'l"été 2025.duckdb', "dossier neuf/sous dossier/copie.duckdb"],
)
def test_snapshot_to_any_path(tmp_path, db, name):
    part_year(tmp_path, db)
    destination = tmp_path / "copies" / name
    result = runner.invoke(app, ["snapshot", str(destination), "--db", str(db)])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(destination), read_only=True)
    try:
        assert con.execute("select count(*) from billing_lines").fetchone() == (4,)
        assert con.execute("select count(*) from int_counted_lines").fetchone() == (3,)
    finally:
        con.close()
    assert [p.name for p in destination.parent.iterdir()] == [destination.name]


def test_a_snapshot_that_fails_leaves_nothing_and_the_rerun_works(tmp_path, db, monkeypatch):
    part_year(tmp_path, db)
    destination = tmp_path / "copy.duckdb"
    real_connect = steps.connect

    class Failing:
        """The real read-only connection, whose copy fails as a full disk would."""

        def __init__(self, con):
            self.con = con

        def execute(self, sql, *args):
            if sql.startswith("copy from database"):
                raise duckdb.IOException("No space left on device")
            return self.con.execute(sql, *args)

        def close(self):
            self.con.close()

    monkeypatch.setattr(steps, "connect", lambda *a, **k: Failing(real_connect(*a, **k)))
    result = runner.invoke(app, ["snapshot", str(destination), "--db", str(db)])
    assert result.exit_code == 1
    assert "Copie impossible vers" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir() if "copy" in p.name) == []
    monkeypatch.undo()
    result = runner.invoke(app, ["snapshot", str(destination), "--db", str(db)])
    assert result.exit_code == 0, result.output


def test_a_snapshot_removes_the_copy_a_killed_snapshot_abandoned(tmp_path, db):
    part_year(tmp_path, db)
    destination = tmp_path / "copy.duckdb"
    abandoned = tmp_path / ".copy.duckdb.partial-99999"  # killed yesterday
    abandoned.write_bytes(b"\0" * 4096)
    os.utime(abandoned, (time.time() - 86400, time.time() - 86400))
    running = tmp_path / ".copy.duckdb.partial-99998"  # another copy, writing right now
    running.write_bytes(b"\0")
    result = runner.invoke(app, ["snapshot", str(destination), "--db", str(db)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir() if "copy" in p.name)
    assert names == [".copy.duckdb.partial-99998", "copy.duckdb"]


def test_snapshot_under_a_file_is_refused_in_french(tmp_path, db):
    part_year(tmp_path, db)
    result = runner.invoke(app, ["snapshot", str(db / "copy.duckdb"), "--db", str(db)])
    assert result.exit_code == 1
    assert "est un fichier, pas un dossier" in " ".join(result.output.split())


def test_report_as_of_reads_a_warehouse_whose_path_has_an_apostrophe(tmp_path):
    db = part_year(tmp_path, tmp_path / "l'entrepôt du centre.duckdb")
    paths = steps.report(2025, FINESS, db, tmp_path / "out", ("json",), as_of=1)
    assert json.loads(paths[0].read_text())["acts"]["AMI"]["count"] == 3


# --------------------------------------------------------------------------- reproducible


def test_every_format_is_identical_byte_for_byte_under_source_date_epoch(tmp_path, db, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    part_year(tmp_path, db)
    first = steps.report(2025, FINESS, db, tmp_path / "a", render.FORMATS)
    steps.ingest(
        make_extract(
            tmp_path / "more", billing=billing_rows({"act_date": "2025-04-01"}, invoice="F2")
        ),
        db,
    )
    again = steps.report(2025, FINESS, db, tmp_path / "b", render.FORMATS, as_of=1)
    assert [p.name for p in first] == [f"annexe3.{fmt}" for fmt in render.FORMATS]
    for a, b in zip(first, again, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    with zipfile.ZipFile(first[3]) as book:
        core = book.read("docProps/core.xml").decode()
        assert "2026-01-01T00:00:00Z" in core
        stamps = {info.date_time for info in book.infolist()}
        assert len(stamps) == 1 and min(stamps)[0] == 1980  # XlsxWriter's fixed zip date


# --------------------------------------------------------------------------- render once


def test_html_and_pdf_lay_the_page_out_once(tmp_path, db, monkeypatch):
    part_year(tmp_path, db)
    calls = []
    real = render.to_html

    def counted(report):
        calls.append(report["meta"]["centre_finess"])
        return real(report)

    monkeypatch.setattr(render, "to_html", counted)
    paths = steps.report(2025, FINESS, db, tmp_path / "out", ("html", "pdf"))
    assert calls == [FINESS]
    assert paths[1].read_bytes().startswith(b"%PDF")


def test_the_summary_is_printed_without_a_json_file(tmp_path, db):
    part_year(tmp_path, db)
    result = report_cli(db, tmp_path / "out", "--centre", FINESS, "--format", "html")
    assert result.exit_code == 0, result.output
    assert "Actes AMI" in result.output and "annexe3.html" in result.output
    assert not (tmp_path / "out" / FINESS / "2025" / "annexe3.json").exists()
