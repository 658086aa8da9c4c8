-- Every period of every year that has periods, for every account with any movement in that
-- administration, so that balances are continuous over periods without movements.
with

periods as (
    select * from {{ ref('stg_afas__periods') }}
),

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

-- Periods AFAS lists, plus any period lines were booked in (none is lost if the list is short).
all_periods as (
    select
        administration_id,
        fiscal_year,
        period,
        date_from,
        date_to
    from periods
    union
    select distinct
        administration_id,
        fiscal_year,
        period,
        null as date_from,
        null as date_to
    from lines
    where not exists (
        select 1
        from periods
        where periods.administration_id = lines.administration_id
            and periods.fiscal_year = lines.fiscal_year
            and periods.period = lines.period
    )
),

accounts_used as (
    select distinct
        administration_id,
        account_code
    from lines
),

spine as (
    select
        all_periods.administration_id,
        all_periods.fiscal_year,
        all_periods.period,
        all_periods.date_from,
        all_periods.date_to,
        accounts_used.account_code
    from all_periods
    inner join accounts_used
        on all_periods.administration_id = accounts_used.administration_id
)

select * from spine
