"""Seeded federation extracts for the benchmarks: many centres, the sample's distributions.

Why: the pipeline must be measured on a federation's volume (1M and 10M billing lines)
with data that looks like the real thing, so every centre is a full run of the sample
generator (`data.samplegen`) with its own seed and FINESS: the same patient mix,
care plans, night rounds, discharges and planted defects, centre after centre. Each
centre is generated once into `benchmarks/data/centres/` (cached, two processes), then
the extract is assembled by plain byte concatenation, cut at exactly the requested
number of billing lines (the last centre keeps its first lines), and converted to
Parquet by DuckDB with the types an exporting software would write.

`python -m benchmarks.generate --lines 1000000 --set monthly` writes
`benchmarks/data/monthly-1M/{csv,parquet,registers}/`; the `federation` set and the `monthly`
set use disjoint FINESS numbers, so the monthly extract can be loaded into the
federation's warehouse as new centres.
"""

from __future__ import annotations

import argparse
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
YEAR = 2025
SEED = 20250101
# Departments the centres are spread over (67 and 57: Alsace-Moselle holidays).
DEPARTMENTS = ("75", "93", "94", "92", "69", "13", "33", "59", "67", "31", "57", "44")
SETS = {"federation": 0, "monthly": 50_000}  # first centre number of each set
TABLE_FILES = {"billing": f"billing_{YEAR}.csv", "patients": "patients.csv"}
TABLE_FILES["episodes"] = "episodes.csv"

PARQUET_TYPES = {
    "billing": {
        "invoice_id": "varchar",
        "line_no": "integer",
        "centre_finess": "varchar",
        "patient_id": "varchar",
        "nurse_id": "varchar",
        "act_date": "date",
        "act_time": "time",
        "act_code": "varchar",
        "coefficient": "double",
        "quantity": "double",
        "amount_eur": "double",
        "status": "varchar",
        "episode_id": "varchar",
    },
    "patients": {
        "centre_finess": "varchar",
        "patient_id": "varchar",
        "birth_date": "date",
        "sex": "varchar",
        "occupation": "varchar",
        "coverage": "varchar",
        "complementary": "varchar",
        "lives_alone": "boolean",
        "postcode": "varchar",
    },
    "episodes": {
        "centre_finess": "varchar",
        "episode_id": "varchar",
        "patient_id": "varchar",
        "start_date": "date",
        "end_date": "date",
        "reason": "varchar",
        "referral_origin": "varchar",
        "hospital_discharge": "boolean",
        "discharge_establishment": "varchar",
        "discharge_finess": "varchar",
        "discharge_service": "varchar",
        "discharge_care_type": "varchar",
        "discharge_care_detail": "varchar",
    },
}


def finess_of(number: int) -> str:
    """A fictitious but well-formed FINESS: department, then 7 digits."""
    return f"{DEPARTMENTS[number % len(DEPARTMENTS)]}{number:07d}"


def centre_dir(number: int) -> Path:
    return DATA / "centres" / finess_of(number)


def _generate_centre(number: int) -> int:
    """One centre's year, seeded by its number: byte-identical on every run."""
    from data.samplegen import generate_sample

    target = centre_dir(number)
    done = target / "done"
    if not done.exists():
        counts = generate_sample(target, YEAR, SEED + number, finess_of(number))
        done.write_text(str(counts[TABLE_FILES["billing"]]), encoding="ascii")
    return int(done.read_text(encoding="ascii"))


def centres_for(lines: int, first: int, workers: int = 2) -> list[tuple[int, int]]:
    """(centre number, billing lines) of the centres needed to reach `lines`."""
    chosen: list[tuple[int, int]] = []
    total, number = 0, first
    with ProcessPoolExecutor(workers) as pool:
        while total < lines:
            batch = list(range(number, number + 2 * workers))
            for n, count in zip(batch, pool.map(_generate_centre, batch), strict=True):
                if total < lines:
                    chosen.append((n, count))
                    total += count
            number += len(batch)
    return chosen


def _concatenate(sources: list[Path], target: Path, limits: list[int | None]) -> int:
    """Concatenate CSV files under one header; `limits` caps the data lines per source."""
    written = 0
    with target.open("wb") as out:
        for index, (source, limit) in enumerate(zip(sources, limits, strict=True)):
            with source.open("rb") as handle:
                header = handle.readline()
                if index == 0:
                    out.write(header)
                for count, line in enumerate(handle):
                    if limit is not None and count >= limit:
                        break
                    out.write(line)
                    written += 1
    return written


def write_registers(chosen: list[tuple[int, int]], out: Path) -> None:
    """One register per centre, in their own extract: they are declared once a year."""
    out.mkdir(parents=True, exist_ok=True)
    for number, _ in chosen:
        name = f"centre_{finess_of(number)}_{YEAR}.yaml"
        shutil.copy(centre_dir(number) / f"centre_{YEAR}.yaml", out / name)


def write_csv_extract(chosen: list[tuple[int, int]], lines: int, out: Path) -> dict[str, int]:
    """The federation's CSV export: one file per table, every centre in it."""
    out.mkdir(parents=True, exist_ok=True)
    kept = sum(count for _, count in chosen[:-1])
    billing_limits: list[int | None] = [None] * (len(chosen) - 1) + [lines - kept]
    counts = {}
    for table, name in TABLE_FILES.items():
        sources = [centre_dir(n) / name for n, _ in chosen]
        limits = billing_limits if table == "billing" else [None] * len(chosen)
        counts[name] = _concatenate(sources, out / name, limits)
    return counts


def write_parquet_extract(csv_dir: Path, out: Path) -> None:
    """The same extract as a typed Parquet export (dates, times, numbers, booleans)."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for table, name in TABLE_FILES.items():
        types = ", ".join(f"'{c}': '{t}'" for c, t in PARQUET_TYPES[table].items())
        target = out / name.replace(".csv", ".parquet")
        con.execute(
            f"copy (select * from read_csv('{csv_dir / name}', header = true, "
            f"columns = {{{types}}})) to '{target}' (format parquet, compression zstd)"
        )
    con.close()


def dataset_dir(name: str, lines: int) -> Path:
    label = f"{lines // 1_000_000}M" if lines % 1_000_000 == 0 else str(lines)
    return DATA / f"{name}-{label}"


def generate(lines: int, name: str = "federation") -> Path:
    """Write `<set>-<size>/csv`, `/parquet` and `/registers` (skipped when complete)."""
    root = dataset_dir(name, lines)
    if (root / "complete").exists():
        return root
    chosen = centres_for(lines, SETS[name])
    counts = write_csv_extract(chosen, lines, root / "csv")
    write_parquet_extract(root / "csv", root / "parquet")
    write_registers(chosen, root / "registers")
    summary = f"centres={len(chosen)} " + " ".join(f"{k}={v}" for k, v in counts.items())
    (root / "complete").write_text(summary + "\n", encoding="utf-8")
    return root


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, required=True, help="billing lines of the extract")
    parser.add_argument("--set", choices=sorted(SETS), default="federation")
    args = parser.parse_args(argv)
    root = generate(args.lines, args.set)
    print(root, (root / "complete").read_text(encoding="utf-8").strip())


if __name__ == "__main__":
    main()
