-- grain: one centre × year × billing-audit item — count, euros at stake (signed), five example line ids
-- reads: int_billing_audit_items
select
    centre_finess,
    year,
    item,
    count(*) as count,
    sum(eur) as eur,
    list(subject order by subject)[1:5] as examples
from int_billing_audit_items
group by all
