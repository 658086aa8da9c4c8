-- The warehouse's open items (derived from the GL lines) against AFAS's own open items
-- (Profit_Debtor_Invoices, Profit_Creditor_Invoices), per administration, party and invoice:
-- the open amount, and the invoice amount, invoice date and due date the warehouse derives
-- against AFAS's. Per invoice these are findings; the identity is each party's open total
-- (test assert_open_items_per_party_equal_afas).
with

items as (
    select * from {{ ref('int_open_items') }}
),

afas_items as (
    select * from {{ ref('int_afas_open_items') }}
),

warehouse as (
    select
        *
    from items
    where open_amount <> 0
),

compared as (
    select
        coalesce(warehouse.administration_id, afas.administration_id) as administration_id,
        coalesce(warehouse.party_type, afas.party_type) as party_type,
        coalesce(warehouse.party_id, afas.party_id) as party_id,
        coalesce(warehouse.invoice_id, afas.invoice_id) as invoice_id,
        warehouse.administration_id is not null as in_warehouse,
        afas.administration_id is not null as in_afas,
        warehouse.item_origin,
        coalesce(warehouse.open_amount, 0) as warehouse_open_amount,
        coalesce(afas.open_amount, 0) as afas_open_amount,
        warehouse.derived_invoice_amount as warehouse_invoice_amount,
        afas.invoice_amount as afas_invoice_amount,
        warehouse.derived_invoice_date as warehouse_invoice_date,
        afas.invoice_date as afas_invoice_date,
        warehouse.derived_due_date as warehouse_due_date,
        afas.due_date as afas_due_date,
        warehouse.first_created_at
    from warehouse
    full outer join afas_items as afas
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
        administration_id || '/' || party_type || '/' || party_id || '/'
            || coalesce(invoice_id, '') as source_ref,
        item_origin,
        {{ money('warehouse_open_amount') }} as warehouse_open_amount,
        {{ money('afas_open_amount') }} as afas_open_amount,
        {{ money('warehouse_open_amount - afas_open_amount') }} as difference,
        {{ money('warehouse_invoice_amount') }} as warehouse_invoice_amount,
        {{ money('afas_invoice_amount') }} as afas_invoice_amount,
        warehouse_invoice_date,
        afas_invoice_date,
        warehouse_due_date,
        afas_due_date,
        coalesce(afas_invoice_date, warehouse_invoice_date) as invoice_date,
        first_created_at,
        case
            when not in_afas then 'missing_in_afas'
            when not in_warehouse then 'missing_in_warehouse'
            when warehouse_open_amount <> afas_open_amount then 'open_amount_difference'
            when warehouse_invoice_amount is distinct from afas_invoice_amount
                then 'invoice_amount_difference'
            when warehouse_invoice_date is distinct from afas_invoice_date
                then 'invoice_date_difference'
            -- A due date the warehouse cannot know (party not loaded) is not a difference.
            when warehouse_due_date <> afas_due_date then 'due_date_difference'
            else 'ok'
        end as status
    from compared
)

select * from final
