-- grain: one centre × year × scope × coefficient-counted family (AMI, AMX, AIS, DSI) × coefficient written without trailing zeros ("1", "1.5", "4.1")
-- reads: int_act_lines, ngap_families
-- Summed by coefficient value first, then written: one text per value (trailing zeros dropped), formatted once per
-- group rather than once per line.
with by_value as (
    select centre_finess, year, scope, family, coefficient, sum(quantity) as count
    from int_act_lines
    where family in (select family from ngap_families where coefficient_counted)
    group by all
)

select
    centre_finess,
    year,
    scope,
    family,
    coalesce(
        rtrim(rtrim(cast(coefficient as varchar), '0'), '.'), 'non renseigné'
    ) as coefficient,
    count
from by_value
