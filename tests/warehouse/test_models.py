"""The model graph: headers parsed, checked against the SQL by sqlglot, one order for all."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from pipeline.core.resources import resource_dir
from pipeline.warehouse import materialise
from pipeline.warehouse.models import (
    LAYERS,
    ModelGraphError,
    build_graph,
    graph,
    model_files,
    model_order,
    parse_header,
    parse_reads,
    read_model,
    register_readers,
    source_tables,
)
from pipeline.warehouse.schema import initialise


def sql_reads(sql: str) -> set[str]:
    """The tables a query reads, as sqlglot parses it (duckdb dialect), minus its CTEs.

    Table functions (`range(1, 13) as m(month)`) are no tables.
    """
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = {
        table.name
        for table in tree.find_all(exp.Table)
        if isinstance(table.this, exp.Identifier) and table.name
    }
    return tables - ctes


def _write(root: Path, layer: str, name: str, text: str) -> Path:
    path = root / layer / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _graph_of(root: Path) -> dict[str, object]:
    return dict(build_graph(read_model(p, p.parent.name) for p in model_files(root)))


# --- headers ---------------------------------------------------------------------------


def test_the_header_is_the_leading_comment_block_its_grain_and_reads_lines():
    text = (
        "-- grain: one centre × year\n"
        "-- reads: int_centre_years, register_centres\n"
        "-- inputs: a prose line, not a key the graph reads\n"
        "select 1\n"
        "-- reads: billing_lines\n"  # after the SQL started: a comment, not the header
    )
    header = parse_header(text, "sql/marts/x.sql")
    assert header == {"grain": "one centre × year", "reads": "int_centre_years, register_centres"}
    assert parse_reads(header["reads"], "x") == {"int_centre_years", "register_centres"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- reads: billing_lines\nselect 1", "no `-- grain: …` line"),
        ("-- grain: one line\nselect 1", "no `-- reads: …` line"),
        ("-- grain: one line\n-- reads:\nselect 1", "no `-- reads: …` line"),
        ("select 1\n-- grain: one line\n-- reads: billing_lines", "no `-- grain: …` line"),
        ("-- grain: a\n-- grain: b\n-- reads: billing_lines\nselect 1", "two `grain:` lines"),
    ],
)
def test_a_header_without_its_lines_is_refused(text: str, message: str):
    with pytest.raises(ModelGraphError, match="sql/marts/x.sql: .*" + message.replace("…", ".")):
        parse_header(text, "sql/marts/x.sql")


@pytest.mark.parametrize(
    "value", ["billing_lines; patients", "billing_lines,, patients", "main.billing_lines"]
)
def test_reads_holds_plain_comma_separated_names(value: str):
    with pytest.raises(ModelGraphError, match="not table or model names"):
        parse_reads(value, "sql/marts/x.sql")


def test_a_name_read_twice_is_refused():
    with pytest.raises(ModelGraphError, match="names a table twice"):
        parse_reads("patients, patients", "sql/marts/x.sql")


# --- the package's models ----------------------------------------------------------------


def test_one_model_per_sql_file_each_with_its_layer_and_grain():
    files = {
        p.stem: p.parent.name
        for layer in LAYERS
        for p in (resource_dir("sql") / layer).glob("*.sql")
    }
    assert {name: m.layer for name, m in graph().items()} == files
    assert len(files) == 29
    assert all(m.grain.startswith("one ") for m in graph().values())


@pytest.mark.parametrize("name", model_order())
def test_the_header_names_exactly_the_tables_the_sql_reads(name: str):
    model = graph()[name]
    assert sql_reads(model.sql) == set(model.reads), (
        f"sql/{model.layer}/{name}.sql: fix its `-- reads:` line"
    )


def test_the_sqlglot_check_catches_a_header_that_forgets_a_table():
    visits = graph()["int_visits"]
    stale = visits.sql.replace("ngap_families, ", "")
    header = parse_reads(parse_header(stale, "int_visits")["reads"], "int_visits")
    assert header == {"int_line_attribution", "stg_patients"}
    assert sql_reads(stale) - header == {"ngap_families"}


def test_every_model_comes_after_every_model_it_reads():
    order = model_order()
    position = {name: i for i, name in enumerate(order)}
    edges = [(read, name) for name, m in graph().items() for read in m.models_read]
    assert len(edges) == 42  # counted by hand from the 29 headers
    assert all(position[read] < position[name] for read, name in edges)
    # Level by level, alphabetical within a level: the registers' marts read tables only.
    assert order[:5] == ("means", "staff", "stg_billing_lines", "stg_episodes", "stg_patients")
    assert order[-3:] == ("billing_audit", "monthly_totals", "quality")


def test_the_models_a_register_change_recomputes_are_its_readers_and_theirs():
    # Direct: int_centre_years (register_centres), int_quality_findings (register_nurses),
    # means and staff; through them: clientele, monthly, monthly_totals, quality.
    assert register_readers() == {
        "int_centre_years",
        "int_quality_findings",
        "means",
        "staff",
        "clientele",
        "monthly",
        "monthly_totals",
        "quality",
    }
    assert materialise.register_models() == (
        "means",
        "staff",
        "int_centre_years",
        "clientele",
        "int_quality_findings",
        "monthly",
        "monthly_totals",
        "quality",
    )


def test_the_materialisation_policy_names_models_of_the_graph():
    names = set(model_order())
    assert set(materialise.VIEW_MODELS) <= names
    assert set(materialise.READ_FROM) <= set(materialise.VIEW_MODELS)
    assert set(materialise.READ_FROM.values()) <= set(materialise.stored_models())
    assert set(materialise.stored_models()) == names - set(materialise.VIEW_MODELS)


def test_the_tables_models_may_read_are_those_a_new_warehouse_holds(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        initialise(con)
        tables = {
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main'"
            ).fetchall()
        }
    finally:
        con.close()
    assert source_tables() <= tables
    read = {r for m in graph().values() for r in m.reads} - set(model_order())
    assert read <= source_tables()


# --- injected bad graphs -------------------------------------------------------------------


def test_a_model_tree_is_read_from_its_headers(tmp_path: Path):
    _write(tmp_path, "staging", "stg_a", "-- grain: one a\n-- reads: billing_lines\nselect 1")
    _write(tmp_path, "marts", "m_b", "-- grain: one b\n-- reads: stg_a, register_nurses\nselect 1")
    _write(tmp_path, "intermediate", "int_c", "-- grain: one c\n-- reads: stg_a\nselect 1")
    assert list(_graph_of(tmp_path)) == ["stg_a", "int_c", "m_b"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            [("staging", "stg_a", "billing_line")],
            r"sql/staging/stg_a.sql: `reads:` names \['billing_line'\], neither a model nor",
        ),
        (
            [("intermediate", "int_a", "int_b"), ("intermediate", "int_b", "int_a")],
            r"in a cycle among \['int_a', 'int_b'\]",
        ),
        (
            [("staging", "stg_a", "int_b"), ("intermediate", "int_b", "billing_lines")],
            r"sql/staging/stg_a.sql: a staging model reads \['int_b'\] of a higher layer",
        ),
        ([("marts", "m_a", "m_a")], "sql/marts/m_a.sql: a model cannot read itself"),
        (
            [("staging", "dup", "patients"), ("marts", "dup", "patients")],
            "two models are named dup",
        ),
    ],
)
def test_a_bad_graph_is_refused_naming_the_file(
    tmp_path: Path, files: list[tuple[str, str, str]], message: str
):
    for layer, name, reads in files:
        _write(tmp_path, layer, name, f"-- grain: one row\n-- reads: {reads}\nselect 1")
    with pytest.raises(ModelGraphError, match=message):
        _graph_of(tmp_path)
