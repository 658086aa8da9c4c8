select
    Account as account_code,
    Description as account_name,
    -- AFAS: B = balance sheet (balans), W = profit and loss (winst-en-verlies)
    case Type when 'B' then 'balance_sheet' when 'W' then 'profit_and_loss' end as account_type,
    Type as afas_account_type,
    Sort as account_sort,
    Blocked as is_blocked,
    CollectAccount as is_collect_account,
    VatAllowed as is_vat_allowed,
    VatCode as default_vat_code
from {{ source('afas', 'Profit_Accounts') }}
