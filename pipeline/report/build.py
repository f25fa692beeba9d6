"""Assemble the annexe 3 report of one centre × year from the warehouse's SQL models.

Every figure is read from a model of `sql/marts/`, stored under its name by the loads
(`pipeline.warehouse.materialise`), so the analyst who queries the warehouse and the report
always agree. This module only reshapes rows into the JSON
contract of annexe3-report.md. Its sections read through the `Reader` they are given
(`pipeline.report.scoped`: one centre × year at a time, or a group's rows at once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from typing import Any

import duckdb

from pipeline import __version__
from pipeline.core import labels
from pipeline.core.canonical import FINESS_PATTERN
from pipeline.core.errors import UsageError
from pipeline.core.reference import COEFFICIENT_FAMILIES, NGAP_FILE, holiday_zone
from pipeline.core.resources import reference_file
from pipeline.report.scoped import Reader

SCHEMA_VERSION = 1
ACT_FAMILIES = tuple(labels.ACT_FAMILIES)
BY_CODE_FAMILIES = ("DSI", "night", "other_majorations", "other_acts")
MONTHLY_KEYS = tuple(labels.MONTHLY)


def number(value: Any) -> Any:
    """JSON-friendly numbers: integral values as int, others rounded for reading."""
    if isinstance(value, Decimal | float):
        if value == int(value):
            return int(value)
        # Decimals are money and coefficients (2 places); floats are shares and means.
        return round(float(value), 2 if isinstance(value, Decimal) else 4)
    return value


def _scoped(
    reader: Reader, sql: str, finess: str, year: int, order: str | None = None
) -> list[dict[str, Any]]:
    """One centre × year's rows of `sql` (see `report.scoped`), numbers made JSON-friendly."""
    rows = reader.rows(sql, finess, year, order)
    return [{k: number(v) for k, v in row.items()} for row in rows]


def _view(reader: Reader, view: str, finess: str, year: int) -> list[dict]:
    return _scoped(reader, f"select * from {view}", finess, year)


def _one(reader: Reader, view: str, finess: str, year: int) -> dict[str, Any]:
    rows = _view(reader, view, finess, year)
    return rows[0] if rows else {}


def clientele(reader: Reader, finess: str, year: int) -> dict[str, int]:
    row = _one(reader, "clientele", finess, year)
    return {key: row.get(key, 0) for key in labels.CLIENTELE}


def monthly(reader: Reader, finess: str, year: int) -> list[dict[str, int]]:
    by_month = {r["month"]: r for r in _view(reader, "monthly", finess, year)}
    return [
        {"month": m, **{k: by_month.get(m, {}).get(k, 0) for k in MONTHLY_KEYS}}
        for m in range(1, 13)
    ]


def monthly_totals(reader: Reader, finess: str, year: int) -> dict[str, int]:
    row = _one(reader, "monthly_totals", finess, year)
    return {key: row.get(key, 0) for key in MONTHLY_KEYS}


def _grouped(rows: list[dict[str, Any]], dimension: str, measure: str) -> dict[str, Any]:
    picked = [r for r in rows if r["dimension"] == dimension]
    picked.sort(key=lambda r: (-r[measure], str(r["value"])))
    return {str(r["value"]): r[measure] for r in picked}


def origin(reader: Reader, finess: str, year: int) -> dict[str, Any]:
    rows = _view(reader, "origin", finess, year)
    return {
        "by_referral": _grouped(rows, "referral", "patients"),
        "by_postcode": _grouped(rows, "postcode", "patients"),
    }


def _coefficient_sort_key(text: str) -> tuple[int, float | str]:
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def _family_block(family: str, row: dict[str, Any], coefs: dict[str, Any], codes: dict) -> dict:
    block: dict[str, Any] = {"count": row.get("count", 0)}
    if family in COEFFICIENT_FAMILIES:
        block["coefficient_total"] = row.get("coefficient_total") or 0
        block["by_coefficient"] = {k: coefs[k] for k in sorted(coefs, key=_coefficient_sort_key)}
    if family == "IK":
        block["km"] = row.get("km") or 0
    if family in BY_CODE_FAMILIES:
        block["by_code"] = dict(sorted(codes.items()))
    block["amount_eur"] = row.get("amount_eur")
    return block


def acts(reader: Reader, finess: str, year: int, scope: str = "all") -> dict[str, Any]:
    def rows(view: str) -> list[dict[str, Any]]:
        return [r for r in _view(reader, view, finess, year) if r["scope"] == scope]

    totals = {r["family"]: r for r in rows("acts")}
    coefs: dict[str, dict[str, Any]] = {f: {} for f in ACT_FAMILIES}
    for r in rows("acts_by_coefficient"):
        coefs[r["family"]][r["coefficient"]] = r["count"]
    codes: dict[str, dict[str, Any]] = {f: {} for f in ACT_FAMILIES}
    for r in rows("acts_by_code"):
        codes[r["family"]][r["act_code"]] = r["count"]
    return {f: _family_block(f, totals.get(f, {}), coefs[f], codes[f]) for f in ACT_FAMILIES}


def hospital_discharge(reader: Reader, finess: str, year: int) -> dict[str, Any]:
    row = _one(reader, "hospital_discharge", finess, year)
    groups = _view(reader, "hospital_discharge_groups", finess, year)
    details = _scoped(
        reader,
        "select distinct centre_finess, year, care_detail from int_discharge_episodes "
        "where care_type = 'other' and care_detail is not null",
        finess,
        year,
        order="care_detail",
    )
    return {
        "patients": row.get("patients", 0),
        "episodes": row.get("episodes", 0),
        "by_establishment": _grouped(groups, "establishment", "patients"),
        "by_service": _grouped(groups, "service", "patients"),
        "by_care_type": _grouped(groups, "care_type", "patients"),
        "other_care_details": [d["care_detail"] for d in details],
        "duration_days": {
            key: row.get(f"duration_{key}") for key in ("total", "mean", "median", "min", "max")
        },
        "acts": acts(reader, finess, year, scope="hospital_discharge"),
    }


def quality(reader: Reader, finess: str, year: int) -> dict[str, Any]:
    found = {r["finding"]: r for r in _view(reader, "quality", finess, year)}
    counted = _counted_lines(reader, finess, year)
    findings = {
        key: {
            "label": label,
            "count": found.get(key, {}).get("count", 0),
            "unit": found.get(key, {}).get("unit", "lines"),
            "share": found.get(key, {}).get("share"),
            "examples": list(found.get(key, {}).get("examples") or []),
        }
        for key, label in labels.QUALITY.items()
    }
    return {
        "counted_lines": counted,
        "findings_with_issues": sum(1 for f in findings.values() if f["count"]),
        "findings": findings,
        "billing_audit": billing_audit(reader, finess, year),
    }


def billing_audit(reader: Reader, finess: str, year: int) -> dict[str, Any]:
    """The billing audit: what billing errors cost or leave on the table, in euros.

    Indicative (« à vérifier »): each item counts visits or lines, with the euros at the
    reference's values on the act's date for the centre's zone (signed: positive =
    under-billed) and five example line ids; `ais_after_bsi` is a count only.
    """
    found = {r["item"]: r for r in _view(reader, "billing_audit", finess, year)}
    items: dict[str, Any] = {}
    for key, label in labels.BILLING_AUDIT.items():
        row = found.get(key, {})
        eur = None if key == "ais_after_bsi" else number(row.get("eur") or Decimal(0))
        items[key] = {
            "label": label,
            "unit": labels.BILLING_AUDIT_UNITS[key],
            "count": row.get("count", 0),
            "eur": eur,
            "examples": list(row.get("examples") or []),
        }
    total = sum(Decimal(str(i["eur"])) for i in items.values() if i["eur"] is not None)
    return {**items, "total_eur": number(total)}


def coordination_fee(reader: Reader, finess: str, year: int) -> dict[str, Any]:
    """CID / CIF lines: the billed halves of the coordination flat fee, never acts."""
    rows = _view(reader, "coordination_fee", finess, year)
    amounts = [r["amount_eur"] for r in rows if r["amount_eur"] is not None]
    return {
        "count": sum(r["count"] for r in rows),
        "by_code": {r["act_code"]: r["count"] for r in sorted(rows, key=lambda r: r["act_code"])},
        "amount_eur": number(sum(Decimal(str(a)) for a in amounts)) if amounts else None,
    }


def _counted_lines(reader: Reader, finess: str, year: int) -> int:
    """Counted lines of the centre × year, as the stored mart `billed_period` counts them
    (one small row per scope, where counting `int_line_attribution` reads every line)."""
    rows = _scoped(
        reader, "select centre_finess, year, counted_lines from billed_period", finess, year
    )
    return rows[0]["counted_lines"] if rows else 0


def _sha256_file(name: str) -> str:
    return hashlib.sha256(reference_file(name).read_bytes()).hexdigest()


def inputs(reader: Reader, finess: str, year: int) -> list[dict[str, Any]]:
    """Every input file that fed this centre × year, with its fingerprint.

    A file loaded again unchanged is listed once, with the load that first brought it.
    Files without a year (patients) fed every year of their centres.
    """
    year = int(year)
    return _scoped(
        reader,
        f"""select s.centre_finess, {year} as year, f.file_name as file,
                   f.table_name as "table", f.sha256, f.rows, min(f.load_id) as load_id
            from load_files f
            join load_file_scopes s on s.load_id = f.load_id and s.file_name = f.file_name
            where s.year = {year} or s.year is null
            group by all""",
        finess,
        year,
        order="load_id, file",
    )


def generation_time(epoch: int | None = None) -> str:
    """Now, or `epoch` (`SOURCE_DATE_EPOCH`) when set, so that an auditor's regeneration is
    identical byte for byte (the reproducible-builds convention)."""
    if epoch is not None:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def coverage(reader: Reader, finess: str, year: int) -> dict[str, Any]:
    """The first and last act dates of the counted lines and the months that hold some.

    Why: a report built from January and February must say so on its cover, or it would
    be read as the whole year's activity. Read from the `billed_period` model, which the
    refusal checks read too (`check_reportable`).
    """
    row = _one(reader, "billed_period", finess, year)
    first, last = row.get("first_act_date"), row.get("last_act_date")
    return {
        "first_act_date": first.isoformat() if first else None,
        "last_act_date": last.isoformat() if last else None,
        "months": [int(m) for m in row.get("months") or []],
    }


def meta(reader: Reader, finess: str, year: int, epoch: int | None = None) -> dict[str, Any]:
    import holidays

    from pipeline.report.register_sections import AGREEMENTS_FILE, COMMITMENTS_FILE

    name = _scoped(reader, "select centre_finess, year, name from register_centres", finess, year)
    files = inputs(reader, finess, year)
    fingerprint = hashlib.sha256("".join(sorted(f["sha256"] for f in files)).encode()).hexdigest()
    return {
        "schema_version": SCHEMA_VERSION,
        "centre_finess": finess,
        "centre_name": name[0]["name"] if name else None,
        "year": year,
        "coverage": coverage(reader, finess, year),
        "holiday_zone": holiday_zone(finess),
        "generated_at": generation_time(epoch),
        "package_version": __version__,
        "reference": {
            "ngap_sha256": _sha256_file(NGAP_FILE),
            "engagements_sha256": _sha256_file(COMMITMENTS_FILE),
            "agreements_sha256": _sha256_file(AGREEMENTS_FILE),
            "holidays_version": holidays.__version__,
        },
        "as_of_load": reader.value("select max(load_id) from loads"),
        "inputs_fingerprint": fingerprint,
        "inputs": files,
    }


def build_report(
    reader: Reader, finess: str, year: int, epoch: int | None = None
) -> dict[str, Any]:
    """The whole report of one centre × year as a JSON-ready dict.

    Every section reads through `reader` (`pipeline.report.scoped`): a `CentreReader` for
    one centre, or the `GroupReader` of the centre's group in a federation's fan-out.
    `epoch` (`Settings.source_date_epoch`) fixes its generation time; None: now.
    """
    from pipeline.report.register_sections import build_register_sections

    report: dict[str, Any] = {
        "meta": meta(reader, finess, year, epoch),
        "clientele": clientele(reader, finess, year),
        "monthly": monthly(reader, finess, year),
        "monthly_totals": monthly_totals(reader, finess, year),
        "origin": origin(reader, finess, year),
        "acts": acts(reader, finess, year),
        "hospital_discharge": hospital_discharge(reader, finess, year),
    }
    report.update(build_register_sections(reader, finess, year, unfilled_items(report)))
    report["forfait"]["coordination_fee"] = coordination_fee(reader, finess, year)
    report["quality"] = quality(reader, finess, year)
    report["previous_year"] = previous_year(reader, finess, year)
    return report


def _holds_billing(reader: Reader, finess: str, year: int) -> bool:
    """Whether the warehouse holds counted lines of that centre × year.

    `int_centre_years` also lists years that only have an episode start or a register;
    comparing with such a year would show every billed figure as growing from zero.
    """
    return _counted_lines(reader, finess, year) > 0


def counted_centres(con: duckdb.DuckDBPyConnection, year: int) -> list[str]:
    """The centres with at least one counted line in `year`: those a report can be for."""
    rows = con.execute(
        "select centre_finess from billed_period where year = ? order by 1", [int(year)]
    ).fetchall()
    return [r[0] for r in rows]


def check_reportable(con: duckdb.DuckDBPyConnection, finess: str, year: int) -> None:
    """Refuse, in French, a report that would describe nothing.

    Why: a malformed or unknown FINESS, or a year without a counted line, would otherwise
    give a plausible report of 0 patients labelled for the CPAM.
    """
    if not re.fullmatch(FINESS_PATTERN, finess):
        raise UsageError(
            f"FINESS mal formé : « {finess} ». Un FINESS a 9 caractères : 2 chiffres "
            "(ou 2A, 2B) puis 7 chiffres, par exemple 750000001."
        )
    known = [
        t
        for t in ("billing_lines", "patients", "episodes", "register_centres")
        if con.execute(f"select 1 from {t} where centre_finess = ? limit 1", [finess]).fetchall()
    ]
    if not known:
        raise UsageError(
            f"Centre inconnu : le FINESS {finess} n'apparaît dans aucune extraction chargée "
            "dans l'entrepôt. Vérifiez le numéro, ou chargez d'abord son extraction "
            "(csi ingest). Aucun rapport n'a été écrit."
        )
    if not con.execute(
        "select 1 from billed_period where centre_finess = ? and year = ?", [finess, int(year)]
    ).fetchall():
        raise UsageError(
            f"Aucune ligne de facturation comptée (statut « billed ») pour le centre {finess} "
            f"en {year} : pas de rapport pour une année sans activité facturée. Aucun rapport "
            "n'a été écrit."
        )


def _act_figures(block: dict[str, Any]) -> dict[str, Any]:
    """The numeric figures of one act family, without the breakdowns."""
    keys = ("count", "coefficient_total", "km", "amount_eur")
    return {key: block[key] for key in keys if key in block}


def previous_year(reader: Reader, finess: str, year: int) -> dict[str, Any] | None:
    """The headline figures of year − 1, so that every figure can show its change.

    Built by the same section builders as the year itself, hence counted by the same
    rules; `None` when the warehouse holds no billed activity of that centre in year − 1.
    `months_with_lines` lets a reader see that the year before is incomplete.
    """
    before = year - 1
    if not _holds_billing(reader, finess, before):
        return None
    discharge = hospital_discharge(reader, finess, before)
    months = monthly(reader, finess, before)
    return {
        "year": before,
        "months_with_lines": sum(
            1 for m in months if any(m[k] for k in MONTHLY_KEYS if k.endswith("_patients"))
        ),
        "clientele": clientele(reader, finess, before),
        "monthly_totals": monthly_totals(reader, finess, before),
        "acts": {f: _act_figures(b) for f, b in acts(reader, finess, before).items()},
        "hospital_discharge": {k: discharge[k] for k in ("patients", "episodes")},
    }


def unfilled_items(report: dict[str, Any]) -> list[str]:
    """Annexe 3 items the data could not fill, for the `activity_report` commitment."""
    missing = []
    if report["clientele"]["age_unknown"]:
        missing.append(f"âge inconnu pour {report['clientele']['age_unknown']} assuré(s)")
    if report["monthly_totals"]["unattributed_patients"]:
        missing.append(
            f"{report['monthly_totals']['unattributed_patients']} assuré(s) non rattaché(s) "
            "à une prise en charge (raison de la venue inconnue)"
        )
    if report["origin"]["by_referral"].get("unknown"):
        missing.append("origine inconnue pour une partie des assurés")
    return missing
