-- Journal entries whose live lines do not balance (debit total <> credit total), per
-- administration and entry. Empty when the ledger is sound.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

entries as (
    select
        administration_id,
        entry_no,
        min(fiscal_year) as fiscal_year,
        min(period) as period,
        min(journal_id) as journal_id,
        min(entry_date) as entry_date,
        min(voucher_no) as voucher_no,
        min(created_at) as created_at,
        count(*) as line_count,
        sum(debit) as debit,
        sum(credit) as credit
    from lines
    group by
        administration_id,
        entry_no
),

final as (
    select
        administration_id,
        entry_no,
        fiscal_year,
        period,
        journal_id,
        entry_date,
        voucher_no,
        created_at,
        administration_id || '/' || entry_no as source_ref,
        line_count,
        {{ money('debit') }} as debit,
        {{ money('credit') }} as credit,
        {{ money('debit - credit') }} as difference,
        'unbalanced' as status
    from entries
    where debit <> credit
)

select * from final
