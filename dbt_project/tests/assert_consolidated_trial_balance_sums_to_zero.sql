{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_consolidated_trial_balance'}}}) }}
-- depends_on: {{ ref('rpt_consolidated_profit_and_loss') }}
-- depends_on: {{ ref('rpt_profit_and_loss') }}
-- The group's trial balance sums to zero in every period, eliminations included, and the
-- group's result (its statement's Resultaat) is the sum of the administrations' results:
-- intercompany revenue and costs cancel out, and what does not (ELIM_PL) stays in the result.
with

unbalanced as (
    select
        fiscal_year,
        period,
        'the group does not sum to zero' as failure
    from {{ ref('fct_consolidated_trial_balance') }}
    group by all
    having sum(closing_balance) <> 0
),

administrations as (
    select
        fiscal_year,
        period,
        sum(ytd_result) as result
    from {{ ref('rpt_profit_and_loss') }}
    where line_type = 'line' and line_code = 'RES'
    group by all
),

grouped as (
    select
        fiscal_year,
        period,
        ytd_result as result
    from {{ ref('rpt_consolidated_profit_and_loss') }}
    where line_type = 'line' and line_code = 'RES'
),

results_differ as (
    select
        coalesce(grouped.fiscal_year, administrations.fiscal_year) as fiscal_year,
        coalesce(grouped.period, administrations.period) as period,
        'the group result is not the administrations'' results' as failure
    from grouped
    full outer join administrations
        on grouped.fiscal_year = administrations.fiscal_year
        and grouped.period = administrations.period
    where coalesce(grouped.result, 0) <> coalesce(administrations.result, 0)
)

select * from unbalanced
union all
select * from results_differ
