"""The centre register in the warehouse: one normalized table per list of the register.

An analyst queries the register like any other data (`select * from register_nurses`).
Every table starts with (`centre_finess`, `year`): a newer register of the same
centre × year replaces the older one entirely. A column is NULL where the register
lacks the key; whether a whole list was absent or empty is kept in `register_json`
(`json_type(register_json, '$.partners')` is `'NULL'` when absent, `'ARRAY'` when
declared), because "absent" must evaluate as unknown and "empty" as not met.
`entry_no` is the 1-based position of the entry in its register list, so that the
report lists things in the order the centre wrote them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import duckdb

from schemas.register import CentreRegister

_KEY = "centre_finess varchar not null, year integer not null"

REGISTER_DDL: list[str] = [
    f"""create table if not exists register_centres ({_KEY},
        name varchar, transmission_log boolean, planning_formalised boolean,
        external_data_procedure boolean, flu_vaccination_gp_info boolean,
        access_24_7 boolean, phone_message_outside_hours boolean, charter_displayed boolean,
        care_directory_updated date, coordinator_nurse varchar,
        patient_file_specific boolean, patient_file_computerised boolean,
        patient_file_shared boolean, patient_file_mobile_access boolean,
        patient_file_dmp_secure_messaging boolean,
        register_json varchar, source_file varchar, load_id bigint)""",
    f"""create table if not exists register_nurses ({_KEY}, entry_no integer,
        nurse_id varchar, fte double, chemotherapy_qualified boolean,
        other_competences varchar[], role varchar)""",
    f"""create table if not exists register_secretaries ({_KEY}, entry_no integer,
        fte double)""",
    f"""create table if not exists register_internal_meetings ({_KEY}, entry_no integer,
        meeting_date date)""",
    f"""create table if not exists register_partners ({_KEY}, entry_no integer,
        partner_name varchar, nature varchar, convention_signed date)""",
    f"""create table if not exists register_partner_meetings ({_KEY},
        partner_entry_no integer, partner_name varchar, meeting_date date)""",
    f"""create table if not exists register_permanence ({_KEY}, entry_no integer,
        description varchar)""",
    f"""create table if not exists register_actions ({_KEY}, entry_no integer,
        kind varchar, title varchar, level varchar, action_date date)""",
    f"""create table if not exists register_trainings ({_KEY}, entry_no integer,
        kind varchar, description varchar, nurses_trained integer, days double)""",
    f"""create table if not exists register_internships ({_KEY}, entry_no integer,
        school varchar, start_date date, weeks double)""",
]

# Named once, in their DDL: the list follows the tables (deletes, audit copies).
REGISTER_TABLES: list[str] = [
    re.findall(r"create table if not exists (\w+)", ddl)[0] for ddl in REGISTER_DDL
]

_CENTRE_FLAGS = (
    "transmission_log",
    "planning_formalised",
    "external_data_procedure",
    "flu_vaccination_gp_info",
    "access_24_7",
    "phone_message_outside_hours",
    "charter_displayed",
)
_PATIENT_FILE = ("specific", "computerised", "shared", "mobile_access", "dmp_secure_messaging")


def register_json(register: CentreRegister) -> str:
    """The whole register as deterministic JSON (sorted keys, ISO dates, absent = null)."""
    return json.dumps(register.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


def _centre_row(register: CentreRegister, source_file: str, load_id: int) -> list[Any]:
    pf = register.patient_file
    return [
        register.name,
        *(getattr(register, flag) for flag in _CENTRE_FLAGS),
        register.care_directory_updated,
        register.coordinator_nurse,
        *(getattr(pf, key) if pf else None for key in _PATIENT_FILE),
        register_json(register),
        source_file,
        load_id,
    ]


def _list_rows(register: CentreRegister) -> dict[str, list[list[Any]]]:
    """Rows (without the centre × year key) of every list table of the register."""
    partners = register.partners or []
    actions = [
        ["prevention", a.title, a.level, a.date] for a in register.prevention_actions or []
    ] + [["promotion", a.title, None, a.date] for a in register.promotion_actions or []]
    return {
        "register_nurses": [
            [n.id, n.fte, n.chemotherapy_qualified, list(n.other_competences), n.role]
            for n in register.staff.nurses
        ],
        "register_secretaries": [[s.fte] for s in register.staff.secretaries],
        "register_internal_meetings": [[d] for d in register.internal_meetings or []],
        "register_partners": [[p.name, p.nature, p.convention_signed] for p in partners],
        "register_permanence": [[text] for text in register.permanence or []],
        "register_actions": actions,
        "register_trainings": [
            [t.kind, t.description, t.nurses_trained, t.days] for t in register.trainings or []
        ],
        "register_internships": [[i.school, i.start, i.weeks] for i in register.internships or []],
    }


def _partner_meeting_rows(register: CentreRegister) -> list[list[Any]]:
    return [
        [number, p.name, day]
        for number, p in enumerate(register.partners or [], start=1)
        for day in p.meetings
    ]


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, key: list[Any], rows: Sequence[list[Any]]
) -> None:
    """Insert all the rows in one statement: one list parameter a column, unnested.

    `executemany` runs one statement per row: ≈ 30 ms a centre, the bulk of loading a
    federation's registers. A list a column keeps the statement as small as a one-row
    insert; DuckDB casts each value to its column's type, as before.
    """
    if not rows:
        return
    columns = [list(column) for column in zip(*rows, strict=True)]
    picks = ", ".join(f"unnest(${n})" for n in range(len(key) + 1, len(key) + len(columns) + 1))
    keys = ", ".join(f"${n}" for n in range(1, len(key) + 1))
    con.execute(f"insert into {table} select {keys}, {picks}", [*key, *columns])


def _stored_tables(con: duckdb.DuckDBPyConnection, key: list[Any]) -> list[str]:
    """The register tables holding rows of this centre × year, in one query.

    A first load stores each centre × year once: asking once spares the ten deletes
    that would each scan a table to find nothing.
    """
    found = " union all ".join(
        f"(select '{table}' from {table} where centre_finess = $1 and year = $2 limit 1)"
        for table in REGISTER_TABLES
    )
    stored = {row[0] for row in con.execute(found, key).fetchall()}
    return [table for table in REGISTER_TABLES if table in stored]


def write_register(
    con: duckdb.DuckDBPyConnection, register: CentreRegister, source_file: str, load_id: int
) -> None:
    """Replace everything stored for the register's centre × year with this register.

    Runs inside the caller's transaction (the load is all or nothing), so it neither
    begins nor commits.
    """
    key = [register.finess, register.year]
    for table in _stored_tables(con, key):
        con.execute(f"delete from {table} where centre_finess = ? and year = ?", key)
    _insert(con, "register_centres", key, [_centre_row(register, source_file, load_id)])
    for table, rows in _list_rows(register).items():
        numbered = [[number, *row] for number, row in enumerate(rows, start=1)]
        _insert(con, table, key, numbered)
    _insert(con, "register_partner_meetings", key, _partner_meeting_rows(register))
