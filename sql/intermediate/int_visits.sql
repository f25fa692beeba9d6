-- grain: one visit (centre_finess, year, patient_id, act_date, visit_key) — the billing audit's unit
-- reads: int_line_attribution, ngap_families, stg_patients
-- int_line_attribution holds the counted lines with their episode. A visit is the counted lines of one patient on
-- one act_date with the same act_time (to the minute); lines without a time form one visit per invoice and date. Its
-- act lines are those of the families ngap_families marks `visit_act` (AMI, AMX, AIS, DSI and other_acts).
-- The lines are grouped on the minute and the invoice themselves, the visit's name written once per visit, and the
-- patient's age joined once per visit: not once per line (a fifth of the billing audit's time).
with visits as (
    select
        l.centre_finess,
        l.year,
        l.patient_id,
        l.act_date,
        hour(l.act_time) * 60 + minute(l.act_time) as act_minute,
        case when l.act_time is null then l.invoice_id end as time_less_invoice,
        any_value(l.ngap_zone) as ngap_zone,
        count(*) filter (where f.visit_act) as act_lines,
        min(l.line_ref) filter (where f.visit_act) as first_act_ref,
        max(l.coefficient) filter (where f.visit_act) as max_act_coefficient,
        -- the one act line, when there is exactly one
        any_value(l.act_code) filter (where f.visit_act) as act_code,
        any_value(l.quantity) filter (where f.visit_act) as act_quantity,
        bool_or(f.visit_act and l.reason = 'palliative') as palliative_act,
        min(l.line_ref) filter (where l.act_code = 'MAU') as mau_ref,
        min(l.line_ref) filter (where l.act_code = 'MIE') as mie_ref,
        min(l.line_ref) filter (where l.act_code = 'MCI') as mci_ref,
        min(l.line_ref) as first_ref
    from int_line_attribution as l
    left join ngap_families as f on f.family = l.family
    group by all
)

select
    v.centre_finess,
    v.year,
    v.patient_id,
    v.act_date,
    case
        when v.act_minute is not null
            then 'heure ' || lpad((v.act_minute // 60)::varchar, 2, '0') || ':'
            || lpad((v.act_minute % 60)::varchar, 2, '0')
        else 'facture ' || v.time_less_invoice
    end as visit_key,
    v.* exclude (centre_finess, year, patient_id, act_date, act_minute, time_less_invoice),
    case
        when p.birth_date is not null
            then date_diff('year', p.birth_date, v.act_date)
            - case
                when strftime(v.act_date, '%m%d') < strftime(p.birth_date, '%m%d') then 1
                else 0
            end
    end as age
from visits as v
left join stg_patients as p
    on p.centre_finess = v.centre_finess
    and p.patient_id = v.patient_id
