-- grain: one centre × year × scope (all | hospital_discharge) × NGAP family × act code × coefficient: the counted lines' acts, summed
-- reads: int_scoped_lines
-- acts, acts_by_code and acts_by_coefficient (annexe 3 section 3) are sums of these sums: the lines of both scopes are
-- read once for the three of them, not three times. Lines of no NGAP family (an unknown code) are no act of any.
select
    centre_finess,
    year,
    scope,
    family,
    act_code,
    coefficient,
    count(*) as lines,
    sum(quantity) as quantity,
    sum(coalesce(coefficient, 0) * quantity) as coefficient_quantity,
    sum(amount_eur) as amount_eur
from int_scoped_lines
where family is not null
group by all
