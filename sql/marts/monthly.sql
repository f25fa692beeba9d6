-- grain: one centre × year × month (1..12) — annexe 3 section 2, monthly patients and entries by reason
-- reads: int_centre_years, int_reason_patients, stg_episodes
with months as (
    select y.centre_finess, y.year, m.month::integer as month
    from int_centre_years as y
    cross join range(1, 13) as m(month)
),

patients as (
    select * from int_reason_patients where month is not null
),

entries as (
    select
        centre_finess,
        start_year as year,
        start_month as month,
        count(*) filter (where reason = 'acute') as acute_entries,
        count(*) filter (where reason = 'chronic') as chronic_entries,
        count(*) filter (where reason = 'palliative') as palliative_entries
    from stg_episodes
    group by all
)

select
    m.centre_finess,
    m.year,
    m.month,
    coalesce(p.acute_patients, 0) as acute_patients,
    coalesce(e.acute_entries, 0) as acute_entries,
    coalesce(p.chronic_patients, 0) as chronic_patients,
    coalesce(e.chronic_entries, 0) as chronic_entries,
    coalesce(p.palliative_patients, 0) as palliative_patients,
    coalesce(e.palliative_entries, 0) as palliative_entries,
    coalesce(p.unattributed_patients, 0) as unattributed_patients
from months as m
left join patients as p using (centre_finess, year, month)
left join entries as e using (centre_finess, year, month)
