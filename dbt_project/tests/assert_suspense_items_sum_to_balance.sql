{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rec_suspense_items'}}}) }}
-- Identity: the open suspense items of every administration and suspense account sum to the
-- account's balance (credit - debit): pairing a line with its clearing never loses a cent.
with

items as (
    select * from {{ ref('rec_suspense_items') }}
),

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

balances as (
    select
        administration_id,
        account_code,
        -sum(amount) as balance
    from lines
    where is_suspense_account
    group by all
),

open_items as (
    select
        administration_id,
        account_code,
        sum(parked_amount) filter (where status = 'open') as open_amount
    from items
    group by all
)

select
    balances.administration_id,
    balances.account_code,
    balances.balance,
    coalesce(open_items.open_amount, 0) as open_amount
from balances
left join open_items
    on balances.administration_id = open_items.administration_id
    and balances.account_code = open_items.account_code
where balances.balance <> coalesce(open_items.open_amount, 0)
