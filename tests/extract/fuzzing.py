"""Fuzzing harness for `csi ingest`: seeded mutations of the sample extract, one subprocess each.

Why a subprocess per case: a hang, a runaway allocation or a crash of a bad input must fail
that case, not the test run. Each case gets its own copy of a warehouse pre-loaded with the
clean sample, its own secrets folder and its own temporary folder, so that the checks can
be exact: the warehouse must be the snapshot it was before (every base table's row count and
content fingerprint, the `loads` register included), no staged file may be left behind, and
the output must be French words naming the file, never a traceback or an exception class.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from tests.extract.frenchify import FILE_NAMES, frenchify

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"
CUT_LINES = 300
TIMEOUT_S = 60.0
MAX_OUTPUT_CHARS = 16_000  # a refusal a secretary can read: 30 findings of ~200 characters
MEMORY_LIMIT_KB = 1024 * 1024  # 1 GiB, the bound for any input
XLSX_BOMB_BYTES = 520 * 1024 * 1024  # just over the contract's 500 MB
FRENCH_PROFILE = "logiciel-fr"

# Tables whose content a load that must succeed on identical data may not change; the
# audit tables (`loads`, `load_files`, …) legitimately gain the new load's rows.
AUDIT_TABLES = frozenset({"loads", "load_files", "load_file_scopes", "register_versions"})

_EXCEPTION_NAME = re.compile(r"\b(?:[A-Z][A-Za-z0-9_]*)?(?:Error|Exception|Warning)\b|_csv\.")

Mutation = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One fuzzed input: how to damage a clean extract and what `csi ingest` must answer.

    `expect` is the exit code (1: refused, 0: must load); None means either a clean load
    or a clean refusal (random mutations that may or may not break a rule).
    `same_data`: on exit 0, the data tables must be exactly the pre-loaded ones (the input
    is the sample written another way: CR endings, BOM, French profile…).
    """

    name: str
    file: str
    mutate: Mutation
    expect: int | None = 1
    base: str = "canonical"  # canonical | french | xlsx
    profile: str | None = None
    same_data: bool = False
    lines: int = CUT_LINES
    words: tuple[str, ...] = ()  # words a refusal must say (e.g. a column), "a|b": either
    max_seconds: float = TIMEOUT_S  # a tighter bound where the contract says "in seconds"


@dataclass
class Outcome:
    """What one subprocess did, and what it left behind."""

    code: int | None
    output: str
    elapsed: float
    peak_kb: int
    verdict: str  # "exited", "timeout" or "memory"
    before: dict[str, tuple[int, int]]
    after: dict[str, tuple[int, int]] | None
    work: Path
    leftovers: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- extracts


def small_extract(target: Path, lines: int = CUT_LINES) -> Path:
    """The sample cut to `lines` billing lines (patients, episodes, register whole)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("patients.csv", "episodes.csv", "centre_2025.yaml"):
        shutil.copy(SAMPLE_DIR / name, target / name)
    with (SAMPLE_DIR / "billing_2025.csv").open("rb") as source:
        head = b"".join(source.readline() for _ in range(lines + 1))
    (target / "billing_2025.csv").write_bytes(head)
    return target


def french_extract(target: Path, lines: int = CUT_LINES, excel: bool = False) -> Path:
    """The small sample in the `logiciel-fr` layout (French headers, `;`, cp1252)."""
    canonical = small_extract(target.with_name(target.name + "-canonical"), lines)
    frenchify(canonical, target, excel=excel)
    shutil.rmtree(canonical)
    return target


def xlsx_extract(target: Path, lines: int = CUT_LINES) -> Path:
    """The small sample with its billing as a canonical XLSX workbook (text cells)."""
    small_extract(target, lines)
    csv_path = target / "billing_2025.csv"
    pl.read_csv(csv_path, infer_schema=False).write_excel(target / "billing_2025.xlsx")
    csv_path.unlink()
    return target


def build_extract(case: Case, target: Path) -> Path:
    """A fresh clean extract of the case's kind, then the case's damage applied to it."""
    if case.base == "french":
        french_extract(target, case.lines)
    elif case.base == "french-xlsx":
        french_extract(target, case.lines, excel=True)
    elif case.base == "xlsx":
        xlsx_extract(target, case.lines)
    else:
        small_extract(target, case.lines)
    case.mutate(target)
    return target


# ---------------------------------------------------------------- warehouse


def warehouse_state(db: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-free content fingerprint of every base table."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where not temporary order by 1"
            ).fetchall()
        ]
        state = {}
        for table in tables:
            count, digest = con.execute(
                f'select count(*), coalesce(bit_xor(hash(t)), 0) from "{table}" t'
            ).fetchone()
            state[table] = (int(count), int(digest))
        return state
    finally:
        con.close()


def data_tables(state: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The state without the audit tables, which a successful load always extends."""
    return {
        table: value
        for table, value in state.items()
        if table not in AUDIT_TABLES and not table.endswith("_history")
    }


# ---------------------------------------------------------------- running


def child_env(secrets: Path, tmp: Path) -> dict[str, str]:
    """Environment of one `csi` run: its own key folder and temp dir, wide plain output."""
    env = {k: v for k, v in os.environ.items() if k != "CSI_DB"}
    env.update(
        CSI_SECRETS_DIR=str(secrets),
        TMPDIR=str(tmp),
        COLUMNS="200",
        NO_COLOR="1",
        PYTHONIOENCODING="utf-8",
    )
    return env


def _rss_kb(pid: int) -> int:
    """Resident set size of a running process, read from /proc (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def run_csi(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float = TIMEOUT_S,
    memory_limit_kb: int = MEMORY_LIMIT_KB,
) -> tuple[int | None, str, float, int, str]:
    """Run `csi ARGS` in a subprocess under a time and a memory bound.

    Returns (exit code, stdout + stderr, seconds, peak RSS in KiB, verdict). The child is
    reaped with `os.wait4`, whose rusage is that child's alone, so the peak is per case.
    A child over the bound is killed (with its process group) and the verdict says why.
    """
    out_path, err_path = cwd / "stdout.txt", cwd / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli.app", *args],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        verdict, polled_kb = "exited", 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            polled_kb = max(polled_kb, _rss_kb(proc.pid))
            if polled_kb > memory_limit_kb:
                verdict = "memory"
            elif time.monotonic() - start > timeout:
                verdict = "timeout"
            if verdict != "exited":
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    output = out_path.read_text("utf-8", "replace") + err_path.read_text("utf-8", "replace")
    code = proc.returncode if verdict == "exited" else None
    return code, output, elapsed, max(usage.ru_maxrss, polled_kb), verdict


def ingest_args(extract: Path, db: Path, profile: str | None) -> list[str]:
    args = ["ingest", str(extract), "--db", str(db)]
    return [*args, "--profile", profile] if profile else args


def preload(root: Path) -> tuple[Path, Path]:
    """A warehouse holding the clean small sample, and the secrets folder it was keyed with."""
    root.mkdir(parents=True, exist_ok=True)
    db, secrets, tmp = root / "warehouse.duckdb", root / "secrets", root / "tmp"
    tmp.mkdir(exist_ok=True)
    extract = small_extract(root / "clean")
    code, output, *_ = run_csi(ingest_args(extract, db, None), child_env(secrets, tmp), root)
    if code != 0:
        raise RuntimeError(f"the clean sample does not load:\n{output}")
    return db, secrets


def run_case(case: Case, pristine_db: Path, pristine_secrets: Path, root: Path) -> Outcome:
    """Build the case's extract, run `csi ingest` on a copy of the pre-loaded warehouse."""
    work = root / case.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, secrets, tmp = work / "warehouse.duckdb", work / "secrets", work / "tmp"
    shutil.copy(pristine_db, db)
    if pristine_secrets.exists():
        shutil.copytree(pristine_secrets, secrets)
    tmp.mkdir()
    extract = build_extract(case, work / "extract")
    before = warehouse_state(db)
    code, output, elapsed, peak, verdict = run_csi(
        ingest_args(extract, db, case.profile), child_env(secrets, tmp), work
    )
    after = warehouse_state(db) if verdict == "exited" else None
    leftovers = sorted(p.name for p in tmp.iterdir()) if verdict == "exited" else []
    outcome = Outcome(code, output, elapsed, peak, verdict, before, after, work, leftovers)
    found = problems(case, outcome)
    (work / "outcome.txt").write_text(
        f"{case.name}\t{verdict}\t{code}\t{elapsed:.1f}\t{peak // 1024}\t{'; '.join(found)}\n",
        encoding="utf-8",
    )
    if not found:  # a passing case keeps only its output: 450 warehouse copies weigh GBs
        shutil.rmtree(extract)
        db.unlink()
    return outcome


def problems(case: Case, outcome: Outcome) -> list[str]:
    """Every way the outcome breaks the contract's "Bad input" promises (empty: all good)."""
    found: list[str] = []
    flat = " ".join(outcome.output.split())
    if outcome.verdict == "timeout":
        return [f"no answer within {TIMEOUT_S:.0f} s (killed)"]
    if outcome.verdict == "memory":
        return [
            f"over {MEMORY_LIMIT_KB // 1024} MiB of memory (killed after {outcome.elapsed:.1f} s)"
        ]
    if outcome.elapsed > case.max_seconds:
        found.append(f"took {outcome.elapsed:.1f} s, over the {case.max_seconds:.0f} s allowed")
    if len(outcome.output) > MAX_OUTPUT_CHARS:
        found.append(f"{len(outcome.output)} characters of output, over {MAX_OUTPUT_CHARS}")
    if "Traceback" in outcome.output:
        found.append("a Python traceback in the output")
    names = sorted(set(_EXCEPTION_NAME.findall(outcome.output)))
    if names:
        found.append(f"Python exception names in the output: {names}")
    allowed = (0, 1) if case.expect is None else (case.expect,)
    if outcome.code not in allowed:
        found.append(f"exit code {outcome.code}, expected {' or '.join(map(str, allowed))}")
    if (outcome.code != 0 or case.expect == 1) and outcome.after != outcome.before:
        changed = sorted(
            t for t in outcome.before if outcome.before[t] != (outcome.after or {}).get(t)
        )
        found.append(f"the warehouse changed: {changed}")
    if outcome.code != 0 and case.file not in flat:
        found.append(f"the message does not name the file {case.file}")
    if outcome.code == 1:
        found.extend(
            f"the message does not say « {' or '.join(w.split('|'))} »"
            for w in case.words
            if not any(word in flat for word in w.split("|"))
        )
    same = outcome.after is None or data_tables(outcome.after) == data_tables(outcome.before)
    if outcome.code == 0 and case.same_data and not same:
        found.append("loaded, but the data differs from the same sample loaded canonically")
    if (outcome.work / TAG_MARKER).exists():
        found.append("a YAML tag ran a shell command")
    staged = [name for name in outcome.leftovers if name.startswith("csi-")]
    if staged:
        found.append(f"staged files left in the temp dir: {staged}")
    return found


def describe(case: Case, outcome: Outcome) -> str:
    """A failure report: what went wrong, then the start and end of what the user saw."""
    lines = [" ".join(line.split()) for line in outcome.output.splitlines()]
    lines = [line for line in lines if line.strip("│╭╮╰╯─ ")]
    head = "\n".join(lines if len(lines) <= 16 else [*lines[:6], "…", *lines[-10:]])
    return (
        f"case {case.name} ({case.file}): exit {outcome.code}, {outcome.elapsed:.1f} s, "
        f"peak {outcome.peak_kb // 1024} MiB\n"
        + "\n".join(f"  - {p}" for p in problems(case, outcome))
        + f"\n--- output ---\n{head}"
    )


# ---------------------------------------------------------------- byte-level mutations


def edit(name: str, change: Callable[[bytes], bytes]) -> Mutation:
    """A mutation rewriting the bytes of one file of the extract."""

    def mutate(extract: Path) -> None:
        path = extract / name
        path.write_bytes(change(path.read_bytes()))

    return mutate


def replace_file(name: str, content: Callable[[], bytes], remove: str | None = None) -> Mutation:
    """A mutation writing a whole file (e.g. a bomb), optionally in place of another."""

    def mutate(extract: Path) -> None:
        if remove:
            (extract / remove).unlink()
        (extract / name).write_bytes(content())

    return mutate


def at_row(data: bytes, row: int, change: Callable[[bytes], bytes]) -> bytes:
    """Apply `change` to data row `row` (1-based, header excluded) of an LF file."""
    lines = data.split(b"\n")
    lines[row] = change(lines[row])
    return b"\n".join(lines)


def insert_at(data: bytes, offset: int, token: bytes) -> bytes:
    return data[:offset] + token + data[offset:]


def truncate_mid_line(data: bytes) -> bytes:
    """Cut the file inside its last line, after its fourth field."""
    body = data.rstrip(b"\n")
    start = body.rfind(b"\n") + 1
    fields = body[start:].split(b",")
    return body[:start] + b",".join(fields[:4])


def truncate_mid_quote(data: bytes) -> bytes:
    """End the file inside an opened quoted field."""
    body = data.rstrip(b"\n")
    start = body.rfind(b"\n") + 1
    fields = body[start:].split(b",")
    return body[:start] + b",".join([*fields[:5], b'"2025-1'])


def cr_only(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")


def mixed_endings(data: bytes) -> bytes:
    """CRLF, LF and CR line endings in turn."""
    lines = data.rstrip(b"\n").split(b"\n")
    ends = (b"\r\n", b"\n", b"\r")
    return b"".join(line + ends[i % 3] for i, line in enumerate(lines))


def reencode(source: str, target: str) -> Callable[[bytes], bytes]:
    return lambda data: data.decode(source).encode(target)


# ---------------------------------------------------------------- CSV cell mutations


def set_cell(
    name: str, row: int, column: str, value: str, delimiter: str = ",", encoding: str = "utf-8"
) -> Mutation:
    """A mutation writing `value` into one cell (row 1-based, header excluded)."""

    def mutate(extract: Path) -> None:
        path = extract / name
        text = path.read_bytes().decode(encoding)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        rows[row][rows[0].index(column)] = value
        buffer = io.StringIO(newline="")
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
        path.write_bytes(buffer.getvalue().encode(encoding))

    return mutate


def rewrite_csv(
    name: str,
    change: Callable[[list[list[str]]], list[list[str]]],
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Mutation:
    """A mutation rewriting the rows (header first) of one CSV file."""

    def mutate(extract: Path) -> None:
        path = extract / name
        rows = list(
            csv.reader(
                io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=delimiter
            )
        )
        buffer = io.StringIO(newline="")
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(change(rows))
        path.write_bytes(buffer.getvalue().encode(encoding))

    return mutate


def rename_header(old: str, new: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def change(rows: list[list[str]]) -> list[list[str]]:
        rows[0][rows[0].index(old)] = new
        return rows

    return change


def duplicate_column(column: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def change(rows: list[list[str]]) -> list[list[str]]:
        index = rows[0].index(column)
        return [[*r, r[index]] for r in rows]

    return change


def drop_column(column: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def change(rows: list[list[str]]) -> list[list[str]]:
        index = rows[0].index(column)
        return [r[:index] + r[index + 1 :] for r in rows]

    return change


def add_column(header: str, value: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def change(rows: list[list[str]]) -> list[list[str]]:
        return [[*rows[0], header]] + [[*r, value] for r in rows[1:]]

    return change


def ragged(row: int, extra: int) -> Callable[[list[list[str]]], list[list[str]]]:
    """One row with `extra` fields more (or fewer, if negative) than the header."""

    def change(rows: list[list[str]]) -> list[list[str]]:
        rows[row] = rows[row] + ["x"] * extra if extra > 0 else rows[row][:extra]
        return rows

    return change


def french_header(table: str, column: str) -> str:
    """The `logiciel-fr` header of a canonical column."""
    from pipeline.extract.profiles import load_profile

    return load_profile(FRENCH_PROFILE).tables[table].columns[column]


def french_file(table: str) -> str:
    return f"{FILE_NAMES[table]}.csv"


def french_cell(table: str, row: int, column: str, value: str) -> Mutation:
    return set_cell(french_file(table), row, french_header(table, column), value, ";", "cp1252")


YES_NO_PROFILE = "oui-non.yaml"


def write_yes_no_profile(extract: Path) -> None:
    """Beside the extract, a copy of `logiciel-fr` mapping Oui/Non for hospital_discharge.

    The issue's case: such a profile refused an empty cell, the contract's default having
    been filled in before the profile's words were checked. Cases using it run with
    `profile=YES_NO_PROFILE` (relative to the case's folder, the child's working dir).
    """
    import pipeline

    source = (
        Path(pipeline.__file__).parent / "extract" / "shipped_profiles" / f"{FRENCH_PROFILE}.yaml"
    )
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    episodes = data["tables"]["episodes"]
    episodes.setdefault("values", {})["hospital_discharge"] = {"Oui": True, "Non": False}
    target = extract.parent / YES_NO_PROFILE
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


# ---------------------------------------------------------------- YAML registers


def alias_bomb(levels: int = 9, width: int = 9) -> bytes:
    """The "billion laughs": each level a list of `width` aliases of the one before."""
    lines = ['finess: "750000001"', "name: Bombe", "year: 2025", 'l0: &l0 ["lol"]']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{refs}]")
    lines.append(f"staff: {{nurses: *l{levels}}}")
    return ("\n".join(lines) + "\n").encode()


def many_aliases(register: bytes, count: int = 101) -> bytes:
    """A harmless register that repeats one anchor `count` times (over the 100 allowed)."""
    refs = ", ".join(["*c"] * count)
    return register + f"\nx_anchor: &c diabète\nx_refs: [{refs}]\n".encode()


def deep_nesting(depth: int) -> bytes:
    """A register whose staff is nested `depth` flow lists deep."""
    return f'finess: "750000001"\nname: x\nyear: 2025\nstaff: {"[" * depth}{"]" * depth}\n'.encode()


TAG_MARKER = "TAG-EXECUTED"


def python_tag(extract: Path) -> None:
    """A register that, loaded unsafely, would create TAG_MARKER in the case's folder."""
    marker = extract.parent / TAG_MARKER
    (extract / "centre_2025.yaml").write_text(
        'finess: "750000001"\nname: x\nyear: 2025\n'
        f'staff: !!python/object/apply:os.system ["touch {marker}"]\n',
        encoding="utf-8",
    )


def oversized_register(register: bytes, megabytes: int = 6) -> bytes:
    """The real register plus a comment line making it larger than the 5 MB allowed."""
    return register + b"# " + b"x" * (megabytes * 1024 * 1024) + b"\n"


# ---------------------------------------------------------------- XLSX bombs


def _sheet_name(archive: zipfile.ZipFile) -> str:
    return next(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))


def xlsx_bomb(source: Path, target: Path, size: int = XLSX_BOMB_BYTES) -> Path:
    """Copy a workbook, its sheet padded with copies of its last row to `size` bytes.

    The rows are written without `r` attributes, so a reader places them one after the
    other: a reader that does not check the declared size reads millions of rows. The
    file stays small on disk (the rows are identical, deflate shrinks them ~1000×).
    """
    with zipfile.ZipFile(source) as archive:
        sheet = _sheet_name(archive)
        xml = archive.read(sheet)
        head, rest = xml.split(b"<sheetData>", 1)
        rows, tail = rest.split(b"</sheetData>", 1)
        last = rows[rows.rfind(b"<row ") :]
        filler = re.sub(rb' r="[A-Z]*[0-9]+"', b"", last)
        chunk = filler * max(1, (1 << 20) // len(filler))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for info in archive.infolist():
                if info.filename != sheet:
                    out.writestr(info, archive.read(info.filename))
                    continue
                with out.open(sheet, "w", force_zip64=True) as stream:
                    stream.write(head + b"<sheetData>" + rows)
                    written = len(head) + len(rows)
                    while written < size:
                        stream.write(chunk)
                        written += len(chunk)
                    stream.write(b"</sheetData>" + tail)
    return target


def xlsx_lying_size(source: Path, target: Path, declared: int = 0xFFFF0000) -> Path:
    """Copy a workbook, its sheet declaring (in both zip headers) a 4 GB uncompressed size."""
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(_sheet_name(archive))
    size = declared.to_bytes(4, "little")
    data[info.header_offset + 22 : info.header_offset + 26] = size
    name = info.filename.encode()
    central = data.find(b"PK\x01\x02", info.header_offset + 30)
    while central != -1:
        length = int.from_bytes(data[central + 28 : central + 30], "little")
        if data[central + 46 : central + 46 + length] == name:
            data[central + 24 : central + 28] = size
            break
        central = data.find(b"PK\x01\x02", central + 4)
    target.write_bytes(bytes(data))
    return target


# ---------------------------------------------------------------- Parquet


def parquet_billing(change: Callable[[pl.DataFrame], pl.DataFrame] = lambda f: f) -> Mutation:
    """A mutation replacing the billing CSV by a Parquet file (line_no typed Int64)."""

    def mutate(extract: Path) -> None:
        csv_path = extract / "billing_2025.csv"
        frame = pl.read_csv(csv_path, infer_schema=False)
        frame = frame.with_columns(pl.col("line_no").cast(pl.Int64))
        change(frame).write_parquet(extract / "billing_2025.parquet")
        csv_path.unlink()

    return mutate


# ---------------------------------------------------------------- seeded random mutations

_TOKENS = (
    b'"',
    b"\x00",
    b"\r",
    b"\n",
    b",",
    b";",
    b"\xff\xfe",
    b"\xe9",
    b"1e308",
    b"NaN",
    b"-inf",
    b"99999999999999",
    b"2147483648",
    b"-1",
    b"12:00:61",
    b"2025-02-30",
    b"",
    b'""',
    b"\t",
)


def random_flips(seed: int, count: int) -> Callable[[bytes], bytes]:
    """`count` bytes replaced by random bytes, positions and values drawn from `seed`."""

    def change(data: bytes) -> bytes:
        rng, out = random.Random(seed), bytearray(data)
        for _ in range(count):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)

    return change


def random_truncation(seed: int) -> Callable[[bytes], bytes]:
    return lambda data: data[: random.Random(seed).randrange(1, len(data))]


def random_tokens(seed: int, count: int) -> Callable[[bytes], bytes]:
    """`count` nasty tokens (quotes, NUL, CR, separators, huge numbers…) spliced in."""

    def change(data: bytes) -> bytes:
        rng = random.Random(seed)
        for _ in range(count):
            offset = rng.randrange(len(data))
            end = offset + rng.choice((0, 0, 1, 3))
            data = data[:offset] + rng.choice(_TOKENS) + data[end:]
        return data

    return change


def random_line_ops(seed: int, count: int) -> Callable[[bytes], bytes]:
    """Lines duplicated, dropped or swapped (the header included), drawn from `seed`."""

    def change(data: bytes) -> bytes:
        rng = random.Random(seed)
        lines = data.split(b"\n")
        for _ in range(count):
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            op = rng.choice(("dup", "drop", "swap"))
            if op == "dup":
                lines.insert(j, lines[i])
            elif op == "drop" and len(lines) > 2:
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)

    return change


CANONICAL_FILES = ("billing_2025.csv", "patients.csv", "episodes.csv", "centre_2025.yaml")
FRENCH_FILES = ("factures.csv", "patients.csv", "prises_en_charge.csv", "centre_2025.yaml")


def _random_change(kind: str, seed: int, rng: random.Random) -> Callable[[bytes], bytes]:
    """The byte-level damage of one random case; its size is drawn from `rng`."""
    if kind == "flips":
        return random_flips(seed, rng.choice((1, 3, 20)))
    if kind == "truncation":
        return random_truncation(seed)
    if kind == "tokens":
        return random_tokens(seed, rng.choice((1, 2, 5)))
    return random_line_ops(seed, rng.choice((1, 3)))


def random_cases(seeds: range) -> list[Case]:
    """One seeded random case per seed: a file, a kind of damage and its size drawn from it."""
    cases = []
    for seed in seeds:
        rng = random.Random(seed)
        french = rng.random() < 0.3
        name = rng.choice(FRENCH_FILES if french else CANONICAL_FILES)
        kind = rng.choice(("flips", "truncation", "tokens", "lines"))
        change = _random_change(kind, seed, rng)
        cases.append(
            Case(
                name=f"random-{seed:04d}-{kind}-{Path(name).stem}" + ("-fr" if french else ""),
                file=name,
                mutate=edit(name, change),
                expect=None,
                base="french" if french else "canonical",
                profile=FRENCH_PROFILE if french else None,
            )
        )
    return cases
