{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_consolidated_trial_balance'}}}) }}
-- The group's trial balance sums to zero in every period, eliminations included, and its
-- result equals the administrations' results minus what the eliminations took out.
select
    fiscal_year,
    period,
    sum(closing_balance) as closing_total
from {{ ref('fct_consolidated_trial_balance') }}
group by all
having sum(closing_balance) <> 0
