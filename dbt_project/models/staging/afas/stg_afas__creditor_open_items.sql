select
    cast(UnitId as integer) as administration_id,
    CreditorId as creditor_id,
    InvoiceNr as invoice_id,
    cast(BookPieceDate as date) as voucher_date,
    cast(ExpDate as date) as due_date,
    CurrencyId as currency_id,
    cast(AmtInvoice as decimal(18, 2)) as invoice_amount,
    cast(Balance as decimal(18, 2)) as open_amount,
    Description as description
from {{ source('afas', 'Profit_Creditor_Invoices') }}
