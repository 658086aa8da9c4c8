-- The ICP listing (opgaaf intracommunautaire prestaties) per administration, return period
-- (var vat_return_period) and customer VAT number: the base of rubriek 3b per debtor, the
-- debtor being the entry's debtor line. Nothing of 3b is left out: a 3b line in an entry
-- without a debtor, or a debtor without a VAT number, is a row with the number null and a
-- listing_status that says why (the Belastingdienst needs the number for every row).
with

lines as (
    select * from {{ ref('int_vat_return_lines') }}
    where rubriek = '3b'
),

debtors as (
    select * from {{ ref('stg_afas__debtors') }}
),

final as (
    select
        lines.administration_id,
        lines.fiscal_year,
        lines.return_period,
        '{{ var("vat_return_period") }}' as return_period_type,
        nullif(trim(debtors.vat_number), '') as vat_number,
        left(nullif(trim(debtors.vat_number), ''), 2) as country_code,
        lines.debtor_id,
        debtors.debtor_name,
        case
            when lines.debtor_id is null then 'no_debtor'
            when debtors.debtor_id is null then 'unknown_debtor'
            when nullif(trim(debtors.vat_number), '') is null then 'no_vat_number'
            else 'ok'
        end as listing_status,
        {{ money('sum(lines.base_amount)') }} as icp_amount,
        count(*) as line_count
    from lines
    left join debtors
        on lines.debtor_id = debtors.debtor_id
    group by all
)

select * from final
