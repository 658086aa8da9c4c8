-- The debtors' open items (one row per open invoice); open amounts are positive for an
-- unpaid invoice (debit - credit). The SQL is shared with the other sub-ledger: macros/open_items.sql.
{{ open_items_mart('debtor') }}
