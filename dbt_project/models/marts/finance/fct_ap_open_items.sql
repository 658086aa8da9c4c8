-- The creditors' open items, derived from the warehouse's GL lines: creditor lines grouped by
-- administration, creditor and invoice, where the open amount is not zero. Open amounts are
-- positive for an unpaid invoice (credit - debit, as AFAS shows them).
with

items as (
    select * from {{ ref('int_open_items') }}
),

dates as (
    select * from {{ ref('int_dates_as_of') }}
),

final as (
    select
        items.administration_id,
        items.party_id as creditor_id,
        items.party_name as creditor_name,
        items.invoice_id,
        items.invoice_date,
        items.due_date,
        items.payment_term_days,
        items.invoice_amount,
        items.settled_amount,
        items.open_amount,
        dates.as_of_date,
        dates.as_of_date - items.due_date as days_overdue,
        items.first_entry_no,
        items.line_count,
        items.last_entry_date,
        items.description
    from items
    cross join dates
    where
        items.party_type = 'creditor'
        and items.open_amount <> 0
)

select * from final
