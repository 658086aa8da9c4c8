-- Balanced correcting journal entries derived from the open findings, one row per line, in the
-- shape the FiEntries UpdateConnector needs: clearing a suspense receipt to the one debtor
-- invoice it matches, correcting input VAT booked wrong, writing off a rounding difference, and
-- the analysts' manual corrections (seed manual_corrections). Only where a journal entry is the
-- lawful fix: a sales VAT finding needs a credit note, an ambiguous suspense match an analyst. A correction whose id already came back from AFAS as
-- a voucher number is never proposed again.
with

suspense_items as (
    select * from {{ ref('rec_suspense_items') }}
),

vat_mismatches as (
    select * from {{ ref('rec_vat_mismatches') }}
),

rounding_differences as (
    select * from {{ ref('rec_rounding_differences') }}
),

manual_corrections as (
    select * from {{ ref('manual_corrections') }}
),

posted as (
    select * from {{ ref('int_corrections_posted') }}
),

dates as (
    select * from {{ ref('int_dates_as_of') }}
),

periods as (
    select * from {{ ref('stg_afas__periods') }}
),

-- Each line as a signed movement (debit - credit); split into debit and credit at the end.
suspense_clearing_lines as (
    select
        correction_id,
        'suspense_clearing' as correction_type,
        'Payment of ' || parked_amount || ' parked on suspense account '
            || suspense_items.account_code
            || ' (' || source_ref || ', ' || suspense_items.entry_date || ') matched to invoice '
            || matched_invoice_id || ' of debtor ' || matched_debtor_id
            || ' on ' || replace(match_basis, '_', ' ') || '.' as reason,
        source_ref,
        administration_id,
        cast(null as date) as entry_date,
        line.line_no,
        line.account_kind,
        line.account_code,
        line.movement,
        cast(null as varchar) as vat_code,
        line.invoice_id,
        'Vraagpost ' || source_ref || ' naar factuur ' || matched_invoice_id as description
    from suspense_items
    cross join lateral (
        select
            1 as line_no,
            '1' as account_kind,
            suspense_items.account_code,
            suspense_items.parked_amount as movement,
            cast(null as varchar) as invoice_id
        union all
        select
            2 as line_no,
            '2' as account_kind,
            suspense_items.matched_debtor_id as account_code,
            -suspense_items.parked_amount as movement,
            suspense_items.matched_invoice_id as invoice_id
    ) as line
    where
        suspense_items.status = 'open'
        and suspense_items.is_clearing_proposed
),

-- Input VAT booked wrong only: sales VAT is owed as invoiced, its fix is a credit note.
vat_correction_lines as (
    select
        correction_id,
        'vat_correction' as correction_type,
        'Input VAT of entry ' || vat_mismatches.entry_no || ' (code ' || vat_mismatches.vat_code
            || ') is ' || booked_vat || ' but ' || vat_percentage || '% of ' || net_amount
            || ' is ' || expected_vat || '; moves the difference of ' || abs(difference)
            || ' between account ' || taxable_account_code || ' and VAT account '
            || vat_account_code || '.' as reason,
        source_ref,
        administration_id,
        cast(null as date) as entry_date,
        line.line_no,
        '1' as account_kind,
        line.account_code,
        line.movement,
        line.vat_code,
        cast(null as varchar) as invoice_id,
        'Btw-correctie ' || source_ref as description
    from vat_mismatches
    cross join lateral (
        -- Purchase VAT is a debit on the VAT account: too much booked (difference > 0) is
        -- credited back there and goes to the cost account, too little the other way round.
        select
            1 as line_no,
            vat_mismatches.taxable_account_code as account_code,
            vat_mismatches.difference as movement,
            cast(null as varchar) as vat_code
        union all
        select
            2 as line_no,
            vat_mismatches.vat_account_code as account_code,
            -vat_mismatches.difference as movement,
            vat_mismatches.vat_code
    ) as line
    where
        vat_mismatches.status = 'open'
        and vat_mismatches.remedy = 'journal_correction'
),

rounding_write_off_lines as (
    select
        correction_id,
        'rounding_write_off' as correction_type,
        'Invoice ' || rounding_differences.invoice_id || ' of ' || party_type || ' '
            || party_id || ' is '
            || difference || ' short of settled, within the write-off threshold of '
            || {{ var('rounding_write_off_threshold') }} || '; written off to account '
            || '{{ var("rounding_write_off_account") }}' || '.' as reason,
        source_ref,
        administration_id,
        cast(null as date) as entry_date,
        line.line_no,
        line.account_kind,
        line.account_code,
        line.movement,
        cast(null as varchar) as vat_code,
        line.invoice_id,
        'Afboeking betalingsverschil ' || rounding_differences.invoice_id as description
    from rounding_differences
    cross join lateral (
        -- Debtor items are open debit - credit, creditor items credit - debit.
        select
            1 as line_no,
            case when rounding_differences.party_type = 'debtor' then '2' else '3' end
                as account_kind,
            rounding_differences.party_id as account_code,
            case when rounding_differences.party_type = 'debtor' then -rounding_differences.difference
                else rounding_differences.difference end as movement,
            rounding_differences.invoice_id
        union all
        select
            2 as line_no,
            '1' as account_kind,
            '{{ var("rounding_write_off_account") }}' as account_code,
            case when rounding_differences.party_type = 'debtor' then rounding_differences.difference
                else -rounding_differences.difference end as movement,
            cast(null as varchar) as invoice_id
    ) as line
    where rounding_differences.status = 'open'
),

manual_lines as (
    select
        {{ correction_id('manual', ['administration_id', 'manual_ref']) }} as correction_id,
        'manual' as correction_type,
        coalesce(reason, 'Manual correction ' || manual_ref || '.') as reason,
        manual_ref as source_ref,
        cast(administration_id as integer) as administration_id,
        cast(entry_date as date) as entry_date,
        cast(line_no as integer) as line_no,
        cast(account_kind as varchar) as account_kind,
        cast(account_code as varchar) as account_code,
        cast(coalesce(debit, 0) as decimal(18, 2)) - cast(coalesce(credit, 0) as decimal(18, 2))
            as movement,
        cast(vat_code as varchar) as vat_code,
        cast(invoice_id as varchar) as invoice_id,
        coalesce(description, 'Correctie ' || manual_ref) as description
    from manual_corrections
),

all_lines as (
    select * from suspense_clearing_lines
    union all
    select * from vat_correction_lines
    union all
    select * from rounding_write_off_lines
    union all
    select * from manual_lines
),

dated as (
    select
        all_lines.*,
        coalesce(all_lines.entry_date, dates.correction_date) as booking_date
    from all_lines
    cross join dates
),

final as (
    select
        dated.correction_id,
        dated.correction_type,
        dated.reason,
        dated.source_ref,
        dated.administration_id,
        cast('{{ var("correction_journal") }}' as varchar) as journal_id,
        periods.fiscal_year,
        periods.period,
        dated.booking_date as entry_date,
        dated.line_no,
        dated.account_kind,
        dated.account_code,
        {{ money('greatest(dated.movement, 0)') }} as debit,
        {{ money('greatest(-dated.movement, 0)') }} as credit,
        dated.vat_code,
        dated.invoice_id,
        left(dated.description, 255) as description
    from dated
    -- Booked in a period from 1 on (period 0, the opening balance, is 1 January too).
    left join periods
        on dated.administration_id = periods.administration_id
        and dated.booking_date between periods.date_from and periods.date_to
        and periods.period > 0
    -- Posted already (its id came back as a voucher number): never proposed again.
    where not exists (
        select 1
        from posted
        where posted.administration_id = dated.administration_id
            and posted.correction_id = dated.correction_id
    )
)

select * from final
order by
    correction_id,
    line_no
