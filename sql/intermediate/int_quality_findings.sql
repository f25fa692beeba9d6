-- grain: one data-quality finding × subject (a billing line, a patient, an episode or a nurse) for a centre × year
-- reads: int_counted_lines, int_discharge_episodes, int_line_attribution, int_patient_years, ngap_families, public_holidays, register_centres, register_nurses, stg_patients
-- The counted lines carry their NGAP row at the act date and their centre's holiday calendar (stg_billing_lines).
with sunday_majorations as (
    -- Sunday/holiday majorations billed on a day that is no holiday in the centre's calendar
    select l.centre_finess, l.year, l.line_ref, l.act_date, dayofweek(l.act_date) as weekday
    from int_counted_lines as l
    where l.family = 'sunday_holiday'
        and not exists (
            select 1 from public_holidays as h
            where h.holiday_date = l.act_date and h.zone = l.holiday_zone
        )
),

registered_years as (
    select distinct centre_finess, year from register_nurses
    union
    select distinct centre_finess, year from register_centres
)

select centre_finess, year, 'unattributed_lines' as finding, line_ref as subject
from int_line_attribution
where attribution = 'unattributed'

union all
select centre_finess, year, 'unknown_episode_id', line_ref
from int_line_attribution
where episode_id_unknown

union all
select centre_finess, year, 'unknown_act_code', line_ref || ' (' || act_code || ')'
from int_counted_lines
where family is null

union all
select centre_finess, year, 'missing_coefficient', line_ref
from int_counted_lines
where family in (select family from ngap_families where coefficient_counted) and coefficient is null

union all
select l.centre_finess, l.year, 'unexpected_coefficient', l.line_ref || ' (' || l.act_code || ' ' || rtrim(rtrim(cast(l.coefficient as varchar), '0'), '.') || ')'
from int_counted_lines as l
where l.reference_coefficients is not null
    and l.coefficient is not null
    and not list_contains(l.reference_coefficients, l.coefficient::decimal(8, 2))

union all
select centre_finess, year, 'amount_mismatch', line_ref
from int_counted_lines
where amount_eur is not null
    and reference_value_eur is not null
    and abs(
        amount_eur - round(reference_value_eur * coalesce(coefficient, 1) * quantity, 2)
    ) > 0.01

union all
select centre_finess, year, 'night_majoration_daytime', line_ref || ' (' || left(cast(act_time as varchar), 5) || ')'
from int_counted_lines
where family = 'night' and act_time >= time '08:00' and act_time < time '20:00'

union all
select centre_finess, year, 'night_majoration_wrong_code', line_ref || ' (' || act_code || ' à ' || left(cast(act_time as varchar), 5) || ')'
from int_counted_lines
where (act_code = 'N' and (act_time >= time '23:00' or act_time < time '05:00'))
    or (act_code = 'MM' and act_time >= time '05:00' and act_time < time '23:00'
        and not (act_time >= time '08:00' and act_time < time '20:00'))

union all
select centre_finess, year, 'night_majoration_without_time', line_ref
from int_counted_lines
where family = 'night' and act_time is null

union all
select
    centre_finess,
    year,
    case when weekday = 6 then 'sunday_majoration_saturday' else 'sunday_majoration_working_day' end,
    line_ref || ' (' || strftime(act_date, '%d/%m/%Y') || ')'
from sunday_majorations
where weekday <> 0  -- Sunday is the majoration's own day

union all
select centre_finess, year, 'unknown_patient', line_ref
from int_counted_lines as l
where not exists (
    select 1 from stg_patients as p
    where p.centre_finess = l.centre_finess and p.patient_id = l.patient_id
)

union all
select centre_finess, year, 'patient_without_birth_date', patient_id
from int_patient_years
where known_patient and birth_date is null

union all
select centre_finess, year, 'discharge_details_missing', episode_id
from int_discharge_episodes
where establishment = 'unknown' or service = 'unknown' or care_type = 'unknown'

union all
select distinct l.centre_finess, l.year, 'nurse_not_in_register', l.nurse_id
from int_counted_lines as l
join registered_years as r using (centre_finess, year)
where l.nurse_id is not null
    and not exists (
        select 1 from register_nurses as n
        where n.centre_finess = l.centre_finess and n.year = l.year and n.nurse_id = l.nurse_id
    )

union all
select n.centre_finess, n.year, 'registered_nurse_without_act', n.nurse_id
from register_nurses as n
where not exists (
    select 1 from int_counted_lines as l
    where l.centre_finess = n.centre_finess and l.year = n.year and l.nurse_id = n.nurse_id
)
