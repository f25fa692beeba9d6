"""The analyst's way: pandas, the whole extract in memory, the same figures.

Why: it is what a data analyst would write first, and the pipeline should be clearly
better at scale. It reads the files, takes the NGAP family at the act date, attributes
each billed line to the episode it names (else to the covering episode that started
last) and computes the section 3 acts by family and the monthly patients by reason.

`python benchmarks/naive_pandas.py EXTRACT_DIR` prints one JSON line: read and aggregate
seconds, and a few figures.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

NGAP = (
    Path(__file__).resolve().parent.parent
    / "pipeline"
    / "core"
    / "reference_data"
    / "ngap_reference.csv"
)
KEY = ["centre_finess", "invoice_id", "line_no"]
IDS = {"centre_finess": str, "patient_id": str, "nurse_id": str, "episode_id": str}


def read(directory: Path, stem: str) -> pd.DataFrame:
    parquet = sorted(directory.glob(f"{stem}*.parquet"))
    if parquet:
        return pd.concat([pd.read_parquet(p) for p in parquet], ignore_index=True)
    frames = [pd.read_csv(p, dtype=IDS) for p in sorted(directory.glob(f"{stem}*.csv"))]
    return pd.concat(frames, ignore_index=True)


def attribute(lines: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """The episode of each line: the one it names, else the covering one that started last."""
    candidates = lines[[*KEY, "patient_id", "act_date", "episode_id"]].merge(
        episodes[["centre_finess", "patient_id", "episode_id", "start_date", "end_date"]],
        on=["centre_finess", "patient_id"],
        suffixes=("", "_e"),
    )
    explicit = candidates["episode_id"] == candidates["episode_id_e"]
    covering = (candidates["act_date"] >= candidates["start_date"]) & (
        candidates["end_date"].isna() | (candidates["act_date"] <= candidates["end_date"])
    )
    candidates = candidates[explicit | covering].assign(explicit=explicit)
    candidates = candidates.sort_values(
        ["explicit", "start_date", "episode_id_e"], ascending=[False, False, True]
    ).drop_duplicates(KEY)
    chosen = candidates[[*KEY, "episode_id_e"]].rename(columns={"episode_id_e": "attributed"})
    lines = lines.merge(chosen, on=KEY, how="left")
    details = episodes[["centre_finess", "episode_id", "reason", "hospital_discharge"]].rename(
        columns={"episode_id": "attributed"}
    )
    return lines.merge(details, on=["centre_finess", "attributed"], how="left")


def aggregates(billing: pd.DataFrame, episodes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    ngap = pd.read_csv(NGAP, parse_dates=["valid_from", "valid_to"])
    ngap = ngap[ngap["zone"] == "metropole"]
    for frame, columns in ((billing, ["act_date"]), (episodes, ["start_date", "end_date"])):
        for column in columns:
            frame[column] = pd.to_datetime(frame[column])
    lines = billing[billing["status"] == "billed"].merge(
        ngap[["code", "family", "valid_from", "valid_to"]],
        left_on="act_code",
        right_on="code",
        how="left",
    )
    valid = (lines["act_date"] >= lines["valid_from"]) & (
        lines["valid_to"].isna() | (lines["act_date"] <= lines["valid_to"])
    )
    lines.loc[~valid, "family"] = None
    lines = lines.assign(valid=valid).sort_values(["valid", "valid_from"])
    lines = lines.drop_duplicates(KEY, keep="last")
    lines = attribute(lines, episodes)
    lines["year"] = lines["act_date"].dt.year
    lines["month"] = lines["act_date"].dt.month
    lines["coefficient_x_quantity"] = lines["coefficient"].fillna(0) * lines["quantity"]
    cohort = lines[lines["hospital_discharge"].fillna(False).astype(bool)]
    section3 = pd.concat(
        [
            frame.dropna(subset=["family"])
            .groupby(["centre_finess", "year", "family"])
            .agg(
                lines=("quantity", "size"),
                quantity=("quantity", "sum"),
                coefficient_total=("coefficient_x_quantity", "sum"),
                amount_eur=("amount_eur", "sum"),
            )
            .reset_index()
            .assign(scope=scope)
            for scope, frame in (("all", lines), ("hospital_discharge", cohort))
        ]
    )
    monthly = (
        lines.groupby(["centre_finess", "year", "month", "reason"])["patient_id"]
        .nunique()
        .unstack("reason")
        .reset_index()
    )
    entries = episodes.assign(
        year=episodes["start_date"].dt.year, month=episodes["start_date"].dt.month
    ).pivot_table(
        index=["centre_finess", "year", "month"],
        columns="reason",
        values="episode_id",
        aggfunc="count",
    )
    return {"section3": section3, "monthly": monthly, "entries": entries.reset_index()}


def figures(results: dict[str, pd.DataFrame]) -> dict[str, object]:
    section3 = results["section3"]
    counts = section3["quantity"].where(section3["family"] != "IK", section3["lines"])
    acts = {
        f"{r.centre_finess}/{r.year}/{r.scope}/{r.family}": [float(c), float(r.coefficient_total)]
        for r, c in zip(section3.itertuples(), counts, strict=True)
    }
    monthly = results["monthly"]
    chronic = {
        f"{r.centre_finess}/{r.year}/{r.month}": int(0 if pd.isna(r.chronic) else r.chronic)
        for r in monthly.itertuples()
    }
    return {"acts": acts, "chronic_patients": chronic}


def main(argv: list[str]) -> None:
    directory = Path(argv[0])
    started = time.perf_counter()
    billing, episodes = read(directory, "billing"), read(directory, "episodes")
    read(directory, "patients")
    loaded = time.perf_counter()
    results = aggregates(billing, episodes)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "read_s": loaded - started,
                "aggregates_s": done - loaded,
                "billing_lines": len(billing),
                "figures": figures(results),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
