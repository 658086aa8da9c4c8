-- Purchase invoices booked twice: two items of the same creditor in one administration whose
-- invoice numbers are equal once formatting is ignored (letters and digits only, case-blind),
-- or that share the invoice date and amount. The later booking is the suspected duplicate.
with

items as (
    select * from {{ ref('int_open_items') }}
),

invoices as (
    select
        administration_id,
        party_id as creditor_id,
        party_name as creditor_name,
        invoice_id,
        upper(regexp_replace(invoice_id, '[^0-9A-Za-z]', '', 'g')) as normalized_invoice_id,
        invoice_date,
        invoice_amount,
        open_amount,
        first_entry_no
    from items
    where
        party_type = 'creditor'
        and invoice_id is not null
),

pairs as (
    select
        original.administration_id,
        original.creditor_id,
        original.creditor_name,
        original.invoice_id as original_invoice_id,
        duplicate.invoice_id as duplicate_invoice_id,
        original.first_entry_no as original_entry_no,
        duplicate.first_entry_no as duplicate_entry_no,
        original.invoice_date as original_invoice_date,
        duplicate.invoice_date as duplicate_invoice_date,
        original.invoice_amount as original_amount,
        duplicate.invoice_amount as duplicate_amount,
        duplicate.open_amount as duplicate_open_amount,
        case
            when original.normalized_invoice_id = duplicate.normalized_invoice_id
                then 'invoice_number'
            else 'date_and_amount'
        end as matched_on
    from invoices as original
    inner join invoices as duplicate
        on original.administration_id = duplicate.administration_id
        and original.creditor_id = duplicate.creditor_id
        and original.first_entry_no < duplicate.first_entry_no
        and (
            original.normalized_invoice_id = duplicate.normalized_invoice_id
            or (
                original.invoice_date = duplicate.invoice_date
                and original.invoice_amount = duplicate.invoice_amount
            )
        )
    -- With three copies, pair each later one with the first only.
    qualify row_number() over (
        partition by duplicate.administration_id, duplicate.creditor_id, duplicate.invoice_id
        order by original.first_entry_no
    ) = 1
),

final as (
    select
        administration_id,
        creditor_id,
        creditor_name,
        original_invoice_id,
        duplicate_invoice_id,
        original_entry_no,
        duplicate_entry_no,
        original_invoice_date,
        duplicate_invoice_date,
        {{ money('original_amount') }} as original_amount,
        {{ money('duplicate_amount') }} as duplicate_amount,
        {{ money('duplicate_open_amount') }} as duplicate_open_amount,
        -- The liability overstated if the duplicate is real.
        {{ money('duplicate_amount') }} as difference,
        matched_on,
        administration_id || '/' || duplicate_entry_no as source_ref,
        'open' as status
    from pairs
)

select * from final
