-- grain: one centre × year for which the warehouse holds anything (lines, entries or a register)
-- reads: register_centres, stg_billing_lines, stg_episodes
select distinct centre_finess, year from stg_billing_lines
union
select distinct centre_finess, start_year as year from stg_episodes
union
select distinct centre_finess, year from register_centres
