-- Every GL account's line in the statements (seeds report_lines, report_account_ranges): the
-- narrowest range of account numbers that holds it, for its statement (balance sheet or profit
-- and loss, from AFAS's Type) and, where a range names one, its Sort (Activa / Passiva). An
-- account no range holds goes to the statement's 'Niet ingedeeld' line, so the statements still
-- add up, and the warning test finding_unmapped_accounts names it.
with

accounts as (
    select * from {{ ref('int_accounts_classified') }}
),

ranges as (
    select * from {{ ref('report_account_ranges') }}
),

report_lines as (
    select * from {{ ref('report_lines') }}
),

matches as (
    select
        accounts.account_code,
        ranges.line_code
    from accounts
    inner join ranges
        on accounts.account_code between ranges.account_from and ranges.account_to
        and (ranges.account_sort is null or ranges.account_sort = accounts.account_sort)
    inner join report_lines
        on ranges.line_code = report_lines.line_code
        and report_lines.report = accounts.account_type
    qualify row_number() over (
        partition by accounts.account_code
        -- The innermost of nested ranges: the one starting last, then ending first.
        order by
            ranges.account_sort is null,
            ranges.account_from desc,
            ranges.account_to
    ) = 1
),

final as (
    select
        accounts.account_code,
        accounts.account_name,
        accounts.account_type,
        accounts.account_category,
        coalesce(
            matches.line_code,
            case when accounts.account_type = 'balance_sheet' then 'NI_BAL' else 'NI_PL' end
        ) as line_code,
        matches.line_code is null as is_unmapped
    from accounts
    left join matches
        on accounts.account_code = matches.account_code
)

select * from final
