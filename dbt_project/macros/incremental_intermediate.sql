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
    select * from {{ ref('stg_afas__journal_line_changes') }}
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

{#-
    The pre-hook of the incremental int_open_items: notes in the temporary table
    open_items_to_redo the items (administration, party type, party, invoice) whose rows may
    differ from a full build's, and deletes their rows; the model then inserts them anew (an
    item left without lines gets none). An item is redone when
    - a changed line (stg_afas__journal_line_changes) was in it at the last build that wrote
      this table (its own line_keys; gl_movement_groups_to_redo says why not from staging or
      the raw layer) or is in it now (int_open_item_lines, built from the current staging);
    - a journal of its lines has another type now (the type says which lines are invoice
      lines, carried in line_keys);
    - its party's name or payment term is no longer the one it carries;
    - AFAS lists it as open now or did at the last build (int_afas_open_items, AFAS's own
      listing, is read whole every extraction): all of those, not only the ones that moved,
      since the items AFAS lists are a small share of all.
    Nothing in an ordinary build, with its full refresh.
-#}
{% macro open_items_to_redo() %}
{%- if is_incremental() -%}
create or replace temporary table open_items_to_redo as
with

changed as (
    select * from {{ ref('stg_afas__journal_line_changes') }}
),

carried_lines as (
    select
        administration_id,
        party_type,
        party_id,
        invoice_id,
        unnest(line_keys, recursive := true)
    from {{ this }}
),

parties as (
    select
        'debtor' as party_type,
        debtor_id as party_id,
        debtor_name as party_name,
        payment_term_days
    from {{ ref('stg_afas__debtors') }}
    union all
    select
        'creditor' as party_type,
        creditor_id as party_id,
        creditor_name as party_name,
        payment_term_days
    from {{ ref('stg_afas__creditors') }}
)

select administration_id, party_type, party_id, invoice_id
from carried_lines
where (administration_id, entry_no, seq_no) in (from changed)
union
select administration_id, party_type, party_id, invoice_id
from {{ ref('int_open_item_lines') }}
where (administration_id, entry_no, seq_no) in (from changed)
union
select
    carried_lines.administration_id,
    carried_lines.party_type,
    carried_lines.party_id,
    carried_lines.invoice_id
from carried_lines
left join {{ ref('stg_afas__journals') }} as journals
    on carried_lines.administration_id = journals.administration_id
    and carried_lines.journal_id = journals.journal_id
where carried_lines.journal_type is distinct from journals.journal_type
union
select items.administration_id, items.party_type, items.party_id, items.invoice_id
from {{ this }} as items
left join parties
    on items.party_type = parties.party_type
    and items.party_id = parties.party_id
where
    items.party_name is distinct from parties.party_name
    or items.payment_term_days is distinct from parties.payment_term_days
union
select administration_id, party_type, party_id, invoice_id
from {{ this }}
where is_listed_by_afas
union
select administration_id, party_type, party_id, invoice_id
from {{ ref('int_afas_open_items') }};

delete from {{ this }} as items
using open_items_to_redo as redo
where items.administration_id = redo.administration_id
    and items.party_type = redo.party_type
    and items.party_id = redo.party_id
    and items.invoice_id is not distinct from redo.invoice_id
{%- endif -%}
{% endmacro %}

{#-
    The line_keys column of an incremental intermediate table: the group's `fields` (a
    struct_pack of the line's keys first), in key order. Sorted after the aggregate, not by
    it: DuckDB cannot spill an ordered aggregate, and at 5M journal lines int_open_items ran
    out of the dbt build's memory cap. The keys are unique, so the order is the same.
-#}
{% macro line_keys(fields) -%}
list_sort(list(struct_pack({{ fields }})))
{%- endmacro %}
