-- VAT per administration, period and VAT code: the taxable base (the net of the revenue and
-- cost lines carrying the code), the VAT those lines state, the VAT booked on the VAT accounts
-- (what the return declares), and the VAT the rate gives on the base. All signed on the code's
-- own side: sales (V) credit - debit, purchases (I) debit - credit. A reverse-charge code's VAT
-- owed, on its reverse-charge account (seed vat_return_rubrieken), is neither base nor booked
-- VAT here: rpt_vat_return declares it.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

vat_codes as (
    select * from {{ ref('stg_afas__vat_codes') }}
),

rubrieken as (
    select * from {{ ref('vat_return_rubrieken') }}
),

coded_lines as (
    select
        lines.administration_id,
        lines.fiscal_year,
        lines.period,
        lines.vat_code,
        lines.is_vat_account,
        case when vat_codes.vat_type = 'V' then -lines.amount else lines.amount end as own_side_amount,
        lines.vat_amount,
        vat_codes.vat_percentage
    from lines
    inner join vat_codes
        on lines.vat_code = vat_codes.vat_code
    left join rubrieken
        on lines.vat_code = rubrieken.vat_code
    where lines.account_code is distinct from rubrieken.reverse_charge_account_code
),

per_code as (
    select
        administration_id,
        fiscal_year,
        period,
        vat_code,
        sum(own_side_amount) filter (where not is_vat_account) as taxable_base,
        sum(vat_amount) filter (where not is_vat_account) as vat_on_lines,
        sum(own_side_amount) filter (where is_vat_account) as vat_booked,
        -- Per line, rounded half away from zero as AFAS does; decimal arithmetic throughout.
        sum(round(own_side_amount * vat_percentage * 0.01, 2)) filter (where not is_vat_account)
            as vat_at_rate,
        count(*) filter (where not is_vat_account) as taxable_lines
    from coded_lines
    group by all
),

final as (
    select
        per_code.administration_id,
        per_code.fiscal_year,
        per_code.period,
        per_code.vat_code,
        vat_codes.vat_name,
        vat_codes.vat_type,
        vat_codes.vat_percentage,
        vat_codes.vat_account_code,
        {{ money('coalesce(per_code.taxable_base, 0)') }} as taxable_base,
        {{ money('coalesce(per_code.vat_booked, 0)') }} as vat_amount,
        {{ money('coalesce(per_code.vat_on_lines, 0)') }} as vat_on_lines,
        {{ money('coalesce(per_code.vat_at_rate, 0)') }} as vat_at_rate,
        {{ money('coalesce(per_code.vat_booked, 0) - coalesce(per_code.vat_at_rate, 0)') }}
            as vat_difference,
        per_code.taxable_lines
    from per_code
    inner join vat_codes
        on per_code.vat_code = vat_codes.vat_code
)

select * from final
