-- The account each administration's result goes to at the year end (AFAS's jaarafsluiting puts
-- it in the next year's period 0): the seed result_accounts where it names one, else var
-- result_account, else the equity account the chart marks as such: the last account of the
-- statements' 'Eigen vermogen' line (in a Dutch chart, e.g. 0590 Resultaat boekjaar).
with

administrations as (
    select * from {{ ref('stg_afas__administrations') }}
),

configured as (
    select * from {{ ref('result_accounts') }}
),

report_lines as (
    select * from {{ ref('int_account_report_lines') }}
),

equity as (
    select
        max(account_code) as account_code
    from report_lines
    where line_code = 'EV'
),

final as (
    select
        administrations.administration_id,
        coalesce(
            configured.account_code,
            {% if var('result_account') %}'{{ var("result_account") }}'{% else %}null{% endif %},
            equity.account_code
        ) as result_account_code
    from administrations
    cross join equity
    left join configured
        on administrations.administration_id = configured.administration_id
)

select * from final
