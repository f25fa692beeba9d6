-- grain: one centre × year × month, and one centre × year (month null): distinct patients by the reason of their lines' episodes
-- reads: int_line_attribution
-- Annexe 3 section 2 counts a patient once per month and once over the year: both come from one pass over the lines.
select
    centre_finess,
    year,
    month,
    count(distinct patient_id) filter (where reason = 'acute') as acute_patients,
    count(distinct patient_id) filter (where reason = 'chronic') as chronic_patients,
    count(distinct patient_id) filter (where reason = 'palliative') as palliative_patients,
    count(distinct patient_id) filter (where attribution = 'unattributed') as unattributed_patients
from int_line_attribution
group by grouping sets ((centre_finess, year, month), (centre_finess, year))
