{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rpt_icp_listing'}}}) }}
-- The ICP listing adds up, per administration and return period, to the base of rubriek 3b of
-- the VAT return: no ICP supply is left out of the listing or counted twice.
-- depends_on: {{ ref('rpt_vat_return') }}
with

listed as (
    select
        administration_id,
        fiscal_year,
        return_period,
        sum(icp_amount) as listed
    from {{ ref('rpt_icp_listing') }}
    group by all
),

declared as (
    select
        administration_id,
        fiscal_year,
        return_period,
        base_amount as declared
    from {{ ref('rpt_vat_return') }}
    where rubriek = '3b'
)

select
    declared.administration_id,
    declared.fiscal_year,
    declared.return_period,
    declared.declared,
    listed.listed
from declared
full outer join listed
    on declared.administration_id = listed.administration_id
    and declared.fiscal_year = listed.fiscal_year
    and declared.return_period = listed.return_period
where coalesce(declared.declared, 0) <> coalesce(listed.listed, 0)
