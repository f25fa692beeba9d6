"""The sample generator: same seed, same bytes; and an extract that honours the contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import yaml

from data.samplegen import french_holidays, generate_sample
from pipeline.core.canonical import (
    COMPLEMENTARIES,
    COVERAGES,
    DISCHARGE_CARE_TYPES,
    OCCUPATIONS,
    REASONS,
    REFERRAL_ORIGINS,
    SEXES,
    STATUSES,
    TABLES,
)

YEAR = 2025
FILES = (f"billing_{YEAR}.csv", "patients.csv", "episodes.csv", f"centre_{YEAR}.yaml")
# ngap-reference.md, values for 2025.
NGAP = {
    "AMI": "3.15", "AMX": "3.15", "AIS": "2.65", "DI": "10.00", "BSA": "13.00", "BSB": "18.20",
    "BSC": "28.70", "IFD": "2.75", "IK": "0.35", "N": "9.15", "MM": "18.30", "F": "8.50",
    "MCI": "5.00", "MAU": "1.35", "MIE": "3.15",
}  # fmt: skip
REGISTER_KEYS = {
    "finess", "name", "year", "address", "legal_representative", "staff", "internal_meetings",
    "partners", "patient_file",
    "transmission_log", "planning_formalised", "care_directory_updated",
    "external_data_procedure", "flu_vaccination_gp_info", "access_24_7",
    "phone_message_outside_hours", "coordinator_nurse", "charter_displayed", "permanence",
    "prevention_actions", "promotion_actions", "trainings", "internships",
}  # fmt: skip


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate_sample(out, year=YEAR)


@pytest.fixture(scope="module")
def frames(sample: tuple[Path, dict[str, int]]) -> dict[str, pl.DataFrame]:
    out, _ = sample
    read = {name: pl.read_csv(out / f, infer_schema=False) for name, f in _csv_files().items()}
    billing = read["billing"].with_columns(
        pl.col("act_date").str.to_date("%Y-%m-%d"),
        pl.col("act_time").str.to_time("%H:%M"),
        pl.col("line_no").cast(pl.Int64),
        pl.col("coefficient", "quantity", "amount_eur").cast(pl.Float64),
    )
    patients = read["patients"].with_columns(pl.col("birth_date").str.to_date("%Y-%m-%d"))
    episodes = read["episodes"].with_columns(
        pl.col("start_date", "end_date").str.to_date("%Y-%m-%d")
    )
    return {"billing": billing, "patients": patients, "episodes": episodes}


def _csv_files() -> dict[str, str]:
    return {"billing": FILES[0], "patients": FILES[1], "episodes": FILES[2]}


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    first = generate_sample(tmp_path / "a", year=YEAR)
    second = generate_sample(tmp_path / "b", year=YEAR)
    assert first == second
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    generate_sample(tmp_path / "c", year=YEAR, seed=8)
    other = (tmp_path / "c" / FILES[0]).read_bytes()
    assert other != (tmp_path / "a" / FILES[0]).read_bytes()


def test_committed_sample_is_the_generator_output(sample: tuple[Path, dict[str, int]]) -> None:
    """data/sample/ is regenerated (python -m data.samplegen) whenever the generator changes."""
    committed = Path(__file__).resolve().parents[2] / "data" / "sample"
    if not (committed / FILES[0]).exists():
        pytest.skip("data/sample/ not generated")
    out, _ = sample
    for name in FILES:
        assert (committed / name).read_bytes() == (out / name).read_bytes(), name


def test_files_counts_and_size(sample: tuple[Path, dict[str, int]]) -> None:
    out, counts = sample
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert 25_000 <= counts[FILES[0]] <= 45_000
    assert 300 <= counts["patients.csv"] <= 400
    assert 400 <= counts["episodes.csv"] <= 500
    assert sum(p.stat().st_size for p in out.iterdir()) < 5_000_000


def test_canonical_headers_and_encoding(sample: tuple[Path, dict[str, int]]) -> None:
    out, _ = sample
    for table, name in _csv_files().items():
        raw = (out / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
        header = raw.decode("utf-8").split("\n", 1)[0].split(",")
        assert header == [c.name for c in TABLES[table]]


def test_billing_rules(frames: dict[str, pl.DataFrame]) -> None:
    billing = frames["billing"]
    assert billing.select("invoice_id", "line_no").is_unique().all()
    numbering = billing.group_by("invoice_id").agg(
        (pl.col("line_no").max() == pl.len()).alias("ok"), pl.col("line_no").min().alias("lo")
    )
    assert numbering["ok"].all() and (numbering["lo"] == 1).all()
    assert (billing["centre_finess"] == "750000001").all()
    assert billing["act_date"].dt.year().unique().to_list() == [YEAR]
    assert billing["status"].is_in(STATUSES).all()
    assert billing["invoice_id"].str.contains(rf"^F{YEAR}-\d{{6}}$").all()
    assert billing["patient_id"].str.contains(r"^P\d{5}$").all()
    assert billing["nurse_id"].drop_nulls().str.contains(r"^\d{11}$").all()
    coefficients = billing["coefficient"].drop_nulls()
    assert (coefficients >= 0).all() and (
        (coefficients * 100).round(0) - coefficients * 100
    ).abs().max() < 1e-9
    assert (billing["quantity"] > 0).all()
    assert (
        billing.filter(pl.col("act_code").is_in(["AMI", "AMX", "AIS", "DI"]))[
            "coefficient"
        ].null_count()
        == 0
    )


def test_amounts_follow_the_ngap_values(sample: tuple[Path, dict[str, int]]) -> None:
    out, _ = sample
    rows = pl.read_csv(out / FILES[0], infer_schema=False).iter_rows(named=True)
    for row in rows:
        expected = Decimal(NGAP[row["act_code"]]) * Decimal(row["coefficient"] or "1")
        expected = (expected * Decimal(row["quantity"])).quantize(Decimal("0.01"))
        assert abs(Decimal(row["amount_eur"]) - expected) <= Decimal("0.01"), row


def test_patients_and_episodes_rules(frames: dict[str, pl.DataFrame]) -> None:
    patients, episodes, billing = frames["patients"], frames["episodes"], frames["billing"]
    assert patients["patient_id"].is_unique().all()
    assert episodes["episode_id"].is_unique().all()
    for column, allowed in (
        ("sex", SEXES),
        ("occupation", OCCUPATIONS),
        ("coverage", COVERAGES),
        ("complementary", COMPLEMENTARIES),
        ("lives_alone", ("true", "false")),
    ):
        assert patients[column].drop_nulls().is_in(allowed).all(), column
    assert patients["postcode"].drop_nulls().str.contains(r"^\d{5}$").all()
    assert episodes["reason"].is_in(REASONS).all()
    assert episodes["referral_origin"].drop_nulls().is_in(REFERRAL_ORIGINS).all()
    assert episodes["discharge_care_type"].drop_nulls().is_in(DISCHARGE_CARE_TYPES).all()
    assert episodes["hospital_discharge"].is_in(["true", "false"]).all()
    ended = episodes.filter(pl.col("end_date").is_not_null())
    assert (ended["end_date"] >= ended["start_date"]).all()
    assert episodes["patient_id"].is_in(patients["patient_id"].implode()).all()
    first_act = billing.group_by("patient_id").agg(pl.col("act_date").min().alias("first"))
    born = patients.join(first_act, on="patient_id").drop_nulls("birth_date")
    assert (born["birth_date"] < born["first"]).all()
    assert (patients["birth_date"].drop_nulls() <= dt.date.today()).all()


def test_discharge_details_present_when_discharged(frames: dict[str, pl.DataFrame]) -> None:
    discharged = frames["episodes"].filter(pl.col("hospital_discharge") == "true")
    for column in ("discharge_establishment", "discharge_service", "discharge_care_type"):
        assert discharged[column].null_count() == 0, column
    others = discharged.filter(pl.col("discharge_care_type") == "other")
    assert others["discharge_care_detail"].null_count() == 0


def test_night_and_sunday_majorations_are_consistent_but_for_a_few(
    frames: dict[str, pl.DataFrame],
) -> None:
    billing = frames["billing"]
    t = pl.col("act_time")
    night_ok = ((t >= dt.time(20)) & (t < dt.time(23))) | ((t >= dt.time(5)) & (t < dt.time(8)))
    midnight_ok = (t >= dt.time(23)) | (t < dt.time(5))
    wrong_n = billing.filter((pl.col("act_code") == "N") & ~night_ok)
    wrong_mm = billing.filter((pl.col("act_code") == "MM") & ~midnight_ok)
    assert 1 <= wrong_n.height + wrong_mm.height <= 10
    holidays = french_holidays(YEAR)
    sundays = billing.filter(pl.col("act_code") == "F")["act_date"].to_list()
    weekdays = [d for d in sundays if d.weekday() != 6 and d not in holidays]
    assert 1 <= len(weekdays) <= 5
    assert billing["act_time"].null_count() < 0.05 * billing.height


def test_the_sample_holds_every_case_the_report_shows(
    sample: tuple[Path, dict[str, int]], frames: dict[str, pl.DataFrame]
) -> None:
    billing, patients, episodes = frames["billing"], frames["patients"], frames["episodes"]
    codes = set(billing["act_code"])
    assert {"AMI", "AIS", "AMX", "IFD", "IK", "N", "MM", "F", "MAU", "MCI", "MIE"} <= codes
    assert codes & {"DI", "BSA", "BSB", "BSC"}
    statuses = billing["status"].value_counts()
    share = dict(zip(statuses["status"], statuses["count"] / billing.height, strict=True))
    assert 0.003 < share["cancelled"] < 0.03 and 0.001 < share["rejected"] < 0.02
    assert (episodes["hospital_discharge"] == "true").sum() >= 0.08 * episodes.height
    assert (episodes["reason"] == "palliative").sum() >= 1
    assert episodes["end_date"].null_count() >= 1
    assert (episodes["start_date"].dt.year() < YEAR).sum() >= 1
    assert patients["birth_date"].null_count() >= 1
    labelled = billing["episode_id"].drop_nulls()
    assert 0.6 < labelled.len() / billing.height < 0.8
    assert (~labelled.is_in(episodes["episode_id"].implode())).sum() >= 1
    assert (~billing["patient_id"].is_in(patients["patient_id"].implode())).sum() >= 1
    out, _ = sample
    register = yaml.safe_load((out / FILES[3]).read_text(encoding="utf-8"))
    registered = {n["id"] for n in register["staff"]["nurses"]}
    assert set(billing["nurse_id"].drop_nulls()) - registered


def test_register_shape(
    sample: tuple[Path, dict[str, int]], frames: dict[str, pl.DataFrame]
) -> None:
    out, _ = sample
    register = yaml.safe_load((out / FILES[3]).read_text(encoding="utf-8"))
    assert set(register) == REGISTER_KEYS
    assert register["finess"] == "750000001" and register["year"] == YEAR
    nurses = register["staff"]["nurses"]
    assert 6 <= len(nurses) <= 10
    assert all(0.5 <= n["fte"] <= 1 and len(n["id"]) == 11 and n["id"].isdigit() for n in nurses)
    assert {n["role"] for n in nurses} == {"nurse", "coordinator", "manager"}
    assert register["coordinator_nurse"] in {n["id"] for n in nurses}
    assert len(register["staff"]["secretaries"]) == 2
    months = {d.month for d in register["internal_meetings"]}
    assert len(register["internal_meetings"]) >= 6 and len(months) == 11
    natures = {p["nature"] for p in register["partners"]}
    assert len(natures) >= 3
    signed = [p for p in register["partners"] if p["convention_signed"]]
    assert 1 <= len(signed) < len(register["partners"])
    billed_nurses = set(frames["billing"]["nurse_id"].drop_nulls())
    assert {n["id"] for n in nurses} <= billed_nurses
