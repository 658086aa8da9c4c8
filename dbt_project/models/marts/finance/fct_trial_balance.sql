-- The trial balance per administration, year, period and account: opening balance, movements
-- and closing balance (debit - credit). Balance-sheet accounts carry over the year end,
-- profit-and-loss accounts start every year at zero.
with

spine as (
    select * from {{ ref('int_trial_balance_spine') }}
),

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

accounts as (
    select * from {{ ref('int_accounts_classified') }}
),

movements as (
    select
        administration_id,
        fiscal_year,
        period,
        account_code,
        sum(debit) as debit,
        sum(credit) as credit
    from lines
    group by all
),

per_period as (
    select
        spine.administration_id,
        spine.fiscal_year,
        spine.period,
        spine.date_from,
        spine.date_to,
        spine.account_code,
        accounts.account_name,
        accounts.account_type,
        accounts.account_category,
        coalesce(movements.debit, 0) as debit,
        coalesce(movements.credit, 0) as credit,
        coalesce(movements.debit, 0) - coalesce(movements.credit, 0) as movement
    from spine
    left join movements
        on spine.administration_id = movements.administration_id
        and spine.fiscal_year = movements.fiscal_year
        and spine.period = movements.period
        and spine.account_code = movements.account_code
    left join accounts
        on spine.account_code = accounts.account_code
),

balances as (
    select
        *,
        -- Balance-sheet accounts accumulate over all years; P&L accounts within the year.
        case
            when account_type = 'profit_and_loss' then sum(movement) over (
                partition by administration_id, account_code, fiscal_year
                order by period
                rows between unbounded preceding and current row
            )
            else sum(movement) over (
                partition by administration_id, account_code
                order by fiscal_year, period
                rows between unbounded preceding and current row
            )
        end as closing
    from per_period
),

final as (
    select
        administration_id,
        fiscal_year,
        period,
        date_from as period_start_date,
        date_to as period_end_date,
        account_code,
        account_name,
        account_type,
        account_category,
        {{ money('closing - movement') }} as opening_balance,
        {{ money('debit') }} as debit,
        {{ money('credit') }} as credit,
        {{ money('movement') }} as movement,
        {{ money('closing') }} as closing_balance
    from balances
)

select * from final
