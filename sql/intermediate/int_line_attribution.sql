-- grain: one counted billing line, with the episode it is attributed to (explicit id, else by date, else none)
-- reads: int_counted_lines, stg_episodes
-- An episode covers a date from its start to its end (open-ended without end). A line is attributed to the episode its
-- episode_id names (same centre and patient), else to the covering episode that started last (then the smallest id).
-- The covering episode only changes at an episode's start or the day after its end: it is computed once per
-- patient × segment between two such dates, then each line finds its segment (cheaper than ranking per line).
-- `attribution` is an enum (sorted as its text): a stored text column of three words costs five times more to write.
with boundaries as (
    select centre_finess, patient_id, start_date as boundary from stg_episodes
    union
    select centre_finess, patient_id, end_date + 1 from stg_episodes where end_date is not null
),

segments as (
    select
        centre_finess,
        patient_id,
        boundary as segment_start,
        lead(boundary) over (partition by centre_finess, patient_id order by boundary) - 1 as segment_end
    from boundaries
),

covering as (
    select
        s.centre_finess,
        s.patient_id,
        s.segment_start,
        s.segment_end,
        arg_min(
            struct_pack(
                episode_id := e.episode_id, reason := e.reason, start_date := e.start_date,
                end_date := e.end_date, hospital_discharge := e.hospital_discharge
            ),
            (date_diff('day', e.start_date, date '9999-12-31'), e.episode_id)
        ) as episode
    from segments as s
    join stg_episodes as e
        on e.centre_finess = s.centre_finess
        and e.patient_id = s.patient_id
        and s.segment_start >= e.start_date
        and (e.end_date is null or s.segment_start <= e.end_date)
    group by all
),

attributed as (
    select
        l.*,
        x.episode_id is not null as explicit,
        case when x.episode_id is not null
            then struct_pack(
                episode_id := x.episode_id, reason := x.reason, start_date := x.start_date,
                end_date := x.end_date, hospital_discharge := x.hospital_discharge
            )
            else c.episode
        end as episode
    from int_counted_lines as l
    left join stg_episodes as x
        on x.centre_finess = l.centre_finess
        and x.episode_id = l.episode_id
        and x.patient_id = l.patient_id
    left join covering as c
        on c.centre_finess = l.centre_finess
        and c.patient_id = l.patient_id
        and l.act_date >= c.segment_start
        and (c.segment_end is null or l.act_date <= c.segment_end)
)

select
    a.* exclude (explicit, episode),
    a.episode.episode_id as attributed_episode_id,
    cast(case
        when a.explicit then 'explicit'
        when a.episode.episode_id is not null then 'date'
        else 'unattributed'
    end as enum('date', 'explicit', 'unattributed')) as attribution,
    a.episode_id is not null and not a.explicit as episode_id_unknown,
    a.episode.reason as reason,
    a.episode.start_date as episode_start_date,
    a.episode.end_date as episode_end_date,
    coalesce(a.episode.hospital_discharge, false) as in_discharge_cohort
from attributed as a
