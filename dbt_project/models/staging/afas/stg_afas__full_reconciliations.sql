with source as (
    select * from {{ source('afas_reconciliation', 'full_reconciliations') }}
)

select
    run_id as reconciliation_run_id,
    reconciled_at,
    connector,
    cast(administration_id as integer) as administration_id,
    day as healed_day,
    cast(changed_keys as integer) as changed_records,
    cast(missing_keys as integer) as missing_records,
    cast(deleted_keys as integer) as deleted_records,
    cast(restored_keys as integer) as restored_records,
    cast(keys_compared as integer) as records_compared
from source
