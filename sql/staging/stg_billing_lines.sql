-- grain: one billing line (centre_finess, invoice_id, line_no), latest version after replays, with its NGAP family at the act date
-- reads: billing_lines, finess_zones, ngap_reference
-- ngap_reference holds one row per code × zone × validity period; finess_zones the NGAP zone (`dom` for a FINESS
-- 97…, else `metropole`) and the holiday calendar (`alsace_moselle` for 57, 67, 68) of each FINESS prefix.
-- The reference row is the one valid on the act's date for the centre's zone. The table proves values from
-- 2009-04-15: an act dated earlier keeps its code's family (from the code's earliest row) but has no reference
-- value, so its amount is not checked.
with lines as (
    select
        b.*,
        z.ngap_zone,
        z.holiday_zone
    from billing_lines as b
    left join finess_zones as z on z.finess_prefix = left(b.centre_finess, 2)
),

earliest as (
    select code, zone, arg_min(family, valid_from) as family, min(valid_from) as valid_from
    from ngap_reference
    group by all
)

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
    b.ngap_zone,
    b.holiday_zone,
    coalesce(r.family, case when b.act_date < date '2009-04-15' then e.family end) as family,
    r.value_eur as reference_value_eur,
    r.unit as reference_unit,
    r.coefficients as reference_coefficients,
    b.load_id
from lines as b
left join ngap_reference as r
    on r.code = b.act_code
    and r.zone = b.ngap_zone
    and b.act_date >= r.valid_from
    and (r.valid_to is null or b.act_date <= r.valid_to)
left join earliest as e
    on e.code = b.act_code
    and e.zone = b.ngap_zone
    and b.act_date < e.valid_from
