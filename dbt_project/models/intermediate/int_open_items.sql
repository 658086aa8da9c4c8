{{ config(materialized='table') }}
-- Every debtor and creditor item (administration, party, invoice), settled or not, derived
-- from the warehouse's GL lines: the invoice (its first line), its due date (invoice date +
-- the party's payment term) and what is still open.
with

item_lines as (
    select * from {{ ref('int_open_item_lines') }}
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

first_lines as (
    select
        administration_id,
        party_type,
        party_id,
        invoice_id,
        entry_no as first_entry_no,
        journal_id as first_journal_id,
        voucher_date as invoice_date,
        open_amount as invoice_amount,
        description
    from item_lines
    qualify row_number() over (
        partition by administration_id, party_type, party_id, invoice_id
        order by entry_no, seq_no
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
        max(entry_date) as last_entry_date
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
        first_lines.first_entry_no,
        first_lines.first_journal_id,
        first_lines.invoice_date,
        parties.payment_term_days,
        -- Unknown when the party's master data (its payment term) is not in the warehouse.
        first_lines.invoice_date + parties.payment_term_days as due_date,
        first_lines.invoice_amount,
        totals.open_amount,
        coalesce(totals.open_amount_before_corrections, 0) as open_amount_before_corrections,
        {{ money('first_lines.invoice_amount - totals.open_amount') }} as settled_amount,
        totals.line_count,
        totals.last_entry_date,
        first_lines.description
    from totals
    inner join first_lines
        on totals.administration_id = first_lines.administration_id
        and totals.party_type = first_lines.party_type
        and totals.party_id = first_lines.party_id
        and totals.invoice_id is not distinct from first_lines.invoice_id
    left join parties
        on totals.party_type = parties.party_type
        and totals.party_id = parties.party_id
)

select * from items
