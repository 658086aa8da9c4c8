-- A table, not a view like the other staging models: resolving the newest version of every
-- line scans all raw Parquet, and the tests and models downstream would each repeat that.
{{ config(materialized='table') }}

with source as (
    {{ afas_newest_versions('DWH_Financiele_mutaties', ['UnitId', 'EntryNo', 'SeqNo']) }}
)

select
    cast(UnitId as integer) as administration_id,
    cast(EntryNo as bigint) as entry_no,
    cast(SeqNo as integer) as seq_no,
    cast(Year as integer) as fiscal_year,
    cast(Period as integer) as period,
    JournalId as journal_id,
    AccountNo as account_code,
    DebtorId as debtor_id,
    CreditorId as creditor_id,
    cast(EntryDate as date) as entry_date,
    cast(VoucherDate as date) as voucher_date,
    VoucherNo as voucher_no,
    InvoiceId as invoice_id,
    cast(AmtDebit as decimal(18, 2)) as debit,
    cast(AmtCredit as decimal(18, 2)) as credit,
    VatCode as vat_code,
    cast(coalesce(VatAmt, 0) as decimal(18, 2)) as vat_amount,
    DimAx1 as cost_centre,
    -- Optional in the contract: the raw layer's schema file makes it null where AFAS lacks it.
    DimAx2 as cost_carrier,
    Description as description,
    Created as created_at,
    Mutatie_datum as modified_at,
    _deleted_seen_at is not null as is_deleted,
    _deleted_seen_at as deleted_seen_at,
    _loaded_at as loaded_at,
    _run_id as load_run_id
from source
