{{ config(severity='error', meta={'dagster': {'ref': {'name': 'rec_gl_vs_afas'}}}) }}
-- The warehouse holds exactly AFAS's movements: no account and period differs from
-- Profit_Period_balance by a single cent.
select
    *
from {{ ref('rec_gl_vs_afas') }}
where status <> 'ok'
