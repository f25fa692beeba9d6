-- grain: one centre × year × month, and one centre × year (month null): distinct patients by the reason of their lines' episodes
-- reads: int_line_attribution
-- Annexe 3 section 2 counts a patient once per month and once over the year: both come from one pass over the lines.
-- The lines are first reduced to their distinct patient × month × reason: the distinct counts then run over a few
-- rows per patient instead of every line (a third of the time).
with patient_months as (
    select distinct centre_finess, year, month, patient_id, reason, attribution = 'unattributed' as unattributed
    from int_line_attribution
)

select
    centre_finess,
    year,
    month,
    count(distinct patient_id) filter (where reason = 'acute') as acute_patients,
    count(distinct patient_id) filter (where reason = 'chronic') as chronic_patients,
    count(distinct patient_id) filter (where reason = 'palliative') as palliative_patients,
    count(distinct patient_id) filter (where unattributed) as unattributed_patients
from patient_months
group by grouping sets ((centre_finess, year, month), (centre_finess, year))
