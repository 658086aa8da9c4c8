{#- One check of the reconciliation (macros/reconciliation_checks.sql), on the mart that holds
    its rows, so that Dagster shows it on that mart: with severity error for an identity (a
    broken one stops the build, nothing is published), with severity warn for a finding
    (published with the marts). -#}
{% test reconciliation_check(model, check) %}
    {{ reconciliation_check_rows(check) }}
{% endtest %}
