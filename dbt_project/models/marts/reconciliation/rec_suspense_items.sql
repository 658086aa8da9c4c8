-- Every line on a suspense account (var suspense_accounts), whether it is still open, and for
-- an open receipt the debtor invoice it most likely pays.
--
-- A line is cleared by a line on the same suspense account of the opposite sign and the same
-- amount, in any journal and in either entry order (a clearing made by hand before the bank
-- receipt was imported has the lower entry number): the k-th line of each amount on each side
-- pair up in booking order. What pairs with this pipeline's own posted clearing is 'resolved'
-- (the clearing line itself is not listed then), with anything else 'cleared'; what pairs with
-- nothing is 'open', and the open items sum to the account's balance (test
-- assert_suspense_items_sum_to_balance).
--
-- An open receipt matches an open debtor invoice of its administration by the best rule that
-- has candidates: the invoice number's digits (at least 4) in the description's digits and the
-- same amount; else the debtor's name in the description and the same amount. A clearing is
-- proposed only when that rule has exactly one candidate and no other open receipt claims it.
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
        created_at,
        is_correction_posting,
        -- A receipt parked on suspense is a credit: positive.
        {{ money('-amount') }} as parked_amount,
        regexp_replace(coalesce(description, ''), '[^0-9]', '', 'g') as description_digits
    from lines
    where
        is_suspense_account
        and amount <> 0
),

ranked as (
    select
        *,
        row_number() over (
            partition by administration_id, account_code, abs(parked_amount), parked_amount > 0
            order by entry_date, entry_no, seq_no
        ) as pair_rank
    from suspense_lines
),

paired as (
    select
        ranked.*,
        partner.entry_no as partner_entry_no,
        partner.seq_no as partner_seq_no,
        case
            when partner.entry_no is null then 'open'
            when ranked.is_correction_posting or partner.is_correction_posting then 'resolved'
            else 'cleared'
        end as status
    from ranked
    left join ranked as partner
        on ranked.administration_id = partner.administration_id
        and ranked.account_code = partner.account_code
        and ranked.parked_amount = -partner.parked_amount
        and ranked.pair_rank = partner.pair_rank
),

-- Open debtor items as they were before any correction of this pipeline, so that a receipt
-- resolved by one still shows what it was matched to.
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

receipts as (
    select
        *
    from paired
    where
        status in ('open', 'resolved')
        and parked_amount > 0
        and not is_correction_posting
),

candidates as (
    select
        receipts.administration_id,
        receipts.entry_no,
        receipts.seq_no,
        debtor_items.debtor_id,
        debtor_items.debtor_name,
        debtor_items.invoice_id,
        debtor_items.open_amount,
        case
            when length(debtor_items.invoice_digits) >= 4
                and contains(receipts.description_digits, debtor_items.invoice_digits)
                then 1
            when contains(lower(receipts.description), lower(debtor_items.debtor_name)) then 2
        end as match_rule
    from receipts
    inner join debtor_items
        on receipts.administration_id = debtor_items.administration_id
        and receipts.parked_amount = debtor_items.open_amount
),

ruled as (
    select
        *,
        min(match_rule) over (partition by administration_id, entry_no, seq_no) as best_rule
    from candidates
    where match_rule is not null
),

best as (
    select
        *,
        count(*) over (partition by administration_id, entry_no, seq_no) as candidates
    from ruled
    where match_rule = best_rule
),

unique_matches as (
    select
        *,
        -- Two receipts whose only candidate is the same invoice: neither is cleared.
        count(*) over (partition by administration_id, debtor_id, invoice_id) as claims
    from best
    where candidates = 1
),

matched as (
    select
        paired.*,
        case when unique_matches.claims = 1 then unique_matches.debtor_id end as matched_debtor_id,
        case when unique_matches.claims = 1 then unique_matches.debtor_name end
            as matched_debtor_name,
        case when unique_matches.claims = 1 then unique_matches.invoice_id end
            as matched_invoice_id,
        case when unique_matches.claims = 1 then unique_matches.open_amount end
            as matched_open_amount,
        case
            when paired.status = 'cleared' or paired.is_correction_posting then null
            when unique_matches.claims = 1 and unique_matches.match_rule = 1
                then 'invoice_and_amount'
            when unique_matches.claims = 1 then 'amount_and_name'
            when exists (
                select 1
                from best
                where best.administration_id = paired.administration_id
                    and best.entry_no = paired.entry_no
                    and best.seq_no = paired.seq_no
            ) then 'ambiguous'
            else 'no_match'
        end as match_basis
    from paired
    left join unique_matches
        on paired.administration_id = unique_matches.administration_id
        and paired.entry_no = unique_matches.entry_no
        and paired.seq_no = unique_matches.seq_no
),

final as (
    select
        matched.administration_id,
        matched.entry_no,
        matched.seq_no,
        matched.administration_id || '/' || matched.entry_no || '/' || matched.seq_no
            as source_ref,
        matched.fiscal_year,
        matched.period,
        matched.journal_id,
        matched.account_code,
        matched.entry_date,
        dates.as_of_date - matched.entry_date as age_days,
        matched.voucher_no,
        matched.description,
        matched.created_at,
        matched.parked_amount,
        -- What stays on suspense until the line is cleared.
        case when matched.status = 'open' then matched.parked_amount else 0 end as difference,
        case
            when matched.partner_entry_no is not null
                then matched.administration_id || '/' || matched.partner_entry_no || '/'
                    || matched.partner_seq_no
        end as cleared_by_ref,
        matched.matched_debtor_id,
        matched.matched_debtor_name,
        matched.matched_invoice_id,
        {{ money('matched.matched_open_amount') }} as matched_open_amount,
        matched.match_basis,
        coalesce(matched.status = 'open' and matched.matched_invoice_id is not null, false)
            as is_clearing_proposed,
        {{ correction_id('suspense_clearing', ['matched.administration_id', 'matched.entry_no', 'matched.seq_no']) }}
            as correction_id,
        posted.posted_entry_no as correction_entry_no,
        matched.status
    from matched
    cross join dates
    left join posted
        on matched.administration_id = posted.administration_id
        and posted.correction_id
            = {{ correction_id('suspense_clearing', ['matched.administration_id', 'matched.entry_no', 'matched.seq_no']) }}
    -- This pipeline's own clearing lines are listed only while unpaired: once paired, the
    -- receipt they cleared says 'resolved' and names them.
    where not (matched.is_correction_posting and matched.status = 'resolved')
)

select * from final
