"""The bare baseline: one plain DuckDB script, no validation, no history, no report.

Why: it tells what the machine can do with the same files. It loads the extract into a
DuckDB file (types guessed by DuckDB), then computes the figures of annexe 3 section 3
(acts by NGAP family, coefficient and code, for all lines and for the hospital-discharge
cohort) and section 2's monthly patients and entries by reason, for every centre, with
the pipeline's counting rules (billed lines, NGAP family at the act date, line attributed
to the episode it names, else to the covering episode that started last).

`python benchmarks/bare_duckdb.py EXTRACT_DIR DB` prints one JSON line: load and
aggregate seconds, and the figures the benchmark compares with `csi report`; with
`--load-only` after DB, the load's seconds only.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

NGAP = (
    Path(__file__).resolve().parent.parent
    / "pipeline"
    / "core"
    / "reference_data"
    / "ngap_reference.csv"
)
TABLES = {"billing_lines": "billing", "patients": "patients", "episodes": "episodes"}

AGGREGATES = """
create temp table ref as select * from read_csv('{ngap}') where zone = 'metropole';

create temp table lines as
select b.centre_finess, b.invoice_id, b.line_no, b.patient_id, b.act_date, b.act_code,
       b.coefficient, b.quantity, b.amount_eur, b.episode_id,
       year(b.act_date) as year, month(b.act_date) as month, r.family
from billing_lines b
left join ref r on r.code = b.act_code and b.act_date >= r.valid_from
    and (r.valid_to is null or b.act_date <= r.valid_to)
where b.status = 'billed';

create temp table attributed as
with ranked as (
    select l.centre_finess, l.invoice_id, l.line_no, e.episode_id, e.reason,
           e.hospital_discharge,
           row_number() over (
               partition by l.centre_finess, l.invoice_id, l.line_no
               order by (e.episode_id = l.episode_id) desc, e.start_date desc, e.episode_id
           ) as rank
    from lines l
    join episodes e on e.centre_finess = l.centre_finess and e.patient_id = l.patient_id
        and (e.episode_id = l.episode_id
             or (l.act_date >= e.start_date and (e.end_date is null or l.act_date <= e.end_date)))
)
select l.*, r.episode_id as attributed, r.reason, coalesce(r.hospital_discharge, false) as cohort
from lines l
left join ranked r on r.centre_finess = l.centre_finess and r.invoice_id = l.invoice_id
    and r.line_no = l.line_no and r.rank = 1;

create temp table section3 as
select centre_finess, year, scope, family,
       case when family = 'IK' then count(*) else sum(quantity) end as count,
       sum(coalesce(coefficient, 0) * quantity)
           filter (where family in ('AMI', 'AMX', 'AIS', 'DSI')) as coefficient_total,
       sum(quantity) filter (where family = 'IK') as km,
       sum(amount_eur) as amount_eur
from (select 'all' as scope, * from attributed
      union all select 'hospital_discharge', * from attributed where cohort)
where family is not null
group by centre_finess, year, scope, family;

create temp table by_coefficient as
select centre_finess, year, scope, family, coefficient, sum(quantity) as count
from (select 'all' as scope, * from attributed
      union all select 'hospital_discharge', * from attributed where cohort)
where family in ('AMI', 'AMX', 'AIS', 'DSI')
group by all;

create temp table by_code as
select centre_finess, year, scope, family, act_code, sum(quantity) as count
from (select 'all' as scope, * from attributed
      union all select 'hospital_discharge', * from attributed where cohort)
where family is not null
group by all;

create temp table monthly as
select centre_finess, year, month,
       count(distinct patient_id) filter (where reason = 'acute') as acute_patients,
       count(distinct patient_id) filter (where reason = 'chronic') as chronic_patients,
       count(distinct patient_id) filter (where reason = 'palliative') as palliative_patients,
       count(distinct patient_id) filter (where attributed is null) as unattributed_patients
from attributed
group by all;

create temp table monthly_entries as
select centre_finess, year(start_date) as year, month(start_date) as month,
       count(*) filter (where reason = 'acute') as acute_entries,
       count(*) filter (where reason = 'chronic') as chronic_entries,
       count(*) filter (where reason = 'palliative') as palliative_entries
from episodes
group by all;
"""


def _source(directory: Path, stem: str) -> str:
    parquet = sorted(directory.glob(f"{stem}*.parquet"))
    if parquet:
        return f"read_parquet({[str(p) for p in parquet]})"
    return f"read_csv({[str(p) for p in sorted(directory.glob(f'{stem}*.csv'))]})"


def load(con: duckdb.DuckDBPyConnection, directory: Path) -> int:
    for table, stem in TABLES.items():
        con.execute(f"create table {table} as select * from {_source(directory, stem)}")
    con.execute("checkpoint")
    return con.execute("select count(*) from billing_lines").fetchall()[0][0]


def aggregates(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    for statement in AGGREGATES.format(ngap=NGAP).split(";"):
        if statement.strip():
            con.execute(statement)
    return {
        name: con.execute(f"select * from {name} order by all").fetchall()
        for name in ("section3", "by_coefficient", "by_code", "monthly", "monthly_entries")
    }


def figures(results: dict[str, list]) -> dict[str, object]:
    """A few figures per centre, to check that csi reports the same numbers."""
    acts = {
        f"{row[0]}/{row[1]}/{row[2]}/{row[3]}": [float(row[4] or 0), float(row[5] or 0)]
        for row in results["section3"]
    }
    chronic = {f"{r[0]}/{r[1]}/{r[2]}": r[4] for r in results["monthly"]}
    return {"acts": acts, "chronic_patients": chronic}


Loader = Callable[[duckdb.DuckDBPyConnection, Path], int]


def timed_load(loader: Loader, directory: Path, db: Path) -> tuple[float, int]:
    """(seconds, billing lines) of `loader` filling the DuckDB file `db` from `directory`,
    opening and closing the file included (as `csi ingest` pays them)."""
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    lines = loader(con, directory)
    con.close()
    return time.perf_counter() - started, lines


def main(argv: list[str]) -> None:
    directory, db = Path(argv[0]), Path(argv[1])
    load_s, lines = timed_load(load, directory, db)
    if argv[2:] == ["--load-only"]:
        print(json.dumps({"load_s": load_s, "billing_lines": lines}))
        return
    loaded = time.perf_counter()
    con = duckdb.connect(str(db))
    results = aggregates(con)
    con.close()
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "load_s": load_s,
                "aggregates_s": done - loaded,
                "billing_lines": lines,
                "figures": figures(results),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
