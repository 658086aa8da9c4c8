-- Profit and loss per administration, period and P&L account: the period's amount and the
-- year to date. Amounts are presented as result (credit - debit): revenue positive, costs
-- negative, so that the sum over accounts is the result.
with

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

final as (
    select
        administration_id,
        fiscal_year,
        period,
        period_end_date,
        account_code,
        account_name,
        account_category,
        {{ money('-movement') }} as period_result,
        {{ money('-closing_balance') }} as ytd_result,
        debit as period_debit,
        credit as period_credit,
        closing_balance as ytd_balance
    from trial_balance
    where account_type = 'profit_and_loss'
)

select * from final
