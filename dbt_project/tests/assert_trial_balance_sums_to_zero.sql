{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_trial_balance'}}}) }}
-- The trial balance of every administration and period sums to exactly zero: debit equals
-- credit, the year-end carry (period 0) is itself balanced, and the closing balances of all
-- accounts are zero. Every row adds up (opening + debit - credit + carried_forward = closing);
-- a period opens where the previous one of its year closed and period 0 at zero; and the year
-- end carries every balance-sheet account's closing balance into the next year, the result
-- account also the year's result, a profit-and-loss account nothing.
with

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

result_accounts as (
    select * from {{ ref('int_result_accounts') }}
),

unbalanced_periods as (
    select
        administration_id,
        fiscal_year,
        period,
        'period does not sum to zero' as failure
    from trial_balance
    group by all
    having
        sum(debit) <> sum(credit)
        or sum(carried_forward) <> 0
        or sum(closing_balance) <> 0
),

rows_not_adding_up as (
    select
        administration_id,
        fiscal_year,
        period,
        'opening + debit - credit + carried_forward <> closing for ' || account_code as failure
    from trial_balance
    where opening_balance + debit - credit + carried_forward <> closing_balance
),

with_previous as (
    select
        *,
        lag(closing_balance) over (
            partition by administration_id, account_code, fiscal_year
            order by period
        ) as previous_closing
    from trial_balance
),

discontinuous as (
    select
        administration_id,
        fiscal_year,
        period,
        'opening balance is not the previous closing balance for ' || account_code as failure
    from with_previous
    where opening_balance <> coalesce(previous_closing, 0)
),

year_ends as (
    select
        administration_id,
        fiscal_year,
        account_code,
        account_type,
        max_by(closing_balance, period) as year_closing
    from trial_balance
    group by all
),

results as (
    select
        administration_id,
        fiscal_year,
        sum(year_closing) filter (where account_type = 'profit_and_loss') as result
    from year_ends
    group by all
),

-- Every year after a year with lines opens with that year's closing balances (a P&L account at
-- zero, the result account also with the result). The first booked year opens from its own
-- lines or AFAS's period 0 (rec_gl_vs_afas holds that against AFAS), so an empty year before
-- it is not checked. A missing period 0 counts as an opening of zero.
booked_years as (
    select distinct
        administration_id,
        fiscal_year
    from trial_balance
    where debit <> 0 or credit <> 0
),

badly_carried as (
    select
        previous.administration_id,
        previous.fiscal_year + 1 as fiscal_year,
        0 as period,
        'the year end does not carry ' || previous.account_code || ' right' as failure
    from year_ends as previous
    inner join booked_years
        on previous.administration_id = booked_years.administration_id
        and previous.fiscal_year = booked_years.fiscal_year
    inner join (select distinct administration_id, fiscal_year from trial_balance) as next_year
        on previous.administration_id = next_year.administration_id
        and previous.fiscal_year + 1 = next_year.fiscal_year
    left join trial_balance as opening
        on previous.administration_id = opening.administration_id
        and previous.account_code = opening.account_code
        and previous.fiscal_year + 1 = opening.fiscal_year
        and opening.period = 0
    left join result_accounts
        on previous.administration_id = result_accounts.administration_id
    left join results
        on previous.administration_id = results.administration_id
        and previous.fiscal_year = results.fiscal_year
    where
        coalesce(opening.carried_forward, 0) <> case
            when previous.account_type = 'profit_and_loss' then 0
            else previous.year_closing
        end
        + case
            when previous.account_code = result_accounts.result_account_code
                then coalesce(results.result, 0)
            else 0
        end
)

select * from unbalanced_periods
union all
select * from rows_not_adding_up
union all
select * from discontinuous
union all
select * from badly_carried
