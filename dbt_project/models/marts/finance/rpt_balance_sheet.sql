-- The balance sheet as a statement at the end of every period (period 0: the opening balance
-- sheet): a row per line of the statement (seed report_lines: Vaste activa, Vlottende activa,
-- Eigen vermogen, …, Totaal activa, Totaal passiva), each the sum of the accounts below it, and a
-- row per balance-sheet account under its line. The result of the current year, not yet carried
-- to the result account by the year end, is the line Resultaat lopend boekjaar. `balance` is
-- debit - credit (the account rows and that line sum to zero); `presented_amount` shows assets at
-- their debit and liabilities and equity at their credit balance, so Totaal activa equals Totaal
-- passiva.
with

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

account_lines as (
    select * from {{ ref('int_account_report_lines') }}
),

report_lines as (
    select * from {{ ref('report_lines') }}
),

tree as (
    select * from {{ ref('int_report_line_tree') }}
),

periods as (
    select distinct
        administration_id,
        fiscal_year,
        period,
        period_end_date
    from trial_balance
),

-- The balance-sheet accounts, and the year's result so far as if it were an account of its own.
amounts as (
    select
        trial_balance.administration_id,
        trial_balance.fiscal_year,
        trial_balance.period,
        trial_balance.account_code,
        trial_balance.account_name,
        account_lines.line_code,
        trial_balance.closing_balance as balance
    from trial_balance
    inner join account_lines
        on trial_balance.account_code = account_lines.account_code
    where trial_balance.account_type = 'balance_sheet'
    union all
    select
        administration_id,
        fiscal_year,
        period,
        null as account_code,
        null as account_name,
        'RES_LOPEND' as line_code,
        sum(closing_balance) as balance
    from trial_balance
    where account_type = 'profit_and_loss'
    group by all
),

statement_lines as (
    select
        report_lines.*,
        tree.top_code,
        -- Assets at their debit balance, liabilities and equity at their credit balance.
        case when tree.top_code = 'ACT' then 'assets' else 'liabilities_and_equity' end
            as balance_sheet_side
    from report_lines
    inner join tree
        on report_lines.line_code = tree.line_code
        and report_lines.line_code = tree.ancestor_code
    where report_lines.report = 'balance_sheet'
),

line_totals as (
    select
        periods.administration_id,
        periods.fiscal_year,
        periods.period,
        periods.period_end_date,
        statement_lines.line_code,
        statement_lines.line_name,
        statement_lines.parent_code,
        statement_lines.sort_order,
        statement_lines.balance_sheet_side,
        coalesce(sum(amounts.balance), 0) as balance
    from periods
    cross join statement_lines
    left join tree
        on statement_lines.line_code = tree.ancestor_code
    left join amounts
        on periods.administration_id = amounts.administration_id
        and periods.fiscal_year = amounts.fiscal_year
        and periods.period = amounts.period
        and tree.line_code = amounts.line_code
    group by all
),

unioned as (
    select
        administration_id,
        fiscal_year,
        period,
        period_end_date,
        'line' as line_type,
        line_code,
        line_name,
        null as account_code,
        null as account_name,
        parent_code,
        sort_order,
        balance_sheet_side,
        balance
    from line_totals
    union all
    select
        amounts.administration_id,
        amounts.fiscal_year,
        amounts.period,
        periods.period_end_date,
        'account' as line_type,
        amounts.line_code,
        statement_lines.line_name,
        amounts.account_code,
        amounts.account_name,
        statement_lines.parent_code,
        statement_lines.sort_order,
        statement_lines.balance_sheet_side,
        amounts.balance
    from amounts
    inner join statement_lines
        on amounts.line_code = statement_lines.line_code
    inner join periods
        on amounts.administration_id = periods.administration_id
        and amounts.fiscal_year = periods.fiscal_year
        and amounts.period = periods.period
    where amounts.account_code is not null
),

final as (
    select
        administration_id,
        fiscal_year,
        period,
        period_end_date,
        line_type,
        line_code,
        line_name,
        account_code,
        account_name,
        parent_code,
        sort_order,
        balance_sheet_side,
        {{ money('balance') }} as balance,
        {{ money("case when balance_sheet_side = 'assets' then balance else -balance end") }}
            as presented_amount
    from unioned
)

select * from final
