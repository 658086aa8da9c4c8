{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'rpt_icp_listing'}}}) }}
-- A finding: ICP supplies (rubriek 3b) the listing cannot name a customer VAT number for: the
-- entry has no debtor line, the debtor is unknown, or the debtor has no VatNr in AFAS. The
-- Belastingdienst needs the number for every supply; without it the 0 % rate is in doubt.
select
    administration_id,
    fiscal_year,
    return_period,
    debtor_id,
    debtor_name,
    listing_status,
    icp_amount
from {{ ref('rpt_icp_listing') }}
where listing_status <> 'ok'
