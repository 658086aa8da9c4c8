-- Where the reconciliation stands, per check, administration and period: how many findings,
-- their total difference, when the oldest entered AFAS's books, and how severe the check is.
-- Identities (severity 'error': the warehouse against AFAS in closed periods, each sub-ledger
-- against its collect account, balanced entries, each party's open total) stop a build that
-- breaks them, so published they read 0. Findings (severity 'warn') are published with the
-- marts: work through them in the rec_ mart the check is named after. A check with nothing to
-- report has one row per administration with fiscal_year and period null and 0 findings.
with

findings as (
    select * from {{ ref('int_reconciliation_findings') }}
),

administrations as (
    select * from {{ ref('stg_afas__administrations') }}
),

checks as (
    select
        *
    from (
        values
        {% for name, check in reconciliation_checks().items() %}
            ('{{ name }}', '{{ check.severity }}', '{{ check.mart }}'){{ ',' if not loop.last }}
        {% endfor %}
    ) as t (check_name, severity, mart)
),

per_period as (
    select
        check_name,
        administration_id,
        fiscal_year,
        period,
        count(*) as findings,
        sum(abs(difference)) as total_difference,
        min(first_seen_at) as first_seen_at
    from findings
    group by all
),

spine as (
    select
        checks.check_name,
        checks.severity,
        checks.mart,
        administrations.administration_id
    from checks
    cross join administrations
),

final as (
    select
        spine.check_name,
        spine.severity,
        spine.mart,
        spine.administration_id,
        per_period.fiscal_year,
        per_period.period,
        coalesce(per_period.findings, 0) as findings,
        {{ money('coalesce(per_period.total_difference, 0)') }} as total_difference,
        per_period.first_seen_at,
        case
            when per_period.findings is null then 'ok'
            when spine.severity = 'error' then 'broken'
            else 'findings'
        end as status
    from spine
    left join per_period
        on spine.check_name = per_period.check_name
        and spine.administration_id = per_period.administration_id
)

select * from final
