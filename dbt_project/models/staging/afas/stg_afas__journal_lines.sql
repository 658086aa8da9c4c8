-- Incremental, not a view like the other staging models: resolving the newest version of every
-- line scans all raw Parquet, and the tests and models downstream would each repeat that. A
-- full build resolves the newest version of every key (as afas_newest_versions does). An
-- incremental build resolves only the keys of stg_afas__journal_line_changes, from the
-- versions loaded since the last build began and the row that build resolved (versions are
-- never lost, so the newest of all is the newer of the two), and replaces their rows
-- (delete+insert on the key; a deleted line keeps its row, flagged).
-- depends_on: {{ ref('stg_afas__journal_line_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['administration_id', 'entry_no', 'seq_no'],
) }}

with

versions as (
    select *
    from {{ source('afas_versions', 'DWH_Financiele_mutaties') }}
    {% if is_incremental() -%}
    where _loaded_at >= cast('{{ var("changed_since") }}' as timestamptz)
    {%- endif %}
),

typed as (
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
        _loaded_at as loaded_at,
        _run_id as load_run_id
    from versions
    {% if is_incremental() -%}
    union all by name
    select * exclude (is_deleted, deleted_seen_at)
    from {{ this }}
    where (administration_id, entry_no, seq_no) in (
        select administration_id, entry_no, seq_no
        from {{ ref('stg_afas__journal_line_changes') }}
    )
    {%- endif %}
),

newest as (
    select *
    from typed
    qualify row_number() over (
        partition by administration_id, entry_no, seq_no
        order by modified_at desc, loaded_at desc
    ) = 1
),

flagged as (
    select
        newest.*,
        {{ afas_deleted_seen_at(
            'DWH_Financiele_mutaties',
            ['UnitId', 'EntryNo', 'SeqNo'],
            'newest',
            ['administration_id', 'entry_no', 'seq_no'],
            'loaded_at',
        ) }} as deleted_seen_at
    from newest
)

select
    * exclude (deleted_seen_at, loaded_at, load_run_id),
    deleted_seen_at is not null as is_deleted,
    deleted_seen_at,
    loaded_at,
    load_run_id
from flagged
