-- grain: one counted billing line × scope: 'all' lines of the year, and again 'hospital_discharge' for lines attributed to a discharge-cohort episode
-- reads: int_line_attribution
select 'all' as scope, *
from int_line_attribution
union all
select 'hospital_discharge' as scope, *
from int_line_attribution
where in_discharge_cohort
