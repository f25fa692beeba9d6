-- grain: one centre × year (from the centre register) — annexe 3 section 5, « moyens mis en œuvre »
-- reads: register_centres, register_internal_meetings, register_partners
-- NULL when the register does not declare the list (absent is unknown, an empty list is 0);
-- internal_meetings counts the meetings dated in the register's year.
with meetings as (
    select m.centre_finess, m.year, count(*) as internal_meetings
    from register_internal_meetings as m
    where year(m.meeting_date) = m.year
    group by all
),

partners as (
    select
        centre_finess,
        year,
        count(*) as partners,
        count(*) filter (where convention_signed is not null) as partners_with_convention,
        count(*) filter (where convention_signed is null) as partners_without_convention
    from register_partners
    group by all
)

select
    c.centre_finess,
    c.year,
    case when json_type(c.register_json, '$.internal_meetings') = 'ARRAY'
        then coalesce(m.internal_meetings, 0) end as internal_meetings,
    case when json_type(c.register_json, '$.partners') = 'ARRAY'
        then coalesce(p.partners, 0) end as partners,
    case when json_type(c.register_json, '$.partners') = 'ARRAY'
        then coalesce(p.partners_with_convention, 0) end as partners_with_convention,
    case when json_type(c.register_json, '$.partners') = 'ARRAY'
        then coalesce(p.partners_without_convention, 0) end as partners_without_convention
from register_centres as c
left join meetings as m using (centre_finess, year)
left join partners as p using (centre_finess, year)
