-- The Dutch VAT return (aangifte omzetbelasting) per administration and return period (var
-- vat_return_period: quarter or month of AFAS's periods): one row per rubriek, every rubriek
-- present, with its base (omzet) and VAT (omzetbelasting) where the form has that box, null
-- where it has not. Rubrieken 1a-4b from the journal lines (int_vat_return_lines); 5a-5g as the
-- form computes them: 5a = the VAT of 1a-4b, 5b voorbelasting, 5c = 5a - 5b, 5d (kleine-
-- ondernemersregeling), 5e and 5f (estimates) are not in the ledger: 0, and 5g = 5c - 5d + 5e +
-- 5f, positive to pay, negative to reclaim. 'NI' (niet ingedeeld, not a rubriek of the form)
-- holds what the seed vat_return_rubrieken does not place; it is outside 5a-5g.
with

lines as (
    select * from {{ ref('int_vat_return_lines') }}
),

periods as (
    select * from {{ ref('stg_afas__periods') }}
    where period > 0
),

-- The form: rubriek, name, whether it has a base (omzet) and a VAT (omzetbelasting) box.
rubrieken (rubriek, rubriek_name, sort_order, has_base, has_vat) as (
    values
        ('1a', 'Leveringen/diensten belast met hoog tarief', 1, true, true),
        ('1b', 'Leveringen/diensten belast met laag tarief', 2, true, true),
        ('1c', 'Leveringen/diensten belast met overige tarieven, behalve 0%', 3, true, true),
        ('1d', 'Privégebruik', 4, true, true),
        ('1e', 'Leveringen/diensten belast met 0% of niet bij u belast', 5, true, false),
        ('2a', 'Leveringen/diensten waarbij de omzetbelasting naar u is verlegd', 6, true, true),
        ('3a', 'Leveringen naar landen buiten de EU (uitvoer)', 7, true, false),
        ('3b', 'Leveringen naar of diensten in landen binnen de EU', 8, true, false),
        ('3c', 'Installatie/afstandsverkopen binnen de EU', 9, true, false),
        ('4a', 'Leveringen/diensten uit landen buiten de EU', 10, true, true),
        ('4b', 'Leveringen/diensten uit landen binnen de EU', 11, true, true),
        ('5a', 'Verschuldigde omzetbelasting (rubrieken 1a tot en met 4b)', 12, false, true),
        ('5b', 'Voorbelasting', 13, false, true),
        ('5c', 'Subtotaal (rubriek 5a min 5b)', 14, false, true),
        ('5d', 'Vermindering volgens de kleineondernemersregeling', 15, false, true),
        ('5e', 'Schatting vorige aangifte(n)', 16, false, true),
        ('5f', 'Schatting deze aangifte', 17, false, true),
        ('5g', 'Totaal te betalen / terug te vragen', 18, false, true),
        ('NI', 'Niet ingedeeld (btw-code niet in vat_return_rubrieken)', 19, true, true)
),

-- Every return period of AFAS's calendar, and any the lines fall in beyond it.
return_periods as (
    select
        administration_id,
        fiscal_year,
        {{ vat_return_period('period') }} as return_period,
        min(period) as period_from,
        max(period) as period_to,
        min(date_from) as date_from,
        max(date_to) as date_to
    from periods
    group by all
    union all
    select distinct
        administration_id,
        fiscal_year,
        return_period,
        null,
        null,
        null,
        null
    from lines
    where not exists (
        select 1 from periods
        where
            periods.administration_id = lines.administration_id
            and periods.fiscal_year = lines.fiscal_year
            and {{ vat_return_period('periods.period') }} = lines.return_period
    )
),

per_rubriek as (
    select
        administration_id,
        fiscal_year,
        return_period,
        rubriek,
        sum(base_amount) as base_amount,
        sum(vat_amount) as vat_amount
    from lines
    where rubriek is not null
    group by all
),

per_return as (
    select
        administration_id,
        fiscal_year,
        return_period,
        coalesce(sum(vat_amount) filter (
            where rubriek in ('1a', '1b', '1c', '1d', '2a', '4a', '4b')
        ), 0) as vat_owed,
        coalesce(sum(vat_amount) filter (where rubriek = '5b'), 0) as input_vat,
        -- Not in the ledger: the kleineondernemersregeling and estimates are the filer's.
        0 as small_business_relief,
        0 as previous_estimates,
        0 as this_estimate
    from per_rubriek
    group by all
),

final as (
    select
        return_periods.administration_id,
        return_periods.fiscal_year,
        return_periods.return_period,
        '{{ var("vat_return_period") }}' as return_period_type,
        return_periods.period_from,
        return_periods.period_to,
        return_periods.date_from,
        return_periods.date_to,
        rubrieken.rubriek,
        rubrieken.rubriek_name,
        rubrieken.sort_order,
        case when rubrieken.has_base then {{ money('coalesce(per_rubriek.base_amount, 0)') }} end
            as base_amount,
        case
            when not rubrieken.has_vat then null
            when rubrieken.rubriek = '5a' then {{ money('coalesce(per_return.vat_owed, 0)') }}
            when rubrieken.rubriek = '5b' then {{ money('coalesce(per_return.input_vat, 0)') }}
            when rubrieken.rubriek = '5c'
                then {{ money('coalesce(per_return.vat_owed - per_return.input_vat, 0)') }}
            when rubrieken.rubriek = '5d' then {{ money('coalesce(per_return.small_business_relief, 0)') }}
            when rubrieken.rubriek = '5e' then {{ money('coalesce(per_return.previous_estimates, 0)') }}
            when rubrieken.rubriek = '5f' then {{ money('coalesce(per_return.this_estimate, 0)') }}
            when rubrieken.rubriek = '5g' then {{ money(
                'coalesce(per_return.vat_owed - per_return.input_vat'
                ~ ' - per_return.small_business_relief + per_return.previous_estimates'
                ~ ' + per_return.this_estimate, 0)') }}
            else {{ money('coalesce(per_rubriek.vat_amount, 0)') }}
        end as vat_amount
    from return_periods
    cross join rubrieken
    left join per_rubriek
        on return_periods.administration_id = per_rubriek.administration_id
        and return_periods.fiscal_year = per_rubriek.fiscal_year
        and return_periods.return_period = per_rubriek.return_period
        and rubrieken.rubriek = per_rubriek.rubriek
    left join per_return
        on return_periods.administration_id = per_return.administration_id
        and return_periods.fiscal_year = per_return.fiscal_year
        and return_periods.return_period = per_return.return_period
)

select * from final
