with source as (
    {{ afas_newest_versions('DWH_Debiteuren', ['DebtorId']) }}
)

select
    DebtorId as debtor_id,
    DebtorName as debtor_name,
    BcCo as organisation_code,
    SearchName as search_name,
    Email as email,
    IBAN as iban,
    VatNr as vat_number,
    ChOfCommNr as chamber_of_commerce_number,
    CollectAccount as collect_account,
    try_cast(PayCon as integer) as payment_term_days,
    cast(CreditLimit as decimal(18, 2)) as credit_limit,
    CurrencyId as currency_id,
    Blocked as is_blocked,
    CreateDate as created_at,
    Mutatie_datum as modified_at,
    _deleted_seen_at is not null as is_deleted,
    _deleted_seen_at as deleted_seen_at,
    _loaded_at as loaded_at
from source
