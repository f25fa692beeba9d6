-- grain: one centre × year × scope × NGAP family × act code — the detail of DSI, night and other majorations
select
    centre_finess,
    year,
    scope,
    family,
    act_code,
    count(*) as lines,
    sum(quantity) as count,
    sum(amount_eur) as amount_eur
from int_scoped_lines
where family is not null and family <> 'coordination_fee'
group by all
