select
    cast(UnitId as integer) as administration_id,
    JournalId as journal_id,
    Description as journal_name,
    -- AFAS: V sales, I purchase, B bank, K cash, M memorial
    JournalType as journal_type,
    Blocked as is_blocked
from {{ source('afas', 'Profit_Journals') }}
