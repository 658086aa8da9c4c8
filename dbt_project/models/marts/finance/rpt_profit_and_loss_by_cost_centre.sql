-- The profit and loss per cost centre (DimAx1), per administration and period: a row per
-- cost centre, account and period with movements, under the account's line of the statement
-- (seed report_lines; 'Niet ingedeeld' where none). Lines without a cost centre form their
-- own group (cost_centre null), so summed over cost centres every account's result is the
-- one in rpt_profit_and_loss. Amounts as result (credit - debit), like the statement.
with

gl as (
    select * from {{ ref('fct_gl_entries') }}
),

account_lines as (
    select * from {{ ref('int_account_report_lines') }}
),

report_lines as (
    select * from {{ ref('report_lines') }}
),

per_cost_centre as (
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
    where account_type = 'profit_and_loss' and period > 0
    group by all
),

final as (
    select
        per_cost_centre.administration_id,
        per_cost_centre.fiscal_year,
        per_cost_centre.period,
        per_cost_centre.cost_centre,
        coalesce(account_lines.line_code, 'NI_PL') as line_code,
        report_lines.line_name,
        report_lines.sort_order,
        per_cost_centre.account_code,
        per_cost_centre.account_name,
        {{ money('per_cost_centre.period_debit') }} as period_debit,
        {{ money('per_cost_centre.period_credit') }} as period_credit,
        {{ money('per_cost_centre.period_result') }} as period_result,
        {{ money(
            'sum(per_cost_centre.period_result) over ('
            ~ 'partition by per_cost_centre.administration_id, per_cost_centre.fiscal_year, '
            ~ 'per_cost_centre.cost_centre, per_cost_centre.account_code order by '
            ~ 'per_cost_centre.period rows between unbounded preceding and current row)'
        ) }} as ytd_result
    from per_cost_centre
    left join account_lines
        on per_cost_centre.account_code = account_lines.account_code
    left join report_lines
        on coalesce(account_lines.line_code, 'NI_PL') = report_lines.line_code
)

select * from final
