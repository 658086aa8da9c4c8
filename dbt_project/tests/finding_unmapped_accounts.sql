{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'rpt_profit_and_loss'}}}) }}
-- A finding: accounts the statements do not place (no range of the seed report_account_ranges
-- holds them). They count under 'Niet ingedeeld', so the statements still add up; map them.
-- depends_on: {{ ref('rpt_profit_and_loss') }}
select
    account_code,
    account_name,
    account_type
from {{ ref('int_account_report_lines') }}
where is_unmapped
