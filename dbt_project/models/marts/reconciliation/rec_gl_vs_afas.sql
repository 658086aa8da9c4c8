-- The warehouse's debit and credit per administration, period and account against AFAS's own
-- Profit_Period_balance: the proof that nothing was lost (or added) in transit. Period 0 is
-- the year's opening balance: the warehouse's (its period-0 lines and what the year end
-- carried forward, fct_trial_balance) against the one AFAS computed, compared by balance, in
-- the years AFAS reports a period 0 for. In
-- periods AFAS has closed (blocked) nothing may differ: an identity (test
-- assert_warehouse_equals_afas_in_closed_periods). In open periods lines and balances can be
-- read at slightly different moments of a busy day, so a difference there is a finding; the
-- write-back posts nothing for an administration with one.
with

trial_balance as (
    select * from {{ ref('fct_trial_balance') }}
),

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

afas as (
    select * from {{ ref('stg_afas__period_balances') }}
),

periods as (
    select * from {{ ref('stg_afas__periods') }}
),

created as (
    select
        administration_id,
        fiscal_year,
        period,
        account_code,
        min(created_at) as first_created_at
    from lines
    group by all
),

-- What the warehouse holds per period and account: the lines' debit and credit, and in period
-- 0 what the year end carried forward, on the side of its sign.
warehouse as (
    select
        trial_balance.administration_id,
        trial_balance.fiscal_year,
        trial_balance.period,
        trial_balance.account_code,
        trial_balance.debit + greatest(trial_balance.carried_forward, 0) as debit,
        trial_balance.credit + greatest(-trial_balance.carried_forward, 0) as credit,
        created.first_created_at
    from trial_balance
    left join created
        on trial_balance.administration_id = created.administration_id
        and trial_balance.fiscal_year = created.fiscal_year
        and trial_balance.period = created.period
        and trial_balance.account_code = created.account_code
    where
        (
            trial_balance.debit <> 0
            or trial_balance.credit <> 0
            or trial_balance.carried_forward <> 0
        )
        -- An opening balance is compared where AFAS reports one for the year (it may not).
        and (
            trial_balance.period > 0
            or exists (
                select 1
                from afas
                where afas.administration_id = trial_balance.administration_id
                    and afas.fiscal_year = trial_balance.fiscal_year
                    and afas.period = 0
            )
        )
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
            -- An opening balance is one amount: AFAS may show it gross or net of the sides.
            when compared.period = 0
                and warehouse_debit - warehouse_credit = afas_debit - afas_credit then 'ok'
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
