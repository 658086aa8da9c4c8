-- Every GL account with its place in the statements and the roles the reconciliation gives it.
with

accounts as (
    select * from {{ ref('stg_afas__accounts') }}
),

vat_codes as (
    select * from {{ ref('stg_afas__vat_codes') }}
),

vat_accounts as (
    select distinct
        vat_account_code
    from vat_codes
),

classified as (
    select
        accounts.account_code,
        accounts.account_name,
        accounts.account_type,
        accounts.account_sort,
        -- AFAS's Sort: Activa / Passiva on the balance sheet, Kosten / Opbrengst in the P&L.
        case
            when accounts.account_type = 'balance_sheet' and accounts.account_sort = 'Passiva'
                then 'liabilities_and_equity'
            when accounts.account_type = 'balance_sheet' then 'assets'
            when accounts.account_sort = 'Opbrengst' then 'revenue'
            else 'expenses'
        end as account_category,
        accounts.is_blocked,
        accounts.is_collect_account,
        accounts.account_code in {{ sql_string_list(var('suspense_accounts')) }} as is_suspense_account,
        vat_accounts.vat_account_code is not null as is_vat_account
    from accounts
    left join vat_accounts
        on accounts.account_code = vat_accounts.vat_account_code
)

select * from classified
