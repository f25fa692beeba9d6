"""How the load's refresh runs the models: order, shortcuts, and the same rows either way.

The refresh writes each stored model straight into its table and reads the counted
lines back from the stored line attribution (`READ_FROM`) instead of computing them
again; these tests pin what that shortcut relies on, and that the models' rows are
the same as when the counted lines are computed from their own query.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline.orchestrate import steps
from pipeline.warehouse import database, materialise
from pipeline.warehouse.materialise import READ_FROM, refresh_order, stored_models
from pipeline.warehouse.models import graph, model_order
from tests.support import SAMPLE_DIR, billing_rows, episode_rows, make_extract, patient_rows


def _model_reads(name: str) -> set[str]:
    return set(graph()[name].reads) & set(model_order())


def test_the_refresh_order_runs_every_model_after_its_inputs():
    order = refresh_order()
    assert sorted(order) == sorted(model_order())
    for position, name in enumerate(order):
        assert _model_reads(name) <= set(order[:position]), name


def test_the_attribution_is_stored_before_any_other_reader_of_the_counted_lines():
    order = refresh_order()
    for view, provider in READ_FROM.items():
        readers = [n for n in order if view in _model_reads(n) and n != provider]
        assert readers, view
        assert all(order.index(provider) < order.index(n) for n in readers)


def _stored_rows(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            n: con.execute(f"select * from {n} order by all").fetchall() for n in stored_models()
        }
    finally:
        con.close()


def test_the_counted_lines_are_the_leading_columns_of_the_line_attribution(tmp_path):
    db = tmp_path / "w.duckdb"
    steps.ingest(SAMPLE_DIR, db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        counted = con.execute("select * from int_counted_lines limit 0").description
        attributed = con.execute("select * from int_line_attribution limit 0").description
        assert [(d[0], str(d[1])) for d in attributed[: len(counted)]] == [
            (d[0], str(d[1])) for d in counted
        ]
        listed = ", ".join(d[0] for d in counted)
        total, differing = con.execute(
            f"""select (select count(*) from int_counted_lines),
                (select count(*) from (
                    (select * from int_counted_lines
                     except all select {listed} from int_line_attribution)
                    union all
                    (select {listed} from int_line_attribution
                     except all select * from int_counted_lines)))"""
        ).fetchone()
    finally:
        con.close()
    assert total > 10_000  # the sample's year of counted lines
    assert differing == 0


def test_the_models_are_the_same_when_the_counted_lines_are_computed_again(tmp_path, monkeypatch):
    """The fallback of `_read_from` (a provider without the view's columns) computes the
    counted lines from their own query: every stored row must come out the same."""
    shortcut = tmp_path / "shortcut.duckdb"
    steps.ingest(SAMPLE_DIR, shortcut)
    monkeypatch.setattr(materialise, "READ_FROM", {"int_counted_lines": "int_patient_years"})
    refresh_order.cache_clear()
    try:
        computed = tmp_path / "computed.duckdb"
        steps.ingest(SAMPLE_DIR, computed)
    finally:
        refresh_order.cache_clear()
    # The same key file (the test's secrets folder) pseudonymises both loads alike.
    assert _stored_rows(shortcut) == _stored_rows(computed)


def _small_extract(root: Path, nurse: str | None = None) -> Path:
    return make_extract(
        root,
        billing=billing_rows({"patient_id": "P1", "act_date": "2025-03-02", "nurse_id": nurse}),
        patients=patient_rows({"patient_id": "P1"}),
        episodes=episode_rows({"episode_id": "E1", "patient_id": "P1", "start_date": "2025-03-01"}),
    )


def test_a_load_writes_its_phase_durations_when_asked(tmp_path, monkeypatch):
    log = tmp_path / "phases.jsonl"
    monkeypatch.setenv("CSI_PHASE_LOG", str(log))
    steps.ingest(_small_extract(tmp_path / "x"), tmp_path / "w.duckdb")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    phases = json.loads(lines[0])
    assert set(phases) == {
        "ingest_s",
        "refresh_s",
        "commit_s",
        "peak_rss_mib_ingest",
        "peak_rss_mib",
    }
    assert all(isinstance(v, float | int) and v >= 0 for v in phases.values())
    assert phases["peak_rss_mib"] >= phases["peak_rss_mib_ingest"] > 0


def test_a_refused_load_writes_no_phase_durations(tmp_path, monkeypatch):
    from pipeline.core.errors import InputError

    log = tmp_path / "phases.jsonl"
    monkeypatch.setenv("CSI_PHASE_LOG", str(log))
    bad = billing_rows({"patient_id": "P1", "act_date": "pas une date"})
    with pytest.raises(InputError):
        steps.ingest(make_extract(tmp_path / "bad", billing=bad), tmp_path / "w.duckdb")
    assert not log.exists()


FIRST, BETWEEN, OTHER = "750000001", "800000002", "930000003"


def _centre_rows(finess: str, lines: int) -> dict[str, list[dict]]:
    """One patient of `finess`, chronic from January, with `lines` acts in 2025."""
    person = {"centre_finess": finess, "patient_id": "P1"}
    return {
        "billing": billing_rows(
            *({**person, "act_date": f"2025-0{1 + i}-10"} for i in range(lines)),
            invoice=f"F{finess}",
        ),
        "patients": patient_rows(person),
        "episodes": episode_rows(
            {**person, "episode_id": f"E{finess}", "start_date": "2025-01-05"}
        ),
    }


def _two_loads(tmp_path: Path, db: Path) -> None:
    """Two centres (4 lines each), then a third whose FINESS falls between theirs."""
    first, second = _centre_rows(FIRST, 4), _centre_rows(OTHER, 4)
    both = {table: first[table] + second[table] for table in first}
    steps.ingest(make_extract(tmp_path / "ac", **both), db)
    steps.ingest(make_extract(tmp_path / "b", **_centre_rows(BETWEEN, 1)), db)


def test_new_centres_among_stored_ones_are_refreshed_through_a_copy(tmp_path, monkeypatch):
    """The stored row group of the first two centres spans the third's FINESS: its one
    line would be read among 8, so the group's rows are read from a temporary copy."""
    seen: list[bool] = []
    judged = materialise._scattered

    def spy(zones: list[materialise.Zone], centres: list[str], group_lines: int) -> bool:
        seen.append(judged(zones, centres, group_lines))
        return seen[-1]

    monkeypatch.setattr(materialise, "_scattered", spy)
    # A file name SQL must quote: the zone maps are read all the same.
    _two_loads(tmp_path, tmp_path / 'copie d\'entrepôt "2025".duckdb')
    assert seen == [False, True]  # the first load: nothing committed yet to read around


def test_the_models_are_the_same_whether_or_not_a_group_is_copied(tmp_path, monkeypatch):
    direct, copied = tmp_path / "direct.duckdb", tmp_path / "copied.duckdb"
    monkeypatch.setattr(materialise, "SCATTERED", 10**9)  # never copied
    _two_loads(tmp_path / "d", direct)
    steps.ingest(SAMPLE_DIR, direct)
    monkeypatch.setattr(materialise, "SCATTERED", -1)  # always copied
    _two_loads(tmp_path / "c", copied)
    steps.ingest(SAMPLE_DIR, copied)
    assert _stored_rows(direct) == _stored_rows(copied)


def test_a_load_merges_row_groups_at_its_commit_only_if_it_deleted_rows(tmp_path, monkeypatch):
    """A first load of its scopes deletes nothing: its checkpoint has no row group to vacuum
    (`database.commit`). A replay replaces a line and the stored rows of its scope."""
    from pipeline.load import loader

    merges: list[bool] = []

    def recorded(con: duckdb.DuckDBPyConnection, *, merge_row_groups: bool) -> None:
        merges.append(merge_row_groups)
        database.commit(con, merge_row_groups=merge_row_groups)

    monkeypatch.setattr(loader, "commit", recorded)
    db = tmp_path / "w.duckdb"
    steps.ingest(_small_extract(tmp_path / "first"), db)
    steps.ingest(_small_extract(tmp_path / "replay", nurse="N2"), db)
    assert merges == [False, True]


def test_the_refresh_counts_the_stored_rows_it_replaces(tmp_path):
    db = tmp_path / "w.duckdb"
    steps.ingest(_small_extract(tmp_path / "first"), db)
    con = duckdb.connect(str(db))
    try:
        stored = sum(
            con.execute(f"select count(*) from {n}").fetchone()[0] for n in stored_models()
        )
        con.execute("begin transaction")
        # Load 1 touched the one scope: refreshed again, every stored row is replaced.
        assert materialise.refresh_load(con, 1) == stored > 0
        con.execute("rollback")
    finally:
        con.close()


def test_a_commit_without_merges_restores_the_vacuum_setting():
    con = duckdb.connect()
    try:
        con.execute("set max_vacuum_tasks = 7")
        con.execute("create table t (x integer)")
        con.execute("begin transaction")
        con.execute("insert into t values (1)")
        database.commit(con, merge_row_groups=False)
        assert con.execute(
            "select current_setting('max_vacuum_tasks'), count(*) from t"
        ).fetchone() == (7, 1)
    finally:
        con.close()
