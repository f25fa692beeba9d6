"""`pipeline.report.verify`: two reports compared figure by figure, inputs checked first."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.report.verify import MissingInputs, check_inputs, differences, missing_inputs


def test_differences_name_every_changed_path_and_ignore_the_generation_stamp():
    expected = {
        "meta": {"generated_at": "2026-01-01", "year": 2025},
        "acts": {"AMI": {"count": 10}, "AIS": {"count": 3}},
        "monthly": [{"month": 1, "patients": 4}, {"month": 2, "patients": 5}],
    }
    actual = {
        "meta": {"generated_at": "2026-12-02", "year": 2025},
        "acts": {"AMI": {"count": 11}},
        "monthly": [{"month": 1, "patients": 4}, {"month": 2, "patients": 6}],
    }
    assert differences(expected, actual) == [
        "acts.AIS: {'count': 3} → None",
        "acts.AMI.count: 10 → 11",
        "monthly[1].patients: 5 → 6",
    ]
    assert differences(expected, expected) == []


def test_lists_of_different_lengths_are_one_difference():
    assert differences({"a": [1, 2]}, {"a": [1]}) == ["a: [1, 2] → [1]"]


def test_inputs_absent_from_the_warehouse_are_named(tmp_path):
    db = tmp_path / "wh.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table load_files (file_name varchar, sha256 varchar)")
        con.execute("insert into load_files values ('billing.csv', 'aa'), ('patients.csv', 'bb')")
    inputs = [
        {"file": "billing.csv", "sha256": "aa"},
        {"file": "patients.csv", "sha256": "cc"},  # same name, other content
        {"file": "episodes.csv", "sha256": "dd"},
    ]
    with duckdb.connect(str(db), read_only=True) as con:
        assert missing_inputs(con, inputs) == inputs[1:]
    with pytest.raises(MissingInputs) as refused:
        check_inputs(db, {"inputs": inputs})
    assert refused.value.missing == inputs[1:]
    assert "2 des 3 fichier(s) source" in str(refused.value)
    check_inputs(db, {"inputs": inputs[:1]})  # all there: no error


def test_a_warehouse_never_loaded_misses_every_input(tmp_path):
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    with duckdb.connect(str(db), read_only=True) as con:
        assert missing_inputs(con, [{"file": "billing.csv", "sha256": "aa"}]) == [
            {"file": "billing.csv", "sha256": "aa"}
        ]


@pytest.mark.parametrize(
    "meta",
    [
        {"centre_finess": "750000001", "year": "2025", "as_of_load": 1, "inputs": []},
        {"centre_finess": "750000001", "year": 2025, "as_of_load": True, "inputs": []},
        {"centre_finess": 750000001, "year": 2025, "as_of_load": 1, "inputs": []},
        {"centre_finess": "750000001", "year": 2025, "as_of_load": 1},  # no inputs at all
    ],
)
def test_a_json_that_is_not_a_csi_report_is_refused_before_any_query(tmp_path, meta):
    """Valid JSON of another shape: a French refusal (exit 2), not DuckDB's type error."""
    import json

    from typer.testing import CliRunner

    from pipeline.cli.app import app

    db = tmp_path / "wh.duckdb"
    duckdb.connect(str(db)).close()
    report = tmp_path / "annexe3.json"
    report.write_text(json.dumps({"meta": meta}), encoding="utf-8")
    result = CliRunner().invoke(app, ["verify", str(report), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "n'ont pas la forme d'un rapport de csi" in " ".join(result.output.split())
    assert "Traceback" not in result.output and "DuckDB" not in result.output
