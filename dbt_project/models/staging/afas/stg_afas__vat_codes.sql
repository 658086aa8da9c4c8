select
    VatCode as vat_code,
    Description as vat_name,
    AccountNr as vat_account_code,
    cast(VatPerc as decimal(5, 2)) as vat_percentage,
    -- AFAS: V sales (verkoop), I purchase (inkoop)
    VatType as vat_type,
    Blocked as is_blocked
from {{ source('afas', 'Profit_VAT_code') }}
