{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_gl_entries'}}}) }}
-- depends_on: {{ ref('fct_trial_balance') }}
-- The last line of an account in a period ends its running balance at the trial balance's
-- closing balance of that period (openings and the year end included).
with

last_lines as (
    select
        administration_id,
        account_code,
        fiscal_year,
        period,
        arg_max(running_balance, (entry_date, entry_no, seq_no)) as running_balance
    from {{ ref('fct_gl_entries') }}
    group by all
)

select
    last_lines.*,
    trial_balance.closing_balance
from last_lines
left join {{ ref('fct_trial_balance') }} as trial_balance
    on last_lines.administration_id = trial_balance.administration_id
    and last_lines.account_code = trial_balance.account_code
    and last_lines.fiscal_year = trial_balance.fiscal_year
    and last_lines.period = trial_balance.period
where trial_balance.closing_balance is distinct from last_lines.running_balance
