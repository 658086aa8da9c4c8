-- The group's trial balance per year, period and account: every administration's balances
-- added up, without the intercompany accounts (seed intercompany_accounts), whose balances
-- cancel out between the administrations. What does not cancel (one side booked another amount,
-- or later) is the line 'ELIM' (eliminatieverschil; 'ELIM_PL' for intercompany revenue and
-- costs, which stays in the result), so the group's balance still sums to zero; rec_intercompany
-- shows where it comes from.
with

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

intercompany as (
    select * from {{ ref('intercompany_accounts') }}
),

marked as (
    select
        trial_balance.*,
        intercompany.account_code is not null as is_intercompany
    from trial_balance
    left join intercompany
        on trial_balance.administration_id = intercompany.administration_id
        and trial_balance.account_code = intercompany.account_code
),

accounts as (
    select
        fiscal_year,
        period,
        min(period_start_date) as period_start_date,
        min(period_end_date) as period_end_date,
        account_code,
        min(account_name) as account_name,
        min(account_type) as account_type,
        min(account_category) as account_category,
        count(distinct administration_id) as administrations,
        sum(opening_balance) as opening_balance,
        sum(debit) as debit,
        sum(credit) as credit,
        sum(carried_forward) as carried_forward,
        sum(movement) as movement,
        sum(closing_balance) as closing_balance
    from marked
    where not is_intercompany
    group by fiscal_year, period, account_code
),

eliminated as (
    select
        fiscal_year,
        period,
        min(period_start_date) as period_start_date,
        min(period_end_date) as period_end_date,
        case when account_type = 'balance_sheet' then 'ELIM' else 'ELIM_PL' end as account_code,
        'Eliminatieverschil intercompany' as account_name,
        account_type,
        case
            when account_type = 'balance_sheet' then 'liabilities_and_equity' else 'expenses'
        end as account_category,
        count(distinct administration_id) as administrations,
        sum(opening_balance) as opening_balance,
        sum(debit) as debit,
        sum(credit) as credit,
        sum(carried_forward) as carried_forward,
        sum(movement) as movement,
        sum(closing_balance) as closing_balance
    from marked
    where is_intercompany
    group by fiscal_year, period, account_type
    having sum(closing_balance) <> 0 or sum(movement) <> 0 or sum(opening_balance) <> 0
),

unioned as (
    select * from accounts
    union all
    select * from eliminated
),

final as (
    select
        fiscal_year,
        period,
        period_start_date,
        period_end_date,
        account_code,
        account_name,
        account_type,
        account_category,
        administrations,
        {{ money('opening_balance') }} as opening_balance,
        {{ money('debit') }} as debit,
        {{ money('credit') }} as credit,
        {{ money('carried_forward') }} as carried_forward,
        {{ money('movement') }} as movement,
        {{ money('closing_balance') }} as closing_balance
    from unioned
)

select * from final
