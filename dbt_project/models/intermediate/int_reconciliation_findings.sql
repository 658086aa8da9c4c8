-- Every row of the reconciliation marts that needs attention, in one shape: which check, how
-- severe, where (administration, period), what it is about (source_ref), its difference, and
-- when it entered AFAS's books (the creation time of the booking behind it). The checks are
-- defined once, in macros/reconciliation_checks.sql. Identities (severity 'error') stop the
-- build when broken, so a published status shows them at zero; findings (severity 'warn') are
-- published for analysts to work through.
with

periods as (
    select * from {{ ref('stg_afas__periods') }}
),

findings as (
    {% for check_name in reconciliation_checks() %}
    {{ reconciliation_check_rows(check_name) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        findings.check_name,
        findings.severity,
        findings.administration_id,
        coalesce(findings.fiscal_year, periods.fiscal_year) as fiscal_year,
        coalesce(findings.period, periods.period) as period,
        findings.source_ref,
        {{ money('findings.difference') }} as difference,
        findings.first_seen_at
    from findings
    -- A date belongs to a period from 1 on (period 0, the opening balance, is 1 January too).
    left join periods
        on findings.administration_id = periods.administration_id
        and findings.finding_date between periods.date_from and periods.date_to
        and periods.period > 0
)

select * from final
