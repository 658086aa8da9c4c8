-- The warehouse's debit and credit per administration, period and account against AFAS's own
-- Profit_Period_balance: the proof that nothing was lost (or added) in transit. In periods AFAS
-- has closed (blocked) nothing may differ: an identity (test
-- assert_warehouse_equals_afas_in_closed_periods). In open periods lines and balances can be
-- read at slightly different moments of a busy day, so a difference there is a finding; the
-- write-back posts nothing for an administration with one.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

afas as (
    select * from {{ ref('stg_afas__period_balances') }}
),

periods as (
    select * from {{ ref('stg_afas__periods') }}
),

warehouse as (
    select
        administration_id,
        fiscal_year,
        period,
        account_code,
        sum(debit) as debit,
        sum(credit) as credit,
        min(created_at) as first_created_at
    from lines
    group by all
),

compared as (
    select
        coalesce(warehouse.administration_id, afas.administration_id) as administration_id,
        coalesce(warehouse.fiscal_year, afas.fiscal_year) as fiscal_year,
        coalesce(warehouse.period, afas.period) as period,
        coalesce(warehouse.account_code, afas.account_code) as account_code,
        warehouse.first_created_at,
        warehouse.administration_id is not null as in_warehouse,
        afas.administration_id is not null as in_afas,
        coalesce(warehouse.debit, 0) as warehouse_debit,
        coalesce(warehouse.credit, 0) as warehouse_credit,
        coalesce(afas.debit, 0) as afas_debit,
        coalesce(afas.credit, 0) as afas_credit
    from warehouse
    full outer join afas
        on warehouse.administration_id = afas.administration_id
        and warehouse.fiscal_year = afas.fiscal_year
        and warehouse.period = afas.period
        and warehouse.account_code = afas.account_code
),

final as (
    select
        compared.administration_id,
        compared.fiscal_year,
        compared.period,
        compared.account_code,
        compared.administration_id || '/' || compared.fiscal_year || '/' || compared.period
            || '/' || compared.account_code as source_ref,
        coalesce(periods.is_blocked, false) as is_period_closed,
        compared.first_created_at,
        {{ money('warehouse_debit') }} as warehouse_debit,
        {{ money('warehouse_credit') }} as warehouse_credit,
        {{ money('afas_debit') }} as afas_debit,
        {{ money('afas_credit') }} as afas_credit,
        {{ money('warehouse_debit - afas_debit') }} as debit_difference,
        {{ money('warehouse_credit - afas_credit') }} as credit_difference,
        {{ money('(warehouse_debit - warehouse_credit) - (afas_debit - afas_credit)') }}
            as difference,
        case
            when warehouse_debit = afas_debit and warehouse_credit = afas_credit then 'ok'
            when not in_afas then 'missing_in_afas'
            when not in_warehouse then 'missing_in_warehouse'
            else 'difference'
        end as status
    from compared
    left join periods
        on compared.administration_id = periods.administration_id
        and compared.fiscal_year = periods.fiscal_year
        and compared.period = periods.period
)

select * from final
