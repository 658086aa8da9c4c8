{{ config(materialized='table') }}
-- Every live debtor or creditor line as a movement of its open item (administration, party,
-- invoice), signed so that an unpaid invoice is positive on both sides: debtor debit - credit,
-- creditor credit - debit (as AFAS's open-item Balance). A line is an invoice line when AFAS
-- booked it in a sales (debtor) or purchase (creditor) journal with the invoice's sign; a
-- payment, a prepayment, a migrated opening item or a credit note is not, whatever its entry
-- number.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

item_lines as (
    select
        administration_id,
        case when debtor_id is not null then 'debtor' else 'creditor' end as party_type,
        coalesce(debtor_id, creditor_id) as party_id,
        invoice_id,
        entry_no,
        seq_no,
        fiscal_year,
        period,
        journal_id,
        journal_type,
        account_code,
        entry_date,
        voucher_date,
        voucher_no,
        description,
        case
            when debtor_id is not null then amount
            else {{ money('-amount') }}
        end as open_amount,
        created_at,
        is_correction_posting
    from lines
    where
        debtor_id is not null
        or creditor_id is not null
),

final as (
    select
        *,
        open_amount > 0
            and journal_type = case when party_type = 'debtor' then 'V' else 'I' end
            as is_invoice_line
    from item_lines
)

select * from final
