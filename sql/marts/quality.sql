-- grain: one centre × year × finding — the report's quality section: count, share of the subjects concerned, five examples
-- reads: int_counted_lines, int_quality_findings
with denominators as (
    select centre_finess, year, count(*) as counted_lines, count(distinct patient_id) as patients
    from int_counted_lines
    group by all
),

findings as (
    select
        centre_finess,
        year,
        finding,
        count(distinct subject) as count,
        list(distinct subject order by subject)[1:5] as examples
    from int_quality_findings
    group by all
)

select
    f.centre_finess,
    f.year,
    f.finding,
    case
        when f.finding in ('patient_without_birth_date') then 'patients'
        when f.finding in ('nurse_not_in_register', 'registered_nurse_without_act') then 'nurses'
        when f.finding in ('discharge_details_missing') then 'episodes'
        else 'lines'
    end as unit,
    f.count,
    case
        when f.finding = 'patient_without_birth_date' then round(f.count / d.patients, 4)
        when f.finding in ('nurse_not_in_register', 'registered_nurse_without_act',
            'discharge_details_missing') then null
        else round(f.count / d.counted_lines, 4)
    end as share,
    f.examples
from findings as f
left join denominators as d using (centre_finess, year)
