-- grain: one visit (centre_finess, year, patient_id, act_date, visit_key) — the billing audit's unit
-- reads: int_line_attribution, ngap_families, stg_patients
-- int_line_attribution holds the counted lines with their episode. A visit is the counted lines of one patient on
-- one act_date with the same act_time; lines without a time form one visit per invoice and date. Its act lines are
-- those of the families ngap_families marks `visit_act` (AMI, AMX, AIS, DSI and other_acts).
with lines as (
    select
        l.*,
        case when l.act_time is not null then 'heure ' || left(cast(l.act_time as varchar), 5)
            else 'facture ' || l.invoice_id end as visit_key,
        l.family in (select family from ngap_families where visit_act) as is_act
    from int_line_attribution as l
)

select
    l.centre_finess,
    l.year,
    l.patient_id,
    l.act_date,
    l.visit_key,
    any_value(l.ngap_zone) as ngap_zone,
    count(*) filter (where l.is_act) as act_lines,
    min(l.line_ref) filter (where l.is_act) as first_act_ref,
    max(l.coefficient) filter (where l.is_act) as max_act_coefficient,
    -- the one act line, when there is exactly one
    any_value(l.act_code) filter (where l.is_act) as act_code,
    any_value(l.quantity) filter (where l.is_act) as act_quantity,
    bool_or(l.is_act and l.reason = 'palliative') as palliative_act,
    min(l.line_ref) filter (where l.act_code = 'MAU') as mau_ref,
    min(l.line_ref) filter (where l.act_code = 'MIE') as mie_ref,
    min(l.line_ref) filter (where l.act_code = 'MCI') as mci_ref,
    min(l.line_ref) as first_ref,
    case
        when any_value(p.birth_date) is not null
            then date_diff('year', any_value(p.birth_date), l.act_date)
            - case
                when strftime(l.act_date, '%m%d') < strftime(any_value(p.birth_date), '%m%d') then 1
                else 0
            end
    end as age
from lines as l
left join stg_patients as p
    on p.centre_finess = l.centre_finess
    and p.patient_id = l.patient_id
group by l.centre_finess, l.year, l.patient_id, l.act_date, l.visit_key
