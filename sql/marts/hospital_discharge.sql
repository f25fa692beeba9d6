-- grain: one centre × year — annexe 3 section 3, patients taken into care after a hospital discharge (the cohort)
-- reads: int_discharge_episodes
select
    centre_finess,
    year,
    count(distinct patient_id) as patients,
    count(*) as episodes,
    sum(duration_days) as duration_total,
    round(avg(duration_days), 1) as duration_mean,
    median(duration_days) as duration_median,
    min(duration_days) as duration_min,
    max(duration_days) as duration_max
from int_discharge_episodes
group by all
