-- grain: one centre × year × scope × act family (AMI, AMX, AIS, DSI) × coefficient written without trailing zeros ("1", "1.5", "4.1")
select
    centre_finess,
    year,
    scope,
    family,
    coalesce(
        rtrim(rtrim(cast(coefficient as varchar), '0'), '.'), 'non renseigné'
    ) as coefficient,
    sum(quantity) as count
from int_scoped_lines
where family in ('AMI', 'AMX', 'AIS', 'DSI')
group by all
