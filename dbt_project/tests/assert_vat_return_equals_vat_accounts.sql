{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rpt_vat_return'}}}) }}
-- The VAT return's identity: 5g (and what is niet ingedeeld, NI) is the movement in the
-- return period on the VAT accounts (every VatCode account and the seed's reverse-charge
-- accounts), credit - debit, of the lines with a VAT code. A line without one settles VAT (the
-- payment to, or refund from, the Belastingdienst) and is not part of any return.
with

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

movement as (
    select
        lines.administration_id,
        lines.fiscal_year,
        {{ vat_return_period('lines.period') }} as return_period,
        sum(lines.credit - lines.debit) as movement
    from {{ ref('int_gl_lines_live') }} as lines
    inner join vat_accounts
        on lines.account_code = vat_accounts.account_code
    where
        lines.vat_code is not null
        and lines.period > 0
    group by all
),

declared as (
    select
        administration_id,
        fiscal_year,
        return_period,
        sum(vat_amount) filter (where rubriek in ('5g', 'NI')) as declared
    from {{ ref('rpt_vat_return') }}
    group by all
)

select
    coalesce(declared.administration_id, movement.administration_id) as administration_id,
    coalesce(declared.fiscal_year, movement.fiscal_year) as fiscal_year,
    coalesce(declared.return_period, movement.return_period) as return_period,
    declared.declared,
    movement.movement
from declared
full outer join movement
    on declared.administration_id = movement.administration_id
    and declared.fiscal_year = movement.fiscal_year
    and declared.return_period = movement.return_period
where coalesce(declared.declared, 0) <> coalesce(movement.movement, 0)
