{#- Every check of the reconciliation, defined once: the mart holding its rows, its severity
    ('error': an identity, a broken one stops the build; 'warn': a finding, published), which
    rows are findings, and how to read them (where, what about, how much, since when). The
    model int_reconciliation_findings unions them, rpt_reconciliation_status counts them, and
    the generic test reconciliation_check runs one on its mart. -#}
{% macro reconciliation_checks() %}
    {{ return({
        'gl_vs_afas_closed_periods': {
            'mart': 'rec_gl_vs_afas', 'severity': 'error',
            'where': "status <> 'ok' and is_period_closed",
            'period': ['fiscal_year', 'period'], 'seen': 'first_created_at'},
        'subledger_vs_control': {
            'mart': 'rec_subledger_vs_control', 'severity': 'error',
            'where': "status <> 'ok'",
            'ref': "administration_id || '/' || party_type || '/' || control_account_code"},
        'unbalanced_entries': {
            'mart': 'rec_unbalanced_entries', 'severity': 'error',
            'period': ['fiscal_year', 'period'], 'seen': 'created_at'},
        'open_items_per_party': {
            'mart': 'rec_open_items_vs_afas', 'severity': 'error',
            'group_by': ['administration_id', 'party_type', 'party_id'],
            'having': 'sum(warehouse_open_amount) <> sum(afas_open_amount)',
            'ref': "administration_id || '/' || party_type || '/' || party_id",
            'difference': 'sum(warehouse_open_amount) - sum(afas_open_amount)'},
        'gl_vs_afas_open_periods': {
            'mart': 'rec_gl_vs_afas', 'severity': 'warn',
            'where': "status <> 'ok' and not is_period_closed",
            'period': ['fiscal_year', 'period'], 'seen': 'first_created_at'},
        'open_item_differences': {
            'mart': 'rec_open_items_vs_afas', 'severity': 'warn',
            'where': "status <> 'ok'", 'date': 'invoice_date', 'seen': 'first_created_at'},
        'suspense_items': {
            'mart': 'rec_suspense_items', 'severity': 'warn', 'where': "status = 'open'",
            'period': ['fiscal_year', 'period'], 'seen': 'created_at'},
        'vat_mismatches': {
            'mart': 'rec_vat_mismatches', 'severity': 'warn', 'where': "status = 'open'",
            'period': ['fiscal_year', 'period'], 'seen': 'created_at'},
        'duplicate_invoices': {
            'mart': 'rec_duplicate_invoices', 'severity': 'warn', 'where': "status = 'open'",
            'period': ['fiscal_year', 'period'], 'seen': 'created_at'},
        'rounding_differences': {
            'mart': 'rec_rounding_differences', 'severity': 'warn', 'where': "status = 'open'",
            'date': 'last_entry_date', 'seen': 'created_at'},
        'intercompany': {
            'mart': 'rec_intercompany', 'severity': 'warn', 'where': "status <> 'ok'",
            'period': ['fiscal_year', 'period']},
    }) }}
{% endmacro %}

{#- The findings of one check, in the shape of int_reconciliation_findings (before the
    periods of dated findings are looked up). -#}
{% macro reconciliation_check_rows(check_name) %}
    {%- set check = reconciliation_checks()[check_name] -%}
    {%- set period = check.get('period', ['null', 'null']) -%}
    select
        '{{ check_name }}' as check_name,
        '{{ check.severity }}' as severity,
        administration_id,
        cast({{ period[0] }} as integer) as fiscal_year,
        cast({{ period[1] }} as integer) as period,
        cast({{ check.get('date', 'null') }} as date) as finding_date,
        {{ check.get('ref', 'source_ref') }} as source_ref,
        {{ check.get('difference', 'difference') }} as difference,
        cast({{ check.get('seen', 'null') }} as timestamp) as first_seen_at
    from {{ ref(check.mart) }}
    {% if check.get('where') %}where {{ check.where }}{% endif %}
    {% if check.get('group_by') %}group by {{ check.group_by | join(', ') }}{% endif %}
    {% if check.get('having') %}having {{ check.having }}{% endif %}
{% endmacro %}
