-- Aging of the debtors' open items on the as-of date, per administration and debtor.
-- The SQL is shared with the other sub-ledger: macros/open_items.sql.
{{ aging_report('debtor') }}
