{{ config(severity='error', meta={'dagster': {'ref': {'name': 'corrections_proposed'}}}) }}
-- Every proposed correction is a valid FiEntries entry: it balances (debit total = credit
-- total, not zero), every line has exactly one positive amount, lines are numbered 1..n, one
-- header (administration, journal, year, period, date, type) per correction, an id of at most
-- 32 characters, and no GL line on a collect account (AFAS rejects those; debtor and creditor
-- lines go through kind 2 / 3 with the party id).
with

corrections as (
    select * from {{ ref('corrections_proposed') }}
),

accounts as (
    select * from {{ ref('stg_afas__accounts') }}
),

-- Accounts that debtor and creditor lines book on, whether or not AFAS marks them.
collect_accounts as (
    select distinct account_code from {{ ref('int_open_item_lines') }}
),

per_correction as (
    select
        correction_id,
        'unbalanced, empty, misnumbered or mixed header' as failure
    from corrections
    group by correction_id
    having
        sum(debit) <> sum(credit)
        or sum(debit) = 0
        or min(line_no) <> 1
        or max(line_no) <> count(*)
        or count(distinct line_no) <> count(*)
        or count(distinct (administration_id, journal_id, fiscal_year, period, entry_date, correction_type)) <> 1
        or length(correction_id) > 32
),

bad_lines as (
    select
        corrections.correction_id,
        'line ' || corrections.line_no || ': amounts or account kind invalid' as failure
    from corrections
    left join accounts
        on corrections.account_code = accounts.account_code
    where
        corrections.debit < 0
        or corrections.credit < 0
        or (corrections.debit = 0) = (corrections.credit = 0)
        or (corrections.account_kind = '1' and (accounts.account_code is null or accounts.is_collect_account
            or corrections.account_code in (select account_code from collect_accounts)))
        or (corrections.account_kind in ('2', '3') and corrections.invoice_id is null
            and corrections.correction_type <> 'manual')
)

select * from per_correction
union all
select * from bad_lines
