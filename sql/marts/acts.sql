-- grain: one centre × year × scope (all | hospital_discharge) × NGAP family — annexe 3 section 3, « Informations relatives aux actes effectués »
-- reads: int_act_lines, ngap_families
-- coordination_fee lines (CID, CIF) are the forfait, never acts: see coordination_fee. Coefficients are summed for
-- the families ngap_families marks `coefficient_counted` (AMI, AMX, AIS, DSI). IK counts its lines (the trips).
select
    centre_finess,
    year,
    scope,
    family,
    sum(lines)::bigint as lines,
    case when family = 'IK' then sum(lines)::bigint else sum(quantity) end as count,
    sum(coefficient_quantity) filter (
        where family in (select family from ngap_families where coefficient_counted)
    ) as coefficient_total,
    sum(quantity) filter (where family = 'IK') as km,
    sum(amount_eur) as amount_eur
from int_act_lines
where family <> 'coordination_fee'
group by centre_finess, year, scope, family
