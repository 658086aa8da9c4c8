{#- The open-items facts and the aging reports of the debtors and the creditors: one SQL for
    both sub-ledgers, `party_type` 'debtor' or 'creditor' (see int_open_items). -#}

{#- The open items of one sub-ledger, derived from the warehouse's GL lines: lines grouped by
    administration, party and invoice, where the open amount is not zero. Open amounts are
    positive for an unpaid invoice. -#}
{% macro open_items_mart(party_type) %}
    with

    items as (
        select * from {{ ref('int_open_items') }}
    ),

    dates as (
        select * from {{ ref('int_dates_as_of') }}
    ),

    final as (
        select
            items.administration_id,
            items.party_id as {{ party_type }}_id,
            items.party_name as {{ party_type }}_name,
            items.invoice_id,
            items.invoice_date,
            items.due_date,
            items.payment_term_days,
            items.invoice_amount,
            items.settled_amount,
            items.open_amount,
            dates.as_of_date,
            dates.as_of_date - items.due_date as days_overdue,
            items.item_origin,
            items.first_entry_no,
            items.line_count,
            items.last_entry_date,
            items.description
        from items
        cross join dates
        where
            items.party_type = '{{ party_type }}'
            and items.open_amount <> 0
    )

    select * from final
{% endmacro %}

{#- Aging of one sub-ledger's open items per administration and party on the as-of date (var
    as_of_date, default the data's as-of date): what was open on that date, by days past due.
    Only lines booked on or before that date count, so an earlier as-of date shows the aging
    as it was then. -#}
{% macro aging_report(party_type) %}
    with

    item_lines as (
        select * from {{ ref('int_open_item_lines') }}
    ),

    items as (
        select * from {{ ref('int_open_items') }}
    ),

    dates as (
        select * from {{ ref('int_dates_as_of') }}
    ),

    open_on_date as (
        select
            item_lines.administration_id,
            item_lines.party_id,
            item_lines.invoice_id,
            sum(item_lines.open_amount) as open_amount
        from item_lines
        cross join dates
        where
            item_lines.party_type = '{{ party_type }}'
            and item_lines.entry_date <= dates.as_of_date
        group by all
        having sum(item_lines.open_amount) <> 0
    ),

    bucketed as (
        select
            open_on_date.administration_id,
            open_on_date.party_id,
            items.party_name,
            dates.as_of_date,
            open_on_date.open_amount,
            -- Without a known payment term the invoice date counts as due date.
            dates.as_of_date - coalesce(items.due_date, items.invoice_date) as days_overdue
        from open_on_date
        cross join dates
        inner join items
            on open_on_date.administration_id = items.administration_id
            and items.party_type = '{{ party_type }}'
            and open_on_date.party_id = items.party_id
            and open_on_date.invoice_id is not distinct from items.invoice_id
    ),

    final as (
        select
            administration_id,
            party_id as {{ party_type }}_id,
            party_name as {{ party_type }}_name,
            as_of_date,
            {{ money('coalesce(sum(open_amount) filter (where days_overdue <= 0), 0)') }} as not_due,
            {{ money('coalesce(sum(open_amount) filter (where days_overdue between 1 and 30), 0)') }} as days_1_30,
            {{ money('coalesce(sum(open_amount) filter (where days_overdue between 31 and 60), 0)') }} as days_31_60,
            {{ money('coalesce(sum(open_amount) filter (where days_overdue between 61 and 90), 0)') }} as days_61_90,
            {{ money('coalesce(sum(open_amount) filter (where days_overdue > 90), 0)') }} as days_over_90,
            {{ money('sum(open_amount)') }} as total_open,
            count(*) as open_items
        from bucketed
        group by
            administration_id,
            party_id,
            party_name,
            as_of_date
    )

    select * from final
{% endmacro %}
