-- A table: the VAT return, the ICP listing and their checks all read it.
{{ config(materialized='table') }}

-- Every live journal line with a VAT code, outside period 0 (the opening balance carries no
-- VAT), placed in its VAT return period and rubriek by the seed vat_return_rubrieken.
-- A line on a VAT account (a code's VatCode account, or a reverse-charge account the seed
-- names) is VAT: on the code's reverse-charge account it is the VAT owed under reverse charge
-- (reverse_charge_rubriek), elsewhere the code's VAT (vat_rubriek). Any other line is base.
-- Amounts are signed as the return shows them: base of supplies (1, 3) credit - debit, base of
-- supplies received (2a, 4) debit - credit; VAT owed credit - debit, voorbelasting (5b) debit -
-- credit. 'NI' (niet ingedeeld) holds the lines of codes the seed does not map and VAT of a
-- code whose row names no rubriek for it, with the base on the code's own side and the VAT as
-- owed; finding_unmapped_vat_codes lists them. A code's base the seed sends nowhere (purchases,
-- exempt supplies) is not declared: rubriek null.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
    where
        vat_code is not null
        and period > 0
),

vat_codes as (
    select * from {{ ref('stg_afas__vat_codes') }}
),

rubrieken as (
    select * from {{ ref('vat_return_rubrieken') }}
),

vat_accounts as (
    select vat_account_code as account_code from vat_codes
    union
    select reverse_charge_account_code from rubrieken where reverse_charge_account_code is not null
),

-- The debtor of each entry (its debtor line), for the ICP listing.
entry_debtors as (
    select
        administration_id,
        entry_no,
        min(debtor_id) as debtor_id
    from {{ ref('int_gl_lines_live') }}
    where debtor_id is not null
    group by all
),

classified as (
    select
        lines.administration_id,
        lines.fiscal_year,
        {{ vat_return_period('lines.period') }} as return_period,
        lines.period,
        lines.entry_no,
        lines.seq_no,
        lines.account_code,
        lines.vat_code,
        vat_codes.vat_type,
        entry_debtors.debtor_id,
        lines.amount,
        vat_accounts.account_code is not null as is_vat_line,
        rubrieken.vat_code is not null as is_mapped,
        case
            when rubrieken.vat_code is null then null
            when vat_accounts.account_code is null then rubrieken.base_rubriek
            when lines.account_code = rubrieken.reverse_charge_account_code
                then rubrieken.reverse_charge_rubriek
            else rubrieken.vat_rubriek
        end as placed_rubriek
    from lines
    left join vat_codes
        on lines.vat_code = vat_codes.vat_code
    left join rubrieken
        on lines.vat_code = rubrieken.vat_code
    left join vat_accounts
        on lines.account_code = vat_accounts.account_code
    left join entry_debtors
        on lines.administration_id = entry_debtors.administration_id
        and lines.entry_no = entry_debtors.entry_no
),

placed as (
    select
        *,
        case
            when placed_rubriek is not null then placed_rubriek
            when not is_mapped or is_vat_line then 'NI'
        end as rubriek
    from classified
),

final as (
    select
        administration_id,
        fiscal_year,
        return_period,
        period,
        entry_no,
        seq_no,
        account_code,
        vat_code,
        debtor_id,
        is_vat_line,
        is_mapped,
        rubriek,
        case
            when is_vat_line then null
            when rubriek in ('2a', '4a', '4b') then amount
            when rubriek = 'NI' and vat_type = 'I' then amount
            else -amount
        end as base_amount,
        case
            when not is_vat_line then null
            when rubriek = '5b' then amount
            else -amount
        end as vat_amount
    from placed
)

select * from final
