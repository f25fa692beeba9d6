-- grain: one centre × year × billing-audit item — count, euros at stake (signed), five example line ids
-- reads: int_billing_audit_items
-- The five smallest subjects, in order (`min(subject, 5)`): a subject is never null, so they are the first five of the
-- sorted list, without sorting every subject of the item.
select
    centre_finess,
    year,
    item,
    count(*) as count,
    sum(eur) as eur,
    min(subject, 5) as examples
from int_billing_audit_items
group by all
