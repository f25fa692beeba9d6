-- grain: one centre × year — annexe 3 section 1, « Informations relatives à la clientèle »
-- reads: int_centre_years, int_patient_years, stg_episodes
with patients_of_year as (
    select
        centre_finess,
        year,
        count(*) as insured_patients,
        count(*) filter (where age >= 75) as aged_75_plus,
        count(*) filter (where age >= 75 and lives_alone) as aged_75_plus_isolated,
        count(*) filter (where occupation = 'active') as active,
        count(*) filter (where age < 18) as minors,
        count(*) filter (where birth_date is null) as age_unknown
    from int_patient_years
    group by all
),

entries as (
    select centre_finess, start_year as year, count(*) as entries
    from stg_episodes
    group by all
)

select
    y.centre_finess,
    y.year,
    coalesce(p.insured_patients, 0) as insured_patients,
    coalesce(e.entries, 0) as entries,
    coalesce(p.aged_75_plus, 0) as aged_75_plus,
    coalesce(p.aged_75_plus_isolated, 0) as aged_75_plus_isolated,
    coalesce(p.active, 0) as active,
    coalesce(p.minors, 0) as minors,
    coalesce(p.age_unknown, 0) as age_unknown
from int_centre_years as y
left join patients_of_year as p using (centre_finess, year)
left join entries as e using (centre_finess, year)
