-- The live journal lines' debit, credit and count per administration, year, period and account:
-- everything the trial balance (fct_trial_balance, int_trial_balance_spine) needs of the lines,
-- so that it no longer aggregates every line on each build.
-- Incremental by group: a build redoes the groups a changed line was in at the last build (the
-- group's own line_keys: the pre-hook gl_movement_groups_to_redo says why neither staging nor
-- the raw layer can tell) or is in now, and deletes their rows first, so a group left without
-- live lines loses its row. Reads staging, not int_gl_lines_live (a full table), for the same
-- live lines: those not flagged deleted.
-- depends_on: {{ ref('stg_afas__journal_line_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=["{{ gl_movement_groups_to_redo() }}"],
) }}
with

lines as (
    select * from {{ ref('stg_afas__journal_lines') }}
),

live as (
    select
        administration_id,
        fiscal_year,
        period,
        account_code,
        entry_no,
        seq_no,
        debit,
        credit
    from lines
    where
        not is_deleted
        {% if is_incremental() -%}
        and (administration_id, fiscal_year, period, account_code) in (
            select administration_id, fiscal_year, period, account_code
            from gl_movement_groups_to_redo
        )
        {%- endif %}
),

movements as (
    select
        administration_id,
        fiscal_year,
        period,
        account_code,
        sum(debit) as debit,
        sum(credit) as credit,
        count(*) as line_count,
        -- What the next incremental build needs to find the groups its changed lines were in.
        {{ line_keys('entry_no, seq_no') }} as line_keys
    from live
    group by all
)

select * from movements
