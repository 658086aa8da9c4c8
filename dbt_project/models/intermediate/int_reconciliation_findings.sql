-- Every row of the reconciliation marts that needs attention, in one shape: which check, how
-- severe, where (administration, period), what it is about (source_ref), its difference, and
-- when it entered AFAS's books (the creation time of the booking behind it). Identities
-- (severity 'error') stop the build when broken, so a published status shows them at zero;
-- findings (severity 'warn') are published for analysts to work through.
with

gl_vs_afas as (
    select * from {{ ref('rec_gl_vs_afas') }}
),

subledgers as (
    select * from {{ ref('rec_subledger_vs_control') }}
),

unbalanced as (
    select * from {{ ref('rec_unbalanced_entries') }}
),

open_items as (
    select * from {{ ref('rec_open_items_vs_afas') }}
),

suspense as (
    select * from {{ ref('rec_suspense_items') }}
),

vat as (
    select * from {{ ref('rec_vat_mismatches') }}
),

duplicates as (
    select * from {{ ref('rec_duplicate_invoices') }}
),

rounding as (
    select * from {{ ref('rec_rounding_differences') }}
),

periods as (
    select * from {{ ref('stg_afas__periods') }}
),

dated as (
    select
        'gl_vs_afas_closed_periods' as check_name,
        'error' as severity,
        administration_id,
        fiscal_year,
        period,
        cast(null as date) as finding_date,
        source_ref,
        difference,
        first_created_at as first_seen_at
    from gl_vs_afas
    where status <> 'ok' and is_period_closed
    union all
    select
        'gl_vs_afas_open_periods', 'warn', administration_id, fiscal_year, period, null,
        source_ref, difference, first_created_at
    from gl_vs_afas
    where status <> 'ok' and not is_period_closed
    union all
    select
        'subledger_vs_control', 'error', administration_id, null, null, null,
        administration_id || '/' || party_type || '/' || control_account_code, difference, null
    from subledgers
    where status <> 'ok'
    union all
    select
        'unbalanced_entries', 'error', administration_id, fiscal_year, period, null,
        source_ref, difference, created_at
    from unbalanced
    union all
    select
        'open_items_per_party', 'error', administration_id, null, null, null,
        administration_id || '/' || party_type || '/' || party_id,
        sum(warehouse_open_amount) - sum(afas_open_amount), null
    from open_items
    group by administration_id, party_type, party_id
    having sum(warehouse_open_amount) <> sum(afas_open_amount)
    union all
    select
        'open_item_differences', 'warn', administration_id, null, null, invoice_date,
        source_ref, difference, first_created_at
    from open_items
    where status <> 'ok'
    union all
    select
        'suspense_items', 'warn', administration_id, fiscal_year, period, null,
        source_ref, difference, created_at
    from suspense
    where status = 'open'
    union all
    select
        'vat_mismatches', 'warn', administration_id, fiscal_year, period, null,
        source_ref, difference, created_at
    from vat
    where status = 'open'
    union all
    select
        'duplicate_invoices', 'warn', administration_id, fiscal_year, period, null,
        source_ref, difference, created_at
    from duplicates
    where status = 'open'
    union all
    select
        'rounding_differences', 'warn', administration_id, null, null, last_entry_date,
        source_ref, difference, created_at
    from rounding
    where status = 'open'
),

final as (
    select
        dated.check_name,
        dated.severity,
        dated.administration_id,
        coalesce(dated.fiscal_year, periods.fiscal_year) as fiscal_year,
        coalesce(dated.period, periods.period) as period,
        dated.source_ref,
        {{ money('dated.difference') }} as difference,
        dated.first_seen_at
    from dated
    left join periods
        on dated.administration_id = periods.administration_id
        and dated.finding_date between periods.date_from and periods.date_to
)

select * from final
