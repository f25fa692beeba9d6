"""The canonical declaration drives the DDL, the pandera models and the profiles' targets.

`pipeline.core.canonical` declares each column once; these tests read each derived
layout where it is used (a real DuckDB warehouse, the pandera models, the profile's
pydantic models) and compare it with the declaration, table by table.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import duckdb
import pytest

from pipeline.core import canonical, labels, reference
from pipeline.core.canonical import LAYOUT, Column, Kind, Range, Table
from pipeline.core.errors import InputError
from pipeline.extract.profiles import TablesModel, parse_profile
from pipeline.warehouse.schema import create_tables, table_ddl
from schemas import MODELS
from schemas._checks import fr_number
from schemas.register import ActionLevel, PartnerNature, Role, TrainingKind

ROOT = Path(__file__).resolve().parents[2]
LINEAGE = [
    ("load_id", "BIGINT", "NO"),
    ("source_file", "VARCHAR", "YES"),
    ("source_row", "BIGINT", "YES"),
]
# The warehouse's types, as DuckDB reports them, for the declared kinds.
DUCKDB_TYPES = {
    Kind.TEXT: "VARCHAR",
    Kind.INTEGER: "INTEGER",
    Kind.DATE: "DATE",
    Kind.TIME: "TIME",
    Kind.BOOLEAN: "BOOLEAN",
}


def _expected_type(column: Column) -> str:
    if column.kind is Kind.DECIMAL:
        return f"DECIMAL({column.digits},2)"
    if column.allowed:  # an enum of the contract's words, sorted as text
        return "ENUM(" + ", ".join(f"'{word}'" for word in sorted(column.allowed)) + ")"
    return DUCKDB_TYPES[column.kind]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str, str]]]:
    """The columns of a freshly created warehouse file: (name, type, nullable) per table."""
    con = duckdb.connect(str(tmp_path_factory.mktemp("wh") / "warehouse.duckdb"))
    try:
        create_tables(con)
        rows = con.execute(
            "select table_name, column_name, data_type, is_nullable "
            "from information_schema.columns where table_schema = 'main' "
            "order by table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    tables: dict[str, list[tuple[str, str, str]]] = {}
    for table, *column in rows:
        tables.setdefault(table, []).append(tuple(column))
    return tables


@pytest.mark.parametrize("table", list(LAYOUT))
def test_the_warehouse_stores_the_declared_columns_key_first(table, stored):
    layout = LAYOUT[table]
    key = [c for c in layout.columns if c.name in layout.key]
    key.sort(key=lambda c: layout.key.index(c.name))
    rest = [c for c in layout.columns if c.name not in layout.key]
    expected = [
        (c.name, _expected_type(c), "YES" if c.nullable else "NO") for c in [*key, *rest]
    ] + LINEAGE
    assert stored[layout.stored_as] == expected
    # The history holds the same columns, then the load that replaced the row.
    assert stored[f"{layout.stored_as}_history"] == [
        (name, kind, "YES") for name, kind, _ in expected
    ] + [("replaced_by_load", "BIGINT", "YES")]


def test_the_warehouse_layout_is_the_one_earlier_versions_created(stored):
    """Existing warehouses keep working: the order and types worked out from the old DDL."""
    assert [c for c, _, _ in stored["billing_lines"]] == [
        "centre_finess", "invoice_id", "line_no", "patient_id", "nurse_id", "act_date",
        "act_time", "act_code", "coefficient", "quantity", "amount_eur", "status",
        "episode_id", "load_id", "source_file", "source_row",
    ]  # fmt: skip
    types = {c: (t, n) for c, t, n in stored["billing_lines"]}
    assert types["coefficient"] == ("DECIMAL(8,2)", "YES")
    assert types["quantity"] == ("DECIMAL(12,2)", "NO")  # default 1: never null once read
    assert types["line_no"] == ("INTEGER", "NO")
    assert types["status"] == ("ENUM('billed', 'cancelled', 'rejected')", "NO")
    episodes = {c: n for c, _, n in stored["episodes"]}
    assert episodes["hospital_discharge"] == "NO"  # default false
    assert episodes["end_date"] == "YES"


def test_a_declared_table_gives_its_ddl():
    """A new column, a new key or new digits change the DDL with nothing else to edit."""
    table = Table(
        "visits",
        "visit_rows",
        ("visit_no",),
        (
            Column("note", Kind.TEXT),
            Column("visit_no", Kind.INTEGER, required=True),
            Column("fee", Kind.DECIMAL, default="0", digits=5),
            Column("mode", Kind.TEXT, allowed=("home", "centre")),
        ),
    )
    assert table_ddl(table) == (
        "create table if not exists visit_rows (visit_no INTEGER not null, note VARCHAR, "
        "fee DECIMAL(5,2) not null, mode ENUM('centre', 'home'), load_id bigint not null, "
        "source_file varchar, source_row bigint)"
    )


@pytest.mark.parametrize("table", list(LAYOUT))
def test_the_pandera_model_checks_the_declared_columns(table):
    layout, model = LAYOUT[table], MODELS[table]
    assert list(model.columns) == [c.name for c in layout.columns]
    assert model.unique == list(layout.key)
    for column in layout.columns:
        checked = model.columns[column.name]
        assert checked.nullable is column.nullable, column.name
        assert (
            str(checked.dtype)
            == {
                Kind.TEXT: "String",
                Kind.INTEGER: "Int64",
                Kind.DECIMAL: "Float64",
                Kind.DATE: "Date",
                Kind.TIME: "Time",
                Kind.BOOLEAN: "Boolean",
            }[column.kind]
        ), column.name
        stats = {k.name: k.statistics for k in checked.checks}
        allowed = stats.get("isin", {}).get("allowed_values")
        assert tuple(allowed or ()) == column.allowed, column.name
        assert stats.get("str_matches", {}).get("pattern") == column.pattern, column.name


def _bounds(checks: list) -> Range | None:
    stats = {k.name: k.statistics for k in checks}
    if "in_range" in stats:
        return Range(stats["in_range"]["min_value"], stats["in_range"]["max_value"])
    low = stats.get("greater_than_or_equal_to") or stats.get("greater_than")
    high = stats.get("less_than_or_equal_to")
    if low is None or high is None:
        return None
    return Range(low["min_value"], high["max_value"], "greater_than" in stats)


def test_the_billing_bounds_are_the_declared_ones():
    model = MODELS["billing"]
    numbers = [c for c in LAYOUT["billing"].columns if c.kind in (Kind.INTEGER, Kind.DECIMAL)]
    assert {c.name: _bounds(model.columns[c.name].checks) for c in numbers} == {
        c.name: c.range for c in numbers
    }
    # The contract's figures (data-contract.md, "Bad input").
    assert LAYOUT["billing"].column("quantity").range == Range(0, 9_999, low_open=True)
    assert LAYOUT["billing"].column("line_no").range == Range(1, 2_147_483_647)


def test_the_bounds_are_worded_in_french():
    assert fr_number(2_147_483_647) == "2 147 483 647"
    assert fr_number(-99_999.99) == "-99 999,99"
    assert fr_number(99.99) == "99,99"
    assert fr_number(0) == "0"
    errors = [k.error for k in MODELS["billing"].columns["amount_eur"].checks]
    assert "le montant doit être compris entre -99 999,99 et 99 999,99 €" in errors


@pytest.mark.parametrize("table", list(LAYOUT))
def test_the_profile_targets_are_the_declared_columns(table):
    block = TablesModel.model_fields[table].annotation
    model = next(a for a in get_args(block) if a is not type(None))
    names = [c.name for c in LAYOUT[table].columns]
    for part in ("columns", "values", "defaults"):
        fields = next(a for a in get_args(model.model_fields[part].annotation) if a is not None)
        assert list(fields.model_fields) == names, (table, part)


def test_a_profile_admits_the_declared_values_only(tmp_path: Path):
    path = tmp_path / "logiciel.yaml"
    path.write_text(
        "tables:\n  episodes:\n    values:\n      reason: {A: acute, X: chronique}\n"
        "    defaults:\n      referral_origin: unknown\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as refused:
        parse_profile(path)
    (finding,) = refused.value.findings
    assert finding.column == "tables.episodes.values.reason.X"
    assert finding.rule == "valeur canonique attendue (permises : acute, chronic, palliative)"
    path.write_text(path.read_text().replace("chronique", "chronic"), encoding="utf-8")
    profile = parse_profile(path)
    assert profile.tables["episodes"].values == {"reason": {"A": "acute", "X": "chronic"}}


def test_the_defaults_are_the_declared_ones():
    assert canonical.DEFAULTS == {
        "billing": {"quantity": "1", "status": "billed"},
        "patients": {},
        "episodes": {"hospital_discharge": "false"},
    }
    assert canonical.WAREHOUSE_TABLES == {
        "billing": "billing_lines",
        "patients": "patients",
        "episodes": "episodes",
    }


def test_the_labels_name_every_declared_value():
    """Labels are keyed by the declared values: a new value needs its French label."""
    assert tuple(labels.REASONS) == canonical.REASONS
    assert tuple(labels.REFERRAL_ORIGINS) == canonical.REFERRAL_ORIGINS
    assert tuple(labels.CARE_TYPES) == (*canonical.DISCHARGE_CARE_TYPES, "unknown")
    assert tuple(labels.ROLES) == get_args(Role)
    assert tuple(labels.PARTNER_NATURES) == get_args(PartnerNature)
    assert tuple(labels.PREVENTION_LEVELS) == get_args(ActionLevel)
    assert tuple(labels.TRAINING_KINDS) == get_args(TrainingKind)
    assert set(reference.COEFFICIENT_FAMILIES) <= set(labels.ACT_FAMILIES)
    assert len(labels.MONTHS) == len(labels.MONTHS_SHORT) == 12


def _string_sequences(path: Path) -> list[tuple[int, tuple[str, ...]]]:
    """Every literal tuple, list or set of three strings or more in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        strings = isinstance(node, ast.Tuple | ast.List | ast.Set) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
        )
        if strings and len(node.elts) >= 3:
            found.append((node.lineno, tuple(e.value for e in node.elts)))
    return found


# Each small fact and the one module that spells it out.
FACTS = {
    **{
        values: "pipeline/core/canonical.py"
        for values in (
            canonical.STATUSES, canonical.SEXES, canonical.OCCUPATIONS, canonical.COVERAGES,
            canonical.COMPLEMENTARIES, canonical.REASONS, canonical.REFERRAL_ORIGINS,
            canonical.DISCHARGE_CARE_TYPES,
        )
    },
    reference.COEFFICIENT_FAMILIES: "pipeline/core/reference.py",
    tuple(labels.MONTHS): "pipeline/core/labels.py",
    get_args(PartnerNature): "schemas/register.py",
    get_args(ActionLevel): "schemas/register.py",
    get_args(TrainingKind): "schemas/register.py",
}  # fmt: skip


def test_each_small_fact_is_spelled_out_in_one_module():
    modules = [*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "schemas").rglob("*.py")]
    copies = [
        f"{path.relative_to(ROOT)}:{line} repeats {values}"
        for path in modules
        for line, values in _string_sequences(path)
        if values in FACTS and str(path.relative_to(ROOT)) != FACTS[values]
    ]
    assert copies == []
