{#-
    The pre-hook of the incremental int_gl_period_movements: notes in the temporary table
    gl_movement_groups_to_redo the (administration, year, period, account) groups whose sums
    may differ from a full build's, and deletes their rows; the model then inserts them anew
    (a group left without live lines gets none, as in a full build).
    A group is redone when a changed line (stg_afas__journal_line_changes) was in it at the
    last build that wrote this table (its own line_keys) or is in it now (staging).
    The "was" must come from this table's own rows, never from another model's state or the
    raw layer:
    - staging is rewritten earlier in the same build, and after a build that failed half-way
      (staging rewritten, these sums not) it no longer holds what these sums were made of;
    - the raw layer does not keep every version: a re-read of a day that returns a key with
      other content (a late edit that leaves Mutatie_datum) replaces the day file, and only
      keys the re-read no longer returns go to displaced/ (tests/dbt/test_incremental.py's
      second step failed that way when the groups came from every raw version of a key).
    This table's rows change only when its build succeeds. A failed build records nothing, so
    the next one runs from the same changed_since and its changed keys include the failed
    build's; their groups here are still those of the last build that wrote it.
    Nothing in an ordinary build, with its full refresh.
-#}
{% macro gl_movement_groups_to_redo() %}
{%- if is_incremental() -%}
create or replace temporary table gl_movement_groups_to_redo as
with

changed as (
    select
        cast(UnitId as integer) as administration_id,
        cast(EntryNo as bigint) as entry_no,
        cast(SeqNo as integer) as seq_no
    from {{ ref('stg_afas__journal_line_changes') }}
),

was as (
    select
        administration_id,
        fiscal_year,
        period,
        account_code,
        unnest(line_keys, recursive := true)
    from {{ this }}
    where administration_id in (select administration_id from changed)
)

select administration_id, fiscal_year, period, account_code
from was
where (administration_id, entry_no, seq_no) in (from changed)
union
select administration_id, fiscal_year, period, account_code
from {{ ref('stg_afas__journal_lines') }}
where (administration_id, entry_no, seq_no) in (from changed);

delete from {{ this }}
where (administration_id, fiscal_year, period, account_code) in (
    select administration_id, fiscal_year, period, account_code
    from gl_movement_groups_to_redo
)
{%- endif -%}
{% endmacro %}
