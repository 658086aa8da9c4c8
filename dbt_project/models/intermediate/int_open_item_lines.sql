{{ config(materialized='table') }}
-- Every live debtor or creditor line as a movement of its open item (administration, party,
-- invoice), signed so that an unpaid invoice is positive on both sides: debtor debit - credit,
-- creditor credit - debit (as AFAS's open-item Balance).
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
        journal_id,
        account_code,
        entry_date,
        voucher_date,
        voucher_no,
        description,
        case
            when debtor_id is not null then amount
            else {{ money('-amount') }}
        end as open_amount,
        is_correction_posting
    from lines
    where
        debtor_id is not null
        or creditor_id is not null
)

select * from item_lines
