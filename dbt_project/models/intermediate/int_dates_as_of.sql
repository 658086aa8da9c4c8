-- One row: the business date (var today, Amsterdam's date, which the pipeline passes; DuckDB's
-- current_date is UTC's), the data's as-of date (the newest booking date of the live lines,
-- pre-dated entries included), the reporting date of the aging (var as_of_date) and the booking
-- date of proposed corrections (var correction_date), both defaulting to the newest booking
-- date not after today. An invoice dated after today is in the open items but in no aging of
-- today: as_of_date is then before data_as_of_date, which tells the tests so.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

business_day as (
    select
        {% if var('today') -%}
        cast('{{ var("today") }}' as date)
        {%- else -%}
        cast(timezone('Europe/Amsterdam', current_timestamp) as date)
        {%- endif %} as today
),

booked as (
    select
        business_day.today,
        max(lines.entry_date) as data_as_of_date,
        max(lines.entry_date) filter (where lines.entry_date <= business_day.today)
            as booked_by_today
    from business_day
    left join lines on true
    group by business_day.today
)

select
    today,
    data_as_of_date,
    {% if var('as_of_date') %}cast('{{ var("as_of_date") }}' as date){% else %}booked_by_today{% endif %} as as_of_date,
    {% if var('correction_date') %}cast('{{ var("correction_date") }}' as date){% else %}booked_by_today{% endif %} as correction_date
from booked
