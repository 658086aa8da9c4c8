-- Every period of every year that has periods (stg_afas__periods, plus any period lines were
-- booked in, plus period 0 of every year: the opening balance) crossed with every account of
-- that administration (with lines, in AFAS's opening balances, or its result account), so that
-- balances are continuous over periods without movements.
with

periods as (
    select * from {{ ref('stg_afas__periods') }}
),

-- The lines' groups (one row per year, period and account with live lines), not the lines.
line_groups as (
    select * from {{ ref('int_gl_period_movements') }}
),

afas_balances as (
    select * from {{ ref('stg_afas__period_balances') }}
),

result_accounts as (
    select * from {{ ref('int_result_accounts') }}
),

listed as (
    select
        administration_id,
        fiscal_year,
        period,
        date_from,
        date_to
    from periods
),

-- Periods lines were booked in that AFAS does not list (none is lost if the list is short),
-- and period 0 of every year that has periods, lines or AFAS balances (AFAS keeps the opening
-- balance there; it may list it or not): a year missing from the list still opens.
unlisted as (
    select distinct
        administration_id,
        fiscal_year,
        period
    from line_groups
    union
    select distinct
        administration_id,
        fiscal_year,
        0 as period
    from (
        select administration_id, fiscal_year from listed
        union all
        select administration_id, fiscal_year from line_groups
        union all
        select administration_id, fiscal_year from afas_balances
    )
),

all_periods as (
    select * from listed
    union all
    select
        unlisted.administration_id,
        unlisted.fiscal_year,
        unlisted.period,
        case when unlisted.period = 0 then make_date(unlisted.fiscal_year, 1, 1) end as date_from,
        case when unlisted.period = 0 then make_date(unlisted.fiscal_year, 1, 1) end as date_to
    from unlisted
    where not exists (
        select 1
        from listed
        where listed.administration_id = unlisted.administration_id
            and listed.fiscal_year = unlisted.fiscal_year
            and listed.period = unlisted.period
    )
),

accounts_used as (
    select distinct
        administration_id,
        account_code
    from line_groups
    union
    select distinct
        administration_id,
        account_code
    from afas_balances
    where period = 0
    union
    select
        administration_id,
        result_account_code
    from result_accounts
    where result_account_code is not null
),

spine as (
    select
        all_periods.administration_id,
        all_periods.fiscal_year,
        all_periods.period,
        all_periods.date_from,
        all_periods.date_to,
        accounts_used.account_code
    from all_periods
    inner join accounts_used
        on all_periods.administration_id = accounts_used.administration_id
)

select * from spine
