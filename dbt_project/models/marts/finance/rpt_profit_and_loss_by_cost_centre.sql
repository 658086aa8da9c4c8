-- The profit and loss per cost centre (DimAx1), per administration and period: a row per
-- cost centre and account for every period of each year it has movements in, under the
-- account's line of the statement (seed report_lines; 'Niet ingedeeld' where none), so that
-- the year to date of any period is there. Lines without a cost centre form their own group
-- (cost_centre null), so summed over cost centres every account's results are those in
-- rpt_profit_and_loss. Amounts as result (credit - debit), like the statement.
with

gl as (
    select * from {{ ref('fct_gl_entries') }}
),

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

account_lines as (
    select * from {{ ref('int_account_report_lines') }}
),

report_lines as (
    select * from {{ ref('report_lines') }}
),

movements as (
    select
        administration_id,
        fiscal_year,
        period,
        cost_centre,
        account_code,
        account_name,
        sum(debit) as period_debit,
        sum(credit) as period_credit,
        -sum(amount) as period_result
    from gl
    where account_type = 'profit_and_loss'
    group by all
),

periods as (
    select distinct
        administration_id,
        fiscal_year,
        period
    from trial_balance
),

-- Every period of the year for each cost centre and account with movements in it; period 0
-- (an opening entry on a P&L account, as a migration mid-year books) counts in the year to date
-- as in the statement, but has no row of its own.
dense as (
    select
        pairs.administration_id,
        pairs.fiscal_year,
        periods.period,
        pairs.cost_centre,
        pairs.account_code,
        pairs.account_name,
        coalesce(movements.period_debit, 0) as period_debit,
        coalesce(movements.period_credit, 0) as period_credit,
        coalesce(movements.period_result, 0) as period_result
    from (
        select distinct
            administration_id,
            fiscal_year,
            cost_centre,
            account_code,
            account_name
        from movements
    ) as pairs
    inner join periods
        on pairs.administration_id = periods.administration_id
        and pairs.fiscal_year = periods.fiscal_year
    left join movements
        on pairs.administration_id = movements.administration_id
        and pairs.fiscal_year = movements.fiscal_year
        and periods.period = movements.period
        and pairs.cost_centre is not distinct from movements.cost_centre
        and pairs.account_code = movements.account_code
),

running as (
    select
        *,
        sum(period_result) over (
            partition by administration_id, fiscal_year, cost_centre, account_code
            order by period
            rows between unbounded preceding and current row
        ) as ytd_result
    from dense
),

final as (
    select
        dense.administration_id,
        dense.fiscal_year,
        dense.period,
        dense.cost_centre,
        coalesce(account_lines.line_code, 'NI_PL') as line_code,
        report_lines.line_name,
        report_lines.sort_order,
        dense.account_code,
        dense.account_name,
        {{ money('dense.period_debit') }} as period_debit,
        {{ money('dense.period_credit') }} as period_credit,
        {{ money('dense.period_result') }} as period_result,
        {{ money('dense.ytd_result') }} as ytd_result
    from running as dense
    left join account_lines
        on dense.account_code = account_lines.account_code
    left join report_lines
        on coalesce(account_lines.line_code, 'NI_PL') = report_lines.line_code
    where dense.period > 0
)

select * from final
