{#-
    The pre-hook of the incremental fct_gl_entries: notes in the temporary table
    gl_entry_periods_to_redo the (administration, year, period) partitions whose rows may
    differ from a full build's, and deletes their rows; the model then inserts them anew. A
    running balance sums the lines of one period onto the period's opening, so a period is
    redone when a line of it changed (stg_afas__journal_line_changes: the period the line was
    in at the last build and the one it is in now) or when a row of it carries context that
    is no longer current: the administration's, journal's or account's name, the account's
    type, or the period's opening (the trial balance's, which a late edit to an earlier
    period or year moves).
    Nothing in an ordinary build, with its full refresh.
-#}
{% macro gl_entry_periods_to_redo() %}
{%- if is_incremental() -%}
create or replace temporary table gl_entry_periods_to_redo as
with

carried as (
    select distinct
        administration_id,
        fiscal_year,
        period,
        account_code,
        journal_id,
        administration_name,
        journal_name,
        account_name,
        account_type,
        period_opening_balance
    from {{ this }}
),

current_context as (
    select
        carried.administration_id,
        carried.fiscal_year,
        carried.period,
        carried.account_code,
        carried.journal_id,
        administrations.administration_name,
        journals.journal_name,
        accounts.account_name,
        classified.account_type,
        {{ money('trial_balance.opening_balance + trial_balance.carried_forward') }}
            as period_opening_balance
    from carried
    left join {{ ref('stg_afas__administrations') }} as administrations
        on carried.administration_id = administrations.administration_id
    left join {{ ref('stg_afas__journals') }} as journals
        on carried.administration_id = journals.administration_id
        and carried.journal_id = journals.journal_id
    left join {{ ref('stg_afas__accounts') }} as accounts
        on carried.account_code = accounts.account_code
    left join {{ ref('int_accounts_classified') }} as classified
        on carried.account_code = classified.account_code
    left join {{ ref('fct_trial_balance') }} as trial_balance
        on carried.administration_id = trial_balance.administration_id
        and carried.account_code = trial_balance.account_code
        and carried.fiscal_year = trial_balance.fiscal_year
        and carried.period = trial_balance.period
),

stale as (
    (from carried except from current_context)
    union all
    (from current_context except from carried)
),

-- The periods the changed lines were in (their rows of the last build) and are in now.
changed_lines as (
    select administration_id, fiscal_year, period, entry_no, seq_no
    from {{ this }}
    union all
    select administration_id, fiscal_year, period, entry_no, seq_no
    from {{ ref('stg_afas__journal_lines') }}
)

select distinct administration_id, fiscal_year, period
from changed_lines
where (administration_id, entry_no, seq_no) in (
    select administration_id, entry_no, seq_no
    from {{ ref('stg_afas__journal_line_changes') }}
)
union
select administration_id, fiscal_year, period
from stale;

delete from {{ this }}
where (administration_id, fiscal_year, period) in (
    select administration_id, fiscal_year, period from gl_entry_periods_to_redo
)
{%- endif -%}
{% endmacro %}
