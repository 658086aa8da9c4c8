-- The balance sheet at the end of every period: every balance-sheet account's closing balance,
-- plus the result of earlier years not yet closed into equity and the result of the current
-- year, so that the lines of every administration and period sum to zero (debit - credit).
with

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

periods as (
    select distinct
        administration_id,
        fiscal_year,
        period,
        period_end_date
    from trial_balance
),

account_lines as (
    select
        administration_id,
        fiscal_year,
        period,
        period_end_date,
        'account' as line_type,
        account_code,
        account_name,
        account_category as balance_sheet_side,
        closing_balance as balance
    from trial_balance
    where account_type = 'balance_sheet'
),

-- P&L movement per year; a year's result belongs to equity from the next year on.
result_per_year as (
    select
        administration_id,
        fiscal_year,
        sum(movement) as result_balance
    from trial_balance
    where account_type = 'profit_and_loss'
    group by all
),

result_previous_years as (
    select
        periods.administration_id,
        periods.fiscal_year,
        periods.period,
        periods.period_end_date,
        'result_previous_years' as line_type,
        null as account_code,
        'Resultaat voorgaande boekjaren' as account_name,
        'liabilities_and_equity' as balance_sheet_side,
        coalesce(sum(result_per_year.result_balance), 0) as balance
    from periods
    left join result_per_year
        on periods.administration_id = result_per_year.administration_id
        and result_per_year.fiscal_year < periods.fiscal_year
    group by all
),

result_current_year as (
    select
        administration_id,
        fiscal_year,
        period,
        period_end_date,
        'result_current_year' as line_type,
        null as account_code,
        'Resultaat lopend boekjaar' as account_name,
        'liabilities_and_equity' as balance_sheet_side,
        sum(closing_balance) as balance
    from trial_balance
    where account_type = 'profit_and_loss'
    group by all
),

unioned as (
    select * from account_lines
    union all
    select * from result_previous_years
    union all
    select * from result_current_year
),

final as (
    select
        administration_id,
        fiscal_year,
        period,
        period_end_date,
        line_type,
        coalesce(account_code, line_type) as line_code,
        account_code,
        account_name,
        balance_sheet_side,
        {{ money('balance') }} as balance,
        -- As presented: assets at their debit balance, liabilities and equity at their credit.
        {{ money("case when balance_sheet_side = 'assets' then balance else -balance end") }}
            as presented_amount
    from unioned
)

select * from final
