{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_gl_entries'}}}) }}
-- No mart column is a floating-point number, and every decimal is DECIMAL(18,2) (rates:
-- DECIMAL(5,2)). DuckDB turns a division or avg into DOUBLE; this catches one slipping in.
-- depends_on: {{ ref('fct_gl_entries') }}
-- depends_on: {{ ref('fct_trial_balance') }}
-- depends_on: {{ ref('rpt_profit_and_loss') }}
-- depends_on: {{ ref('rpt_balance_sheet') }}
-- depends_on: {{ ref('fct_ar_open_items') }}
-- depends_on: {{ ref('fct_ap_open_items') }}
-- depends_on: {{ ref('rpt_ar_aging') }}
-- depends_on: {{ ref('rpt_ap_aging') }}
-- depends_on: {{ ref('rpt_vat_summary') }}
-- depends_on: {{ ref('rpt_vat_return') }}
-- depends_on: {{ ref('rpt_icp_listing') }}
-- depends_on: {{ ref('rec_gl_vs_afas') }}
-- depends_on: {{ ref('rec_subledger_vs_control') }}
-- depends_on: {{ ref('rec_open_items_vs_afas') }}
-- depends_on: {{ ref('rec_unbalanced_entries') }}
-- depends_on: {{ ref('rec_duplicate_invoices') }}
-- depends_on: {{ ref('rec_suspense_items') }}
-- depends_on: {{ ref('rec_vat_mismatches') }}
-- depends_on: {{ ref('rec_rounding_differences') }}
-- depends_on: {{ ref('corrections_proposed') }}
select
    table_name,
    column_name,
    data_type
from information_schema.columns
where
    table_catalog = '{{ target.database }}'
    and table_schema = 'marts'
    and (
        data_type in ('DOUBLE', 'FLOAT', 'REAL')
        or (
            data_type like 'DECIMAL%'
            and data_type <> 'DECIMAL(18,2)'
            and not (column_name = 'vat_percentage' and data_type = 'DECIMAL(5,2)')
        )
    )
