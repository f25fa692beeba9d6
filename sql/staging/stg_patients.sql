-- grain: one patient of a centre (centre_finess, patient_id), latest version after replays
-- reads: patients
select
    centre_finess,
    patient_id,
    birth_date,
    sex,
    coalesce(occupation, 'unknown') as occupation,
    coverage,
    complementary,
    lives_alone,
    postcode
from patients
