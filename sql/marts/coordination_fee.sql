-- grain: one centre × year × coordination-fee code (CID, CIF) — billed halves of the coordination flat fee, shown beside the forfait, never as acts
-- reads: int_counted_lines
-- The counted lines of family coordination_fee in the NGAP reference.
select
    centre_finess,
    year,
    act_code,
    count(*) as lines,
    sum(quantity) as count,
    sum(amount_eur) as amount_eur
from int_counted_lines
where family = 'coordination_fee'
group by all
