-- Every debtor and creditor item (administration, party, invoice), settled or not, with AFAS's
-- semantics. The item's invoice is its earliest entry (by booking date, then entry number) in a
-- sales or purchase journal with the invoice's sign: invoice date, amount and due date come from
-- it, whatever entry numbers payments, prepayments or credit notes have. An item without one (a
-- prepayment not yet invoiced, an opening item migrated from another system) takes them from
-- its earliest entry. Where AFAS lists the item as open, AFAS's own invoice date, amount and due
-- date are the item's (the derived ones stay beside them, for the reconciliation).
-- Incremental by item: a build redoes the items a changed line was in at the last build (the
-- item's own line_keys) or is in now, and those whose journal types, party or AFAS listing
-- moved (the pre-hook open_items_to_redo), deleting their rows first.
-- depends_on: {{ ref('stg_afas__journal_line_changes') }}, {{ ref('stg_afas__journals') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=["{{ open_items_to_redo() }}"],
) }}
with

item_lines as (
    select * from {{ ref('int_open_item_lines') }} as lines
    {% if is_incremental() -%}
    where exists (
        select 1
        from open_items_to_redo as redo
        where lines.administration_id = redo.administration_id
            and lines.party_type = redo.party_type
            and lines.party_id = redo.party_id
            and lines.invoice_id is not distinct from redo.invoice_id
    )
    {%- endif %}
),

afas_items as (
    select * from {{ ref('int_afas_open_items') }}
),

debtors as (
    select * from {{ ref('stg_afas__debtors') }}
),

creditors as (
    select * from {{ ref('stg_afas__creditors') }}
),

parties as (
    select
        'debtor' as party_type,
        debtor_id as party_id,
        debtor_name as party_name,
        payment_term_days
    from debtors
    union all
    select
        'creditor' as party_type,
        creditor_id as party_id,
        creditor_name as party_name,
        payment_term_days
    from creditors
),

-- The item's lines per entry: an invoice with several debtor lines is one amount.
item_entries as (
    select
        administration_id,
        party_type,
        party_id,
        invoice_id,
        entry_no,
        journal_id,
        journal_type,
        min(entry_date) as entry_date,
        min(voucher_date) as voucher_date,
        min(account_code) as account_code,
        arg_min(description, seq_no) as description,
        sum(open_amount) as amount,
        bool_or(is_invoice_line) as is_invoice_entry
    from item_lines
    group by all
),

origins as (
    select
        *
    from item_entries
    qualify row_number() over (
        partition by administration_id, party_type, party_id, invoice_id
        order by is_invoice_entry desc, entry_date, entry_no
    ) = 1
),

totals as (
    select
        administration_id,
        party_type,
        party_id,
        invoice_id,
        {{ money('sum(open_amount)') }} as open_amount,
        {{ money('sum(open_amount) filter (where not is_correction_posting)') }}
            as open_amount_before_corrections,
        count(*) as line_count,
        count(distinct entry_no) filter (where is_invoice_line) as invoice_entries,
        max(entry_date) as last_entry_date,
        min(created_at) as first_created_at,
        max(created_at) as last_created_at,
        -- What the next incremental build needs: the item's lines, with their journal's type.
        {{ line_keys('entry_no, seq_no, journal_id, journal_type') }} as line_keys
    from item_lines
    group by all
),

items as (
    select
        totals.administration_id,
        totals.party_type,
        totals.party_id,
        parties.party_name,
        totals.invoice_id,
        case
            when origins.is_invoice_entry then 'invoice'
            when origins.journal_type = 'M' then 'memorial'
            when origins.amount < 0 then 'prepayment'
            else 'other'
        end as item_origin,
        origins.entry_no as first_entry_no,
        origins.journal_id as first_journal_id,
        origins.account_code as collect_account_code,
        parties.payment_term_days,
        origins.voucher_date as derived_invoice_date,
        {{ money('origins.amount') }} as derived_invoice_amount,
        -- Unknown when the party's master data (its payment term) is not in the warehouse.
        origins.voucher_date + parties.payment_term_days as derived_due_date,
        afas_items.administration_id is not null as is_listed_by_afas,
        coalesce(afas_items.invoice_date, origins.voucher_date) as invoice_date,
        {{ money('coalesce(afas_items.invoice_amount, origins.amount)') }} as invoice_amount,
        coalesce(afas_items.due_date, origins.voucher_date + parties.payment_term_days)
            as due_date,
        totals.open_amount,
        coalesce(totals.open_amount_before_corrections, 0) as open_amount_before_corrections,
        {{ money('coalesce(afas_items.invoice_amount, origins.amount) - totals.open_amount') }}
            as settled_amount,
        totals.line_count,
        totals.invoice_entries,
        totals.last_entry_date,
        totals.first_created_at,
        totals.last_created_at,
        origins.description,
        totals.line_keys
    from totals
    inner join origins
        on totals.administration_id = origins.administration_id
        and totals.party_type = origins.party_type
        and totals.party_id = origins.party_id
        and totals.invoice_id is not distinct from origins.invoice_id
    left join parties
        on totals.party_type = parties.party_type
        and totals.party_id = parties.party_id
    left join afas_items
        on totals.administration_id = afas_items.administration_id
        and totals.party_type = afas_items.party_type
        and totals.party_id = afas_items.party_id
        and totals.invoice_id is not distinct from afas_items.invoice_id
)

select * from items
