-- grain: one patient of the year (centre_finess, year, patient_id): a patient with at least one counted line in that year
-- reads: int_counted_lines, stg_patients
with first_lines as (
    select centre_finess, year, patient_id, min(act_date) as first_act_date
    from int_counted_lines
    group by all
)

select
    f.centre_finess,
    f.year,
    f.patient_id,
    f.first_act_date,
    p.patient_id is not null as known_patient,
    p.birth_date,
    case
        when p.birth_date is not null
            then date_diff('year', p.birth_date, f.first_act_date)
            - case
                when strftime(f.first_act_date, '%m%d') < strftime(p.birth_date, '%m%d') then 1
                else 0
            end
    end as age,
    coalesce(p.lives_alone, false) as lives_alone,
    coalesce(p.occupation, 'unknown') as occupation,
    coalesce(p.postcode, 'unknown') as postcode
from first_lines as f
left join stg_patients as p
    on p.centre_finess = f.centre_finess
    and p.patient_id = f.patient_id
