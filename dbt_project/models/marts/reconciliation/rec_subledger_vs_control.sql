-- The open debtor and creditor items against the balance of their collect (control) accounts
-- (vars debtor_collect_account, creditor_collect_account), per administration. Both sides are
-- signed as open items: debtors debit - credit, creditors credit - debit.
with

items as (
    select * from {{ ref('int_open_items') }}
),

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

administrations as (
    select * from {{ ref('stg_afas__administrations') }}
),

ledgers as (
    select
        'debtor' as party_type,
        '{{ var("debtor_collect_account") }}' as control_account_code
    union all
    select
        'creditor' as party_type,
        '{{ var("creditor_collect_account") }}' as control_account_code
),

subledger as (
    select
        administration_id,
        party_type,
        sum(open_amount) as open_amount,
        count(*) filter (where open_amount <> 0) as open_items
    from items
    group by all
),

control as (
    select
        lines.administration_id,
        ledgers.party_type,
        sum(case when ledgers.party_type = 'debtor' then lines.amount else -lines.amount end)
            as control_balance
    from lines
    inner join ledgers
        on lines.account_code = ledgers.control_account_code
    group by all
),

spine as (
    select
        administrations.administration_id,
        ledgers.party_type,
        ledgers.control_account_code
    from administrations
    cross join ledgers
),

final as (
    select
        spine.administration_id,
        spine.party_type,
        spine.control_account_code,
        coalesce(subledger.open_items, 0) as open_items,
        {{ money('coalesce(subledger.open_amount, 0)') }} as subledger_open_amount,
        {{ money('coalesce(control.control_balance, 0)') }} as control_balance,
        {{ money('coalesce(subledger.open_amount, 0) - coalesce(control.control_balance, 0)') }}
            as difference,
        case
            when coalesce(subledger.open_amount, 0) = coalesce(control.control_balance, 0)
                then 'ok'
            else 'difference'
        end as status
    from spine
    left join subledger
        on spine.administration_id = subledger.administration_id
        and spine.party_type = subledger.party_type
    left join control
        on spine.administration_id = control.administration_id
        and spine.party_type = control.party_type
)

select * from final
