-- The warehouse's open items (from the GL lines) against AFAS's own open items
-- (Profit_Debtor_Invoices, Profit_Creditor_Invoices): open amount, original invoice amount and
-- due date per administration, party and invoice.
with

items as (
    select * from {{ ref('int_open_items') }}
),

afas_debtor_items as (
    select * from {{ ref('stg_afas__debtor_open_items') }}
),

afas_creditor_items as (
    select * from {{ ref('stg_afas__creditor_open_items') }}
),

warehouse as (
    select
        administration_id,
        party_type,
        party_id,
        invoice_id,
        invoice_amount,
        open_amount,
        due_date
    from items
    where open_amount <> 0
),

afas as (
    select
        administration_id,
        'debtor' as party_type,
        debtor_id as party_id,
        invoice_id,
        invoice_amount,
        open_amount,
        due_date
    from afas_debtor_items
    union all
    select
        administration_id,
        'creditor' as party_type,
        creditor_id as party_id,
        invoice_id,
        invoice_amount,
        open_amount,
        due_date
    from afas_creditor_items
),

compared as (
    select
        coalesce(warehouse.administration_id, afas.administration_id) as administration_id,
        coalesce(warehouse.party_type, afas.party_type) as party_type,
        coalesce(warehouse.party_id, afas.party_id) as party_id,
        coalesce(warehouse.invoice_id, afas.invoice_id) as invoice_id,
        warehouse.administration_id is not null as in_warehouse,
        afas.administration_id is not null as in_afas,
        coalesce(warehouse.open_amount, 0) as warehouse_open_amount,
        coalesce(afas.open_amount, 0) as afas_open_amount,
        warehouse.invoice_amount as warehouse_invoice_amount,
        afas.invoice_amount as afas_invoice_amount,
        warehouse.due_date as warehouse_due_date,
        afas.due_date as afas_due_date
    from warehouse
    full outer join afas
        on warehouse.administration_id = afas.administration_id
        and warehouse.party_type = afas.party_type
        and warehouse.party_id = afas.party_id
        and warehouse.invoice_id is not distinct from afas.invoice_id
),

final as (
    select
        administration_id,
        party_type,
        party_id,
        invoice_id,
        {{ money('warehouse_open_amount') }} as warehouse_open_amount,
        {{ money('afas_open_amount') }} as afas_open_amount,
        {{ money('warehouse_open_amount - afas_open_amount') }} as difference,
        {{ money('warehouse_invoice_amount') }} as warehouse_invoice_amount,
        {{ money('afas_invoice_amount') }} as afas_invoice_amount,
        warehouse_due_date,
        afas_due_date,
        case
            when not in_afas then 'missing_in_afas'
            when not in_warehouse then 'missing_in_warehouse'
            when warehouse_open_amount <> afas_open_amount then 'difference'
            when warehouse_invoice_amount is distinct from afas_invoice_amount
                then 'invoice_amount_difference'
            -- A due date the warehouse cannot know (party not loaded) is not a difference.
            when warehouse_due_date <> afas_due_date then 'due_date_difference'
            else 'ok'
        end as status
    from compared
)

select * from final
