-- Corrections that were posted to AFAS and came back with the extraction: their id is the
-- VoucherNo (FiEntries BpNr) of live journal lines. A finding with such a correction is resolved.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

posted as (
    select
        administration_id,
        voucher_no as correction_id,
        min(entry_no) as posted_entry_no,
        min(entry_date) as posted_entry_date,
        min(created_at) as posted_at,
        count(*) as posted_lines
    from lines
    where is_correction_posting
    group by all
)

select * from posted
