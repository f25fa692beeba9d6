-- grain: one counted billing line: status billed (cancelled and rejected lines never count)
-- reads: stg_billing_lines
select *
from stg_billing_lines
where status = 'billed'
