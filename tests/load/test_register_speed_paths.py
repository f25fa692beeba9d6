"""The fast paths of register loading give exactly what the slow ones gave.

Registers are parsed with libyaml when PyYAML has it, and written with one insert per
table. The pure loader stays the reference: same values, same refusals, same French
messages and line numbers, whichever path a file takes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from pipeline.core.errors import Finding, InputError
from pipeline.warehouse.register_tables import REGISTER_DDL, REGISTER_TABLES, write_register
from schemas import register as register_module
from schemas.register import CentreRegister, load_register
from tests.schemas.test_register import CONTRACT_EXAMPLE, MINIMAL

BENCHMARK_REGISTERS = (
    Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "federation-1M" / "registers"
)

needs_libyaml = pytest.mark.skipif(
    register_module._FAST_LOADER is None, reason="PyYAML built without libyaml"
)


def findings(tmp_path: Path, text: str) -> list[Finding]:
    path = tmp_path / "centre.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_register(path)
    return caught.value.findings


def pure(text: str) -> Any:
    return yaml.load(text, Loader=register_module._UniqueKeyLoader)


@pytest.fixture(params=["libyaml", "pure"])
def loader_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once as is, once as if PyYAML had no libyaml."""
    if request.param == "pure":
        monkeypatch.setattr(register_module, "_FAST_LOADER", None)
    elif register_module._FAST_LOADER is None:
        pytest.skip("PyYAML built without libyaml")
    return request.param


# --------------------------------------------------------------------------- parsing


@needs_libyaml
def test_libyaml_reads_the_same_values_as_the_pure_loader() -> None:
    texts = [CONTRACT_EXAMPLE] + [
        p.read_text(encoding="utf-8") for p in sorted(BENCHMARK_REGISTERS.glob("centre*.yaml"))[:5]
    ]
    for text in texts:
        fast = yaml.load(text, Loader=register_module._FAST_LOADER)
        assert repr(fast) == repr(pure(text))


@pytest.mark.parametrize(
    ("text", "rule", "row"),
    [
        (
            "name: a\nname: b\n",
            "YAML invalide (ligne 2, colonne 1) : clé « name » écrite deux fois",
            2,
        ),
        (
            "staff:\n  nurses:\n    - id: A\n      fte: 1\n      fte: 0.5\n",
            "YAML invalide (ligne 5, colonne 7) : clé « fte » écrite deux fois",
            5,
        ),
        (
            "finess: [unclosed\n",
            "YAML invalide (ligne 2, colonne 1) : « , » ou « ] » attendu, trouvé : la fin du "
            "fichier ; un crochet « [ » n'est pas refermé",
            2,
        ),
        (
            "name: Centre\tX\n",
            "YAML invalide (ligne 1, colonne 13) : tabulation interdite : décalez avec des "
            "espaces, ou mettez la valeur entre guillemets",
            1,
        ),
    ],
)
def test_refusal_is_worded_and_placed_as_before(
    tmp_path: Path, loader_path: str, text: str, rule: str, row: int
) -> None:
    """The pure loader's wording and position, even where libyaml words it otherwise."""
    assert findings(tmp_path, text) == [Finding("centre.yaml", rule, row=row)]


def outcome(parse: Any, text: str) -> Any:
    try:
        return repr(parse(text))
    except yaml.YAMLError as exc:
        return str(exc)


@pytest.mark.parametrize(
    "text",
    [
        "name: Centre\tX\n",  # libyaml accepts a tab in a plain scalar
        "a: [b?: c]\n",  # and a `?` inside a flow scalar
        "a: [!, b]\n",  # and the bare `!` tag
        "a: |#\n  b\n",  # and a comment glued to a block scalar header
        "a: 1\n\ufeffb: 2\n",  # and it skips a BOM at the start of any line
    ],
)
def test_where_libyaml_differs_the_pure_loader_reads(text: str) -> None:
    assert register_module._PURE_ONLY.search(text)
    assert outcome(register_module._parse_yaml, text) == outcome(pure, text)


def test_a_leading_bom_is_read_as_before(tmp_path: Path, loader_path: str) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text("\ufeff" + CONTRACT_EXAMPLE, encoding="utf-8")
    assert load_register(path).finess == "750000001"


def test_timestamp_looking_values_stay_text(tmp_path: Path, loader_path: str) -> None:
    path = tmp_path / "centre.yaml"
    text = CONTRACT_EXAMPLE.replace(
        "name: Centre de soins infirmiers Exemple", "name: 2001-12-14t21:59:43.10-05:00"
    )
    path.write_text(text, encoding="utf-8")
    register = load_register(path)
    assert register.name == "2001-12-14t21:59:43.10-05:00"
    assert register.internal_meetings == [dt.date(2025, 1, 14), dt.date(2025, 2, 11)]
    assert register_module._parse_yaml("a: 2025-01-14 10:00\n") == {"a": "2025-01-14 10:00"}


# --------------------------------------------------------------------------- writing


def warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for ddl in REGISTER_DDL:
        con.execute(ddl)
    return con


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    return con.execute(
        f"select * exclude (centre_finess, year) from {table} order by all"
    ).fetchall()


def test_one_statement_per_table_keeps_values_and_types() -> None:
    register = CentreRegister.model_validate(
        {
            **MINIMAL,
            "staff": {
                "nurses": [
                    {"id": 7, "fte": 1, "other_competences": ["plaies", "l'éducation"]},
                    {"id": "B", "fte": 0.5, "chemotherapy_qualified": False},
                ]
            },
            "partners": [
                {"name": "P", "nature": "other"},
                {"name": "Q", "nature": "had", "meetings": ["2025-01-02", "2025-03-04"]},
            ],
            "trainings": [
                {"kind": "local", "description": "d", "nurses_trained": 3, "days": 2},
                {"kind": "local", "description": "e"},
            ],
            "internships": [{"school": "S", "weeks": 2.5}],
        }
    )
    con = warehouse()
    write_register(con, register, "centre.yaml", 1)
    assert rows(con, "register_nurses") == [
        (1, "7", 1.0, None, ["plaies", "l'éducation"], "nurse"),
        (2, "B", 0.5, False, [], "nurse"),
    ]
    assert rows(con, "register_partners") == [(1, "P", "other", None), (2, "Q", "had", None)]
    assert rows(con, "register_partner_meetings") == [
        (2, "Q", dt.date(2025, 1, 2)),
        (2, "Q", dt.date(2025, 3, 4)),
    ]
    assert rows(con, "register_trainings") == [
        (1, "local", "d", 3, 2.0),
        (2, "local", "e", None, None),
    ]
    assert rows(con, "register_internships") == [(1, "S", None, 2.5)]
    assert rows(con, "register_permanence") == []


def test_rewrite_replaces_only_its_centre_and_year(tmp_path: Path) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text(CONTRACT_EXAMPLE, encoding="utf-8")
    full = load_register(path)
    other_year = full.model_copy(update={"year": 2024})
    con = warehouse()
    write_register(con, full, "centre.yaml", 1)
    write_register(con, other_year, "centre_2024.yaml", 1)
    write_register(con, CentreRegister.model_validate(MINIMAL), "centre.yaml", 2)
    for table in REGISTER_TABLES:
        years = con.execute(f"select distinct year from {table} order by 1").fetchall()
        assert years == ([(2024,), (2025,)] if table == "register_centres" else [(2024,)]), table
    assert con.execute("select load_id from register_centres where year = 2025").fetchall() == [
        (2,)
    ]
