{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rpt_ar_aging'}}}) }}
-- The aging buckets of every debtor and creditor add up to its total open amount, and on the
-- data's as-of date the aging totals equal the open items.
with

ar_aging as (
    select * from {{ ref('rpt_ar_aging') }}
),

ap_aging as (
    select * from {{ ref('rpt_ap_aging') }}
),

ar_items as (
    select * from {{ ref('fct_ar_open_items') }}
),

ap_items as (
    select * from {{ ref('fct_ap_open_items') }}
),

dates as (
    select * from {{ ref('int_dates_as_of') }}
),

buckets as (
    select
        'debtor ' || debtor_id as party,
        total_open
    from ar_aging
    where {{ aging_bucket_total() }} <> total_open
    union all
    select
        'creditor ' || creditor_id as party,
        total_open
    from ap_aging
    where {{ aging_bucket_total() }} <> total_open
),

totals as (
    select
        'all debtors' as party,
        (select sum(total_open) from ar_aging) as total_open
    from dates
    where
        dates.as_of_date >= dates.data_as_of_date
        and (select coalesce(sum(total_open), 0) from ar_aging)
            <> (select coalesce(sum(open_amount), 0) from ar_items)
    union all
    select
        'all creditors' as party,
        (select sum(total_open) from ap_aging) as total_open
    from dates
    where
        dates.as_of_date >= dates.data_as_of_date
        and (select coalesce(sum(total_open), 0) from ap_aging)
            <> (select coalesce(sum(open_amount), 0) from ap_items)
)

select * from buckets
union all
select * from totals
