-- Debtor and creditor invoices that a payment left open by a few cents: the open amount (before
-- any correction of this pipeline) is not zero, at most var rounding_write_off_threshold, and
-- not the whole invoice (so something was paid). Only items with an invoice (not a prepayment
-- or a migrated balance whose invoice is elsewhere). Proposed for write-off to var
-- rounding_write_off_account.
with

items as (
    select * from {{ ref('int_open_items') }}
),

posted as (
    select * from {{ ref('int_corrections_posted') }}
),

tiny as (
    select
        *,
        {{ correction_id('rounding_write_off', ['administration_id', 'party_type', 'party_id', 'invoice_id']) }}
            as correction_id
    from items
    where
        open_amount_before_corrections <> 0
        and abs(open_amount_before_corrections)
            <= cast({{ var('rounding_write_off_threshold') }} as decimal(18, 2))
        and open_amount_before_corrections <> invoice_amount
        and invoice_id is not null
        and item_origin = 'invoice'
),

final as (
    select
        tiny.administration_id,
        tiny.party_type,
        tiny.party_id,
        tiny.party_name,
        tiny.invoice_id,
        tiny.administration_id || '/' || tiny.party_id || '/' || tiny.invoice_id as source_ref,
        tiny.invoice_date,
        tiny.invoice_amount,
        tiny.settled_amount,
        tiny.open_amount_before_corrections as difference,
        tiny.open_amount,
        tiny.last_entry_date,
        tiny.last_created_at as created_at,
        tiny.correction_id,
        posted.posted_entry_no as correction_entry_no,
        case when posted.correction_id is not null then 'resolved' else 'open' end as status
    from tiny
    left join posted
        on tiny.administration_id = posted.administration_id
        and tiny.correction_id = posted.correction_id
)

select * from final
