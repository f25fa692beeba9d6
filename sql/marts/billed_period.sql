-- grain: one centre × year with counted lines — the period the report covers (meta.coverage): first and last act date, months holding counted lines
-- reads: int_counted_lines
select
    centre_finess,
    year,
    min(act_date) as first_act_date,
    max(act_date) as last_act_date,
    list_sort(list(distinct month)) as months,
    count(*) as counted_lines
from int_counted_lines
group by centre_finess, year
