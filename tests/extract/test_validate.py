"""`pipeline.extract.validate`: pandera's failures mapped back to the file, row and column."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from pipeline.core.canonical import TABLES
from pipeline.extract.coerce import coerce
from pipeline.extract.profiles import canonical_profile
from pipeline.extract.readers import FILE, ROW
from pipeline.extract.validate import _all_hold, _batch_model, duplicate_finding, validate_batch

COLUMNS = [c.name for c in TABLES["billing"]]
GOOD = {
    "centre_finess": "750000001",
    "invoice_id": "F1",
    "line_no": "1",
    "patient_id": "P1",
    "act_date": "2025-01-02",
    "act_code": "AMI",
    "coefficient": "1",
    "quantity": "1",
    "status": "billed",
}


def _typed(*rows: dict[str, Any], first_row: int = 2) -> pl.DataFrame:
    """Billing rows as the reader gives them (text, `_file`, `_row`), then typed."""
    text = pl.DataFrame(
        [{c: {**GOOD, **row}.get(c) for c in COLUMNS} for row in rows],
        schema=dict.fromkeys(COLUMNS, pl.String),
    ).with_columns(
        pl.lit("factures.csv").alias(FILE),
        pl.int_range(first_row, first_row + len(rows), dtype=pl.Int64).alias(ROW),
    )
    typed, parse = coerce(text, "billing", canonical_profile().format_of("billing"))
    assert parse == []
    return typed


def test_a_clean_batch_has_no_finding():
    assert validate_batch(_typed({}, {"line_no": "2"}), "billing", {}, {"factures.csv": 0}) == []


def test_each_finding_names_the_source_row_and_the_files_own_header():
    typed = _typed({}, {"line_no": "2", "status": "payé"}, {"line_no": "3", "act_code": None})
    headers = {"status": "Statut", "act_code": "Code acte"}
    found = [f for _, f in validate_batch(typed, "billing", headers, {"factures.csv": 0})]
    assert [(f.file, f.row, f.column, f.value) for f in found] == [
        ("factures.csv", 3, "Statut", "payé"),
        ("factures.csv", 4, "Code acte", None),
    ]
    assert found[0].rule == "valeur non reconnue (permises : billed, cancelled, rejected)"
    assert found[1].rule == "valeur obligatoire manquante"


def test_a_batch_does_not_check_the_key_alone_the_loader_does():
    """Two rows with one key in a batch: uniqueness is the whole extract's, not the batch's."""
    assert validate_batch(_typed({}, {}), "billing", {}, {"factures.csv": 0}) == []
    rank, finding = duplicate_finding("billing", "factures.csv", 3, {"factures.csv": 1})
    assert rank == (1, 3, "multiple_fields_uniqueness")
    assert (finding.row, finding.rule) == (
        3,
        "ligne de facture répétée dans l'extrait (même FINESS, facture et n° de ligne)",
    )


BROKEN = [  # one rule of the billing model broken per case
    {"invoice_id": ""},
    {"invoice_id": None},
    {"line_no": "0"},
    {"line_no": "99999999999"},
    {"centre_finess": "75000000"},
    {"patient_id": ""},
    {"act_date": "2999-01-01"},
    {"act_date": None},
    {"act_code": "AMI 2"},
    {"coefficient": "-1"},
    {"coefficient": "1.234"},
    {"coefficient": "1e12"},
    {"quantity": "0"},
    {"amount_eur": "1e12"},
    {"amount_eur": "2.345"},
    {"status": "payé"},
    {"status": None},
]


@pytest.mark.parametrize(
    "broken", BROKEN, ids=lambda row: ",".join(f"{k}={v}" for k, v in row.items())
)
def test_the_one_query_pass_fails_wherever_pandera_finds_something(broken):
    """`_all_hold` lets a batch skip pandera only when pandera would find nothing."""
    model = _batch_model("billing")
    clean = _typed({}, {"line_no": "2"})
    assert _all_hold(clean, model)
    typed = _typed({}, {"line_no": "2", **broken})
    assert not _all_hold(typed, model)
    assert validate_batch(typed, "billing", {}, {"factures.csv": 0}) != []


def test_the_one_query_pass_checks_the_frame_rules_and_the_types():
    episodes = _batch_model("episodes")
    frame = pl.DataFrame(
        {c: [None] for c in episodes.columns}, schema={c: pl.String for c in episodes.columns}
    )
    assert not _all_hold(frame, episodes)  # wrong types, missing values
    assert not _all_hold(
        _typed({}).with_columns(pl.col("quantity").cast(pl.Int32)), _batch_model("billing")
    )


def test_a_shortcut_that_cannot_run_leaves_the_batch_to_pandera(monkeypatch):
    """A library internal the one-query pass trips on never lets a bad batch through."""
    import pipeline.extract.validate as validate

    def broken(*_args: object) -> bool:
        raise KeyError("a check function without its polars implementation")

    monkeypatch.setattr(validate, "_all_hold", broken)
    bad = _typed({}, {"line_no": "2", "status": "payé"})
    assert validate_batch(bad, "billing", {}, {"factures.csv": 0}) != []
    assert validate_batch(_typed({}, {"line_no": "2"}), "billing", {}, {"factures.csv": 0}) == []
