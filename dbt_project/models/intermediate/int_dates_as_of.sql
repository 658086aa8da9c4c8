-- One row: the data's as-of date (the newest booking date of live lines that is not after
-- today), the reporting date of the aging (var as_of_date) and the booking date of proposed
-- corrections (var correction_date), both defaulting to the data's as-of date.
with

lines as (
    select * from {{ ref('int_gl_lines_live') }}
),

data_as_of as (
    select
        max(entry_date) as data_as_of_date
    from lines
    where entry_date <= current_date
)

select
    data_as_of_date,
    {% if var('as_of_date') %}cast('{{ var("as_of_date") }}' as date){% else %}data_as_of_date{% endif %} as as_of_date,
    {% if var('correction_date') %}cast('{{ var("correction_date") }}' as date){% else %}data_as_of_date{% endif %} as correction_date
from data_as_of
