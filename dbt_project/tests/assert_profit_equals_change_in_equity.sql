{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rpt_profit_and_loss'}}}) }}
-- The profit and loss of the year to date (the statement's line Resultaat, which is also the
-- sum of its accounts) equals the change in net assets since the year opened: the movement of
-- all balance-sheet accounts in periods 1 up to the period, and the balance sheet's line
-- Resultaat lopend boekjaar.
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

result_line as (
    select
        administration_id,
        fiscal_year,
        period,
        ytd_result
    from profit_and_loss
    where line_type = 'line' and line_code = 'RES'
),

account_result as (
    select
        administration_id,
        fiscal_year,
        period,
        sum(ytd_result) as ytd_result
    from profit_and_loss
    where line_type = 'account'
    group by all
),

-- Net assets grew by the debit - credit movement of the balance-sheet accounts this year.
equity_change as (
    select
        result_line.administration_id,
        result_line.fiscal_year,
        result_line.period,
        coalesce(sum(trial_balance.movement), 0) as ytd_equity_change
    from result_line
    left join trial_balance
        on result_line.administration_id = trial_balance.administration_id
        and result_line.fiscal_year = trial_balance.fiscal_year
        and trial_balance.period between 1 and result_line.period
        and trial_balance.account_type = 'balance_sheet'
    group by all
),

balance_sheet_result as (
    select
        administration_id,
        fiscal_year,
        period,
        -balance as result_current_year
    from balance_sheet
    where line_type = 'line' and line_code = 'RES_LOPEND'
)

select
    result_line.administration_id,
    result_line.fiscal_year,
    result_line.period,
    result_line.ytd_result,
    account_result.ytd_result as ytd_result_of_accounts,
    equity_change.ytd_equity_change,
    balance_sheet_result.result_current_year
from result_line
left join account_result
    on result_line.administration_id = account_result.administration_id
    and result_line.fiscal_year = account_result.fiscal_year
    and result_line.period = account_result.period
left join equity_change
    on result_line.administration_id = equity_change.administration_id
    and result_line.fiscal_year = equity_change.fiscal_year
    and result_line.period = equity_change.period
left join balance_sheet_result
    on result_line.administration_id = balance_sheet_result.administration_id
    and result_line.fiscal_year = balance_sheet_result.fiscal_year
    and result_line.period = balance_sheet_result.period
where
    result_line.ytd_result <> coalesce(account_result.ytd_result, 0)
    or result_line.ytd_result <> equity_change.ytd_equity_change
    or result_line.ytd_result <> coalesce(balance_sheet_result.result_current_year, 0)
