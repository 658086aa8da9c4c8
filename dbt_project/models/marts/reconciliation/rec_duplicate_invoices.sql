-- Purchase invoices booked more than once at one creditor of one administration. An invoice
-- is an entry in a purchase journal that credits the creditor (a credit note on the number is
-- not one). A later invoice entry is a suspected duplicate of the earliest one it resembles:
-- the same invoice number (AFAS then holds both in one open item), the same number once
-- formatting is ignored (letters and digits only, case-blind), or another number with the same
-- invoice date and amount. The same number at another creditor or administration is not one.
with

item_lines as (
    select * from {{ ref('int_open_item_lines') }}
),

items as (
    select * from {{ ref('int_open_items') }}
),

invoices as (
    select
        administration_id,
        party_id as creditor_id,
        invoice_id,
        upper(regexp_replace(invoice_id, '[^0-9A-Za-z]', '', 'g')) as normalized_invoice_id,
        entry_no,
        min(fiscal_year) as fiscal_year,
        min(period) as period,
        min(entry_date) as entry_date,
        min(voucher_date) as invoice_date,
        min(created_at) as created_at,
        sum(open_amount) as amount
    from item_lines
    where
        party_type = 'creditor'
        and is_invoice_line
        and invoice_id is not null
    group by all
),

pairs as (
    select
        original.administration_id,
        original.creditor_id,
        original.invoice_id as original_invoice_id,
        duplicate.invoice_id as duplicate_invoice_id,
        original.entry_no as original_entry_no,
        duplicate.entry_no as duplicate_entry_no,
        original.invoice_date as original_invoice_date,
        duplicate.invoice_date as duplicate_invoice_date,
        original.amount as original_amount,
        duplicate.amount as duplicate_amount,
        duplicate.created_at,
        duplicate.fiscal_year,
        duplicate.period,
        case
            when original.invoice_id = duplicate.invoice_id then 'same_number'
            when original.normalized_invoice_id = duplicate.normalized_invoice_id
                then 'number_format'
            else 'date_and_amount'
        end as matched_on
    from invoices as original
    inner join invoices as duplicate
        on original.administration_id = duplicate.administration_id
        and original.creditor_id = duplicate.creditor_id
        and (original.entry_date, original.entry_no) < (duplicate.entry_date, duplicate.entry_no)
        and (
            original.normalized_invoice_id = duplicate.normalized_invoice_id
            or (
                original.invoice_date = duplicate.invoice_date
                and original.amount = duplicate.amount
            )
        )
    -- One row per duplicate entry: the strongest resemblance, with the earliest original.
    qualify row_number() over (
        partition by duplicate.administration_id, duplicate.creditor_id, duplicate.entry_no
        order by
            case
                when original.invoice_id = duplicate.invoice_id then 1
                when original.normalized_invoice_id = duplicate.normalized_invoice_id then 2
                else 3
            end,
            original.entry_date,
            original.entry_no
    ) = 1
),

final as (
    select
        pairs.administration_id,
        pairs.creditor_id,
        items.party_name as creditor_name,
        pairs.original_invoice_id,
        pairs.duplicate_invoice_id,
        pairs.original_entry_no,
        pairs.duplicate_entry_no,
        pairs.original_invoice_date,
        pairs.duplicate_invoice_date,
        {{ money('pairs.original_amount') }} as original_amount,
        {{ money('pairs.duplicate_amount') }} as duplicate_amount,
        {{ money('items.open_amount') }} as duplicate_item_open_amount,
        -- The liability overstated if the duplicate is real.
        {{ money('pairs.duplicate_amount') }} as difference,
        pairs.matched_on,
        pairs.fiscal_year,
        pairs.period,
        pairs.created_at,
        pairs.administration_id || '/' || pairs.duplicate_entry_no as source_ref,
        'open' as status
    from pairs
    left join items
        on pairs.administration_id = items.administration_id
        and items.party_type = 'creditor'
        and pairs.creditor_id = items.party_id
        and pairs.duplicate_invoice_id = items.invoice_id
)

select * from final
