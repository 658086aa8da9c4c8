{#- One check of the reconciliation: its rows in int_reconciliation_findings, where every check
    is defined once. Declared on the mart that holds the check's rows, so Dagster shows it on
    that mart: with severity error for an identity (a broken one stops the build, nothing is
    published), with severity warn for a finding (published with the marts). -#}
{% test reconciliation_check(model, check) %}
    select
        *
    from {{ ref('int_reconciliation_findings') }}
    where check_name = '{{ check }}'
{% endtest %}
