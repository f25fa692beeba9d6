-- grain: one episode of a year's hospital-discharge cohort (centre_finess, year, episode_id)
-- reads: int_line_attribution, stg_episodes
with cohort_lines as (
    select centre_finess, year, attributed_episode_id as episode_id, max(act_date) as last_act_date
    from int_line_attribution
    where in_discharge_cohort
    group by all
)

select
    c.centre_finess,
    c.year,
    e.episode_id,
    e.patient_id,
    e.start_date,
    e.end_date,
    coalesce(e.discharge_establishment, 'unknown') as establishment,
    coalesce(e.discharge_service, 'unknown') as service,
    coalesce(e.discharge_care_type, 'unknown') as care_type,
    e.discharge_care_detail as care_detail,
    date_diff('day', e.start_date, coalesce(e.end_date, c.last_act_date)) + 1 as duration_days
from cohort_lines as c
join stg_episodes as e
    on e.centre_finess = c.centre_finess
    and e.episode_id = c.episode_id
