-- The cash flow statement (kasstroomoverzicht, indirect method) per administration and period:
-- from the result, adding back what is not cash (depreciation: report lines marked non_cash),
-- plus the changes of the balance-sheet lines by their cash_flow_category in the seed
-- report_lines: operating (working capital), investing (fixed assets, net of the depreciation
-- added back), financing (equity, long-term debt). Together they are the change in cash (the
-- lines marked cash: Liquide middelen), which ties opening cash to closing cash (test
-- assert_cash_flow_ties_out). Amounts are cash in positive; ytd_amount runs from period 1.
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

-- Each statement line's category: its own, else the nearest line above it that has one.
line_categories as (
    select
        tree.line_code,
        arg_min(report_lines.cash_flow_category, tree.depth) as cash_flow_category
    from tree
    inner join report_lines
        on tree.ancestor_code = report_lines.line_code
    where report_lines.cash_flow_category is not null
    group by tree.line_code
),

movements as (
    select
        trial_balance.administration_id,
        trial_balance.fiscal_year,
        trial_balance.period,
        trial_balance.account_type,
        coalesce(line_categories.cash_flow_category, 'operating') as category,
        trial_balance.movement,
        trial_balance.opening_balance,
        trial_balance.closing_balance
    from trial_balance
    inner join account_lines
        on trial_balance.account_code = account_lines.account_code
    left join line_categories
        on account_lines.line_code = line_categories.line_code
    where trial_balance.period > 0
),

per_period as (
    select
        administration_id,
        fiscal_year,
        period,
        -- Result: credit - debit of the P&L accounts.
        -sum(movement) filter (where account_type = 'profit_and_loss') as result,
        -- Depreciation and the like: in the result, but no cash.
        sum(movement) filter (where account_type = 'profit_and_loss' and category = 'non_cash')
            as non_cash,
        -- A balance-sheet line that grows (debit) took cash; one that shrinks gave it.
        -sum(movement) filter (where account_type = 'balance_sheet' and category = 'operating')
            as working_capital,
        -sum(movement) filter (where account_type = 'balance_sheet' and category = 'investing')
            as investing_gross,
        -sum(movement) filter (where account_type = 'balance_sheet' and category = 'financing')
            as financing,
        sum(movement) filter (where account_type = 'balance_sheet' and category = 'cash')
            as cash_change,
        sum(opening_balance) filter (where account_type = 'balance_sheet' and category = 'cash')
            as cash_opening,
        sum(closing_balance) filter (where account_type = 'balance_sheet' and category = 'cash')
            as cash_closing
    from movements
    group by all
),

amounts as (
    select
        administration_id,
        fiscal_year,
        period,
        coalesce(result, 0) as result,
        coalesce(non_cash, 0) as non_cash,
        coalesce(working_capital, 0) as working_capital,
        -- The depreciation added back to operating was booked against the fixed assets.
        coalesce(investing_gross, 0) - coalesce(non_cash, 0) as investing,
        coalesce(financing, 0) as financing,
        coalesce(cash_change, 0) as cash_change,
        coalesce(cash_opening, 0) as cash_opening,
        coalesce(cash_closing, 0) as cash_closing
    from per_period
),

lines as (
    select administration_id, fiscal_year, period, 'RES' as line_code, 'Resultaat' as line_name, 10 as sort_order, result as amount from amounts
    union all
    select administration_id, fiscal_year, period, 'AFS', 'Afschrijvingen en andere niet-kasposten', 20, non_cash from amounts
    union all
    select administration_id, fiscal_year, period, 'WK', 'Mutatie werkkapitaal', 30, working_capital from amounts
    union all
    select administration_id, fiscal_year, period, 'OPER', 'Kasstroom uit operationele activiteiten', 40, result + non_cash + working_capital from amounts
    union all
    select administration_id, fiscal_year, period, 'INV', 'Kasstroom uit investeringsactiviteiten', 50, investing from amounts
    union all
    select administration_id, fiscal_year, period, 'FIN', 'Kasstroom uit financieringsactiviteiten', 60, financing from amounts
    union all
    select administration_id, fiscal_year, period, 'MUT', 'Mutatie liquide middelen', 70, result + non_cash + working_capital + investing + financing from amounts
    union all
    select administration_id, fiscal_year, period, 'BEGIN', 'Liquide middelen begin periode', 80, cash_opening from amounts
    union all
    select administration_id, fiscal_year, period, 'EIND', 'Liquide middelen einde periode', 90, cash_closing from amounts
),

year_to_date as (
    select
        *,
        case
            when line_code = 'BEGIN' then first(amount) over year_so_far
            when line_code = 'EIND' then amount
            else sum(amount) over year_so_far
        end as ytd
    from lines
    window year_so_far as (
        partition by administration_id, fiscal_year, line_code
        order by period
        rows between unbounded preceding and current row
    )
),

final as (
    select
        administration_id,
        fiscal_year,
        period,
        line_code,
        line_name,
        sort_order,
        {{ money('amount') }} as amount,
        {{ money('ytd') }} as ytd_amount
    from year_to_date
)

select * from final
