-- grain: one care episode (centre_finess, episode_id), latest version after replays
-- reads: episodes
select
    centre_finess,
    episode_id,
    patient_id,
    start_date,
    end_date,
    extract(year from start_date)::integer as start_year,
    extract(month from start_date)::integer as start_month,
    reason,
    coalesce(referral_origin, 'unknown') as referral_origin,
    coalesce(hospital_discharge, false) as hospital_discharge,
    discharge_establishment,
    discharge_finess,
    discharge_service,
    discharge_care_type,
    discharge_care_detail
from episodes
