{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_trial_balance'}}}) }}
-- The trial balance of every administration and period sums to exactly zero: debit equals
-- credit, and the closing balances of all accounts plus the results of earlier years (not
-- closed into equity by a booking) are zero. Every row also adds up (opening + movement =
-- closing), and balances are continuous: a period opens where the previous one closed
-- (profit-and-loss accounts open every year at zero).
with

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

results_per_year as (
    select
        administration_id,
        fiscal_year,
        sum(movement) as result_balance
    from trial_balance
    where account_type = 'profit_and_loss'
    group by all
),

per_period as (
    select
        trial_balance.administration_id,
        trial_balance.fiscal_year,
        trial_balance.period,
        sum(trial_balance.debit) as debit,
        sum(trial_balance.credit) as credit,
        sum(trial_balance.closing_balance) as closing_balance
    from trial_balance
    group by all
),

unbalanced_periods as (
    select
        per_period.administration_id,
        per_period.fiscal_year,
        per_period.period,
        'period does not sum to zero' as failure
    from per_period
    left join results_per_year
        on per_period.administration_id = results_per_year.administration_id
        and results_per_year.fiscal_year < per_period.fiscal_year
    group by all
    having
        any_value(per_period.debit) <> any_value(per_period.credit)
        or any_value(per_period.closing_balance)
            + coalesce(sum(results_per_year.result_balance), 0) <> 0
),

rows_not_adding_up as (
    select
        administration_id,
        fiscal_year,
        period,
        'opening + debit - credit <> closing for ' || account_code as failure
    from trial_balance
    where opening_balance + debit - credit <> closing_balance
),

discontinuous as (
    select
        administration_id,
        fiscal_year,
        period,
        'opening balance is not the previous closing balance for ' || account_code as failure
    from (
        select
            *,
            lag(closing_balance) over (
                partition by administration_id, account_code
                order by fiscal_year, period
            ) as previous_closing,
            lag(fiscal_year) over (
                partition by administration_id, account_code
                order by fiscal_year, period
            ) as previous_year
        from trial_balance
    ) as with_previous
    where opening_balance <> case
        when previous_closing is null then 0
        when account_type = 'profit_and_loss' and previous_year <> fiscal_year then 0
        else previous_closing
    end
)

select * from unbalanced_periods
union all
select * from rows_not_adding_up
union all
select * from discontinuous
