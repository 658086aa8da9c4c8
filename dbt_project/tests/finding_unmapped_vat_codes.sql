{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'rpt_vat_return'}}}) }}
-- A finding: VAT codes on the journal lines that the VAT return does not place (no row in the
-- seed vat_return_rubrieken), and VAT booked with a code whose row names no rubriek for it
-- (VAT on an export or exempt code). They count under 'NI' of rpt_vat_return, so nothing is
-- lost and the return still equals the VAT accounts; map them before filing.
-- depends_on: {{ ref('rpt_vat_return') }}
select
    administration_id,
    fiscal_year,
    return_period,
    vat_code,
    is_mapped,
    count(*) as line_count,
    sum(base_amount) as base_amount,
    sum(vat_amount) as vat_amount
from {{ ref('int_vat_return_lines') }}
where rubriek = 'NI'
group by all
