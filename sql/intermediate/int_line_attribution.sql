-- grain: one counted billing line, with the episode it is attributed to (explicit id, else by date, else none)
with explicit as (
    select l.centre_finess, l.invoice_id, l.line_no, e.episode_id
    from int_counted_lines as l
    join stg_episodes as e
        on e.centre_finess = l.centre_finess
        and e.episode_id = l.episode_id
        and e.patient_id = l.patient_id
),

covering as (
    select
        l.centre_finess,
        l.invoice_id,
        l.line_no,
        e.episode_id,
        row_number() over (
            partition by l.centre_finess, l.invoice_id, l.line_no
            order by e.start_date desc, e.episode_id
        ) as rank_in_line
    from int_counted_lines as l
    join stg_episodes as e
        on e.centre_finess = l.centre_finess
        and e.patient_id = l.patient_id
        and l.act_date >= e.start_date
        and (e.end_date is null or l.act_date <= e.end_date)
    anti join explicit as x
        on x.centre_finess = l.centre_finess
        and x.invoice_id = l.invoice_id
        and x.line_no = l.line_no
),

attributed as (
    select centre_finess, invoice_id, line_no, episode_id, 'explicit' as attribution
    from explicit
    union all
    select centre_finess, invoice_id, line_no, episode_id, 'date' as attribution
    from covering
    where rank_in_line = 1
)

select
    l.*,
    a.episode_id as attributed_episode_id,
    coalesce(a.attribution, 'unattributed') as attribution,
    l.episode_id is not null and coalesce(a.attribution, '') <> 'explicit' as episode_id_unknown,
    e.reason,
    e.start_date as episode_start_date,
    e.end_date as episode_end_date,
    coalesce(e.hospital_discharge, false) as in_discharge_cohort
from int_counted_lines as l
left join attributed as a
    on a.centre_finess = l.centre_finess
    and a.invoice_id = l.invoice_id
    and a.line_no = l.line_no
left join stg_episodes as e
    on e.centre_finess = a.centre_finess
    and e.episode_id = a.episode_id
