{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rpt_cash_flow'}}}) }}
-- The cash flow statement ties out in every administration and period, and for the year to
-- date: operating + investing + financing is the change in cash, and opening cash plus that
-- change is closing cash.
with

cash_flow as (
    select * from {{ ref('rpt_cash_flow') }}
),

pivoted as (
    select
        administration_id,
        fiscal_year,
        period,
        sum(amount) filter (where line_code in ('OPER', 'INV', 'FIN')) as flows,
        sum(amount) filter (where line_code = 'MUT') as change,
        sum(amount) filter (where line_code = 'BEGIN') as opening,
        sum(amount) filter (where line_code = 'EIND') as closing,
        sum(ytd_amount) filter (where line_code = 'MUT') as ytd_change,
        sum(ytd_amount) filter (where line_code = 'BEGIN') as ytd_opening
    from cash_flow
    group by all
)

select
    *
from pivoted
where
    flows <> change
    or opening + change <> closing
    or ytd_opening + ytd_change <> closing
