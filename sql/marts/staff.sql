-- grain: one centre × year (from the centre register) — annexe 3 section 4, « personnel du centre »
-- reads: register_centres, register_nurses, register_secretaries
-- nurse_fte counts every nurse (coordinators and managers included); rounded to 6 decimals
-- only to drop floating-point noise (the forfait band is read from it).
with nurses as (
    select
        centre_finess,
        year,
        count(*) as nurses,
        round(sum(fte), 6) as nurse_fte,
        count(*) filter (where chemotherapy_qualified) as chemotherapy_qualified,
        count(*) filter (where len(other_competences) > 0) as other_competence,
        count(*) filter (where role = 'manager') as managers,
        round(coalesce(sum(fte) filter (where role = 'manager'), 0), 6) as manager_fte
    from register_nurses
    group by all
),

secretaries as (
    select centre_finess, year, count(*) as secretaries, round(sum(fte), 6) as secretary_fte
    from register_secretaries
    group by all
)

select
    c.centre_finess,
    c.year,
    coalesce(n.nurses, 0) as nurses,
    coalesce(n.nurse_fte, 0) as nurse_fte,
    coalesce(n.chemotherapy_qualified, 0) as chemotherapy_qualified,
    coalesce(n.other_competence, 0) as other_competence,
    coalesce(s.secretaries, 0) as secretaries,
    coalesce(s.secretary_fte, 0) as secretary_fte,
    coalesce(n.managers, 0) as managers,
    coalesce(n.manager_fte, 0) as manager_fte
from register_centres as c
left join nurses as n using (centre_finess, year)
left join secretaries as s using (centre_finess, year)
