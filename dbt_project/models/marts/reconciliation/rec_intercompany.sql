-- The current accounts between administrations, per pair and period end: administration A's
-- balance on its accounts with B plus B's balance on its accounts with A (seed
-- intercompany_accounts, those with a counterparty) must be zero, one side's receivable being
-- the other's payable. A difference (one side booked another amount, or a period later, or not
-- at all) is a finding; in the consolidation it is the eliminatieverschil. One row per pair
-- (A the lower administration) and period that has begun by today (a later period would only
-- repeat the current one's difference).
with

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

intercompany as (
    select * from {{ ref('intercompany_accounts') }}
),

dates as (
    select * from {{ ref('int_dates_as_of') }}
),

balances as (
    select
        intercompany.administration_id,
        intercompany.counterparty_administration_id,
        trial_balance.fiscal_year,
        trial_balance.period,
        string_agg(distinct intercompany.account_code, ', ' order by intercompany.account_code)
            as account_codes,
        sum(trial_balance.closing_balance) as balance
    from intercompany
    inner join trial_balance
        on intercompany.administration_id = trial_balance.administration_id
        and intercompany.account_code = trial_balance.account_code
    inner join dates
        on coalesce(trial_balance.period_start_date, dates.today) <= dates.today
    where intercompany.counterparty_administration_id is not null
    group by all
),

pairs as (
    select
        coalesce(side.administration_id, other.counterparty_administration_id)
            as administration_id,
        coalesce(side.counterparty_administration_id, other.administration_id)
            as counterparty_administration_id,
        coalesce(side.fiscal_year, other.fiscal_year) as fiscal_year,
        coalesce(side.period, other.period) as period,
        side.account_codes,
        other.account_codes as counterparty_account_codes,
        coalesce(side.balance, 0) as balance,
        coalesce(other.balance, 0) as counterparty_balance
    from (select * from balances where administration_id < counterparty_administration_id) as side
    full outer join (
        select * from balances where administration_id > counterparty_administration_id
    ) as other
        on side.administration_id = other.counterparty_administration_id
        and side.counterparty_administration_id = other.administration_id
        and side.fiscal_year = other.fiscal_year
        and side.period = other.period
),

final as (
    select
        administration_id,
        counterparty_administration_id,
        fiscal_year,
        period,
        administration_id || '/' || counterparty_administration_id || '/' || fiscal_year || '/'
            || period as source_ref,
        account_codes,
        counterparty_account_codes,
        {{ money('balance') }} as balance,
        {{ money('counterparty_balance') }} as counterparty_balance,
        {{ money('balance + counterparty_balance') }} as difference,
        case when balance + counterparty_balance = 0 then 'ok' else 'difference' end as status
    from pairs
)

select * from final
