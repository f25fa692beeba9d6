"""Fuzz `csi ingest` with seeded mutations of the sample (data contract, "Bad input").

Every case runs `csi ingest` as a subprocess on a copy of a warehouse pre-loaded with the
clean sample (cut to 300 billing lines) and must answer: exit 1 with a French message
naming the file (or exit 0 for inputs the contract says load, e.g. CR-only endings), no
traceback or exception class name, at most 16 000 characters of output, the warehouse
exactly as before, no staged file left in the temp dir, within 60 s and 1 GiB.

The fast slice (`test_fuzz_case`, one case per input class) runs in CI. The long run
(every class on both layouts, and 400 seeded random mutations) is deselected unless
asked for: `pytest --fuzz-long -m fuzz_long tests/extract/test_fuzz.py` (about 15 min on 2 cores).

The cases of the session run two at a time (one per core) as soon as the first of them is
asked for; each test then waits for its own.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from tests.extract.fuzzing import (
    FRENCH_PROFILE,
    SAMPLE_DIR,
    YES_NO_PROFILE,
    Case,
    Mutation,
    Outcome,
    add_column,
    alias_bomb,
    at_row,
    child_env,
    cr_only,
    deep_nesting,
    describe,
    drop_column,
    duplicate_column,
    edit,
    french_cell,
    french_file,
    french_header,
    insert_at,
    many_aliases,
    mixed_endings,
    oversized_register,
    parquet_billing,
    preload,
    problems,
    python_tag,
    ragged,
    random_cases,
    reencode,
    rename_header,
    replace_file,
    rewrite_csv,
    run_case,
    run_csi,
    set_cell,
    truncate_mid_line,
    truncate_mid_quote,
    write_yes_no_profile,
    xlsx_bomb,
    xlsx_lying_size,
)

BILLING = "billing_2025.csv"
PATIENTS = "patients.csv"
EPISODES = "episodes.csv"
REGISTER = "centre_2025.yaml"
XLSX = "billing_2025.xlsx"
PARQUET = "billing_2025.parquet"
HUGE = "x" * 200_000  # over the 131 072 characters of Python's csv field limit


def cell(name: str, row: int, column: str, value: str, expect: int | None = 1, **kw) -> Case:
    """A canonical case writing one value into one cell; a refusal must name the column."""
    words = (column,) if expect == 1 else ()
    label = value if len(value) < 20 else f"{len(value)}chars"
    return Case(
        f"{Path(name).stem}-{column}={label}",
        name,
        set_cell(name, row, column, value),
        expect,
        words=words,
        **kw,
    )


def french(table: str, row: int, column: str, value: str, expect: int | None = 1) -> Case:
    """A `logiciel-fr` case writing one value into one cell of a French export."""
    return Case(
        f"fr-{table}-{column}={value}",
        french_file(table),
        french_cell(table, row, column, value),
        expect,
        base="french",
        profile=FRENCH_PROFILE,
        words=(f"{french_header(table, column)}|{column}",) if expect == 1 else (),
    )


def _xlsx_bomb(extract: Path) -> None:
    source = extract / XLSX
    bomb = xlsx_bomb(source, extract / "bomb.tmp")
    bomb.replace(source)


def _xlsx_lie(extract: Path) -> None:
    source = extract / XLSX
    xlsx_lying_size(source, extract / "lie.tmp").replace(source)


def _french_empty_discharge(extract: Path) -> None:
    french_cell("episodes", 1, "hospital_discharge", "")(extract)
    write_yes_no_profile(extract)


def _nul_past_64k(data: bytes) -> bytes:
    assert len(data) > 70_000, "the case needs a file over 64 KiB"
    return insert_at(data, len(data) - 200, b"\x00")


FACTURES = "factures.csv"
_SAME = {"expect": 0, "same_data": True}


def _fr_rows(change, huge: bool = False) -> Mutation:
    """A mutation of the French billing file's rows (`;`, cp1252); `huge`: a 200 000-char status."""

    def rows(table: list[list[str]]) -> list[list[str]]:
        table = change(table)
        if huge:
            table[4][table[0].index("Statut")] = HUGE
        return table

    return rewrite_csv(FACTURES, rows, delimiter=";", encoding="cp1252")


def _register() -> bytes:
    """The sample's own register, the base of the register cases that keep it valid."""
    return (SAMPLE_DIR / REGISTER).read_bytes()


NUMBERS = (
    [cell(BILLING, 1, "quantity", v) for v in ("1e308", "inf", "NaN", "-1", "10000")]
    + [cell(BILLING, 1, "amount_eur", v) for v in ("99999999999999", "1e308", "-inf", "nan")]
    + [cell(BILLING, 1, "line_no", v) for v in ("2147483648", "99999999999999", "-1", "1.5")]
    + [cell(BILLING, 1, "coefficient", v) for v in ("1e308", "inf", "NaN", "100")]
)

BOUNDARIES = [  # the largest values the warehouse stores: they load
    cell(BILLING, 1, "line_no", "2147483647", expect=0),
    cell(BILLING, 1, "quantity", "9999", expect=0),
    cell(BILLING, 1, "amount_eur", "99999.99", expect=0),
    cell(BILLING, 1, "coefficient", "99.99", expect=0),
]

DATES = [
    cell(BILLING, 2, "act_time", "12:00:61"),
    cell(BILLING, 2, "act_time", "12:60"),
    cell(BILLING, 2, "act_time", "25:00"),
    cell(BILLING, 2, "act_date", "2025-02-30"),
    cell(BILLING, 2, "act_date", "2025-13-01"),
    cell(PATIENTS, 3, "birth_date", "1960-02-30"),
    cell(EPISODES, 3, "start_date", "2025-02-30"),
]

TEXT = [
    Case(
        "billing-nul-first-row",
        BILLING,
        edit(BILLING, lambda d: at_row(d, 1, lambda r: r + b"\x00")),
    ),
    Case("billing-nul-past-64k", BILLING, edit(BILLING, _nul_past_64k), lines=1500),
    Case("patients-nul-in-header", PATIENTS, edit(PATIENTS, lambda d: insert_at(d, 3, b"\x00"))),
    Case("billing-stray-quote", BILLING, edit(BILLING, lambda d: at_row(d, 5, lambda r: b'"' + r))),
    Case(
        "billing-stray-quote-1500",
        BILLING,
        edit(BILLING, lambda d: at_row(d, 3, lambda r: r.replace(b",", b',"', 1))),
        lines=1500,
    ),
    Case(
        "billing-stray-quote-whole-sample",
        BILLING,
        edit(BILLING, lambda d: at_row(d, 3, lambda r: r.replace(b",", b',"', 1))),
        lines=40_000,
        max_seconds=20,
    ),
    Case("billing-truncated-mid-line", BILLING, edit(BILLING, truncate_mid_line)),
    Case("billing-truncated-mid-quote", BILLING, edit(BILLING, truncate_mid_quote)),
    Case("billing-cr-only", BILLING, edit(BILLING, cr_only), expect=0, same_data=True),
    Case(
        "billing-crlf",
        BILLING,
        edit(BILLING, lambda d: d.replace(b"\n", b"\r\n")),
        expect=0,
        same_data=True,
    ),
    # The contract speaks of CR-only files; a lone CR amid LF lines may be a CR inside a value:
    # loading the sample's rows or refusing them at their rows are both right.
    Case(
        "billing-mixed-endings", BILLING, edit(BILLING, mixed_endings), expect=None, same_data=True
    ),
    Case("episodes-cr-only", EPISODES, edit(EPISODES, cr_only), expect=0, same_data=True),
    Case(
        "billing-utf8-bom",
        BILLING,
        edit(BILLING, lambda d: b"\xef\xbb\xbf" + d),
        expect=0,
        same_data=True,
    ),
    Case("episodes-cp1252-read-as-utf8", EPISODES, edit(EPISODES, reencode("utf-8", "cp1252"))),
    Case("billing-utf16", BILLING, edit(BILLING, reencode("utf-8", "utf-16"))),
    Case("patients-utf16-le", PATIENTS, edit(PATIENTS, reencode("utf-8", "utf-16-le"))),
    cell(BILLING, 4, "status", HUGE),
    Case(
        "episodes-huge-free-text",
        EPISODES,
        set_cell(EPISODES, 1, "discharge_care_detail", HUGE),
        expect=None,
    ),
    Case(
        "billing-huge-quoted-field",
        BILLING,
        edit(BILLING, lambda d: at_row(d, 2, lambda r: r + b',"' + HUGE.encode() + b'"')),
    ),
    Case("billing-20000-fields-line", BILLING, rewrite_csv(BILLING, ragged(3, 20_000))),
    Case(
        "billing-2mb-line",
        BILLING,
        edit(BILLING, lambda d: at_row(d, 3, lambda r: b"y" * 2_000_000)),
    ),
    Case("billing-short-row", BILLING, rewrite_csv(BILLING, ragged(7, -2))),
    Case("billing-long-row", BILLING, rewrite_csv(BILLING, ragged(7, 1))),
    Case(
        "billing-duplicated-header",
        BILLING,
        rewrite_csv(BILLING, rename_header("nurse_id", "act_date")),
        words=("act_date",),
    ),
    Case(
        "billing-duplicated-column",
        BILLING,
        rewrite_csv(BILLING, duplicate_column("amount_eur")),
        words=("amount_eur",),
    ),
    Case(
        "patients-duplicated-header",
        PATIENTS,
        rewrite_csv(PATIENTS, rename_header("postcode", "sex")),
        words=("sex",),
    ),
    Case(
        "billing-missing-column",
        BILLING,
        rewrite_csv(BILLING, drop_column("act_code")),
        words=("act_code",),
    ),
    Case(
        "billing-extra-column",
        BILLING,
        rewrite_csv(BILLING, add_column("commentaire", "x")),
        expect=None,
    ),
    Case("billing-empty-file", BILLING, edit(BILLING, lambda d: b"")),
    Case("billing-binary", BILLING, edit(BILLING, lambda d: bytes(range(256)) * 64)),
]

REGISTERS = [
    Case("register-alias-bomb", REGISTER, replace_file(REGISTER, alias_bomb)),
    Case(
        "register-101-aliases", REGISTER, replace_file(REGISTER, lambda: many_aliases(_register()))
    ),
    Case("register-nesting-10000", REGISTER, replace_file(REGISTER, lambda: deep_nesting(10_000))),
    Case("register-nesting-25", REGISTER, replace_file(REGISTER, lambda: deep_nesting(25))),
    Case("register-python-tag", REGISTER, python_tag),
    Case("register-6mb", REGISTER, replace_file(REGISTER, lambda: oversized_register(_register()))),
    Case("register-nul", REGISTER, edit(REGISTER, lambda d: insert_at(d, 40, b"\x00"))),
    Case("register-cp1252", REGISTER, edit(REGISTER, reencode("utf-8", "cp1252"))),
    Case("register-utf16", REGISTER, edit(REGISTER, reencode("utf-8", "utf-16"))),
    Case("register-truncated-mid-quote", REGISTER, edit(REGISTER, lambda d: d[:12])),
]

WORKBOOKS = [
    Case("xlsx-clean", XLSX, lambda e: None, expect=0, base="xlsx", same_data=True),
    Case("xlsx-zip-bomb", XLSX, _xlsx_bomb, base="xlsx"),
    Case("xlsx-lying-size", XLSX, _xlsx_lie, base="xlsx", expect=None),
    Case("xlsx-truncated", XLSX, edit(XLSX, lambda d: d[: len(d) // 2]), base="xlsx"),
    Case("xlsx-not-a-zip", XLSX, edit(XLSX, lambda d: b"PK\x03\x04" + d[100:]), base="xlsx"),
]

PARQUETS = [
    Case("parquet-clean", PARQUET, parquet_billing(), expect=0),
    Case(
        "parquet-int64-overflow",
        PARQUET,
        parquet_billing(
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 4)
                .then(2**62)
                .otherwise(pl.col("line_no"))
                .alias("line_no")
            )
        ),
        words=("line_no",),
    ),
    Case(
        "parquet-line-no-2147483648",
        PARQUET,
        parquet_billing(
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 4)
                .then(2147483648)
                .otherwise(pl.col("line_no"))
                .alias("line_no")
            )
        ),
        words=("line_no",),
    ),
    Case(
        "parquet-list-column",
        PARQUET,
        parquet_billing(
            lambda f: f.with_columns(pl.concat_list("patient_id", "patient_id").alias("patient_id"))
        ),
        words=("patient_id",),
    ),
    Case(
        "parquet-float-inf",
        PARQUET,
        parquet_billing(
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 2)
                .then(float("inf"))
                .otherwise(pl.col("quantity").cast(pl.Float64))
                .alias("quantity")
            )
        ),
        words=("quantity",),
    ),
    Case(
        "parquet-truncated",
        PARQUET,
        lambda e: (
            parquet_billing()(e),
            (e / PARQUET).write_bytes((e / PARQUET).read_bytes()[:-300]),
        ),
    ),
]

FRENCH = [
    Case(
        "fr-clean",
        "factures.csv",
        lambda e: None,
        expect=0,
        base="french",
        profile=FRENCH_PROFILE,
        same_data=True,
    ),
    Case(
        "fr-cr-only",
        "factures.csv",
        edit("factures.csv", cr_only),
        expect=0,
        base="french",
        profile=FRENCH_PROFILE,
        same_data=True,
    ),
    Case(
        "fr-empty-cell-with-oui-non-profile",
        "prises_en_charge.csv",
        _french_empty_discharge,
        expect=0,
        base="french",
        profile=YES_NO_PROFILE,
        same_data=True,
    ),
    Case(
        "fr-utf8-instead-of-cp1252",
        "factures.csv",
        edit("factures.csv", reencode("cp1252", "utf-8")),
        base="french",
        profile=FRENCH_PROFILE,
    ),
    Case(
        "fr-comma-delimiter",
        "factures.csv",
        edit("factures.csv", lambda d: d.replace(b";", b",")),
        base="french",
        profile=FRENCH_PROFILE,
    ),
    Case(
        "fr-nul",
        "factures.csv",
        edit("factures.csv", lambda d: insert_at(d, 500, b"\x00")),
        base="french",
        profile=FRENCH_PROFILE,
    ),
    Case(
        "fr-stray-quote",
        "factures.csv",
        edit("factures.csv", lambda d: at_row(d, 2, lambda r: b'"' + r)),
        base="french",
        profile=FRENCH_PROFILE,
    ),
    french("billing", 1, "act_date", "30/02/2025"),
    french("billing", 1, "act_time", "12h61"),
    french("billing", 1, "act_time", "12:00:61"),
    french("billing", 1, "amount_eur", "99999999999999"),
    french("billing", 1, "quantity", "1e308"),
    french("billing", 1, "coefficient", "inf"),
    french("billing", 1, "line_no", "2147483648"),
    french("patients", 2, "birth_date", "31/04/1950"),
    Case(
        "fr-xlsx-clean",
        "factures.xlsx",
        lambda e: None,
        expect=0,
        base="french-xlsx",
        profile=FRENCH_PROFILE,
        same_data=True,
    ),
    *(
        Case(f"fr-{name}", FACTURES, mutate, base="french", profile=FRENCH_PROFILE, **kw)
        for name, mutate, kw in (
            ("utf16", edit(FACTURES, reencode("cp1252", "utf-16")), {}),
            ("crlf", edit(FACTURES, lambda d: d.replace(b"\n", b"\r\n")), _SAME),
            ("truncated", edit(FACTURES, lambda d: d[: len(d) // 2]), {"expect": None}),
            ("duplicated-header", _fr_rows(rename_header("Infirmière", "Date soin")), {}),
            ("missing-column", _fr_rows(drop_column("Lettre clé")), {}),
            ("huge-field", _fr_rows(lambda rows: rows, huge=True), {}),
            ("short-row", _fr_rows(ragged(6, -1)), {}),
        )
    ),
]

FAST_NAMES = (
    "billing_2025-quantity=1e308",
    "billing_2025-quantity=inf",
    "billing_2025-amount_eur=99999999999999",
    "billing_2025-line_no=2147483648",
    "billing_2025-coefficient=NaN",
    "billing_2025-line_no=2147483647",
    "billing_2025-act_time=12:00:61",
    "billing_2025-act_date=2025-02-30",
    "billing-nul-first-row",
    "billing-nul-past-64k",
    "billing-stray-quote-whole-sample",
    "billing-truncated-mid-line",
    "billing-truncated-mid-quote",
    "billing-cr-only",
    "billing-mixed-endings",
    "episodes-cp1252-read-as-utf8",
    "billing-utf16",
    "billing_2025-status=200000chars",
    "billing-huge-quoted-field",
    "billing-20000-fields-line",
    "billing-short-row",
    "billing-duplicated-header",
    "billing-duplicated-column",
    "billing-missing-column",
    "billing-empty-file",
    "billing-binary",
    "register-alias-bomb",
    "register-101-aliases",
    "register-nesting-10000",
    "register-python-tag",
    "register-6mb",
    "register-cp1252",
    "xlsx-zip-bomb",
    "xlsx-not-a-zip",
    "parquet-int64-overflow",
    "parquet-list-column",
    "parquet-float-inf",
    "fr-clean",
    "fr-cr-only",
    "fr-empty-cell-with-oui-non-profile",
    "fr-comma-delimiter",
    "fr-billing-act_time=12h61",
)
TARGETED = [*NUMBERS, *BOUNDARIES, *DATES, *TEXT, *REGISTERS, *WORKBOOKS, *PARQUETS, *FRENCH]
_by_name = {case.name: case for case in TARGETED}
FAST = [*(_by_name[name] for name in FAST_NAMES), *random_cases(range(3))]
LONG = [
    *(case for case in TARGETED if case.name not in FAST_NAMES),
    *random_cases(range(3, 403)),
]
WORKERS = max(1, min(2, os.cpu_count() or 1))


class Runs:
    """The session's fuzz runs: started in the background, two at a time, awaited by name."""

    def __init__(self, root: Path, cases: list[Case]) -> None:
        self.root = root
        self.db, self.secrets = preload(root / "pristine")
        self.pool = ThreadPoolExecutor(WORKERS)
        self.futures: dict[str, Future] = {}
        for case in cases:
            self.submit(case)

    def submit(self, case: Case) -> Future:
        if case.name not in self.futures:
            self.futures[case.name] = self.pool.submit(
                run_case, case, self.db, self.secrets, self.root / "cases"
            )
        return self.futures[case.name]

    def result(self, case: Case) -> Outcome:
        return self.submit(case).result()


@pytest.fixture(scope="session")
def fuzz_runs(request, tmp_path_factory):
    """Every selected fuzz case, started as soon as the first of them is asked for."""
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "callspec", None) and isinstance(item.callspec.params.get("case"), Case)
    ]
    runs = Runs(tmp_path_factory.mktemp("fuzz"), selected)
    yield runs
    runs.pool.shutdown(wait=True, cancel_futures=True)


def _check(case: Case, fuzz_runs: Runs) -> None:
    outcome = fuzz_runs.result(case)
    if problems(case, outcome):
        pytest.fail(describe(case, outcome), pytrace=False)


def test_the_harness_kills_a_hang_and_a_memory_hog(tmp_path):
    """The bounds are real: a child over them is killed and reported, not waited for."""
    env = child_env(tmp_path / "secrets", tmp_path)
    *_, verdict = run_csi(["ingest", str(tmp_path)], env, tmp_path, timeout=0.05)
    assert verdict == "timeout"
    *_, verdict = run_csi(["ingest", str(tmp_path)], env, tmp_path, memory_limit_kb=20_000)
    assert verdict == "memory"


def test_the_harness_sees_a_load_that_should_have_been_refused(fuzz_runs):
    """A case that loads new data, judged as if it had to be refused, breaks two rules."""
    case = _by_name["billing_2025-line_no=2147483647"]
    outcome = fuzz_runs.result(case)
    assert outcome.code == 0
    found = problems(replace(case, expect=1), outcome)
    assert "exit code 0, expected 1" in found
    changed = [p for p in found if p.startswith("the warehouse changed")]
    assert changed and "'billing_lines'" in changed[0] and "'loads'" in changed[0]
    assert problems(case, outcome) == []  # judged as the load it is, nothing is wrong


def test_case_names_are_unique():
    names = [c.name for c in FAST + LONG]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", FAST, ids=lambda c: c.name)
def test_fuzz_case(case: Case, fuzz_runs):
    _check(case, fuzz_runs)


@pytest.mark.fuzz_long
@pytest.mark.parametrize("case", LONG, ids=lambda c: c.name)
def test_fuzz_long(case: Case, fuzz_runs):
    _check(case, fuzz_runs)
