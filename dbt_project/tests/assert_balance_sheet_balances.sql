{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rpt_balance_sheet'}}}) }}
-- The balance sheet balances at every period end: assets equal liabilities plus equity plus
-- the results, i.e. the balances (debit - credit) sum to zero, and as presented the two sides
-- are equal.
with

balance_sheet as (
    select * from {{ ref('rpt_balance_sheet') }}
)

select
    administration_id,
    fiscal_year,
    period,
    sum(balance) as balance_total,
    sum(presented_amount) filter (where balance_sheet_side = 'assets') as assets,
    sum(presented_amount) filter (where balance_sheet_side <> 'assets') as liabilities_and_equity
from balance_sheet
group by all
having
    sum(balance) <> 0
    or coalesce(sum(presented_amount) filter (where balance_sheet_side = 'assets'), 0)
        <> coalesce(sum(presented_amount) filter (where balance_sheet_side <> 'assets'), 0)
