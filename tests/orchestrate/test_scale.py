"""Scale: streamed validation keeps the exact error semantics; grouped reports keep the figures.

Small batches stand for big files here: with a 4 KiB CSV block a few dozen lines make
several batches, so that what crosses a batch boundary (a duplicate, a row number, a
quoted newline) is tested on files that run in milliseconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.core.errors import InputError
from pipeline.extract import readers
from pipeline.orchestrate import fanout, steps
from tests.support import billing_rows, make_extract, patient_rows, write_table


@pytest.fixture(autouse=True)
def small_batches(monkeypatch, tmp_path):
    monkeypatch.setattr(readers, "CSV_BATCH_ROWS", 50)
    monkeypatch.setattr(readers, "BATCH_ROWS", 50)
    monkeypatch.setenv("CSI_SECRETS_DIR", str(tmp_path / "secrets"))


def _lines(count: int, invoice: str = "F1", **values) -> list[dict]:
    return billing_rows(
        *({"act_date": "2025-03-02", **values} for _ in range(count)), invoice=invoice
    )


def _count(db: Path, table: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchall()[0][0]
    finally:
        con.close()


def test_a_long_file_is_read_in_several_batches(tmp_path):
    extract = make_extract(
        tmp_path / "e", billing=_lines(500), patients=patient_rows({"patient_id": "P1"})
    )
    source = readers.SourceFile("billing", extract / "billing.csv")
    from pipeline.extract.profiles import load_profile

    batches = list(readers.source_batches(source, load_profile(None)))
    assert len(batches) > 3
    rows = [r for b in batches for r in b.get_column(readers.ROW).to_list()]
    assert rows == list(range(1, 501))


def test_duplicate_across_batches_and_files_is_refused_and_nothing_written(tmp_path):
    db = tmp_path / "wh.duckdb"
    lines = _lines(300)
    lines[280]["line_no"] = 3  # same key as row 3, several batches earlier
    extract = make_extract(tmp_path / "e", billing=lines)
    write_table(extract / "billing_2.csv", "billing", _lines(1))  # same key as row 1
    with pytest.raises(InputError) as refused:
        steps.ingest(extract, db)
    found = {(f.file, f.row) for f in refused.value.findings}
    assert found == {
        ("billing.csv", 3),
        ("billing.csv", 281),
        ("billing.csv", 1),
        ("billing_2.csv", 1),
    }
    assert all("répétée" in f.rule for f in refused.value.findings)
    assert not db.exists()  # the first load, refused: no warehouse is left behind


def test_bad_value_and_ragged_row_far_in_the_file_name_their_rows(tmp_path):
    db = tmp_path / "wh.duckdb"
    lines = _lines(400)
    lines[350]["act_date"] = "2025-02-30"
    with pytest.raises(InputError) as refused:
        steps.ingest(make_extract(tmp_path / "e", billing=lines), db)
    assert [(f.row, f.column) for f in refused.value.findings] == [(351, "act_date")]

    ragged = tmp_path / "r"
    make_extract(ragged, billing=_lines(400))
    text = (ragged / "billing.csv").read_text(encoding="utf-8").splitlines()
    text[301] = ",".join(text[301].split(",")[:5])  # data row 301 loses its last fields
    (ragged / "billing.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        steps.ingest(ragged, db)
    assert refused.value.findings[0].row == 301
    assert "5 colonnes au lieu de 13" in refused.value.findings[0].rule


def test_quoted_newline_across_a_block_boundary(tmp_path):
    db = tmp_path / "wh.duckdb"
    extract = make_extract(tmp_path / "e", billing=_lines(200))
    make_extract(
        extract,
        patients=patient_rows({"patient_id": "P1", "postcode": "75010"}),
    )
    episodes = "centre_finess,episode_id,patient_id,start_date,reason,discharge_care_detail\n"
    detail = '"' + "pansement\nquotidien " * 400 + '"'  # longer than one block
    episodes += f"750000001,E1,P1,2025-01-01,chronic,{detail}\n750000001,E2,P1,2025-06-01,acute,\n"
    (extract / "episodes.csv").write_text(episodes, encoding="utf-8")
    summary = steps.ingest(extract, db)
    assert summary.rows_inserted == 200 + 1 + 2
    con = duckdb.connect(str(db), read_only=True)
    kept = con.execute("select discharge_care_detail from episodes where episode_id = 'E1'")
    assert kept.fetchall()[0][0].count("\n") == 400
    con.close()


def test_replays_across_batches_replace_and_leave_unchanged(tmp_path):
    db = tmp_path / "wh.duckdb"
    first = _lines(300)
    steps.ingest(make_extract(tmp_path / "m1", billing=first), db)
    second = _lines(300)
    for row in second[100:150]:
        row["status"] = "cancelled"
    summary = steps.ingest(make_extract(tmp_path / "m2", billing=second), db)
    assert (summary.rows_inserted, summary.rows_replaced, summary.rows_unchanged) == (0, 50, 250)
    assert _count(db, "billing_lines_history") == 50
    again = steps.ingest(make_extract(tmp_path / "m3", billing=second), db)
    assert (again.rows_inserted, again.rows_replaced, again.rows_unchanged) == (0, 0, 300)


def test_duplicate_of_an_unchanged_row_is_still_found(tmp_path):
    db = tmp_path / "wh.duckdb"
    steps.ingest(make_extract(tmp_path / "m1", billing=_lines(120)), db)
    replay = _lines(120)
    replay.append(dict(replay[0]))  # identical to a stored row, twice in the extract
    with pytest.raises(InputError) as refused:
        steps.ingest(make_extract(tmp_path / "m2", billing=replay), db)
    assert {f.row for f in refused.value.findings} == {1, 121}


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    """Three centres of the sample generator loaded into one warehouse."""
    from data.samplegen import generate_sample

    root = tmp_path_factory.mktemp("federation")
    secrets = root / "secrets"
    extract = root / "extract"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CSI_SECRETS_DIR", str(secrets))
        for number, finess in enumerate(("750000001", "670000002", "930000003")):
            generate_sample(root / finess, 2025, 7 + number, finess)
        extract.mkdir()
        for table in ("billing_2025.csv", "patients.csv", "episodes.csv"):
            parts = [
                (root / f / table).read_text(encoding="utf-8").splitlines()
                for f in ("750000001", "670000002", "930000003")
            ]
            body = [parts[0][0]] + [line for part in parts for line in part[1:]]
            (extract / table.replace(".csv", "_all.csv")).write_text(
                "\n".join(body) + "\n", encoding="utf-8"
            )
        for finess in ("750000001", "670000002", "930000003"):
            (extract / f"centre_{finess}.yaml").write_bytes(
                (root / finess / "centre_2025.yaml").read_bytes()
            )
        db = root / "wh.duckdb"
        steps.ingest(extract, db)
    return db


def _without_time(report: dict) -> dict:
    report["meta"].pop("generated_at", None)
    return report


@pytest.mark.parametrize(
    "group_lines", [40_000, 10_000_000], ids=["a-centre-per-group", "one-group"]
)
def test_grouped_reports_equal_reports_read_from_the_views(
    federation, tmp_path, monkeypatch, group_lines
):
    """Whether a group holds one centre (two threads) or all three (each report query run
    once for the group, `pipeline.report.scoped.GroupReader`), every report is the one read
    centre by centre (`CentreReader`)."""
    from pipeline.report.build import build_report
    from pipeline.report.scoped import CentreReader
    from pipeline.warehouse.database import connect

    monkeypatch.setattr(fanout, "GROUP_LINES", group_lines)
    heard: list[str] = []
    paths = steps.report(
        2025,
        db=federation,
        out=tmp_path / "out",
        formats=("json",),
        on_report=lambda report: heard.append(report["meta"]["centre_finess"]),
    )
    assert len(paths) == 3
    assert heard == ["670000002", "750000001", "930000003"]  # FINESS order, whatever the groups
    con = connect(federation, read_only=True)
    try:
        for path in paths:
            grouped = json.loads(path.read_text(encoding="utf-8"))
            finess = grouped["meta"]["centre_finess"]
            plain = json.loads(
                json.dumps(build_report(CentreReader(con), finess, 2025), default=str)
            )
            assert _without_time(grouped) == _without_time(plain)
    finally:
        con.close()


def test_groups_follow_the_order_the_lines_are_stored_in(federation):
    """Stored order (750…, 670…, 930…), not FINESS order: a group then reads few row groups."""
    from pipeline.warehouse.database import connect

    con = connect(federation, read_only=True)
    try:
        centres = ["670000002", "750000001", "930000003", "990000009"]  # the last has no line
        assert fanout.centre_groups(con, centres, lines=1) == [
            ["750000001"],
            ["670000002"],
            ["930000003"],
            ["990000009"],
        ]
        assert fanout.centre_groups(con, centres, lines=10_000_000) == [
            ["750000001", "670000002", "930000003", "990000009"]
        ]
    finally:
        con.close()


@pytest.mark.slow  # starts a local Dask cluster: about a minute
def test_report_flow_on_a_local_dask_cluster(federation, tmp_path, monkeypatch):
    pytest.importorskip("prefect_dask")
    from prefect.testing.utilities import prefect_test_harness

    from pipeline.orchestrate.flows import dask_report_flow

    monkeypatch.setattr(fanout, "GROUP_LINES", 40_000)
    with prefect_test_harness(server_startup_timeout=120):
        paths = dask_report_flow(n_workers=2)(
            2025, None, str(federation), str(tmp_path / "dask"), ("json",)
        )
    assert sorted(Path(p).parent.parent.name for p in paths) == [
        "670000002",
        "750000001",
        "930000003",
    ]
    threads = steps.report(2025, db=federation, out=tmp_path / "threads", formats=("json",))
    for path in threads:
        other = tmp_path / "dask" / path.relative_to(tmp_path / "threads")
        assert _without_time(json.loads(other.read_text())) == _without_time(
            json.loads(path.read_text())
        )


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli.app", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.mark.slow  # starts a local Dask cluster: about a minute
def test_csi_report_on_a_local_dask_cluster_writes_the_direct_reports(federation, tmp_path):
    """`csi report --runner dask`: Prefect's Dask task runner, same reports as the threads."""
    pytest.importorskip("prefect_dask")
    env = {"CSI_REPORT_WORKERS": "2", "PREFECT_LOGGING_LEVEL": "ERROR"}
    common = ["report", "--year", "2025", "--db", str(federation), "--format", "json"]
    dask = _cli(*common, "--out", str(tmp_path / "dask"), "--runner", "dask", env=env)
    assert dask.returncode == 0, dask.stderr[-2000:]
    direct = _cli(*common, "--out", str(tmp_path / "direct"), "--workers", "2")
    assert direct.returncode == 0, direct.stderr[-2000:]
    written = sorted((tmp_path / "direct").rglob("annexe3.json"))
    assert [p.parent.parent.name for p in written] == ["670000002", "750000001", "930000003"]
    for path in written:
        other = tmp_path / "dask" / path.relative_to(tmp_path / "direct")
        assert _without_time(json.loads(other.read_text())) == _without_time(
            json.loads(path.read_text())
        )
    # Both list the centres in FINESS order.
    assert dask.stdout.index("670000002") < dask.stdout.index("750000001")


def test_csi_report_refuses_as_of_outside_the_direct_runner(federation, tmp_path):
    result = _cli(
        "report", "--year", "2025", "--db", str(federation), "--as-of", "1", "--runner", "prefect"
    )
    assert result.returncode == 2
    assert "--as-of ne s'utilise qu'avec --runner direct" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    unknown = _cli("report", "--year", "2025", "--db", str(federation), "--runner", "spark")
    assert unknown.returncode == 2
    assert "Exécuteur inconnu : spark" in unknown.stderr


def test_many_centres_print_one_line_each_not_a_summary_each(federation):
    """With hundreds of centres, `csi report` prints one table (a row per centre) and a count
    of files; up to three centres keep their detailed summaries."""
    from rich.console import Console

    from pipeline.cli.app import _print_reports
    from pipeline.render.formatting import french_number
    from pipeline.report.build import build_report
    from pipeline.report.scoped import CentreReader
    from pipeline.warehouse.database import connect

    con = connect(federation, read_only=True)
    try:
        reports = [
            json.loads(json.dumps(build_report(CentreReader(con), finess, 2025), default=str))
            for finess in ("670000002", "750000001", "930000003")
        ]
    finally:
        con.close()
    fourth = json.loads(json.dumps(reports[0]))
    fourth["meta"]["centre_finess"] = "990000009"
    reports.append(fourth)
    paths = [Path("out") / r["meta"]["centre_finess"] / "2025" / "annexe3.json" for r in reports]
    console = Console(record=True, width=250)
    _print_reports(console, reports, paths, None)
    text = console.export_text()
    assert "4 centres · 2025" in text
    assert text.count("Assurés pris en charge") == 1  # a column header, not a summary each
    for report in reports:
        finess = report["meta"]["centre_finess"]
        row = next(line for line in text.splitlines() if finess in line)
        assert french_number(report["clientele"]["insured_patients"]) in row
    assert "Écrit : 4 fichiers, un dossier par centre sous out" in text
