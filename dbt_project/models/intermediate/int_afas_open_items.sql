-- AFAS's own open items of both sub-ledgers in one shape (Profit_Debtor_Invoices and
-- Profit_Creditor_Invoices): what AFAS says is open, with its invoice date, amount and due date.
with

debtor_items as (
    select * from {{ ref('stg_afas__debtor_open_items') }}
),

creditor_items as (
    select * from {{ ref('stg_afas__creditor_open_items') }}
),

final as (
    select
        administration_id,
        'debtor' as party_type,
        debtor_id as party_id,
        invoice_id,
        voucher_date as invoice_date,
        due_date,
        invoice_amount,
        open_amount
    from debtor_items
    union all
    select
        administration_id,
        'creditor' as party_type,
        creditor_id as party_id,
        invoice_id,
        voucher_date as invoice_date,
        due_date,
        invoice_amount,
        open_amount
    from creditor_items
)

select * from final
