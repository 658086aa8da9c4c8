{#- The profit and loss account as a statement over a trial balance (an administration's or the
    group's): a row per line of the seed report_lines (each the sum of the accounts below it)
    and a row per account under its line, amounts as result (credit - debit). `entity` names
    the columns that identify whose statement it is (['administration_id'], or [] for the
    group). Accounts the statements do not know (the group's ELIM_PL) count in 'Niet ingedeeld'. -#}
{% macro profit_and_loss_statement(trial_balance, entity) %}
    {%- set by = entity | join(', ') ~ (', ' if entity else '') %}
    with

    trial_balance as (
        select * from {{ ref(trial_balance) }}
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

    accounts as (
        select
            {% for column in entity %}trial_balance.{{ column }}, {% endfor %}
            trial_balance.fiscal_year,
            trial_balance.period,
            trial_balance.period_end_date,
            trial_balance.account_code,
            trial_balance.account_name,
            trial_balance.account_category,
            coalesce(account_lines.line_code, 'NI_PL') as line_code,
            -trial_balance.movement as period_result,
            -trial_balance.closing_balance as ytd_result,
            trial_balance.debit as period_debit,
            trial_balance.credit as period_credit,
            trial_balance.closing_balance as ytd_balance
        from trial_balance
        left join account_lines
            on trial_balance.account_code = account_lines.account_code
        where
            trial_balance.account_type = 'profit_and_loss'
            and trial_balance.period > 0
    ),

    periods as (
        select distinct
            {{ by }}
            fiscal_year,
            period,
            period_end_date
        from trial_balance
        where period > 0
    ),

    line_totals as (
        select
            {% for column in entity %}periods.{{ column }}, {% endfor %}
            periods.fiscal_year,
            periods.period,
            periods.period_end_date,
            report_lines.line_code,
            report_lines.line_name,
            report_lines.parent_code,
            report_lines.sort_order,
            coalesce(sum(accounts.period_result), 0) as period_result,
            coalesce(sum(accounts.ytd_result), 0) as ytd_result
        from periods
        cross join report_lines
        left join tree
            on report_lines.line_code = tree.ancestor_code
        left join accounts
            on {% for column in entity %}periods.{{ column }} = accounts.{{ column }} and {% endfor %}
            periods.fiscal_year = accounts.fiscal_year
            and periods.period = accounts.period
            and tree.line_code = accounts.line_code
        where report_lines.report = 'profit_and_loss'
        group by all
    ),

    final as (
        select
            {{ by }}
            fiscal_year,
            period,
            period_end_date,
            'line' as line_type,
            line_code,
            line_name,
            parent_code,
            sort_order,
            null as account_code,
            null as account_name,
            null as account_category,
            {{ money('period_result') }} as period_result,
            {{ money('ytd_result') }} as ytd_result,
            null as period_debit,
            null as period_credit,
            null as ytd_balance
        from line_totals
        union all
        select
            {% for column in entity %}accounts.{{ column }}, {% endfor %}
            accounts.fiscal_year,
            accounts.period,
            accounts.period_end_date,
            'account' as line_type,
            accounts.line_code,
            report_lines.line_name,
            report_lines.parent_code,
            report_lines.sort_order,
            accounts.account_code,
            accounts.account_name,
            accounts.account_category,
            {{ money('accounts.period_result') }},
            {{ money('accounts.ytd_result') }},
            {{ money('accounts.period_debit') }},
            {{ money('accounts.period_credit') }},
            {{ money('accounts.ytd_balance') }}
        from accounts
        inner join report_lines
            on accounts.line_code = report_lines.line_code
    )

    select * from final
{% endmacro %}
