{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rpt_profit_and_loss'}}}) }}
-- The profit and loss of the year to date equals the change in equity (net assets) since the
-- start of the year: the year-to-date movement of all balance-sheet accounts, and the balance
-- sheet's 'result_current_year' line.
with

profit_and_loss as (
    select * from {{ ref('rpt_profit_and_loss') }}
),

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

balance_sheet as (
    select * from {{ ref('rpt_balance_sheet') }}
),

periods as (
    select distinct
        administration_id,
        fiscal_year,
        period
    from trial_balance
),

result as (
    select
        administration_id,
        fiscal_year,
        period,
        sum(ytd_result) as ytd_result
    from profit_and_loss
    group by all
),

-- Net assets grew by the debit - credit movement of the balance-sheet accounts this year.
equity_change as (
    select
        periods.administration_id,
        periods.fiscal_year,
        periods.period,
        coalesce(sum(trial_balance.movement), 0) as ytd_equity_change
    from periods
    left join trial_balance
        on periods.administration_id = trial_balance.administration_id
        and periods.fiscal_year = trial_balance.fiscal_year
        and trial_balance.period <= periods.period
        and trial_balance.account_type = 'balance_sheet'
    group by all
),

result_line as (
    select
        administration_id,
        fiscal_year,
        period,
        -balance as result_current_year
    from balance_sheet
    where line_type = 'result_current_year'
)

select
    equity_change.administration_id,
    equity_change.fiscal_year,
    equity_change.period,
    coalesce(result.ytd_result, 0) as ytd_result,
    equity_change.ytd_equity_change,
    result_line.result_current_year
from equity_change
left join result
    on equity_change.administration_id = result.administration_id
    and equity_change.fiscal_year = result.fiscal_year
    and equity_change.period = result.period
left join result_line
    on equity_change.administration_id = result_line.administration_id
    and equity_change.fiscal_year = result_line.fiscal_year
    and equity_change.period = result_line.period
where
    coalesce(result.ytd_result, 0) <> equity_change.ytd_equity_change
    or coalesce(result_line.result_current_year, 0) <> coalesce(result.ytd_result, 0)
