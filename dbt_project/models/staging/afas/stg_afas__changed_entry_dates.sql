select
    cast(EntryDate as date) as entry_date,
    Modified as modified_at
from {{ source('afas', 'Profit_Fin_ChangedEntrydate') }}
