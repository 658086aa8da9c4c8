-- The Dutch VAT return (aangifte omzetbelasting) per administration and return period (var
-- vat_return_period: quarter or month of AFAS's periods): one row per rubriek, every rubriek
-- present, with its base (omzet) and VAT (omzetbelasting) where the form has that box, null
-- where it has not. Rubrieken 1a-4b from the journal lines (int_vat_return_lines); 5a-5g as the
-- form computes them: 5a = the VAT of 1a-4b, 5b voorbelasting, 5c = 5a - 5b, 5d (kleine-
-- ondernemersregeling), 5e and 5f (estimates) are not in the ledger: 0, and 5g = 5c - 5d + 5e +
-- 5f, positive to pay, negative to reclaim. Exact amounts, and rounded as filed. 'NI' (niet ingedeeld, not a rubriek of the form)
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

-- The rubrieken the lines fill; the *_rounded amounts are whole euros in the taxpayer's
-- favour, as the return is filed: base and VAT owed down, voorbelasting (5b) up.
per_rubriek as (
    select
        administration_id,
        fiscal_year,
        return_period,
        rubriek,
        sum(base_amount) as base_amount,
        sum(vat_amount) as vat_amount,
        floor(sum(base_amount)) as base_rounded,
        case when rubriek = '5b' then ceil(sum(vat_amount)) else floor(sum(vat_amount)) end
            as vat_rounded
    from lines
    where rubriek is not null
    group by administration_id, fiscal_year, return_period, rubriek
),

per_return as (
    select
        administration_id,
        fiscal_year,
        return_period,
        sum(vat_amount) filter (where rubriek in ('1a', '1b', '1c', '1d', '2a', '4a', '4b'))
            as vat_owed,
        sum(vat_rounded) filter (where rubriek in ('1a', '1b', '1c', '1d', '2a', '4a', '4b'))
            as vat_owed_rounded,
        sum(vat_amount) filter (where rubriek = '5b') as input_vat,
        sum(vat_rounded) filter (where rubriek = '5b') as input_vat_rounded,
        -- Not in the ledger: the kleineondernemersregeling (5d) and the estimates (5e, 5f).
        0 as relief_and_estimates
    from per_rubriek
    group by all
),

-- 5a, 5c and 5g as the form computes them (5b is a rubriek of the lines; 5d-5f are 0).
totals as (
    select administration_id, fiscal_year, return_period, '5a' as rubriek,
        vat_owed as vat_amount, vat_owed_rounded as vat_rounded
    from per_return
    union all
    select administration_id, fiscal_year, return_period, '5c',
        coalesce(vat_owed, 0) - coalesce(input_vat, 0),
        coalesce(vat_owed_rounded, 0) - coalesce(input_vat_rounded, 0)
    from per_return
    union all
    -- 5g = 5c - 5d + 5e + 5f
    select administration_id, fiscal_year, return_period, '5g',
        coalesce(vat_owed, 0) - coalesce(input_vat, 0) + relief_and_estimates,
        coalesce(vat_owed_rounded, 0) - coalesce(input_vat_rounded, 0) + relief_and_estimates
    from per_return
),

boxes as (
    select administration_id, fiscal_year, return_period, rubriek, base_amount, vat_amount,
        base_rounded, vat_rounded
    from per_rubriek
    union all
    select administration_id, fiscal_year, return_period, rubriek, null, vat_amount, null,
        vat_rounded
    from totals
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
        case when rubrieken.has_base then {{ money('coalesce(boxes.base_amount, 0)') }} end
            as base_amount,
        case when rubrieken.has_vat then {{ money('coalesce(boxes.vat_amount, 0)') }} end
            as vat_amount,
        case when rubrieken.has_base then {{ money('coalesce(boxes.base_rounded, 0)') }} end
            as base_amount_rounded,
        case when rubrieken.has_vat then {{ money('coalesce(boxes.vat_rounded, 0)') }} end
            as vat_amount_rounded
    from return_periods
    cross join rubrieken
    left join boxes
        on return_periods.administration_id = boxes.administration_id
        and return_periods.fiscal_year = boxes.fiscal_year
        and return_periods.return_period = boxes.return_period
        and rubrieken.rubriek = boxes.rubriek
)

select * from final
