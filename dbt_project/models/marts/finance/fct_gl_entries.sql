-- One row per live journal line (deleted lines left out), amounts exact.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

final as (
    select
        administration_id,
        entry_no,
        seq_no,
        fiscal_year,
        period,
        journal_id,
        account_code,
        debtor_id,
        creditor_id,
        entry_date,
        voucher_date,
        voucher_no,
        invoice_id,
        debit,
        credit,
        amount,
        vat_code,
        vat_amount,
        cost_centre,
        description,
        created_at,
        modified_at,
        account_type,
        is_correction_posting
    from lines
)

select * from final
