-- Each sub-ledger against its control account, per administration and collect account: the
-- open debtor and creditor items whose lines book on a collect account, against everything
-- booked on that account. Collect accounts are those AFAS marks as such and any account that
-- debtor or creditor lines book on (several per sub-ledger exist: e.g. 1300 and 1310). Both
-- sides are signed as open items: debtors debit - credit, creditors credit - debit.
with

item_lines as (
    select * from {{ ref('int_open_item_lines') }}
),

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

accounts as (
    select * from {{ ref('int_accounts_classified') }}
),

items_per_account as (
    select
        administration_id,
        party_type,
        account_code as control_account_code,
        party_id,
        invoice_id,
        sum(open_amount) as open_amount
    from item_lines
    group by all
),

subledger as (
    select
        administration_id,
        party_type,
        control_account_code,
        sum(open_amount) as open_amount,
        count(*) filter (where open_amount <> 0) as open_items
    from items_per_account
    group by all
),

-- The sub-ledger each collect account belongs to: its party lines, else the account's side.
collect_accounts as (
    select distinct
        administration_id,
        control_account_code,
        party_type
    from subledger
),

control as (
    select
        lines.administration_id,
        collect_accounts.party_type,
        lines.account_code as control_account_code,
        sum(case when collect_accounts.party_type = 'debtor' then lines.amount else -lines.amount end)
            as control_balance
    from lines
    inner join collect_accounts
        on lines.administration_id = collect_accounts.administration_id
        and lines.account_code = collect_accounts.control_account_code
    group by all
),

-- AFAS's collect accounts with lines but no party line at all: everything on them is unexplained.
unexplained as (
    select
        lines.administration_id,
        case when accounts.account_category = 'assets' then 'debtor' else 'creditor' end
            as party_type,
        lines.account_code as control_account_code,
        sum(case when accounts.account_category = 'assets' then lines.amount else -lines.amount end)
            as control_balance
    from lines
    inner join accounts
        on lines.account_code = accounts.account_code
    where
        accounts.is_collect_account
        and not exists (
            select 1
            from collect_accounts
            where collect_accounts.administration_id = lines.administration_id
                and collect_accounts.control_account_code = lines.account_code
        )
    group by all
),

compared as (
    select
        control.administration_id,
        control.party_type,
        control.control_account_code,
        coalesce(subledger.open_items, 0) as open_items,
        coalesce(subledger.open_amount, 0) as subledger_open_amount,
        control.control_balance
    from control
    left join subledger
        on control.administration_id = subledger.administration_id
        and control.party_type = subledger.party_type
        and control.control_account_code = subledger.control_account_code
    union all
    select
        administration_id,
        party_type,
        control_account_code,
        0 as open_items,
        0 as subledger_open_amount,
        control_balance
    from unexplained
),

final as (
    select
        administration_id,
        party_type,
        control_account_code,
        open_items,
        {{ money('subledger_open_amount') }} as subledger_open_amount,
        {{ money('control_balance') }} as control_balance,
        {{ money('subledger_open_amount - control_balance') }} as difference,
        case when subledger_open_amount = control_balance then 'ok' else 'difference' end
            as status
    from compared
)

select * from final
