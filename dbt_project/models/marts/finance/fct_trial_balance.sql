-- The trial balance per administration, year, period and account, as AFAS keeps it: period 0
-- holds the year's opening balance, periods 1..n the movements. Every account's balance runs
-- within its year from period 0: a balance-sheet account opens with its closing balance of the
-- year before (carried_forward), a profit-and-loss account at zero, and the year before's result
-- goes to the administration's result account (int_result_accounts), as AFAS's year end does.
-- The first year of an administration opens with its period-0 lines (a beginbalans entry) or,
-- where the warehouse has none, with AFAS's own period 0 (Profit_Period_balance). rec_gl_vs_afas
-- holds every period 0 against AFAS's (a first year opened from AFAS's own period 0 then
-- agrees by construction; its later periods and years are the check).
-- Reads the lines' sums per period and account (int_gl_period_movements, incremental), not the
-- lines: a table still, rebuilt in full, but of accounts x periods.
with

spine as (
    select * from {{ ref('int_trial_balance_spine') }}
),

movements as (
    select * from {{ ref('int_gl_period_movements') }}
),

accounts as (
    select * from {{ ref('int_accounts_classified') }}
),

afas_balances as (
    select * from {{ ref('stg_afas__period_balances') }}
),

result_accounts as (
    select * from {{ ref('int_result_accounts') }}
),

-- An administration's first year: the first its lines are booked in (an earlier year AFAS
-- lists without lines opens nothing), else the first AFAS reports a period 0 for.
first_years as (
    select
        administration_id,
        coalesce(
            min(fiscal_year) filter (where source = 'lines'),
            min(fiscal_year) filter (where source = 'afas')
        ) as first_year
    from (
        select administration_id, fiscal_year, 'lines' as source from movements
        union all
        select administration_id, fiscal_year, 'afas' as source
        from afas_balances
        where period = 0
    )
    group by administration_id
),

-- AFAS's opening of an administration's first year where the warehouse has no period-0 line.
afas_openings as (
    select
        afas_balances.administration_id,
        afas_balances.fiscal_year,
        afas_balances.account_code,
        afas_balances.balance
    from afas_balances
    inner join first_years
        on afas_balances.administration_id = first_years.administration_id
        and afas_balances.fiscal_year = first_years.first_year
    where
        afas_balances.period = 0
        and not exists (
            select 1
            from movements
            where movements.administration_id = afas_balances.administration_id
                and movements.fiscal_year = afas_balances.fiscal_year
                and movements.period = 0
        )
),

accounts_per_year as (
    select distinct
        spine.administration_id,
        spine.fiscal_year,
        spine.account_code,
        accounts.account_type
    from spine
    left join accounts
        on spine.account_code = accounts.account_code
),

-- What each account adds to the balance over a whole year: its movements and AFAS's opening.
year_totals as (
    select
        accounts_per_year.*,
        coalesce(year_movements.movement, 0) + coalesce(afas_openings.balance, 0) as year_total
    from accounts_per_year
    left join (
        select
            administration_id,
            fiscal_year,
            account_code,
            sum(debit - credit) as movement
        from movements
        group by all
    ) as year_movements
        on accounts_per_year.administration_id = year_movements.administration_id
        and accounts_per_year.fiscal_year = year_movements.fiscal_year
        and accounts_per_year.account_code = year_movements.account_code
    left join afas_openings
        on accounts_per_year.administration_id = afas_openings.administration_id
        and accounts_per_year.fiscal_year = afas_openings.fiscal_year
        and accounts_per_year.account_code = afas_openings.account_code
),

year_results as (
    select
        administration_id,
        fiscal_year,
        sum(year_total) filter (where account_type = 'profit_and_loss') as result
    from year_totals
    group by all
),

-- The year end: a balance-sheet account carries everything before the year into period 0, the
-- result account also every earlier year's result; a P&L account starts at zero.
carried as (
    select
        year_totals.administration_id,
        year_totals.fiscal_year,
        year_totals.account_code,
        case
            when year_totals.account_type = 'profit_and_loss' then 0
            else coalesce(sum(year_totals.year_total) over (
                partition by year_totals.administration_id, year_totals.account_code
                order by year_totals.fiscal_year
                rows between unbounded preceding and 1 preceding
            ), 0)
        end
        + case
            when year_totals.account_code = result_accounts.result_account_code
                then coalesce((
                    select sum(year_results.result)
                    from year_results
                    where year_results.administration_id = year_totals.administration_id
                        and year_results.fiscal_year < year_totals.fiscal_year
                ), 0)
            else 0
        end
        + coalesce(afas_openings.balance, 0) as carried_forward
    from year_totals
    left join result_accounts
        on year_totals.administration_id = result_accounts.administration_id
    left join afas_openings
        on year_totals.administration_id = afas_openings.administration_id
        and year_totals.fiscal_year = afas_openings.fiscal_year
        and year_totals.account_code = afas_openings.account_code
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
        case when spine.period = 0 then coalesce(carried.carried_forward, 0) else 0 end
            as carried_forward
    from spine
    left join movements
        on spine.administration_id = movements.administration_id
        and spine.fiscal_year = movements.fiscal_year
        and spine.period = movements.period
        and spine.account_code = movements.account_code
    left join carried
        on spine.administration_id = carried.administration_id
        and spine.fiscal_year = carried.fiscal_year
        and spine.account_code = carried.account_code
    left join accounts
        on spine.account_code = accounts.account_code
),

balances as (
    select
        *,
        debit - credit + carried_forward as movement,
        sum(debit - credit + carried_forward) over (
            partition by administration_id, account_code, fiscal_year
            order by period
            rows between unbounded preceding and current row
        ) as closing
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
        {{ money('carried_forward') }} as carried_forward,
        {{ money('movement') }} as movement,
        {{ money('closing') }} as closing_balance
    from balances
)

select * from final
