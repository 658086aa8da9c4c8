-- One row per live journal line (deleted lines left out), amounts exact, with the names an
-- analyst reads (administration, journal, account) and the account's running balance: the
-- trial balance's opening of the line's period (in period 0 what the year carried forward)
-- plus the lines up to it in that period, in booking order (entry date, entry, line). So the last line of an account in a period ends
-- at that period's closing balance in fct_trial_balance, openings from AFAS included.
-- Incremental by administration, year and period: a build redoes the periods in which a line
-- changed (stg_afas__journal_line_changes) and those whose rows carry a name, an account type
-- or a period opening that is no longer the trial balance's (a late edit to an earlier period
-- or year moves every later opening). The pre-hook (gl_entry_periods_to_redo) notes those
-- periods and deletes their rows, so a period left without lines loses its rows too.
-- depends_on: {{ ref('stg_afas__journal_line_changes') }}, {{ ref('int_accounts_classified') }}, {{ ref('stg_afas__journal_lines') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=["{{ gl_entry_periods_to_redo() }}"],
) }}
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

administrations as (
    select * from {{ ref('stg_afas__administrations') }}
),

journals as (
    select * from {{ ref('stg_afas__journals') }}
),

accounts as (
    select * from {{ ref('stg_afas__accounts') }}
),

final as (
    select
        lines.administration_id,
        administrations.administration_name,
        lines.entry_no,
        lines.seq_no,
        lines.fiscal_year,
        lines.period,
        lines.journal_id,
        journals.journal_name,
        lines.account_code,
        accounts.account_name,
        lines.debtor_id,
        lines.creditor_id,
        lines.entry_date,
        lines.voucher_date,
        lines.voucher_no,
        lines.invoice_id,
        lines.debit,
        lines.credit,
        lines.amount,
        {{ money('trial_balance.opening_balance + trial_balance.carried_forward') }}
            as period_opening_balance,
        {{ money(
            'trial_balance.opening_balance + trial_balance.carried_forward + sum(lines.amount) over ('
            ~ 'partition by lines.administration_id, lines.account_code, lines.fiscal_year, '
            ~ 'lines.period order by lines.entry_date, lines.entry_no, lines.seq_no '
            ~ 'rows between unbounded preceding and current row)'
        ) }} as running_balance,
        lines.vat_code,
        lines.vat_amount,
        lines.cost_centre,
        lines.cost_carrier,
        lines.description,
        lines.created_at,
        lines.modified_at,
        lines.account_type,
        lines.is_correction_posting
    from lines
    left join trial_balance
        on lines.administration_id = trial_balance.administration_id
        and lines.account_code = trial_balance.account_code
        and lines.fiscal_year = trial_balance.fiscal_year
        and lines.period = trial_balance.period
    left join administrations
        on lines.administration_id = administrations.administration_id
    left join journals
        on lines.administration_id = journals.administration_id
        and lines.journal_id = journals.journal_id
    left join accounts
        on lines.account_code = accounts.account_code
    {% if is_incremental() -%}
    where (lines.administration_id, lines.fiscal_year, lines.period) in (
        select administration_id, fiscal_year, period from gl_entry_periods_to_redo
    )
    {%- endif %}
)

select * from final
