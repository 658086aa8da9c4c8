{{ config(materialized='table') }}
-- The live journal lines (deleted ones left out), with the account classification, the type
-- of their journal, and whether the line belongs to a correction this pipeline proposed and
-- someone posted.
with

lines as (
    select * from {{ ref('stg_afas__journal_lines') }}
),

accounts as (
    select * from {{ ref('int_accounts_classified') }}
),

journals as (
    select * from {{ ref('stg_afas__journals') }}
),

live as (
    select
        lines.administration_id,
        lines.entry_no,
        lines.seq_no,
        lines.fiscal_year,
        lines.period,
        lines.journal_id,
        journals.journal_type,
        lines.account_code,
        accounts.account_type,
        accounts.is_vat_account,
        accounts.is_suspense_account,
        lines.debtor_id,
        lines.creditor_id,
        lines.entry_date,
        lines.voucher_date,
        lines.voucher_no,
        lines.invoice_id,
        lines.debit,
        lines.credit,
        {{ money('lines.debit - lines.credit') }} as amount,
        lines.vat_code,
        lines.vat_amount,
        lines.cost_centre,
        lines.cost_carrier,
        lines.description,
        lines.created_at,
        lines.modified_at,
        {{ is_correction_voucher('lines.voucher_no') }} as is_correction_posting
    from lines
    left join accounts
        on lines.account_code = accounts.account_code
    left join journals
        on lines.administration_id = journals.administration_id
        and lines.journal_id = journals.journal_id
    where not lines.is_deleted
)

select * from live
