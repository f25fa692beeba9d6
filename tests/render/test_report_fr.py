"""The report where a CPAM agent trips: every figure readable as it is meant (issue 15, item 6).

DSI parts that add up to the count, partners by nature, shares never « 0,0 % » for a
non-zero count, units agreeing with the count, one label for the unattributed column, the
age-unknown gap explained, the attestation block; and the sample's December chronic entry
(item 7). Figures are worked out from the sample's CSV files, independently of the SQL.
"""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
import yaml

from pipeline.core import labels
from pipeline.orchestrate import steps
from pipeline.render import formatting
from pipeline.render import write as render
from tests.support import FINESS, SAMPLE_DIR

YEAR = 2025


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict[str, Any]:
    """The sample centre's 2025 report in JSON, HTML and XLSX (the PDF is the same HTML)."""
    root = tmp_path_factory.mktemp("report_fr")
    db = root / "wh.duckdb"
    steps.ingest(SAMPLE_DIR, db)
    paths = steps.report(YEAR, FINESS, db, root / "out", ("json", "html", "xlsx"))
    by_format = {p.suffix.lstrip("."): p for p in paths}
    report = json.loads(by_format["json"].read_text(encoding="utf-8"))
    page = html.unescape(by_format["html"].read_text(encoding="utf-8"))
    return {**by_format, "report": report, "page": page}


@pytest.fixture(scope="module")
def billed() -> pl.DataFrame:
    """The sample's counted lines: status billed, act date in the year."""
    lines = pl.read_csv(SAMPLE_DIR / f"billing_{YEAR}.csv", infer_schema=False)
    return lines.filter(
        (pl.col("status") == "billed") & pl.col("act_date").str.starts_with(str(YEAR))
    ).with_columns(pl.col("quantity").cast(pl.Int64))


def _section(page: str, section_id: str) -> str:
    """The HTML of one `<section id=…>` of the report."""
    match = re.search(rf'<section id="{section_id}".*?</section>', page, re.S)
    assert match, section_id
    return match.group(0)


def _text(fragment: str) -> str:
    """Tags removed, whitespace collapsed: what a reader sees."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def _dsi_spans(page: str) -> list[tuple[str, int]]:
    """The « label : n » parts of the DSI row of section 3's acts table."""
    acts = _section(page, "acts")
    row = re.search(r"<tr>\s*<th scope=\"row\">DSI[^<]*</th>.*?</tr>", acts, re.S)
    assert row
    return [
        (label, int(n)) for label, n in re.findall(r"<span>([^<:]+) : (\d+)</span>", row.group(0))
    ]


# --------------------------------------------------------------------------- DSI


def test_dsi_parts_add_up_to_the_count_and_match_the_billing_file(sample, billed):
    dsi = billed.filter(pl.col("act_code").is_in(["DI", "BSA", "BSB", "BSC"]))
    di = (
        dsi.filter(pl.col("act_code") == "DI").group_by("coefficient").agg(pl.col("quantity").sum())
    )
    flat = dsi.filter(pl.col("act_code") != "DI").group_by("act_code").agg(pl.col("quantity").sum())
    expected = {f"DI {c.replace('.', ',')}": n for c, n in di.iter_rows()}
    expected |= {f"forfait {c}": n for c, n in flat.iter_rows()}

    spans = _dsi_spans(sample["page"])
    assert dict(spans) == expected
    assert (
        sum(n for _, n in spans)
        == sample["report"]["acts"]["DSI"]["count"]
        == dsi["quantity"].sum()
    )
    assert not any(label.strip() == "DI 1" for label, _ in spans)  # the flat fees are not DI 1


def test_dsi_xlsx_rows_add_up_to_the_count(sample):
    ws = openpyxl.load_workbook(sample["xlsx"])[labels.XLSX_SHEETS["acts_detail"]]
    rows = [r for r in ws.iter_rows(values_only=True) if r and r[0] == "Tous les assurés"]
    dsi = [r for r in rows if r[1] == labels.ACT_FAMILIES["DSI"]]
    assert sum(r[4] for r in dsi) == sample["report"]["acts"]["DSI"]["count"]
    assert {r[3] for r in dsi if r[2] == "forfait BSI ou code"} == {"BSA", "BSB", "BSC"}
    assert {r[3] for r in dsi if r[2] == "DI, coefficient"} == {1.2, 2.5}


def test_dsi_split_falls_back_to_di_as_one_figure_when_coefficients_do_not_add_up():
    # A BSB billed at coefficient 2 (data error): coefficient 1 cannot hold all flat fees.
    block = {
        "count": 10,
        "by_coefficient": {"1": 3, "2": 2, "2.5": 5},
        "by_code": {"BSA": 3, "BSB": 2, "DI": 5},
    }
    parts = formatting.act_parts("DSI", block)
    assert [(p.text, p.count) for p in parts] == [("DI", 5), ("forfait BSA", 3), ("forfait BSB", 2)]
    assert sum(p.count for p in parts) == 10


def test_dsi_without_flat_fees_keeps_every_di_coefficient():
    block = {"count": 4, "by_coefficient": {"1.2": 3, "2.5": 1}, "by_code": {"DI": 4}}
    assert [(p.text, p.count) for p in formatting.act_parts("DSI", block)] == [
        ("DI 1,2", 3),
        ("DI 2,5", 1),
    ]


# --------------------------------------------------------------------------- partners


def test_partners_by_nature_are_in_section_5(sample):
    means = _text(_section(sample["page"], "means"))
    register = yaml.safe_load((SAMPLE_DIR / f"centre_{YEAR}.yaml").read_text(encoding="utf-8"))
    assert "Partenaires par nature" in means
    natures: dict[str, list[int]] = {}
    for p in register["partners"]:
        counts = natures.setdefault(p["nature"], [0, 0])
        counts[0 if p.get("convention_signed") else 1] += 1
    for nature, (with_c, without_c) in natures.items():
        label = labels.PARTNER_NATURES[nature]
        assert f"{label} {with_c} {without_c} {with_c + without_c}" in means


# --------------------------------------------------------------------------- shares, units


@pytest.mark.parametrize(
    ("share", "count", "text"),
    [
        (0.0004, 13, "0,04 %"),
        (0.0001, 2, "0,01 %"),
        (0.0, 1, "< 0,01 %"),
        (0.0876, 31, "8,8 %"),
        (0.0, 0, "0,0 %"),
        (None, 0, "—"),
    ],
)
def test_a_share_never_reads_zero_for_a_non_zero_count(share, count, text):
    assert formatting.french_share(share, count).replace("\u202f", " ") == text


def test_no_zero_share_for_a_non_zero_finding_in_the_report(sample):
    quality = _section(sample["page"], "quality")
    for key, f in sample["report"]["quality"]["findings"].items():
        if f["count"] and f["share"] is not None:
            row = re.search(
                rf"<th scope=\"row\">{re.escape(f['label'])}</th>(.*?)</tr>", quality, re.S
            )
            assert row, key
            assert "0,0 %" not in row.group(1), key


@pytest.mark.parametrize(
    ("count", "unit", "text"),
    [
        (0, "nurses", "0 infirmière"),
        (1, "nurses", "1 infirmière"),
        (2, "nurses", "2 infirmières"),
        (1, "lines", "1 ligne"),
        (35405, "lines", "35 405 lignes"),
    ],
)
def test_units_agree_with_the_count(count, unit, text):
    assert formatting.with_unit(count, unit).replace("\u202f", " ") == text


def test_nurse_findings_are_counted_in_nurses_even_when_none_is_found(sample):
    quality = _text(_section(sample["page"], "quality"))
    label = labels.QUALITY["registered_nurse_without_act"]
    assert sample["report"]["quality"]["findings"]["registered_nurse_without_act"]["count"] == 0
    assert f"{label} 0 infirmière" in quality
    assert not re.search(r"(?<![\d\u202f])[01] lignes", quality)  # « 0 lignes », « 1 lignes »


def test_one_label_for_the_unattributed_column(sample):
    assert "colonne « inconnue »" not in sample["page"]
    assert "colonne « Assurés non rattachés »" in sample["page"]
    assert '<th rowspan="2">Assurés non rattachés</th>' in sample["page"]


# --------------------------------------------------------------------------- age gap


def test_the_age_unknown_gap_is_explained_by_patients_missing_from_the_export(sample, billed):
    patients = pl.read_csv(SAMPLE_DIR / "patients.csv", infer_schema=False)
    exported = set(patients["patient_id"])
    billed_ids = set(billed["patient_id"])
    missing = len(billed_ids - exported)  # billed in the year, absent from the export
    no_birth = len(billed_ids & set(patients.filter(pl.col("birth_date").is_null())["patient_id"]))
    c = sample["report"]["clientele"]
    assert (missing, no_birth, c["age_unknown"]) == (2, 10, 12)
    clientele = _text(_section(sample["page"], "clientele"))
    assert "Âge inconnu : 12 assurés, dont 10 sans date de naissance" in clientele
    assert "2 patients de l'année sont absents de cet export" in clientele


def test_no_age_gap_note_when_the_figures_agree(sample):
    report = copy.deepcopy(sample["report"])
    report["clientele"]["age_unknown"] = 10
    assert formatting.age_gap(report) == ""


# --------------------------------------------------------------------------- attestation


def test_the_attestation_block_carries_the_register_identity(sample):
    register = yaml.safe_load((SAMPLE_DIR / f"centre_{YEAR}.yaml").read_text(encoding="utf-8"))
    assert sample["report"]["attestation"] == {
        "centre_name": register["name"],
        "centre_finess": FINESS,
        "address": register["address"],
        "legal_representative": register["legal_representative"],
    }
    block = _text(_section(sample["page"], "attestation"))
    assert f"Adresse {register['address']}" in block
    assert f"N° FINESS {FINESS}" in block
    assert register["legal_representative"] in block
    assert "Fait à" in block and ", le " in block and "Signature" in block


def test_the_attestation_leaves_lines_to_fill_without_address(sample):
    report = copy.deepcopy(sample["report"])
    report["attestation"]["address"] = report["attestation"]["legal_representative"] = None
    block = _text(_section(render.to_html(report), "attestation"))
    assert "Adresse ……" in block and "Représentant légal ……" in block


def test_attestation_keys_are_optional_in_the_register(tmp_path: Path):
    from schemas.register import CentreRegister

    data = yaml.safe_load((SAMPLE_DIR / f"centre_{YEAR}.yaml").read_text(encoding="utf-8"))
    del data["address"], data["legal_representative"]
    assert CentreRegister.model_validate(data).address is None


# --------------------------------------------------------------------------- December


def test_the_sample_has_a_chronic_entry_in_december(sample):
    episodes = pl.read_csv(SAMPLE_DIR / "episodes.csv", infer_schema=False)
    december = episodes.filter(
        (pl.col("reason") == "chronic") & pl.col("start_date").str.starts_with(f"{YEAR}-12")
    )
    assert december.height == 1
    assert sample["report"]["monthly"][11]["chronic_entries"] == december.height
    monthly = _section(sample["page"], "monthly")
    row = re.search(r"<th scope=\"row\">décembre</th>(.*?)</tr>", monthly, re.S)
    assert row
    cells = re.findall(r"<td>([^<]*)</td>", row.group(1))
    assert cells[3] == "1"  # chronic: patients, then entries


def test_xlsx_small_shares_have_two_decimals_and_the_centre_sheet_its_address(sample):
    book = openpyxl.load_workbook(sample["xlsx"])
    ws = book[labels.XLSX_SHEETS["quality"]]
    label = labels.QUALITY["unknown_patient"]
    row = next(r for r in ws.iter_rows() if r[0].value == label)
    finding = sample["report"]["quality"]["findings"]["unknown_patient"]
    assert finding["count"] and round(finding["share"] * 100, 1) == 0  # « 0,0 % » at 1 digit
    assert (row[3].value, row[3].number_format) == (finding["share"], "0.00%")
    meta = {r[0]: r[1] for r in book[labels.XLSX_SHEETS["meta"]].iter_rows(values_only=True)}
    assert meta["Adresse"] == sample["report"]["attestation"]["address"]
