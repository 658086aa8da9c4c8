-- Lines parked on a suspense account (var suspense_accounts), their age, and the debtor and
-- invoice they most likely belong to: the amount matched against the open debtor items, the
-- description against the debtor's name and the invoice number. A match on the invoice number,
-- or on amount and name, is confident enough to propose clearing the line to that invoice.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

items as (
    select * from {{ ref('int_open_items') }}
),

dates as (
    select * from {{ ref('int_dates_as_of') }}
),

posted as (
    select * from {{ ref('int_corrections_posted') }}
),

suspense_lines as (
    select
        administration_id,
        entry_no,
        seq_no,
        fiscal_year,
        period,
        journal_id,
        account_code,
        entry_date,
        voucher_no,
        description,
        -- A receipt parked on suspense is a credit: positive.
        {{ money('-amount') }} as parked_amount,
        regexp_replace(coalesce(description, ''), '[^0-9]', '', 'g') as description_digits
    from lines
    where
        is_suspense_account
        and not is_correction_posting
),

-- Open debtor items, as they were before any correction of this pipeline (so that a cleared
-- item still shows what it was matched to).
debtor_items as (
    select
        administration_id,
        party_id as debtor_id,
        party_name as debtor_name,
        invoice_id,
        open_amount_before_corrections as open_amount,
        regexp_replace(coalesce(invoice_id, ''), '[^0-9]', '', 'g') as invoice_digits
    from items
    where
        party_type = 'debtor'
        and open_amount_before_corrections <> 0
),

candidates as (
    select
        suspense_lines.administration_id,
        suspense_lines.entry_no,
        suspense_lines.seq_no,
        debtor_items.debtor_id,
        debtor_items.debtor_name,
        debtor_items.invoice_id,
        debtor_items.open_amount,
        debtor_items.open_amount = suspense_lines.parked_amount as amount_matches,
        length(debtor_items.invoice_digits) >= 4
            and contains(suspense_lines.description_digits, debtor_items.invoice_digits)
            as invoice_matches,
        coalesce(
            contains(lower(suspense_lines.description), lower(debtor_items.debtor_name)), false
        ) as name_matches
    from suspense_lines
    inner join debtor_items
        on suspense_lines.administration_id = debtor_items.administration_id
),

scored as (
    select
        *,
        4 * invoice_matches::integer + 2 * amount_matches::integer + name_matches::integer
            as match_score
    from candidates
    where amount_matches or invoice_matches
),

best as (
    select
        *,
        count(*) over (
            partition by administration_id, entry_no, seq_no, match_score
        ) as candidates_with_best_score
    from scored
    qualify row_number() over (
        partition by administration_id, entry_no, seq_no
        order by match_score desc, invoice_id
    ) = 1
),

matched as (
    select
        suspense_lines.*,
        best.debtor_id as matched_debtor_id,
        best.debtor_name as matched_debtor_name,
        best.invoice_id as matched_invoice_id,
        best.open_amount as matched_open_amount,
        coalesce(best.match_score, 0) as match_score,
        case
            when best.administration_id is null then 'no_match'
            when best.candidates_with_best_score > 1 then 'ambiguous'
            when best.invoice_matches and best.amount_matches then 'invoice_and_amount'
            when best.invoice_matches then 'invoice'
            when best.amount_matches and best.name_matches then 'amount_and_name'
            else 'amount_only'
        end as match_basis
    from suspense_lines
    left join best
        on suspense_lines.administration_id = best.administration_id
        and suspense_lines.entry_no = best.entry_no
        and suspense_lines.seq_no = best.seq_no
),

with_ids as (
    select
        matched.*,
        {{ correction_id('suspense_clearing', ['matched.administration_id', 'matched.entry_no', 'matched.seq_no']) }}
            as correction_id,
        -- Two parked lines claiming the same invoice: neither is cleared automatically.
        count(*) over (
            partition by matched.administration_id, matched.matched_debtor_id, matched.matched_invoice_id
        ) as claims_on_invoice
    from matched
),

final as (
    select
        with_ids.administration_id,
        with_ids.entry_no,
        with_ids.seq_no,
        with_ids.administration_id || '/' || with_ids.entry_no || '/' || with_ids.seq_no
            as source_ref,
        with_ids.fiscal_year,
        with_ids.period,
        with_ids.journal_id,
        with_ids.account_code,
        with_ids.entry_date,
        dates.as_of_date - with_ids.entry_date as age_days,
        with_ids.voucher_no,
        with_ids.description,
        with_ids.parked_amount,
        -- What stays on suspense until the item is cleared.
        with_ids.parked_amount as difference,
        with_ids.matched_debtor_id,
        with_ids.matched_debtor_name,
        with_ids.matched_invoice_id,
        {{ money('with_ids.matched_open_amount') }} as matched_open_amount,
        with_ids.match_score,
        with_ids.match_basis,
        with_ids.match_basis in ('invoice_and_amount', 'invoice', 'amount_and_name')
            and (with_ids.matched_invoice_id is null or with_ids.claims_on_invoice = 1)
            as is_clearing_proposed,
        with_ids.correction_id,
        posted.posted_entry_no as correction_entry_no,
        case when posted.correction_id is not null then 'resolved' else 'open' end as status
    from with_ids
    cross join dates
    left join posted
        on with_ids.administration_id = posted.administration_id
        and with_ids.correction_id = posted.correction_id
)

select * from final
