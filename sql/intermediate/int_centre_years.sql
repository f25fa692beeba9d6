-- grain: one centre × year for which the warehouse holds anything (lines, entries or a register)
-- reads: billing_lines, register_centres, stg_episodes
-- The billing lines' years are read from the canonical table (every status counts here): the staging view would join
-- each line to its NGAP row and zone first, for nothing. `year` is the act date's, as in stg_billing_lines.
select distinct centre_finess, extract(year from act_date)::integer as year from billing_lines
union
select distinct centre_finess, start_year as year from stg_episodes
union
select distinct centre_finess, year from register_centres
