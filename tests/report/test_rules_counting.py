"""Each counting rule of annexe3-report.md on a tiny hand-made case, answer worked by hand."""

from __future__ import annotations

from tests.support import FINESS, billing_rows, episode_rows, patient_rows


def test_only_billed_lines_of_the_centre_and_year_count(build):
    build(
        billing=billing_rows(
            {"act_date": "2025-03-10"},  # counts
            {"act_date": "2025-03-11", "status": "cancelled"},  # never counts
            {"act_date": "2025-03-12", "status": "rejected", "act_code": "AIS", "coefficient": "3"},
            {"act_date": "2024-12-31", "coefficient": "2"},  # previous year
            {"act_date": "2025-03-13", "centre_finess": "750000002", "coefficient": "4"},
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    report = build.report()
    assert report["acts"]["AMI"]["count"] == 1
    assert report["acts"]["AMI"]["coefficient_total"] == 1
    assert report["acts"]["AIS"]["count"] == 0
    assert report["clientele"]["insured_patients"] == 1
    assert report["quality"]["counted_lines"] == 1


def test_age_boundaries_at_18_and_75_on_first_counted_line(build):
    build(
        billing=billing_rows(
            {"patient_id": "A", "act_date": "2025-06-15"},  # born 1950-06-15 → 75 that day
            {"patient_id": "B", "act_date": "2025-06-15"},  # born 1950-06-16 → 74
            {"patient_id": "C", "act_date": "2025-03-01"},  # born 2007-03-01 → 18, adult
            {"patient_id": "D", "act_date": "2025-03-01"},  # born 2007-03-02 → 17, minor
            {"patient_id": "G", "act_date": "2025-06-30"},  # born 1950-07-01 → 74 on first line
            {"patient_id": "G", "act_date": "2025-07-02"},  # … 75 later: first line decides
            {"patient_id": "H", "act_date": "2025-01-15", "status": "cancelled"},  # not counted
            {"patient_id": "H", "act_date": "2025-02-10"},  # born 1950-02-01 → 75
            {"patient_id": "I", "act_date": "2025-05-05"},  # no birth date
            {"patient_id": "J", "act_date": "2025-05-05"},  # born 1930, lives alone
        ),
        patients=patient_rows(
            {"patient_id": "A", "birth_date": "1950-06-15", "occupation": "retired"},
            {"patient_id": "B", "birth_date": "1950-06-16", "occupation": "active"},
            {"patient_id": "C", "birth_date": "2007-03-01", "occupation": "student"},
            {"patient_id": "D", "birth_date": "2007-03-02"},
            {"patient_id": "G", "birth_date": "1950-07-01"},
            {"patient_id": "H", "birth_date": "1950-02-01"},
            {"patient_id": "I", "birth_date": None, "occupation": "active"},
            {"patient_id": "J", "birth_date": "1930-01-01", "lives_alone": "true"},
        ),
    )
    clientele = build.report()["clientele"]
    assert clientele["insured_patients"] == 8
    assert clientele["aged_75_plus"] == 3  # A, H, J
    assert clientele["aged_75_plus_isolated"] == 1  # J
    assert clientele["minors"] == 1  # D
    assert clientele["active"] == 2  # B, I
    assert clientele["age_unknown"] == 1  # I


def test_entries_count_episodes_starting_in_the_year_even_without_lines(build):
    build(
        episodes=episode_rows(
            {"episode_id": "E1", "patient_id": "P1", "start_date": "2024-12-20"},
            {"episode_id": "E2", "patient_id": "P1", "start_date": "2025-01-01"},
            {
                "episode_id": "E3",
                "patient_id": "P2",
                "start_date": "2025-12-31",
                "reason": "palliative",
            },
        ),
        patients=patient_rows({"patient_id": "P1"}, {"patient_id": "P2"}),
    )
    report = build.report()
    assert report["clientele"]["entries"] == 2
    assert report["clientele"]["insured_patients"] == 0
    assert report["monthly"][0]["chronic_entries"] == 1
    assert report["monthly"][11]["palliative_entries"] == 1
    assert report["monthly_totals"]["chronic_entries"] == 1


def test_attribution_explicit_then_latest_covering_then_smallest_id(build):
    build(
        episodes=episode_rows(
            {"episode_id": "E1", "patient_id": "P1", "start_date": "2025-01-01"},  # open
            {
                "episode_id": "E2",
                "patient_id": "P1",
                "start_date": "2025-03-01",
                "end_date": "2025-03-31",
                "reason": "acute",
            },
            {
                "episode_id": "E5",
                "patient_id": "P3",
                "start_date": "2025-05-01",
                "reason": "palliative",
            },
            {"episode_id": "E4", "patient_id": "P3", "start_date": "2025-05-01", "reason": "acute"},
        ),
        billing=billing_rows(
            # March, no id: E1 and E2 cover it → latest start E2 (acute)
            {"patient_id": "P1", "act_date": "2025-03-10"},
            # March, explicit E1 → chronic, although E2 covers the date
            {"patient_id": "P1", "act_date": "2025-03-10", "episode_id": "E1"},
            # unknown id → attributed by date → E2 (acute), plus a quality warning
            {"patient_id": "P1", "act_date": "2025-03-15", "episode_id": "EXX"},
            # April: only E1 covers → chronic
            {"patient_id": "P1", "act_date": "2025-04-05"},
            # P2 names P1's episode: not his → by date → none → unattributed
            {"patient_id": "P2", "act_date": "2025-04-06", "episode_id": "E1"},
            # same start for E4 and E5 → smallest id E4 (acute)
            {"patient_id": "P3", "act_date": "2025-05-02"},
        ),
        patients=patient_rows({"patient_id": "P1"}, {"patient_id": "P2"}, {"patient_id": "P3"}),
    )
    report = build.report()
    march, april, may = report["monthly"][2], report["monthly"][3], report["monthly"][4]
    assert (march["acute_patients"], march["chronic_patients"]) == (1, 1)
    assert (april["chronic_patients"], april["unattributed_patients"]) == (1, 1)
    assert (may["acute_patients"], may["palliative_patients"]) == (1, 0)
    totals = report["monthly_totals"]
    assert totals["chronic_patients"] == 1  # distinct over the year, not 2 (March + April)
    assert totals["acute_patients"] == 2  # P1 and P3
    assert totals["unattributed_patients"] == 1
    assert totals["acute_entries"] == 2 and totals["palliative_entries"] == 1
    quality = report["quality"]["findings"]
    assert quality["unknown_episode_id"]["count"] == 2  # EXX and P2 naming E1
    assert quality["unattributed_lines"]["count"] == 1
    assert quality["unattributed_lines"]["examples"] == ["F1/5"]


def test_replayed_extract_latest_wins_and_same_extract_twice_changes_nothing(build, db):
    from pipeline.orchestrate import steps
    from tests.support import make_extract

    first = billing_rows({"act_date": "2025-03-01"}, {"act_date": "2025-03-02"})
    build(billing=first, patients=patient_rows({"patient_id": "P1"}))
    assert build.report()["acts"]["AMI"]["count"] == 2
    # April extract: line 1 now cancelled, line 3 new
    second = billing_rows(
        {"act_date": "2025-03-01", "status": "cancelled"},
        {"act_date": "2025-03-02"},
        {"act_date": "2025-04-01", "coefficient": "2"},
    )
    build(billing=second)
    report = build.report()
    assert report["acts"]["AMI"]["count"] == 2  # lines 2 and 3
    assert report["acts"]["AMI"]["coefficient_total"] == 3
    again = steps.ingest(make_extract(db.parent / "again", billing=second), db)
    assert (again.rows_inserted, again.rows_replaced, again.rows_unchanged) == (0, 0, 3)
    assert build.report()["acts"]["AMI"] == report["acts"]["AMI"]


def test_two_centres_sharing_patient_ids_are_kept_apart(build):
    other = "750000002"
    build(
        billing=billing_rows(
            {"patient_id": "P1", "act_date": "2025-02-01"},
            {"patient_id": "P1", "act_date": "2025-02-01", "centre_finess": other},
        ),
        patients=patient_rows(
            {"patient_id": "P1", "birth_date": "1940-01-01"},
            {"patient_id": "P1", "birth_date": "2015-01-01", "centre_finess": other},
        ),
    )
    assert build.report(finess=FINESS)["clientele"]["aged_75_plus"] == 1
    assert build.report(finess=FINESS)["clientele"]["minors"] == 0
    assert build.report(finess=other)["clientele"]["minors"] == 1
    assert build.report(finess=other)["clientele"]["aged_75_plus"] == 0


def test_acts_families_counts_coefficients_and_amounts(build):
    build(
        billing=billing_rows(
            {"act_date": "2025-02-03", "coefficient": "1.5", "quantity": "2", "amount_eur": "9.45"},
            {"act_date": "2025-02-03", "coefficient": "1", "amount_eur": "3.15"},
            {"act_date": "2025-02-03", "act_code": "AIS", "coefficient": "3"},
            {"act_date": "2025-02-03", "act_code": "BSA", "coefficient": "1"},
            {"act_date": "2025-02-03", "act_code": "DI", "coefficient": "1.5"},
            {"act_date": "2025-02-03", "act_code": "IFD", "coefficient": None},
            {"act_date": "2025-02-03", "act_code": "IK", "coefficient": None, "quantity": "12"},
            {"act_date": "2025-02-04", "act_code": "IK", "coefficient": None, "quantity": "8.5"},
            {"act_date": "2025-02-03", "act_code": "N", "coefficient": None, "act_time": "21:00"},
            {"act_date": "2025-02-03", "act_code": "MM", "coefficient": None, "act_time": "02:00"},
            {"act_date": "2025-02-09", "act_code": "F", "coefficient": None},  # a Sunday
            {"act_date": "2025-02-03", "act_code": "MCI", "coefficient": None},
        ),
        patients=patient_rows({"patient_id": "P1"}),
    )
    acts = build.report()["acts"]
    assert acts["AMI"] == {
        "count": 3,
        "coefficient_total": 4,  # 1.5 × 2 + 1 × 1
        "by_coefficient": {"1": 1, "1.5": 2},
        "amount_eur": 12.6,
    }
    assert acts["AIS"]["by_coefficient"] == {"3": 1}
    assert acts["DSI"]["count"] == 2
    assert acts["DSI"]["coefficient_total"] == 2.5
    assert acts["DSI"]["by_code"] == {"BSA": 1, "DI": 1}
    assert acts["IFD"]["count"] == 1
    assert (acts["IK"]["count"], acts["IK"]["km"]) == (2, 20.5)
    assert acts["night"]["count"] == 2 and acts["night"]["by_code"] == {"MM": 1, "N": 1}
    assert acts["sunday_holiday"]["count"] == 1
    assert acts["other_majorations"]["by_code"] == {"MCI": 1}
    assert acts["AMX"]["count"] == 0


def test_hospital_discharge_cohort_durations_and_acts(build):
    build(
        episodes=episode_rows(
            # closed: 10 days
            {
                "episode_id": "E1",
                "patient_id": "P1",
                "start_date": "2025-01-10",
                "end_date": "2025-01-19",
                "hospital_discharge": "true",
                "discharge_establishment": "Hôpital A",
                "discharge_service": "oncologie",
                "discharge_care_type": "chemotherapy",
            },
            # open: last attributed line 2025-11-20 → 20 days
            {
                "episode_id": "E2",
                "patient_id": "P2",
                "start_date": "2025-11-01",
                "hospital_discharge": "true",
                "discharge_establishment": "Hôpital B",
                "discharge_service": "cardiologie",
                "discharge_care_type": "other",
                "discharge_care_detail": "pansements complexes",
            },
            # discharge without any counted line this year: outside the cohort
            {
                "episode_id": "E3",
                "patient_id": "P3",
                "start_date": "2025-06-01",
                "hospital_discharge": "true",
                "discharge_establishment": "Hôpital C",
                "discharge_service": "x",
                "discharge_care_type": "palliative",
            },
            {
                "episode_id": "E4",
                "patient_id": "P3",
                "start_date": "2025-01-01",
                "end_date": "2025-05-31",
            },
        ),
        billing=billing_rows(
            {"patient_id": "P1", "act_date": "2025-01-12", "coefficient": "2"},
            {"patient_id": "P2", "act_date": "2025-11-05", "act_code": "AIS", "coefficient": "3"},
            {"patient_id": "P2", "act_date": "2025-11-20", "act_code": "AIS", "coefficient": "3"},
            {"patient_id": "P3", "act_date": "2025-02-01"},  # E4, not a discharge
            {
                "patient_id": "P3",
                "act_date": "2025-06-02",
                "status": "cancelled",
            },  # E3, not counted
        ),
        patients=patient_rows({"patient_id": "P1"}, {"patient_id": "P2"}, {"patient_id": "P3"}),
    )
    cohort = build.report()["hospital_discharge"]
    assert (cohort["patients"], cohort["episodes"]) == (2, 2)
    assert cohort["duration_days"] == {"total": 30, "mean": 15, "median": 15, "min": 10, "max": 20}
    assert cohort["by_establishment"] == {"Hôpital A": 1, "Hôpital B": 1}
    assert cohort["by_care_type"] == {"chemotherapy": 1, "other": 1}
    assert cohort["other_care_details"] == ["pansements complexes"]
    assert cohort["acts"]["AMI"]["count"] == 1 and cohort["acts"]["AMI"]["coefficient_total"] == 2
    assert cohort["acts"]["AIS"]["count"] == 2 and cohort["acts"]["AIS"]["coefficient_total"] == 6


def test_origin_by_earliest_attributed_episode_and_postcode(build):
    build(
        episodes=episode_rows(
            {
                "episode_id": "E1",
                "patient_id": "P1",
                "start_date": "2025-01-01",
                "end_date": "2025-01-31",
                "referral_origin": "hospital",
            },
            {
                "episode_id": "E2",
                "patient_id": "P1",
                "start_date": "2025-02-01",
                "referral_origin": "general_practitioner",
            },
            # earliest of all, but no line attributed to it: ignored
            {
                "episode_id": "E0",
                "patient_id": "P1",
                "start_date": "2024-01-01",
                "end_date": "2024-02-01",
                "referral_origin": "ssiad",
            },
            {"episode_id": "E3", "patient_id": "P2", "start_date": "2025-01-01"},
        ),
        billing=billing_rows(
            {"patient_id": "P1", "act_date": "2025-02-10"},
            {"patient_id": "P1", "act_date": "2025-01-10"},
            {"patient_id": "P2", "act_date": "2025-01-10"},  # E3 without origin → unknown
            {"patient_id": "P4", "act_date": "2025-01-10"},  # no episode, unknown patient
        ),
        patients=patient_rows(
            {"patient_id": "P1", "postcode": "75010"},
            {"patient_id": "P2", "postcode": "75010"},
        ),
    )
    report = build.report()
    assert report["origin"]["by_referral"] == {"unknown": 2, "hospital": 1}
    assert report["origin"]["by_postcode"] == {"75010": 2, "unknown": 1}
    assert report["quality"]["findings"]["unknown_patient"]["count"] == 1


def test_hospital_discharge_missing_values_are_the_key_unknown_in_all_three(build):
    build(
        episodes=episode_rows(
            # nothing filled: unknown in the three groupings
            {
                "episode_id": "E1",
                "patient_id": "P1",
                "start_date": "2025-01-10",
                "hospital_discharge": "true",
            },
            # establishment only
            {
                "episode_id": "E2",
                "patient_id": "P2",
                "start_date": "2025-01-10",
                "hospital_discharge": "true",
                "discharge_establishment": "Hôpital A",
            },
        ),
        billing=billing_rows(
            {"patient_id": "P1", "act_date": "2025-01-12", "coefficient": "2"},
            {"patient_id": "P2", "act_date": "2025-01-12", "coefficient": "2"},
        ),
        patients=patient_rows({"patient_id": "P1"}, {"patient_id": "P2"}),
    )
    report = build.report()
    cohort = report["hospital_discharge"]
    assert cohort["by_establishment"] == {"Hôpital A": 1, "unknown": 1}
    assert cohort["by_service"] == {"unknown": 2}
    assert cohort["by_care_type"] == {"unknown": 2}
    finding = report["quality"]["findings"]["discharge_details_missing"]
    assert (finding["count"], finding["examples"]) == (2, ["E1", "E2"])
