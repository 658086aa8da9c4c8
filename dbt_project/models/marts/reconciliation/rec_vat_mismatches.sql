-- VAT judged per voucher (journal entry) and VAT code, as AFAS computes it: the VAT the entry
-- books on the code's VAT account against the net of its lines with that code times the rate.
-- Both signed on the code's own side (sales credit - debit, purchases debit - credit), so credit
-- notes are judged like invoices, and the sign convention of VatAmt plays no part. AFAS rounds
-- per line, so a voucher of n lines is right while |booked - net x rate| <= 0.005 x n.
-- Not judged: codes that are not a plain percentage of the line (seed vat_code_treatments), and
-- entries that book a code's VAT both as receivable and as payable (reverse charge: the code's
-- balance-sheet lines cancel out).
--
-- The remedy differs by side. Input VAT booked wrong is corrected by a journal entry (proposed
-- in corrections_proposed). VAT stated on a sales invoice is owed as stated (art. 37 Wet OB):
-- the fix is a credit note and a new invoice, so it is reported, never posted; a credit note on
-- the same invoice number that exactly reverses the voucher marks both 'reversed'.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

vat_codes as (
    select * from {{ ref('stg_afas__vat_codes') }}
),

treatments as (
    select * from {{ ref('vat_code_treatments') }}
),

posted as (
    select * from {{ ref('int_corrections_posted') }}
),

-- The invoice number of each entry: that of its debtor or creditor line.
entry_invoices as (
    select
        administration_id,
        entry_no,
        min(invoice_id) as invoice_id
    from lines
    where
        debtor_id is not null
        or creditor_id is not null
    group by all
),

coded_lines as (
    select
        lines.*,
        vat_codes.vat_type,
        vat_codes.vat_percentage,
        vat_codes.vat_account_code,
        case when vat_codes.vat_type = 'V' then -lines.amount else lines.amount end
            as own_side_amount
    from lines
    inner join vat_codes
        on lines.vat_code = vat_codes.vat_code
    left join treatments
        on lines.vat_code = treatments.vat_code
    where
        not lines.is_correction_posting
        and coalesce(treatments.treatment, 'percentage') = 'percentage'
),

vouchers as (
    select
        administration_id,
        entry_no,
        vat_code,
        vat_type,
        vat_percentage,
        vat_account_code,
        min(fiscal_year) as fiscal_year,
        min(period) as period,
        min(journal_id) as journal_id,
        min(entry_date) as entry_date,
        min(voucher_no) as voucher_no,
        min(created_at) as created_at,
        sum(own_side_amount) filter (
            where not is_vat_account and debtor_id is null and creditor_id is null
        ) as net_amount,
        count(*) filter (
            where not is_vat_account and debtor_id is null and creditor_id is null
        ) as taxable_lines,
        coalesce(sum(own_side_amount) filter (where account_code = vat_account_code), 0)
            as booked_vat,
        -- The account of the largest taxable line: where a VAT correction moves the difference.
        arg_max(account_code, abs(amount)) filter (
            where not is_vat_account and debtor_id is null and creditor_id is null
        ) as taxable_account_code,
        -- Reverse charge: the VAT is booked as receivable and as payable, so the entry's
        -- balance-sheet lines with the code cancel out while VAT sits on the VAT account.
        coalesce(sum(own_side_amount) filter (where account_type = 'balance_sheet'), 0) = 0
            and coalesce(sum(own_side_amount) filter (where account_code = vat_account_code), 0)
                <> 0 as is_reverse_charge
    from coded_lines
    group by all
),

mismatches as (
    select
        vouchers.*,
        entry_invoices.invoice_id,
        round(vouchers.net_amount * vouchers.vat_percentage * 0.01, 2) as expected_vat
    from vouchers
    left join entry_invoices
        on vouchers.administration_id = entry_invoices.administration_id
        and vouchers.entry_no = entry_invoices.entry_no
    where
        vouchers.taxable_lines > 0
        and not vouchers.is_reverse_charge
        and abs(vouchers.booked_vat - vouchers.net_amount * vouchers.vat_percentage * 0.01)
            > 0.005 * vouchers.taxable_lines
),

-- A sales voucher and a credit note on the same invoice number that cancel each other.
reversed as (
    select distinct
        wrong.administration_id,
        wrong.entry_no,
        wrong.vat_code
    from mismatches as wrong
    inner join mismatches as reversal
        on wrong.administration_id = reversal.administration_id
        and wrong.vat_code = reversal.vat_code
        and wrong.invoice_id = reversal.invoice_id
        and wrong.entry_no <> reversal.entry_no
        and wrong.net_amount = -reversal.net_amount
        and wrong.booked_vat = -reversal.booked_vat
),

final as (
    select
        mismatches.administration_id,
        mismatches.entry_no,
        mismatches.vat_code,
        mismatches.administration_id || '/' || mismatches.entry_no || '/' || mismatches.vat_code
            as source_ref,
        mismatches.fiscal_year,
        mismatches.period,
        mismatches.journal_id,
        mismatches.entry_date,
        mismatches.voucher_no,
        mismatches.invoice_id,
        mismatches.created_at,
        mismatches.vat_type,
        mismatches.vat_percentage,
        mismatches.vat_account_code,
        mismatches.taxable_account_code,
        mismatches.taxable_lines,
        {{ money('mismatches.net_amount') }} as net_amount,
        {{ money('mismatches.booked_vat') }} as booked_vat,
        {{ money('mismatches.expected_vat') }} as expected_vat,
        -- Positive: too much VAT booked; negative: too little.
        {{ money('mismatches.booked_vat - mismatches.expected_vat') }} as difference,
        case when mismatches.vat_type = 'I' then 'journal_correction' else 'credit_note' end
            as remedy,
        case
            when mismatches.vat_type = 'I'
                then {{ correction_id('vat_correction', ['mismatches.administration_id', 'mismatches.entry_no', 'mismatches.vat_code']) }}
        end as correction_id,
        posted.posted_entry_no as correction_entry_no,
        case
            when posted.correction_id is not null then 'resolved'
            when reversed.entry_no is not null then 'reversed'
            else 'open'
        end as status
    from mismatches
    left join posted
        on mismatches.administration_id = posted.administration_id
        and mismatches.vat_type = 'I'
        and posted.correction_id
            = {{ correction_id('vat_correction', ['mismatches.administration_id', 'mismatches.entry_no', 'mismatches.vat_code']) }}
    left join reversed
        on mismatches.administration_id = reversed.administration_id
        and mismatches.entry_no = reversed.entry_no
        and mismatches.vat_code = reversed.vat_code
)

select * from final
