{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rpt_profit_and_loss_by_cost_centre'}}}) }}
-- depends_on: {{ ref('rpt_profit_and_loss') }}
-- Summed over cost centres, every account's result in every period, and for the year to date,
-- is the one in the profit and loss statement, to the cent: no line lost or counted twice.
with

by_cost_centre as (
    select
        administration_id,
        fiscal_year,
        period,
        account_code,
        sum(period_result) as period_result,
        sum(ytd_result) as ytd_result
    from {{ ref('rpt_profit_and_loss_by_cost_centre') }}
    group by all
),

statement as (
    select
        administration_id,
        fiscal_year,
        period,
        account_code,
        period_result,
        ytd_result
    from {{ ref('rpt_profit_and_loss') }}
    where line_type = 'account'
)

select
    coalesce(statement.administration_id, by_cost_centre.administration_id) as administration_id,
    coalesce(statement.fiscal_year, by_cost_centre.fiscal_year) as fiscal_year,
    coalesce(statement.period, by_cost_centre.period) as period,
    coalesce(statement.account_code, by_cost_centre.account_code) as account_code,
    statement.period_result as statement_result,
    by_cost_centre.period_result as cost_centre_result,
    statement.ytd_result as statement_ytd_result,
    by_cost_centre.ytd_result as cost_centre_ytd_result
from statement
full outer join by_cost_centre
    on statement.administration_id = by_cost_centre.administration_id
    and statement.fiscal_year = by_cost_centre.fiscal_year
    and statement.period = by_cost_centre.period
    and statement.account_code = by_cost_centre.account_code
where
    coalesce(statement.period_result, 0) <> coalesce(by_cost_centre.period_result, 0)
    or coalesce(statement.ytd_result, 0) <> coalesce(by_cost_centre.ytd_result, 0)
