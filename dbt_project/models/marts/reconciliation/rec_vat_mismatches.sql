-- Revenue and cost lines whose VAT amount (VatAmt) is not the net amount times the rate of their
-- VAT code (rounded half away from zero, to the cent, in decimal arithmetic). The lines on the
-- VAT accounts themselves carry no VatAmt and are not checked.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

vat_codes as (
    select * from {{ ref('stg_afas__vat_codes') }}
),

posted as (
    select * from {{ ref('int_corrections_posted') }}
),

checked as (
    select
        lines.administration_id,
        lines.entry_no,
        lines.seq_no,
        lines.fiscal_year,
        lines.period,
        lines.journal_id,
        lines.account_code,
        lines.entry_date,
        lines.voucher_no,
        lines.invoice_id,
        lines.description,
        lines.vat_code,
        vat_codes.vat_type,
        vat_codes.vat_percentage,
        vat_codes.vat_account_code,
        -- The net on the code's own side: revenue credit - debit, costs debit - credit.
        case when vat_codes.vat_type = 'V' then -lines.amount else lines.amount end as net_amount,
        lines.vat_amount as booked_vat
    from lines
    inner join vat_codes
        on lines.vat_code = vat_codes.vat_code
    where
        not lines.is_vat_account
        and not lines.is_correction_posting
),

expected as (
    select
        *,
        round(net_amount * vat_percentage * 0.01, 2) as expected_vat
    from checked
),

mismatches as (
    select
        *,
        {{ correction_id('vat_correction', ['administration_id', 'entry_no', 'seq_no']) }}
            as correction_id
    from expected
    where booked_vat <> expected_vat
),

final as (
    select
        mismatches.administration_id,
        mismatches.entry_no,
        mismatches.seq_no,
        mismatches.administration_id || '/' || mismatches.entry_no || '/' || mismatches.seq_no
            as source_ref,
        mismatches.fiscal_year,
        mismatches.period,
        mismatches.journal_id,
        mismatches.account_code,
        mismatches.entry_date,
        mismatches.voucher_no,
        mismatches.invoice_id,
        mismatches.description,
        mismatches.vat_code,
        mismatches.vat_type,
        mismatches.vat_percentage,
        mismatches.vat_account_code,
        {{ money('mismatches.net_amount') }} as net_amount,
        {{ money('mismatches.booked_vat') }} as booked_vat,
        {{ money('mismatches.expected_vat') }} as expected_vat,
        -- Positive: too much VAT booked; negative: too little.
        {{ money('mismatches.booked_vat - mismatches.expected_vat') }} as difference,
        mismatches.correction_id,
        posted.posted_entry_no as correction_entry_no,
        case when posted.correction_id is not null then 'resolved' else 'open' end as status
    from mismatches
    left join posted
        on mismatches.administration_id = posted.administration_id
        and mismatches.correction_id = posted.correction_id
)

select * from final
