select
    cast(UnitId as integer) as administration_id,
    cast(Year as integer) as fiscal_year,
    cast(Period as integer) as period,
    AccountNr as account_code,
    AccountDesc as account_name,
    cast(Debit as decimal(18, 2)) as debit,
    cast(Credit as decimal(18, 2)) as credit,
    cast(Balance as decimal(18, 2)) as balance
from {{ source('afas', 'Profit_Period_balance') }}
