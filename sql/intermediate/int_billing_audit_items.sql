-- grain: one billing-audit item × subject (a visit, named by one of its line ids, or a line) for a centre × year, with the euros at stake
-- reads: int_counted_lines, int_visits, ngap_reference
-- ngap_reference gives each majoration's value on the act's date in the centre's zone.
-- Indicative: hints for the secretary (annexe3-report.md, "Billing audit"), not certainties. `eur` is signed:
-- positive = money left on the table (under-billed), negative = billed without justification.
with majoration_values as (
    select v.*, mau.value_eur as mau_eur, mie.value_eur as mie_eur, mci.value_eur as mci_eur
    from int_visits as v
    left join ngap_reference as mau
        on mau.code = 'MAU' and mau.zone = v.ngap_zone
        and v.act_date >= mau.valid_from and (mau.valid_to is null or v.act_date <= mau.valid_to)
    left join ngap_reference as mie
        on mie.code = 'MIE' and mie.zone = v.ngap_zone
        and v.act_date >= mie.valid_from and (mie.valid_to is null or v.act_date <= mie.valid_to)
    left join ngap_reference as mci
        on mci.code = 'MCI' and mci.zone = v.ngap_zone
        and v.act_date >= mci.valid_from and (mci.valid_to is null or v.act_date <= mci.valid_to)
)

select centre_finess, year, 'amount_mismatch' as item, line_ref as subject,
    round(reference_value_eur * coalesce(coefficient, 1) * quantity, 2) - amount_eur as eur
from int_counted_lines
where amount_eur is not null
    and reference_value_eur is not null
    and abs(amount_eur - round(reference_value_eur * coalesce(coefficient, 1) * quantity, 2)) > 0.01

union all
select centre_finess, year, 'mau_possibly_unbilled', first_act_ref, mau_eur
from majoration_values
where act_lines = 1 and act_code in ('AMI', 'AMX') and max_act_coefficient <= 1.5
    and act_quantity = 1 and mau_ref is null and mau_eur is not null

union all
select centre_finess, year, 'mau_not_justified', mau_ref, -mau_eur
from majoration_values
where mau_ref is not null and mau_eur is not null
    and (act_lines > 1 or max_act_coefficient > 1.5)

union all
select centre_finess, year, 'mie_possibly_unbilled', first_act_ref, mie_eur
from majoration_values
where age < 7 and act_lines >= 1 and mie_ref is null and mie_eur is not null

union all
select centre_finess, year, 'mie_not_justified', mie_ref, -mie_eur
from majoration_values
where mie_ref is not null and age >= 7 and mie_eur is not null

union all
select centre_finess, year, 'mci_possibly_unbilled', first_act_ref, mci_eur
from majoration_values
where palliative_act and mci_ref is null and mci_eur is not null

union all
select centre_finess, year, 'ais_after_bsi', line_ref, null
from int_counted_lines
where act_code = 'AIS' and act_date >= date '2023-10-03'
