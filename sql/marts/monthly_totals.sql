-- grain: one centre × year — annexe 3 section 2 totals: patients distinct over the year, entries summed over months
-- reads: int_centre_years, int_reason_patients, monthly
with patients as (
    select * exclude (month) from int_reason_patients where month is null
),

entries as (
    select
        centre_finess,
        year,
        sum(acute_entries)::bigint as acute_entries,
        sum(chronic_entries)::bigint as chronic_entries,
        sum(palliative_entries)::bigint as palliative_entries
    from monthly
    group by all
)

select
    y.centre_finess,
    y.year,
    coalesce(p.acute_patients, 0) as acute_patients,
    coalesce(e.acute_entries, 0) as acute_entries,
    coalesce(p.chronic_patients, 0) as chronic_patients,
    coalesce(e.chronic_entries, 0) as chronic_entries,
    coalesce(p.palliative_patients, 0) as palliative_patients,
    coalesce(e.palliative_entries, 0) as palliative_entries,
    coalesce(p.unattributed_patients, 0) as unattributed_patients
from int_centre_years as y
left join patients as p using (centre_finess, year)
left join entries as e using (centre_finess, year)
