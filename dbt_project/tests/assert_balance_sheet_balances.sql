{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rpt_balance_sheet'}}}) }}
-- The balance sheet balances at every period end (period 0 too: the opening balance sheet):
-- the balances of its accounts and the current year's result sum to zero (debit - credit), and
-- as presented Totaal activa equals Totaal passiva.
with

balance_sheet as (
    select * from {{ ref('rpt_balance_sheet') }}
)

select
    administration_id,
    fiscal_year,
    period,
    sum(balance) filter (where line_type = 'account' or line_code = 'RES_LOPEND') as balance_total,
    sum(presented_amount) filter (where line_type = 'line' and line_code = 'ACT') as assets,
    sum(presented_amount) filter (where line_type = 'line' and line_code = 'PAS')
        as liabilities_and_equity
from balance_sheet
group by all
having
    coalesce(sum(balance) filter (where line_type = 'account' or line_code = 'RES_LOPEND'), 0) <> 0
    or coalesce(sum(presented_amount) filter (where line_type = 'line' and line_code = 'ACT'), 0)
        <> coalesce(sum(presented_amount) filter (where line_type = 'line' and line_code = 'PAS'), 0)
