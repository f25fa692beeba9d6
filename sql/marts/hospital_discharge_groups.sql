-- grain: one centre × year × dimension (establishment | service | care_type) × value — distinct cohort patients per group
-- reads: int_discharge_episodes
select centre_finess, year, 'establishment' as dimension, establishment as value,
    count(distinct patient_id) as patients
from int_discharge_episodes
group by all
union all
select centre_finess, year, 'service' as dimension, service as value,
    count(distinct patient_id) as patients
from int_discharge_episodes
group by all
union all
select centre_finess, year, 'care_type' as dimension, care_type as value,
    count(distinct patient_id) as patients
from int_discharge_episodes
group by all
