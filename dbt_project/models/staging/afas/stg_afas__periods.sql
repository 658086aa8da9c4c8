select
    cast(Unit as integer) as administration_id,
    cast(Year as integer) as fiscal_year,
    cast(Period as integer) as period,
    cast(DateFrom as date) as date_from,
    cast(DateTo as date) as date_to,
    Blocked as is_blocked
from {{ source('afas', 'Profit_periods_per_administration') }}
