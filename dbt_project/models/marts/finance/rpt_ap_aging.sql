-- Aging of the creditors' open items on the as-of date, per administration and creditor.
-- The SQL is shared with the other sub-ledger: macros/open_items.sql.
{{ aging_report('creditor') }}
