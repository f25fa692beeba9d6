-- grain: one centre × year × scope × NGAP family × act code — the detail of DSI, night, other majorations and other acts
-- reads: int_act_lines
-- coordination_fee lines (CID, CIF) are the forfait, never acts: see coordination_fee
select
    centre_finess,
    year,
    scope,
    family,
    act_code,
    sum(lines)::bigint as lines,
    sum(quantity) as count,
    sum(amount_eur) as amount_eur
from int_act_lines
where family <> 'coordination_fee'
group by all
