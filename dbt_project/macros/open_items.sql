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

{#- The aging buckets from the vars aging_basis and aging_bucket_days: a list of {name, low,
    high} (days, either bound open). By due date (the default) the first bucket is not_due
    (0 days or fewer past due), then days_1_30, …; by invoice date the first is days_0_30
    (days since the invoice date), then days_31_60, …; the last is days_over_<last bound>. -#}
{% macro aging_buckets() %}
    {%- set basis = var('aging_basis') -%}
    {%- set bounds = var('aging_bucket_days') -%}
    {%- if basis not in ('due_date', 'invoice_date') -%}
        {{ exceptions.raise_compiler_error(
            "var aging_basis must be 'due_date' or 'invoice_date', not '" ~ basis ~ "'") }}
    {%- endif -%}
    {%- if bounds | length == 0 or bounds != bounds | sort or bounds | unique | list | length != bounds | length
        or bounds[0] < 1 -%}
        {{ exceptions.raise_compiler_error(
            "var aging_bucket_days must be increasing whole days of 1 or more, e.g. [30, 60, 90], not "
            ~ bounds) }}
    {%- endif -%}
    {%- if basis == 'due_date' -%}
        {%- set buckets = [{'name': 'not_due', 'low': none, 'high': 0}] -%}
        {%- set ns = namespace(low=1) -%}
    {%- else -%}
        {%- set buckets = [{'name': 'days_0_' ~ bounds[0], 'low': none, 'high': bounds[0]}] -%}
        {%- set ns = namespace(low=bounds[0] + 1) -%}
        {%- set bounds = bounds[1:] -%}
    {%- endif -%}
    {%- for high in bounds -%}
        {%- do buckets.append({'name': 'days_' ~ ns.low ~ '_' ~ high, 'low': ns.low, 'high': high}) -%}
        {%- set ns.low = high + 1 -%}
    {%- endfor -%}
    {%- do buckets.append({'name': 'days_over_' ~ (ns.low - 1), 'low': ns.low, 'high': none}) -%}
    {{ return(buckets) }}
{% endmacro %}

{#- The sum of an aging report's bucket columns (for the test that they add up). -#}
{% macro aging_bucket_total() -%}
    {%- for bucket in aging_buckets() %}{{ bucket.name }}{% if not loop.last %} + {% endif %}{% endfor -%}
{%- endmacro %}

{#- Aging of one sub-ledger's open items per administration and party on the as-of date (var
    as_of_date, default the data's as-of date): what was open on that date, by days past the
    due date or since the invoice date (var aging_basis) in the buckets of aging_buckets().
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

    aged as (
        select
            open_on_date.administration_id,
            open_on_date.party_id,
            items.party_name,
            dates.as_of_date,
            open_on_date.open_amount,
            {% if var('aging_basis') == 'due_date' -%}
            -- Without a known payment term the invoice date counts as due date.
            dates.as_of_date - coalesce(items.due_date, items.invoice_date) as age_days
            {%- else -%}
            -- Without an invoice date the due date counts as invoice date.
            dates.as_of_date - coalesce(items.invoice_date, items.due_date) as age_days
            {%- endif %}
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
            {% for bucket in aging_buckets() -%}
            {%- if bucket.low is none -%}
                {%- set condition = 'age_days <= ' ~ bucket.high -%}
            {%- elif bucket.high is none -%}
                {%- set condition = 'age_days >= ' ~ bucket.low -%}
            {%- else -%}
                {%- set condition = 'age_days between ' ~ bucket.low ~ ' and ' ~ bucket.high -%}
            {%- endif -%}
            {{ money('coalesce(sum(open_amount) filter (where ' ~ condition ~ '), 0)') }} as {{ bucket.name }},
            {% endfor -%}
            {{ money('sum(open_amount)') }} as total_open,
            count(*) as open_items
        from aged
        group by
            administration_id,
            party_id,
            party_name,
            as_of_date
    )

    select * from final
{% endmacro %}
