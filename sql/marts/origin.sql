-- grain: one centre × year × dimension (referral | postcode) × value — annexe 3 section 2, origin of the patients of the year
-- reads: int_line_attribution, int_patient_years, stg_episodes
with first_episodes as (
    select
        centre_finess,
        year,
        patient_id,
        arg_min(
            attributed_episode_id, (episode_start_date, attributed_episode_id)
        ) as episode_id
    from int_line_attribution
    where attributed_episode_id is not null
    group by all
),

patients as (
    select
        p.centre_finess,
        p.year,
        p.patient_id,
        coalesce(e.referral_origin, 'unknown') as referral_origin,
        p.postcode
    from int_patient_years as p
    left join first_episodes as f using (centre_finess, year, patient_id)
    left join stg_episodes as e
        on e.centre_finess = f.centre_finess
        and e.episode_id = f.episode_id
)

select centre_finess, year, 'referral' as dimension, referral_origin as value, count(*) as patients
from patients
group by all
union all
select centre_finess, year, 'postcode' as dimension, postcode as value, count(*) as patients
from patients
group by all
