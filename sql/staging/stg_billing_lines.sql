-- grain: one billing line (centre_finess, invoice_id, line_no), latest version after replays, with its NGAP family at the act date
select
    b.centre_finess,
    b.invoice_id,
    b.line_no,
    b.invoice_id || '/' || b.line_no as line_ref,
    b.patient_id,
    b.nurse_id,
    b.act_date,
    b.act_time,
    extract(year from b.act_date)::integer as year,
    extract(month from b.act_date)::integer as month,
    b.act_code,
    b.coefficient,
    b.quantity,
    b.amount_eur,
    b.status,
    b.episode_id,
    r.family,
    r.value_eur as reference_value_eur,
    r.unit as reference_unit,
    b.load_id
from billing_lines as b
left join ngap_reference as r
    on r.code = b.act_code
    and b.act_date >= r.valid_from
    and (r.valid_to is null or b.act_date <= r.valid_to)
