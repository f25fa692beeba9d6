"""Seeded generator of one realistic nurse-centre extract for one year (canonical format).

Why: the report, the quality checks and the demos need a year of data that looks like a
real centre's exports (patient mix, care plans, night rounds, Sundays and public holidays,
hospital discharges, cancelled invoices) without a single real patient. Everything is drawn
from one `random.Random(seed)` and written in a fixed order, so a seed always gives
byte-identical files.

The extract deliberately carries the defects the report must catch (each one is a quality
warning, none is a rejection): night majorations at daytime hours, Sunday majorations on
working days, patients without birth date, lines of patients absent from the patients
file, episode ids that name no episode of the patient, acts a few days after their
episode ended (unattributed), and replacement nurses who bill but are not in the register.

Run: `python -m data.samplegen --out data/sample --year 2025 --seed 20250101`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

DEFAULT_OUT = Path("data/sample")
N_PATIENTS = 350
N_INACTIVE = 4  # patients in the software file with no care this year
N_UNKNOWN_PATIENTS = 2  # billed but missing from the patients export
CANCELLED_SHARE = 0.01  # invoices cancelled by the centre (then re-issued)
REJECTED_SHARE = 0.005  # invoices refused by the fund
EPISODE_ID_SHARE = 0.70  # visits whose lines carry their episode id
MISSING_TIME_SHARE = 0.03  # daytime visits exported without an hour

BILLING_COLUMNS = (
    "invoice_id",
    "line_no",
    "centre_finess",
    "patient_id",
    "nurse_id",
    "act_date",
    "act_time",
    "act_code",
    "coefficient",
    "quantity",
    "amount_eur",
    "status",
    "episode_id",
)
PATIENT_COLUMNS = (
    "centre_finess",
    "patient_id",
    "birth_date",
    "sex",
    "occupation",
    "coverage",
    "complementary",
    "lives_alone",
    "postcode",
)
EPISODE_COLUMNS = (
    "centre_finess",
    "episode_id",
    "patient_id",
    "start_date",
    "end_date",
    "reason",
    "referral_origin",
    "hospital_discharge",
    "discharge_establishment",
    "discharge_finess",
    "discharge_service",
    "discharge_care_type",
    "discharge_care_detail",
)

# Where the patients live: the centre is in Paris 10e; a few live in the outer suburbs,
# far enough for kilometre fees (IK).
NEAR_POSTCODES = (
    ("75010", 30),
    ("75011", 10),
    ("75018", 12),
    ("75019", 12),
    ("75020", 8),
    ("75009", 4),
    ("75003", 3),
    ("93300", 5),
    ("93200", 4),
    ("93500", 4),
    ("93100", 3),
)
FAR_POSTCODES = ("93270", "93410", "95500", "77290", "95470")

# Time slots of a visit, in minutes after midnight: (first, last).
SLOTS = {
    "morning": (7 * 60 + 30, 11 * 60 + 55),
    "noon": (12 * 60, 14 * 60 + 30),
    "evening": (17 * 60, 19 * 60 + 50),
    "late": (20 * 60 + 5, 22 * 60 + 50),  # night majoration N
    "early": (5 * 60 + 30, 7 * 60 + 50),  # night majoration N
    "midnight": (23 * 60, 23 * 60 + 59 + 5 * 60),  # MM, wraps past midnight
}
NIGHT_SLOTS = {"late": "N", "early": "N", "midnight": "MM"}


@dataclass(frozen=True)
class Plan:
    """A care plan: what is billed at each visit and how often, per episode."""

    name: str
    reason: str
    act_options: tuple[tuple[tuple[str, str], ...], ...]  # one chosen per episode
    rhythm: str  # daily | alternate | mwf | weekly | biweekly | monthly
    slots: tuple[str, ...]
    days: tuple[int, int] = (0, 0)  # episode length for acute/palliative plans
    at_centre: float = 0.0  # share of visits at the centre (no travel fee)
    mau: bool = False  # single small act → majoration acte unique
    mci: bool = False  # coordination majoration (palliative, complex dressings)
    bsi: bool = False  # dependent patient: periodic DI + BSA/BSB/BSC bilan
    discharge: float = 0.0  # chance that the episode follows a hospital stay
    night_share: float = 0.0  # chance per day of an extra late-evening visit (N)
    midnight_share: float = 0.0  # chance per day of a middle-of-night call (MM)


PLANS = {
    p.name: p
    for p in (
        Plan("insulin", "chronic", ((("AMI", "1"),),), "daily", ("morning", "evening")),
        Plan("insulin_once", "chronic", ((("AMI", "1"),),), "daily", ("morning",)),
        Plan(
            "bsi_care",
            "chronic",
            ((("AMX", "3"),), (("AMX", "4"),), (("AMX", "2"), ("AMX", "1"))),
            "daily",
            ("morning",),
            bsi=True,
            discharge=0.08,
        ),
        Plan("ais_care", "chronic", ((("AIS", "3"),), (("AIS", "4"),)), "daily", ("morning",)),
        Plan(
            "dressing_heavy",
            "chronic",
            ((("AMI", "4"),), (("AMI", "4.2"),)),
            "mwf",
            ("morning",),
            discharge=0.08,
        ),
        Plan("pillbox", "chronic", ((("AMI", "1"),),), "weekly", ("morning",)),
        Plan(
            "blood_test",
            "chronic",
            ((("AMI", "1.5"),),),
            "biweekly",
            ("morning",),
            at_centre=0.35,
            mau=True,
        ),
        Plan(
            "injection",
            "chronic",
            ((("AMI", "1"),), (("AMI", "1.5"),)),
            "monthly",
            ("morning",),
            at_centre=0.4,
            mau=True,
        ),
        Plan(
            "post_op",
            "acute",
            ((("AMI", "2"),), (("AMI", "3"),), (("AMI", "4"),)),
            "alternate",
            ("morning",),
            days=(10, 35),
            discharge=0.65,
        ),
        Plan(
            "anticoag",
            "acute",
            ((("AMI", "1"),),),
            "daily",
            ("morning",),
            days=(10, 35),
            mau=True,
            discharge=0.4,
        ),
        Plan(
            "iv_antibiotics",
            "acute",
            ((("AMI", "4.1"),),),
            "daily",
            ("early", "noon", "late"),
            days=(6, 12),
            discharge=0.5,
        ),
        Plan(
            "blood_test_acute",
            "acute",
            ((("AMI", "1.5"),),),
            "weekly",
            ("morning",),
            days=(1, 28),
            at_centre=0.5,
            mau=True,
        ),
        Plan(
            "chemo_infuser",
            "acute",
            ((("AMI", "4.2"), ("AMI", "1.5")),),
            "biweekly",
            ("morning",),
            days=(60, 150),
            discharge=0.95,
        ),
        Plan(
            "child_care",
            "acute",
            ((("AMI", "1"),), (("AMI", "2"),)),
            "daily",
            ("evening",),
            days=(4, 10),
            at_centre=0.3,
        ),
        Plan(
            "palliative",
            "palliative",
            ((("AIS", "4"), ("AMI", "4")), (("AIS", "3"), ("AMI", "1"))),
            "daily",
            ("morning", "evening"),
            days=(10, 75),
            mci=True,
            discharge=0.5,
            night_share=0.15,
            midnight_share=0.025,
        ),
    )
}

CHRONIC_PLANS = (
    ("insulin", 1),
    ("insulin_once", 2),
    ("bsi_care", 3),
    ("ais_care", 2),
    ("dressing_heavy", 5),
    ("pillbox", 24),
    ("blood_test", 22),
    ("injection", 18),
)
ACUTE_PLANS = (
    ("post_op", 30),
    ("anticoag", 22),
    ("iv_antibiotics", 8),
    ("blood_test_acute", 30),
    ("chemo_infuser", 6),
)

# Hospital wards by plan, and the establishments that have them (FINESS are fictitious).
SERVICES = {
    "post_op": ("chirurgie orthopédique", "chirurgie digestive", "chirurgie vasculaire"),
    "anticoag": ("chirurgie orthopédique", "cardiologie"),
    "iv_antibiotics": ("médecine interne", "pneumologie", "maladies infectieuses"),
    "chemo_infuser": ("oncologie", "hématologie"),
    "palliative": ("oncologie", "soins palliatifs", "pneumologie"),
    "bsi_care": ("gériatrie", "neurologie"),
    "dressing_heavy": ("dermatologie", "chirurgie vasculaire"),
}
ESTABLISHMENTS = (
    ("Hôpital Saint-Louis", "750100125", ("oncologie", "hématologie", "dermatologie")),
    (
        "Hôpital Lariboisière",
        "750100091",
        ("chirurgie orthopédique", "neurologie", "médecine interne", "maladies infectieuses"),
    ),
    ("Hôpital Bichat-Claude-Bernard", "750100232", ("cardiologie", "pneumologie", "gériatrie")),
    ("Hôpital Tenon", "750100208", ("chirurgie digestive", "pneumologie", "oncologie")),
    ("Clinique du Parc", "750300145", ("chirurgie orthopédique", "chirurgie vasculaire")),
    ("Maison médicale Jeanne Garnier", "750170102", ("soins palliatifs",)),
)
CARE_DETAILS = {
    "post_op": "pansements post-opératoires et ablation des agrafes",
    "anticoag": "injections d'anticoagulant après chirurgie",
    "iv_antibiotics": "antibiothérapie intraveineuse à domicile",
    "bsi_care": "retour à domicile après chute, perte d'autonomie",
    "dressing_heavy": "ulcère de jambe, pansement complexe",
}


@dataclass(frozen=True)
class Nurse:
    """A nurse of the register (or a replacement who bills without being in it)."""

    id: str
    fte: float
    role: str
    chemotherapy_qualified: bool
    other_competences: tuple[str, ...]


@dataclass(frozen=True)
class Patient:
    """A patient as the generator knows them (the true age even when not exported)."""

    id: str
    birth: dt.date
    birth_exported: bool
    sex: str
    occupation: str
    coverage: str
    complementary: str
    lives_alone: bool | None
    postcode: str | None
    km: int  # kilometres billed per home visit (0 = within the free zone)


@dataclass(frozen=True)
class Episode:
    """One entrée; `plan` decides the visits, the rest is exported."""

    id: str
    patient: Patient
    start: dt.date
    end: dt.date | None
    plan: Plan
    acts: tuple[tuple[str, str], ...]
    referral: str | None
    discharge: tuple[str, str, str, str, str] | None  # establishment, finess, service, …


@dataclass
class Visit:
    """One trip (or one consultation at the centre) for one patient at one time."""

    patient_id: str
    day: dt.date
    minute: int | None
    slot: str
    nurse_id: str | None
    acts: list[tuple[str, str, str]]  # code, coefficient, episode id
    home: bool = True
    km: int = 0
    extras: list[str] = field(default_factory=list)  # majorations of the visit
    episode_label: str = ""  # episode id written on the lines ("" = blank)
    planted: bool = False  # carries a deliberate anomaly: its invoice stays billed


# --------------------------------------------------------------------------- calendar


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter (anonymous algorithm): Easter Monday, Ascension, Whit Monday follow."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@functools.cache
def french_holidays(year: int) -> frozenset[dt.date]:
    """The 11 national public holidays (the centre is in Paris, not Alsace-Moselle)."""
    fixed = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
    easter = easter_sunday(year)
    moving = (easter + dt.timedelta(days=n) for n in (1, 39, 50))
    return frozenset([dt.date(year, m, d) for m, d in fixed] + list(moving))


def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every date from start to end, both included."""
    for n in range((end - start).days + 1):
        yield start + dt.timedelta(days=n)


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    """One value from (value, weight) pairs; keeps the distributions readable as tables."""
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


# --------------------------------------------------------------------------- staff


def _rpps(rng: random.Random, taken: set[str]) -> str:
    """An 11-digit RPPS-like id (10 + 9 digits), unique within the centre."""
    while True:
        candidate = "10" + f"{rng.randrange(10**9):09d}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def make_nurses(rng: random.Random) -> tuple[list[Nurse], list[Nurse]]:
    """Eight registered nurses (one coordinator, one manager) and two summer replacements."""
    profiles = (
        (1.0, "coordinator", True, ("coordination du parcours", "soins palliatifs")),
        (0.8, "manager", False, ("encadrement",)),
        (1.0, "nurse", True, ("plaies et cicatrisation",)),
        (0.9, "nurse", False, ("diabétologie", "éducation thérapeutique")),
        (0.8, "nurse", False, ()),
        (0.8, "nurse", False, ("douleur",)),
        (0.6, "nurse", False, ()),
        (0.5, "nurse", False, ("plaies et cicatrisation",)),
    )
    taken: set[str] = set()
    staff = [Nurse(_rpps(rng, taken), *profile) for profile in profiles]
    replacements = [Nurse(_rpps(rng, taken), 1.0, "nurse", False, ()) for _ in range(2)]
    return staff, replacements


# --------------------------------------------------------------------------- patients


def _boundary_births(year: int) -> list[dt.date]:
    """Birth dates on the 18 / 75 boundaries, a leap-day birth, a centenarian, a 98-year-old."""
    leap = next(y for y in range(year - 76, year - 90, -1) if y % 4 == 0)
    return [
        dt.date(year - 75, 1, 1),
        dt.date(year - 75, 6, 15),
        dt.date(year - 75, 12, 31),
        dt.date(year - 76, 1, 1),
        dt.date(year - 18, 3, 1),
        dt.date(year - 18, 12, 31),
        dt.date(leap, 2, 29),
        dt.date(year - 101, 7, 14),
        dt.date(year - 98, 11, 2),
    ]


def _random_birth(rng: random.Random, year: int) -> dt.date:
    """Age mix of a home-nursing centre: mostly elderly, a few children."""
    band = _pick(
        rng,
        (
            ((1, 17), 6),
            ((18, 39), 9),
            ((40, 59), 14),
            ((60, 74), 24),
            ((75, 89), 37),
            ((90, 99), 10),
        ),
    )
    age = rng.randint(*band)
    return dt.date(year - age - 1, 1, 1) + dt.timedelta(days=rng.randint(1, 365))


def _age(birth: dt.date, on: dt.date) -> int:
    """Completed years on a date."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _occupation(rng: random.Random, age: int) -> str:
    """Occupation consistent with the age."""
    if age < 16:
        return "child"
    if age < 25:
        return _pick(rng, (("student", 6), ("active", 3), ("unemployed", 1)))
    if age < 62:
        return _pick(
            rng, (("active", 70), ("unemployed", 12), ("other", 10), ("unknown", 3), ("retired", 5))
        )
    return _pick(rng, (("retired", 92), ("other", 4), ("unknown", 2), ("active", 2)))


def _lives_alone(rng: random.Random, age: int) -> bool | None:
    """Isolation grows with age; a few files leave it blank."""
    if rng.random() < 0.04:
        return None
    share = 0.0 if age < 18 else 0.12 if age < 60 else 0.22 if age < 75 else 0.42
    return rng.random() < share


def _patient(rng: random.Random, pid: str, year: int, birth: dt.date, exported: bool) -> Patient:
    """Draw one patient's attributes around a given birth date."""
    age = _age(birth, dt.date(year, 1, 1))
    far = rng.random() < 0.05
    postcode = rng.choice(FAR_POSTCODES) if far else _pick(rng, NEAR_POSTCODES)
    return Patient(
        id=pid,
        birth=birth,
        birth_exported=exported,
        sex=_pick(rng, (("F", 58), ("M", 41), ("U", 1))),
        occupation=_occupation(rng, age),
        coverage=_pick(rng, (("general", 87), ("agricultural", 3), ("other", 7), ("unknown", 3))),
        complementary=_pick(
            rng, (("private", 68), ("css", 16), ("ame", 3), ("none", 8), ("unknown", 5))
        ),
        lives_alone=_lives_alone(rng, age),
        postcode=None if rng.random() < 0.02 else postcode,
        km=rng.randint(3, 12) if far else 0,
    )


def make_patients(rng: random.Random, year: int) -> list[Patient]:
    """The patients file: boundary ages placed at random, ~3% without birth date."""
    boundary = _boundary_births(year)
    slots = rng.sample(range(N_PATIENTS - N_INACTIVE), len(boundary))  # all of them get care
    forced = dict(zip(slots, boundary, strict=True))
    unforced = [n for n in range(N_PATIENTS) if n not in forced]
    no_birth = set(rng.sample(unforced, round(N_PATIENTS * 0.03)))
    patients = []
    for n in range(N_PATIENTS):
        birth = forced.get(n) or _random_birth(rng, year)
        patients.append(_patient(rng, f"P{n + 1:05d}", year, birth, n not in no_birth))
    return patients


# --------------------------------------------------------------------------- episodes


def _reason(rng: random.Random, age: int) -> str:
    """Chronic care dominates with age; palliative care stays rare."""
    if age < 18:
        return _pick(rng, (("acute", 92), ("chronic", 8)))
    if age < 60:
        return _pick(rng, (("acute", 45), ("chronic", 52), ("palliative", 3)))
    if age < 75:
        return _pick(rng, (("chronic", 62), ("acute", 32), ("palliative", 6)))
    return _pick(rng, (("chronic", 70), ("acute", 22), ("palliative", 8)))


def _plan(rng: random.Random, reason: str, age: int) -> Plan:
    """A care plan for the reason, adapted to children and to dependent elderly patients."""
    if reason == "palliative":
        return PLANS["palliative"]
    if age < 18:
        return PLANS["child_care" if reason == "acute" else "injection"]
    table = CHRONIC_PLANS if reason == "chronic" else ACUTE_PLANS
    if age < 65:
        table = tuple((n, w) for n, w in table if n not in ("bsi_care", "ais_care"))
    return PLANS[_pick(rng, table)]


def _span(rng: random.Random, plan: Plan, year: int) -> tuple[dt.date, dt.date | None]:
    """Start and end of an episode overlapping the year; open when care goes on past it."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if plan.reason == "chronic":
        before = rng.random() < 0.42
        start = (
            first - dt.timedelta(days=rng.randint(10, 900))
            if before
            else (first + dt.timedelta(days=rng.randint(0, 330)))
        )
        if rng.random() < 0.5:
            return start, None
        floor = max(start, first) + dt.timedelta(days=20)
        return start, floor + dt.timedelta(days=rng.randint(0, max(0, (last - floor).days)))
    start = first + dt.timedelta(days=rng.randint(-25, 362))
    end = start + dt.timedelta(days=rng.randint(*plan.days))
    if end < first:
        end = first + dt.timedelta(days=rng.randint(0, 10))
    return start, None if end > last else end


def _referral(rng: random.Random, plan: Plan, discharged: bool) -> str | None:
    """Who sent the patient: hospital after a stay, mostly the GP otherwise."""
    if discharged:
        return _pick(rng, (("hospital", 85), ("had", 8), ("specialist", 7)))
    if rng.random() < 0.03:
        return None
    return _pick(
        rng,
        (
            ("general_practitioner", 58),
            ("specialist", 10 if plan.reason == "chronic" else 6),
            ("self_or_family", 12),
            ("ssiad", 4),
            ("social_services", 3),
            ("had", 3 if plan.reason == "palliative" else 1),
            ("other", 3),
            ("unknown", 5),
        ),
    )


def _discharge(rng: random.Random, plan: Plan) -> tuple[str, str, str, str, str] | None:
    """Establishment, its FINESS (often not exported), ward, care type and detail."""
    if rng.random() >= plan.discharge:
        return None
    service = rng.choice(SERVICES[plan.name])
    name, finess, _ = rng.choice([e for e in ESTABLISHMENTS if service in e[2]])
    if plan.reason == "palliative":
        care, detail = "palliative", ""
    elif plan.name == "chemo_infuser":
        care, detail = "chemotherapy", ""
    else:
        care, detail = "other", CARE_DETAILS[plan.name]
    return name, finess if rng.random() < 0.6 else "", service, care, detail


def _episode_draft(rng: random.Random, patient: Patient, reason: str, year: int) -> Episode:
    """An episode without its final id (ids are given in order of start date)."""
    plan = _plan(rng, reason, _age(patient.birth, dt.date(year, 1, 1)))
    start, end = _span(rng, plan, year)
    start = max(start, patient.birth + dt.timedelta(days=90))
    discharge = _discharge(rng, plan)
    return Episode(
        "",
        patient,
        start,
        end,
        plan,
        rng.choice(plan.act_options),
        _referral(rng, plan, discharge is not None),
        discharge,
    )


def _patient_episodes(rng: random.Random, patient: Patient, year: int) -> list[Episode]:
    """One to three episodes; palliative care often follows a chronic episode."""
    age = _age(patient.birth, dt.date(year, 1, 1))
    main = _episode_draft(rng, patient, _reason(rng, age), year)
    episodes = [main]
    late_start = main.start > dt.date(year, 2, 1)
    if main.plan.reason == "palliative" and age >= 60 and late_start and rng.random() < 0.4:
        before = _episode_draft(rng, patient, "chronic", year)
        end = main.start - dt.timedelta(days=1)
        start = min(before.start, end - dt.timedelta(days=30))
        episodes.insert(0, replace(before, start=start, end=end))
    elif main.plan.reason == "chronic" and rng.random() < 0.35:
        second = "chronic" if rng.random() < 0.4 else "acute"  # a new prescription
        episodes.append(_episode_draft(rng, patient, second, year))
    elif main.plan.reason == "acute" and rng.random() < 0.25:
        episodes.append(_episode_draft(rng, patient, "acute", year))
    return episodes


def make_episodes(rng: random.Random, patients: list[Patient], year: int) -> list[Episode]:
    """All episodes, numbered E000001… in order of start date as the software would."""
    active = patients[: len(patients) - N_INACTIVE]
    drafts = [e for p in active for e in _patient_episodes(rng, p, year)]
    drafts.sort(key=lambda e: (e.start, e.patient.id))
    return [replace(e, id=f"E{n + 1:06d}") for n, e in enumerate(drafts)]


# --------------------------------------------------------------------------- visits


def _rhythm_days(rng: random.Random, plan: Plan, start: dt.date, end: dt.date) -> list[dt.date]:
    """Visit dates of a plan between two dates; a few days are missed (absence, hospital).

    Only daily care goes on on Sundays and public holidays; other rhythms move those visits
    to the next working day, as a planning nurse would.
    """
    anchor = rng.randint(0, 6)
    keep = {
        "daily": lambda d: True,
        "alternate": lambda d: (d - start).days % 2 == 0,
        "mwf": lambda d: d.weekday() in (0, 2, 4),
        "weekly": lambda d: (d - start).days % 7 == 0,
        "biweekly": lambda d: (d - start).days % 14 == 0,
        "monthly": lambda d: (d - start).days % 28 == anchor % 28,
    }[plan.rhythm]
    days = [d for d in _days(start, end) if keep(d) and rng.random() > 0.04]
    if plan.rhythm == "daily":
        return days
    holidays = french_holidays(start.year) | french_holidays(end.year)
    moved = [_next_working_day(d, holidays) for d in days]
    return sorted({d for d in moved if d <= end})


def _next_working_day(day: dt.date, holidays: frozenset[dt.date]) -> dt.date:
    """The day itself, or the first following day that is neither a Sunday nor a holiday."""
    while _is_sunday_or_holiday(day, holidays):
        day += dt.timedelta(days=1)
    return day


def _minute(rng: random.Random, slot: str) -> int:
    """A minute of the day inside the slot (midnight slot wraps to the next morning)."""
    low, high = SLOTS[slot]
    return rng.randint(low, high) % (24 * 60)


def _nurse(
    rng: random.Random, day: dt.date, primary: Nurse, staff: list[Nurse], subs: list[Nurse]
) -> str:
    """The patient's usual nurse most days; colleagues on rounds, replacements in summer."""
    if day.month in (7, 8) and rng.random() < 0.35:
        return rng.choice(subs).id
    if rng.random() < 0.7 and day.weekday() < 5:
        return primary.id
    weights = [
        n.fte * (0.1 if n.role == "manager" else 0.6 if n.role == "coordinator" else 1)
        for n in staff
    ]
    return rng.choices(staff, weights=weights)[0].id


def _episode_visits(
    rng: random.Random, episode: Episode, year: int, staff: list[Nurse], subs: list[Nurse]
) -> list[Visit]:
    """The visits of one episode within the year, with its acts and night calls."""
    first = max(episode.start, dt.date(year, 1, 1))
    last = min(episode.end or dt.date(year, 12, 31), dt.date(year, 12, 31))
    carers = [n for n in staff if n.role != "manager"]
    primary = carers[int(episode.patient.id[1:]) % len(carers)]
    closed = french_holidays(year)
    plan, visits = episode.plan, []
    for day in _rhythm_days(rng, plan, first, last):
        slots = list(plan.slots)
        if rng.random() < plan.night_share:
            slots.append("late")
        if rng.random() < plan.midnight_share:
            slots.append("midnight")
        for slot in slots:
            acts = [(code, coef, episode.id) for code, coef in episode.acts]
            home = rng.random() >= plan.at_centre or _is_sunday_or_holiday(day, closed)
            nurse = _nurse(rng, day, primary, staff, subs)
            minute = _minute(rng, slot)
            visits.append(Visit(episode.patient.id, day, minute, slot, nurse, acts, home))
    _add_bilans(rng, episode, visits)
    return visits


def _add_bilans(rng: random.Random, episode: Episode, visits: list[Visit]) -> None:
    """Dependent (BSI) patients: a bilan at the first visit, renewed about every quarter."""
    if not episode.plan.bsi or not visits:
        return
    level = rng.choice(("BSA", "BSB", "BSC"))
    renewal = visits[0].day
    initial = episode.start >= visits[0].day
    for visit in visits:
        if visit.day >= renewal:
            visit.acts.append(("DI", "2.5" if initial else "1.2", episode.id))
            visit.acts.append((level, "1", episode.id))
            renewal, initial = visit.day + dt.timedelta(days=91), False


def _merge(visits: list[Visit]) -> list[Visit]:
    """One trip per patient, day and slot: acts of two episodes share one travel fee."""
    merged: dict[tuple[str, dt.date, str], Visit] = {}
    for visit in visits:
        key = (visit.patient_id, visit.day, visit.slot)
        if key in merged:
            done = {(code, coef) for code, coef, _ in merged[key].acts}
            merged[key].acts.extend(a for a in visit.acts if (a[0], a[1]) not in done)
        else:
            merged[key] = visit
    return sorted(merged.values(), key=lambda v: (v.day, v.patient_id, v.minute or 0, v.slot))


# --------------------------------------------------------------------------- majorations


def _is_sunday_or_holiday(day: dt.date, holidays: frozenset[dt.date]) -> bool:
    """The days that carry the F majoration (Saturdays do not)."""
    return day.weekday() == 6 or day in holidays


def _decorate(
    rng: random.Random,
    visit: Visit,
    patients: dict[str, Patient],
    plans: dict[str, Plan],
    holidays: frozenset[dt.date],
) -> None:
    """Travel fees, one night-or-Sunday majoration, and MAU / MCI / MIE where they apply."""
    patient = patients.get(visit.patient_id)
    if visit.home and patient:
        visit.km = patient.km
    if visit.slot in NIGHT_SLOTS:
        visit.extras.append(NIGHT_SLOTS[visit.slot])
    elif _is_sunday_or_holiday(visit.day, holidays):
        visit.extras.append("F")
    plan = plans.get(visit.acts[0][2])
    if plan and plan.mci:
        visit.extras.append("MCI")
    single = len(visit.acts) == 1 and visit.acts[0][0] == "AMI"
    if plan and plan.mau and single and Decimal(visit.acts[0][1]) <= Decimal("1.5"):
        visit.extras.append("MAU")
    if patient and _age(patient.birth, visit.day) < 7:
        visit.extras.append("MIE")
    if visit.slot not in NIGHT_SLOTS and rng.random() < MISSING_TIME_SHARE:
        visit.minute = None
    visit.episode_label = visit.acts[0][2] if rng.random() < EPISODE_ID_SHARE else ""


# --------------------------------------------------------------------------- anomalies


def _weekday_daytime(visits: list[Visit], holidays: frozenset[dt.date]) -> list[Visit]:
    """Visits on ordinary working days, in daytime, without majoration: anomaly targets."""
    return [
        v
        for v in visits
        if v.day.weekday() < 5
        and v.day not in holidays
        and v.minute is not None
        and 8 * 60 <= v.minute < 20 * 60
        and not any(x in ("N", "MM", "F") for x in v.extras)
    ]


def _inject_anomalies(
    rng: random.Random, visits: list[Visit], episodes: list[Episode], holidays: frozenset[dt.date]
) -> None:
    """Defects the quality section must report: majorations at the wrong time, bad ids."""
    candidates = _weekday_daytime(visits, holidays)
    picked = rng.sample(candidates, 12)
    for visit, code in zip(picked[:5], ("N", "N", "N", "N", "MM"), strict=True):
        visit.extras.insert(0, code)  # night majoration billed at a daytime hour
    for visit in picked[5:7]:
        visit.extras.insert(0, "F")  # Sunday majoration on a working day
    for n, visit in enumerate(picked[7:11]):
        visit.episode_label = f"E{len(episodes) + 501 + n:06d}"  # names no episode at all
    others = [e for e in episodes if e.patient.id != picked[11].patient_id]
    picked[11].episode_label = rng.choice(others).id  # an episode of another patient
    for visit in picked:
        visit.planted = True


def _late_visits(
    rng: random.Random, episodes: list[Episode], year: int, staff: list[Nurse]
) -> list[Visit]:
    """A few acts billed days after their episode ended, without episode id (unattributed)."""
    ended = [e for e in episodes if e.end and e.end.year == year and e.end.month < 12]
    late = []
    for episode in rng.sample([e for e in ended if _alone_after(e, episodes)], 6):
        for gap in range(1, rng.randint(2, 3)):
            day = episode.end + dt.timedelta(days=gap + 1)
            acts = [(code, coef, "") for code, coef in episode.acts]  # software lost the link
            minute = _minute(rng, "morning")
            late.append(
                Visit(episode.patient.id, day, minute, "morning", staff[2].id, acts, planted=True)
            )
    return late


def _alone_after(episode: Episode, episodes: list[Episode]) -> bool:
    """No other episode of the patient covers the week after this one ends."""
    assert episode.end is not None
    week = (episode.end, episode.end + dt.timedelta(days=7))
    return not any(
        e.patient.id == episode.patient.id
        and e.id != episode.id
        and e.start <= week[1]
        and (e.end is None or e.end >= week[0])
        for e in episodes
    )


def _unknown_patient_visits(rng: random.Random, year: int, staff: list[Nurse]) -> list[Visit]:
    """Patients billed but absent from the patients export (e.g. created after the export)."""
    visits = []
    for n in range(N_UNKNOWN_PATIENTS):
        start = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(30, 330))
        for k in range(rng.randint(3, 6)):
            day = start + dt.timedelta(days=2 * k)
            acts = [("AMI", "2", "")]
            nurse = rng.choice(staff).id
            minute = _minute(rng, "morning")
            patient_id = f"P{900 + n + 1:05d}"
            visits.append(Visit(patient_id, day, minute, "morning", nurse, acts, planted=True))
    return visits


# --------------------------------------------------------------------------- billing lines


def _ngap_values(year: int) -> dict[str, Decimal]:
    """Unit values of ngap-reference.md for the year (IFD 2.50 before 2024, F 8.00 before 2020)."""
    values = {
        "AMI": "3.15", "AMX": "3.15", "AIS": "2.65", "DI": "10.00", "BSA": "13.00",
        "BSB": "18.20", "BSC": "28.70", "IFD": "2.75" if year >= 2024 else "2.50",
        "IK": "0.35", "N": "9.15", "MM": "18.30", "F": "8.50" if year >= 2020 else "8.00",
        "MCI": "5.00", "MAU": "1.35", "MIE": "3.15",
    }  # fmt: skip
    return {code: Decimal(v) for code, v in values.items()}


def _amount(value: Decimal, coefficient: str, quantity: int) -> str:
    """value × coefficient × quantity, rounded to the cent as the fund does."""
    total = value * Decimal(coefficient or "1") * quantity
    return str(total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _visit_lines(visit: Visit) -> list[tuple[str, str, int, str]]:
    """(code, coefficient, quantity, episode id) of a visit, in the order software prints."""
    lines = [(code, coef, 1, ep) for code, coef, ep in visit.acts]
    own = visit.acts[0][2]
    lines += [(code, "", 1, own) for code in visit.extras]
    if visit.home:
        lines.append(("IFD", "", 1, own))
        if visit.km:
            lines.append(("IK", "", visit.km, own))
    return lines


def _line_label(visit: Visit, episode_id: str) -> str:
    """Each act line names its own episode when the visit is labelled truthfully."""
    truthful = visit.episode_label and visit.episode_label == visit.acts[0][2]
    return episode_id if truthful else visit.episode_label


def _hhmm(minute: int | None) -> str:
    """HH:MM, or blank when the software did not record the hour."""
    return "" if minute is None else f"{minute // 60:02d}:{minute % 60:02d}"


def _invoices(rng: random.Random, visits: list[Visit]) -> list[tuple[str, list[Visit]]]:
    """One invoice per patient and day; cancelled invoices are re-issued right after."""
    by_key: dict[tuple[dt.date, str], list[Visit]] = {}
    for visit in visits:
        by_key.setdefault((visit.day, visit.patient_id), []).append(visit)
    invoices = []
    for key in sorted(by_key):
        draw = rng.random()
        if any(v.planted for v in by_key[key]):
            invoices.append(("billed", by_key[key]))
        elif draw < CANCELLED_SHARE:
            invoices += [("cancelled", by_key[key]), ("billed", by_key[key])]
        else:
            invoices.append(
                ("rejected" if draw < CANCELLED_SHARE + REJECTED_SHARE else "billed", by_key[key])
            )
    return invoices


def billing_rows(
    rng: random.Random, visits: list[Visit], year: int, finess: str, first_invoice: int = 1
) -> list[list[str]]:
    """The billing lines: every visit's acts, majorations and travel fees, invoice by invoice."""
    values = _ngap_values(year)
    rows = []
    invoices = _invoices(rng, visits)
    for number, (status, invoice_visits) in enumerate(invoices, start=first_invoice):
        invoice_id = f"F{year}-{number:06d}"
        line_no = 0
        for visit in sorted(invoice_visits, key=lambda v: (v.minute or 0, v.slot)):
            for code, coef, quantity, episode_id in _visit_lines(visit):
                line_no += 1
                label = _line_label(visit, episode_id)
                rows.append([
                    invoice_id, str(line_no), finess, visit.patient_id, visit.nurse_id or "",
                    visit.day.isoformat(), _hhmm(visit.minute), code, coef, str(quantity),
                    _amount(values[code], coef, quantity), status, label,
                ])  # fmt: skip
    return rows


# --------------------------------------------------------------------------- December entry

DECEMBER_ENTRY = (12, 8)  # month, day: a chronic entry late in the year, as in a real one


def _december_patient(patients: list[Patient], visits: list[Visit], year: int) -> Patient:
    """The first adult patient with a birth date and no visit at all in December."""
    seen = {v.patient_id for v in visits}
    busy = {v.patient_id for v in visits if v.day.month == 12}
    return next(
        p
        for p in patients
        if p.id in seen
        and p.id not in busy
        and p.birth_exported
        and _age(p.birth, dt.date(year, 12, 1)) >= 18
    )


def december_chronic_entry(
    seed: int,
    patients: list[Patient],
    episodes: list[Episode],
    visits: list[Visit],
    year: int,
    staff: list[Nurse],
    subs: list[Nurse],
) -> tuple[Episode, list[Visit]]:
    """One chronic episode starting in December (weekly pill box), still open at year end.

    Why: the chronic starts drawn above never fall in December, which reads as a bug in
    the demo's monthly table. The episode and its visits use their own random stream and
    come after everything else (last episode id, last invoices), so that the rest of the
    sample, and every figure the tests work out from it, stays as it was.
    """
    rng = random.Random(seed + 12)
    patient = _december_patient(patients, visits, year)
    episode = Episode(
        f"E{len(episodes) + 1:06d}",
        patient,
        dt.date(year, *DECEMBER_ENTRY),
        None,
        PLANS["pillbox"],
        PLANS["pillbox"].act_options[0],
        "general_practitioner",
        None,
    )
    extra = _merge(_episode_visits(rng, episode, year, staff, subs))
    holidays = french_holidays(year)
    for visit in extra:
        _decorate(rng, visit, {patient.id: patient}, {episode.id: episode.plan}, holidays)
    return episode, extra


def _next_invoice(rows: list[list[str]]) -> int:
    """The number after the last invoice of the billing rows (F2025-000123 → 124)."""
    return max((int(r[0].rsplit("-", 1)[1]) for r in rows), default=0) + 1


# --------------------------------------------------------------------------- other tables


def patient_rows(patients: list[Patient], finess: str) -> list[list[str]]:
    """The patients export, booleans as true/false, missing values blank."""
    flag = {True: "true", False: "false", None: ""}
    return [
        [
            finess,
            p.id,
            p.birth.isoformat() if p.birth_exported else "",
            p.sex,
            p.occupation,
            p.coverage,
            p.complementary,
            flag[p.lives_alone],
            p.postcode or "",
        ]
        for p in patients
    ]


def episode_rows(episodes: list[Episode], finess: str) -> list[list[str]]:
    """The episodes export; discharge columns filled only after a hospital stay."""
    rows = []
    for e in episodes:
        discharge = list(e.discharge) if e.discharge else ["", "", "", "", ""]
        rows.append([
            finess, e.id, e.patient.id, e.start.isoformat(), e.end.isoformat() if e.end else "",
            e.plan.reason, e.referral or "", "true" if e.discharge else "false", *discharge,
        ])  # fmt: skip
    return rows


def _second_tuesday(year: int, month: int) -> dt.date:
    """The team meets on the second Tuesday of the month."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(1 - first.weekday()) % 7 + 7)


def register(rng: random.Random, staff: list[Nurse], year: int, finess: str) -> dict[str, Any]:
    """The centre register (data-contract.md): August has no team meeting on purpose."""
    day = dt.date
    meetings = [_second_tuesday(year, m) for m in range(1, 13) if m != 8]
    coordinator = next(n for n in staff if n.role == "coordinator")
    return {
        "finess": finess,
        "name": "Centre de soins infirmiers du Faubourg Saint-Denis",
        "year": year,
        "address": "112 rue du Faubourg Saint-Denis, 75010 Paris",
        "legal_representative": "Hélène Marchand, présidente de l'association gestionnaire",
        "staff": {
            "nurses": [
                {
                    "id": n.id,
                    "fte": n.fte,
                    "chemotherapy_qualified": n.chemotherapy_qualified,
                    "other_competences": list(n.other_competences),
                    "role": n.role,
                }
                for n in staff
            ],
            "secretaries": [{"fte": 0.8}, {"fte": 0.5}],
        },
        "internal_meetings": meetings,
        "partners": _partners(rng, year),
        "patient_file": {
            "specific": True,
            "computerised": True,
            "shared": True,
            "mobile_access": True,
            "dmp_secure_messaging": True,
        },
        "transmission_log": True,
        "planning_formalised": True,
        "care_directory_updated": day(year, 9, 15),
        "external_data_procedure": True,
        "flu_vaccination_gp_info": True,
        "access_24_7": True,
        "phone_message_outside_hours": True,
        "coordinator_nurse": coordinator.id,
        "charter_displayed": True,
        "permanence": [
            "astreinte téléphonique 20h-8h, week-ends et jours fériés (infirmière du centre)",
            "soins non programmés assurés chaque jour ouvré de 8h à 19h",
            "permanence de soins au centre du lundi au samedi de 7h30 à 12h",
            "message du répondeur renvoyant vers l'astreinte et le 15 en dehors des heures",
        ],
        "prevention_actions": [
            {
                "title": "Octobre Rose : information sur le dépistage du cancer du sein",
                "level": "national",
                "date": day(year, 10, 10),
            },
            {"title": "Mois sans tabac", "level": "national", "date": day(year, 11, 6)},
            {
                "title": "Prévention des chutes chez la personne âgée",
                "level": "regional",
                "date": day(year, 4, 17),
            },
            {
                "title": "Dépistage du diabète au marché Saint-Quentin",
                "level": "local",
                "date": day(year, 6, 12),
            },
        ],
        "promotion_actions": [
            {"title": "Vaccination antigrippale gratuite", "date": day(year, 11, 5)},
            {
                "title": "Atelier nutrition et activité physique pour les seniors",
                "date": day(year, 3, 20),
            },
        ],
        "trainings": [
            {
                "kind": "professional",
                "description": "Plaies chroniques et cicatrisation",
                "nurses_trained": 4,
                "days": 2,
            },
            {
                "kind": "conventional",
                "description": "Bilan de soins infirmiers (BSI)",
                "nurses_trained": 3,
                "days": 1,
            },
            {
                "kind": "local",
                "description": "Gestes et postures, manutention des patients",
                "nurses_trained": 8,
                "days": 1,
            },
        ],
        "internships": [
            {"school": "IFSI Saint-Louis (AP-HP)", "start": day(year, 3, 3), "weeks": 5},
            {
                "school": "IFSI de la Croix-Rouge française, Paris",
                "start": day(year, 10, 6),
                "weeks": 10,
            },
        ],
    }


def _meeting_dates(rng: random.Random, year: int, count: int) -> list[dt.date]:
    """Distinct working-day dates of the year, sorted."""
    dates: set[dt.date] = set()
    while len(dates) < count:
        day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(10, 350))
        if day.weekday() < 5:
            dates.add(day)
    return sorted(dates)


def _partners(rng: random.Random, year: int) -> list[dict[str, Any]]:
    """Four partners of different natures, two with a signed convention."""
    return [
        {"name": "Hôpital Saint-Louis", "nature": "hospital",
         "convention_signed": dt.date(2019, 3, 1), "meetings": _meeting_dates(rng, year, 2)},
        {"name": "HAD Fondation Santé Service", "nature": "had",
         "convention_signed": dt.date(2021, 6, 15), "meetings": _meeting_dates(rng, year, 3)},
        {"name": "SSIAD Paris 10e", "nature": "ssiad", "convention_signed": None,
         "meetings": _meeting_dates(rng, year, 1)},
        {"name": "EHPAD Les Jardins de Belleville", "nature": "ehpad",
         "convention_signed": None, "meetings": []},
    ]  # fmt: skip


# --------------------------------------------------------------------------- writing


class _RegisterDumper(yaml.SafeDumper):
    """Writes `None` as an empty value, as the contract shows (`convention_signed:`)."""


_RegisterDumper.add_representer(
    type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", "")
)


def _write_csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> int:
    """UTF-8, comma, `\\n` line ends: the canonical CSV, identical bytes on every platform."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)


def _write_register(path: Path, data: dict[str, Any]) -> int:
    """Keys in the contract's order, accents kept, dates as YAML dates."""
    text = yaml.dump(data, Dumper=_RegisterDumper, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text, encoding="utf-8")
    return 1


def _all_visits(
    rng: random.Random,
    episodes: list[Episode],
    patients: list[Patient],
    year: int,
    staff: list[Nurse],
    subs: list[Nurse],
) -> list[Visit]:
    """Every visit of the year, majorations applied and anomalies injected."""
    visits = [v for e in episodes for v in _episode_visits(rng, e, year, staff, subs)]
    visits += _late_visits(rng, episodes, year, staff)
    visits = _merge(visits + _unknown_patient_visits(rng, year, staff))
    holidays = french_holidays(year)
    by_id = {p.id: p for p in patients}
    plans = {e.id: e.plan for e in episodes}
    for visit in visits:
        _decorate(rng, visit, by_id, plans, holidays)
    _inject_anomalies(rng, visits, episodes, holidays)
    return visits


def generate_sample(
    out_dir: Path, year: int = 2025, seed: int = 20250101, finess: str = "750000001"
) -> dict[str, int]:
    """Write billing, patients, episodes and register files; return row counts per file.

    Pick a finished year: the loader refuses act dates in the future.
    """
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    staff, subs = make_nurses(rng)
    patients = make_patients(rng, year)
    episodes = make_episodes(rng, patients, year)
    visits = _all_visits(rng, episodes, patients, year, staff, subs)
    lines = billing_rows(rng, visits, year, finess)
    december, december_visits = december_chronic_entry(
        seed, patients, episodes, visits, year, staff, subs
    )
    episodes = [*episodes, december]
    lines += billing_rows(
        random.Random(seed + 13), december_visits, year, finess, _next_invoice(lines)
    )
    return {
        f"billing_{year}.csv": _write_csv(out_dir / f"billing_{year}.csv", BILLING_COLUMNS, lines),
        "patients.csv": _write_csv(
            out_dir / "patients.csv", PATIENT_COLUMNS, patient_rows(patients, finess)
        ),
        "episodes.csv": _write_csv(
            out_dir / "episodes.csv", EPISODE_COLUMNS, episode_rows(episodes, finess)
        ),
        f"centre_{year}.yaml": _write_register(
            out_dir / f"centre_{year}.yaml", register(rng, staff, year, finess)
        ),
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: `python -m data.samplegen [--out DIR] [--year Y] [--seed N]`."""
    parser = argparse.ArgumentParser(description="Generate the sample extract of one centre.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--year", type=int, default=2025, help="calendar year of the extract")
    parser.add_argument("--seed", type=int, default=20250101, help="random seed")
    args = parser.parse_args(argv)
    counts = generate_sample(args.out, args.year, args.seed)
    for name, count in counts.items():
        print(f"{args.out / name}: {count} rows")


if __name__ == "__main__":
    main()
