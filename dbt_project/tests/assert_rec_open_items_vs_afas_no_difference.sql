{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rec_open_items_vs_afas'}}}) }}
-- The open items derived from the GL lines are exactly AFAS's own open items.
select
    *
from {{ ref('rec_open_items_vs_afas') }}
where status <> 'ok'
